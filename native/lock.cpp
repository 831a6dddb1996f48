#include "lock.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace nl::lock {

int try_exclusive(const std::string& path, Error* err) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *err = Error::sys(errno, "open", "lock file " + path);
    return -2;
  }
  // flock never waits with LOCK_NB: safe to call on the JS thread.
  while (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
    int e = errno;
    if (e == EINTR) continue;
    ::close(fd);
    if (e == EWOULDBLOCK) return -1;
    *err = Error::sys(e, "flock", "lock file " + path);
    return -2;
  }
  return fd;
}

}  // namespace nl::lock
