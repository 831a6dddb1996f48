#include "local.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace nl {

SocketRequest::~SocketRequest() {
  if (fd >= 0) ::close(fd);
}

void SocketRequest::run(LocalContext&) {
  if (netlink_groups) {
    int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (s < 0) {
      error = Error::sys(errno, "socket", "netlink monitor socket");
      return;
    }
    // A burst of changes (thousands of routes) must not overflow it at once.
    // A caller that asks for a small one (a test forcing an overrun) gets it.
    int sz = rcvbuf ? static_cast<int>(rcvbuf) : 4 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = *netlink_groups;
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      error = Error::sys(errno, "bind", "netlink monitor socket");
      ::close(s);
      return;
    }
    fd = s;
    return;
  }
  int s = ::socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) {
    error = Error::sys(errno, "socket");
    return;
  }
  if (bind_addr) {
    int one = 1;
    if (reuseaddr) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (bind_addr->size() == 4) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      std::memcpy(&a->sin_addr, bind_addr->data(), 4);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      std::memcpy(&a->sin6_addr, bind_addr->data(), 16);
      len = sizeof *a;
    }
    if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      error = Error::sys(errno, "bind");
      ::close(s);
      return;
    }
  }
  fd = s;
}

void SysctlRequest::run(LocalContext&) {
  std::string full = "/proc/sys/net/" + path;
  int f = ::open(full.c_str(), (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
  if (f < 0) {
    error = Error::sys(errno, "open", full);
    return;
  }
  if (write) {
    std::string v = *write + "\n";
    ssize_t n = ::write(f, v.data(), v.size());
    if (n < 0) error = Error::sys(errno, "write", full);
  } else {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(f, buf, sizeof buf)) > 0) value.append(buf, static_cast<size_t>(n));
    if (n < 0) error = Error::sys(errno, "read", full);
    while (!value.empty() && (value.back() == '\n')) value.pop_back();
  }
  ::close(f);
}

}  // namespace nl
