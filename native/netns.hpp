// Network namespaces the way iproute2 keeps them: a file under /run/netns with
// the namespace bind-mounted on it, in a shared mount so every mount
// namespace sees it. Create runs on the calling thread, which it leaves in the
// new namespace: call it only on a thread of our own (a Handle's I/O thread).
#pragma once

#include <sys/types.h>

#include <string>

#include "nl/error.hpp"

namespace nl::netns {

constexpr const char* kRunDir = "/run/netns";

struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
};

// Opens the namespace file at `path` (O_RDONLY|O_CLOEXEC) and checks, on the
// fd, that it is a namespace (nsfs, NSFS_MAGIC) and a network one
// (NS_GET_NSTYPE). With `nofollow` (a name under /run/netns) a symbolic link
// is refused (ELOOP), never followed: a link to /proc/1/ns/net must not open
// the root namespace in its place. Returns the fd or -1 with *err set; errors
// say what the entry is.
int open_path(const std::string& path, Error* err, bool nofollow = false);

// The checks open_path makes, on an fd we already have: nsfs and a network
// namespace. `what` names it in errors.
bool check(int fd, const std::string& what, Error* err);

// `ip netns add`: creates `path` (under a shared /run/netns), unshares this
// thread into a new network namespace and bind-mounts it there. Returns an fd
// of the new namespace, or -1 with *err set (and nothing left behind).
// An empty regular file at `path` that is not a mount point (what a create
// killed between its open and its mount leaves) is replaced; a namespace,
// a symbolic link or anything else there is EEXIST, saying which.
// Creates of this library serialize on a flock of the directory.
int create_on_this_thread(const std::string& path, Error* err);

// `ip netns attach NAME PID`: names an existing namespace (any nsfs file,
// e.g. /proc/PID/ns/net) under `path`, the same way create does.
bool attach(const std::string& path, const std::string& source, Error* err);

// Switches the calling thread into the namespace behind fd and returns an fd
// of the namespace it was in (for restore), or -1 with *err set.
int enter_saving(int fd, Error* err);
// Returns the calling thread to `saved` and closes it.
bool restore(int saved, Error* err);

// `ip netns delete`: lazily unmounts and removes `path`. The namespace lives on
// while anything (a process, a socket, an fd) still holds it. A symbolic link
// is unlinked, never followed (UMOUNT_NOFOLLOW); an empty directory removed.
// With `expect` (not {0, 0}), only if `path` is still that namespace: a name
// that now refers to another one is left alone (ENOENT: ours is gone).
bool remove(const std::string& path, Error* err, Identity expect = {});

// Moves this thread into the namespace behind fd.
bool enter(int fd, Error* err);

bool identify(int fd, Identity* id, Error* err);

}  // namespace nl::netns
