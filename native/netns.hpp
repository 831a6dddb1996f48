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

// Opens the namespace file at `path` (O_RDONLY|O_CLOEXEC) and checks it is a
// network namespace. Returns the fd or -1 with *err set.
int open_path(const std::string& path, Error* err);

// `ip netns add`: creates `path` (under a shared /run/netns), unshares this
// thread into a new network namespace and bind-mounts it there. Returns an fd
// of the new namespace, or -1 with *err set (and nothing left behind).
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
// while anything (a process, a socket, an fd) still holds it.
bool remove(const std::string& path, Error* err);

// Moves this thread into the namespace behind fd.
bool enter(int fd, Error* err);

bool identify(int fd, Identity* id, Error* err);

}  // namespace nl::netns
