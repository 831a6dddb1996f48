#include "netns.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace nl::netns {

namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : path.substr(0, slash);
}

int mkdir_p(const std::string& dir) {
  if (dir.empty() || dir == "/") return 0;
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (int e = mkdir_p(dir_of(dir))) return e;
  if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return errno;
  return 0;
}

// As `ip netns add` does: make the directory a mount point of its own with
// shared propagation, so a namespace mounted here shows in every mount
// namespace that shares it (and unmounting it does too).
bool make_shared(const std::string& dir, Error* err) {
  for (int tries = 0; tries < 2; ++tries) {
    if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return true;
    if (errno != EINVAL || tries) {
      *err = Error::sys(errno, "mount", "cannot make " + dir + " a shared mount");
      return false;
    }
    // Not a mount point yet: bind it onto itself, then retry.
    if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) < 0) {
      *err = Error::sys(errno, "mount", "cannot bind-mount " + dir + " onto itself");
      return false;
    }
  }
  return false;
}

}  // namespace

namespace {

// What a file that is not a namespace is, in words, from its fd.
std::string what_is(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return "unknown";
  if (S_ISREG(st.st_mode) && st.st_size == 0) return "an empty regular file (what a create killed before its mount leaves)";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISLNK(st.st_mode)) return "a symbolic link";
  return "a special file";
}

}  // namespace

int open_path(const std::string& path, Error* err, bool nofollow) {
  // O_NONBLOCK: a FIFO put there must not block the thread.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) {
    int e = errno;
    *err = Error::sys(e, "open", e == ELOOP && nofollow ? path + " is a symbolic link: not followed (not a namespace)" : path);
    return -1;
  }
  if (!check(fd, path, err)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool check(int fd, const std::string& what, Error* err) {
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0) {
    *err = Error::sys(errno, "fstatfs", what);
    return false;
  }
  if (fs.f_type != NSFS_MAGIC) {
    *err = Error::sys(EINVAL, "fstatfs", what + " is not a namespace: " + what_is(fd));
    return false;
  }
  if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    *err = Error::sys(EINVAL, "ioctl", what + " is not a network namespace (another kind of namespace)");
    return false;
  }
  return true;
}

namespace {

// Everything `ip netns add` does before the namespace exists: the directory,
// its shared propagation, and an empty file to mount the namespace on.
// Why `path` exists already, for EEXIST; true if it is only the empty file a
// killed create left (a regular file, empty, not a mount point), which may go.
bool leftover(const std::string& path, std::string* what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    *what = errno == ELOOP ? "a symbolic link is in the way" : "an entry that cannot be opened is in the way";
    return false;
  }
  struct statfs fs{};
  struct stat st{}, dir{};
  bool empty = fstatfs(fd, &fs) == 0 && fstat(fd, &st) == 0 && stat(dir_of(path).c_str(), &dir) == 0 &&
               fs.f_type != NSFS_MAGIC && S_ISREG(st.st_mode) && st.st_size == 0 && st.st_dev == dir.st_dev;
  if (!empty) *what = fs.f_type == NSFS_MAGIC ? "a namespace of that name already exists" : what_is(fd) + " is in the way";
  ::close(fd);
  return empty;
}

bool prepare_file(const std::string& path, Error* err) {
  std::string dir = dir_of(path);
  if (int e = mkdir_p(dir)) {
    *err = Error::sys(e, "mkdir", dir);
    return false;
  }
  if (!make_shared(dir, err)) return false;
  for (int attempt = 0;; ++attempt) {
    int f = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (f >= 0) {
      ::close(f);
      return true;
    }
    int e = errno;
    std::string what;
    if (e == EEXIST && attempt == 0 && leftover(path, &what) && unlink(path.c_str()) == 0) continue;  // replace it, once
    *err = Error::sys(e, "open", e == EEXIST ? path + ": " + (what.empty() ? "exists" : what) : path);
    return false;
  }
}

