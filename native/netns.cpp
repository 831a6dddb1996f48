#include "netns.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

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

int open_path(const std::string& path, Error* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = Error::sys(errno, "open", path);
    return -1;
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    ::close(fd);
    *err = Error::sys(EINVAL, "ioctl", path + " is not a network namespace");
    return -1;
  }
  return fd;
}

namespace {

// Everything `ip netns add` does before the namespace exists: the directory,
// its shared propagation, and an empty file to mount the namespace on.
bool prepare_file(const std::string& path, Error* err) {
  std::string dir = dir_of(path);
  if (int e = mkdir_p(dir)) {
    *err = Error::sys(e, "mkdir", dir);
    return false;
  }
  if (!make_shared(dir, err)) return false;
  int f = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (f < 0) {
    *err = Error::sys(errno, "open", path);
    return false;
  }
  ::close(f);
  return true;
}

}  // namespace

int create_on_this_thread(const std::string& path, Error* err) {
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

bool remove(const std::string& path, Error* err) {
  if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL) {
    *err = Error::sys(errno, "umount2", path);
    return false;
  }
  if (unlink(path.c_str()) < 0) {
    *err = Error::sys(errno, "unlink", path);
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