// Creates of this library (any process) take the directory's flock, so one
// never mistakes another's file, between its open and its mount, for a
// leftover. iproute2 takes no lock: against `ip netns add` the window is
// that instant, as between two `ip netns add`s.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ >= 0)
      while (flock(fd_, LOCK_EX) < 0 && errno == EINTR) {
      }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

int create_on_this_thread(const std::string& path, Error* err) {
  if (int e = mkdir_p(dir_of(path))) {
    *err = Error::sys(e, "mkdir", dir_of(path));
    return -1;
  }
  DirLock lock(dir_of(path));
  if (!prepare_file(path, err)) return -1;
  if (unshare(CLONE_NEWNET) < 0) {
    *err = Error::sys(errno, "unshare", "cannot create a network namespace");
    unlink(path.c_str());
    return -1;
  }
  if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0) {
    *err = Error::sys(errno, "mount", "cannot bind the new namespace to " + path);
    unlink(path.c_str());
    return -1;
  }
  int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = Error::sys(errno, "open", "/proc/thread-self/ns/net");
    umount2(path.c_str(), MNT_DETACH);
    unlink(path.c_str());
    return -1;
  }
  return fd;
}

bool attach(const std::string& path, const std::string& source, Error* err) {
  int src = open_path(source, err);  // must be a network namespace
  if (src < 0) return false;
  ::close(src);
  if (int e = mkdir_p(dir_of(path))) {
    *err = Error::sys(e, "mkdir", dir_of(path));
    return false;
  }
  DirLock lock(dir_of(path));
  if (!prepare_file(path, err)) return false;
  if (mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) < 0) {
    *err = Error::sys(errno, "mount", "cannot bind " + source + " to " + path);
    unlink(path.c_str());
    return false;
  }
  return true;
}

int enter_saving(int fd, Error* err) {
  int saved = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    *err = Error::sys(errno, "open", "/proc/thread-self/ns/net");
    return -1;
  }
  if (setns(fd, CLONE_NEWNET) < 0) {
    *err = Error::sys(errno, "setns", "cannot enter the network namespace");
    ::close(saved);
    return -1;
  }
  return saved;
}

bool restore(int saved, Error* err) {
  int rc = setns(saved, CLONE_NEWNET);
  int e = errno;
  ::close(saved);
  if (rc < 0) {
    *err = Error::sys(e, "setns", "cannot return to the original network namespace");
    return false;
  }
  return true;
}

bool remove(const std::string& path, Error* err, Identity expect) {
  if (expect.dev != 0 || expect.ino != 0) {
    struct stat st;
    if (lstat(path.c_str(), &st) < 0) {
      *err = Error::sys(errno, "lstat", path);
      return false;
    }
    if (st.st_dev != expect.dev || st.st_ino != expect.ino) {
      // Our namespace's name is gone (ENOENT): what is there now is someone else's.
      *err = Error::sys(ENOENT, "lstat", path + " now names another namespace (or file): left alone");
      return false;
    }
  }
  // UMOUNT_NOFOLLOW: a symbolic link is only unlinked; what it points at
  // (another name's mount, /proc/1/ns/net) is never touched.
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
    *err = Error::sys(errno, "umount2", path);
    return false;
  }
  if (unlink(path.c_str()) < 0) {
    int e = errno;
    if (e == EISDIR && rmdir(path.c_str()) == 0) return true;  // a directory put there (empty)
    *err = Error::sys(e == EISDIR ? errno : e, e == EISDIR ? "rmdir" : "unlink", path);
    return false;
  }
  return true;
}

bool enter(int fd, Error* err) {
  if (setns(fd, CLONE_NEWNET) < 0) {
    *err = Error::sys(errno, "setns", "cannot enter the network namespace");
    return false;
  }
  return true;
}

bool identify(int fd, Identity* id, Error* err) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    *err = Error::sys(errno, "fstat");
    return false;
  }
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  return true;
}

}  // namespace nl::netns
