#include "socket.hpp"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace nl {

std::atomic<TraceTap> g_trace_tap{nullptr};

void set_trace_tap(TraceTap tap) { g_trace_tap.store(tap, std::memory_order_relaxed); }

void Socket::trace(bool sent, bytes data) const {
  if (TraceTap tap = trace_tap()) tap(TraceRecord{sent, protocol_, portid_, netns_, data});
}

namespace {
constexpr int kBufBytes = 4 << 20;        // socket buffers: room for many ACKs in flight
constexpr size_t kRecvBytes = 128 * 1024; // > the 32 KiB the kernel uses per dump datagram

// The calling thread's receive buffer, allocated on its first recv.
std::vector<uint8_t>& recv_buffer() {
  thread_local std::vector<uint8_t> buf(kRecvBytes);
  return buf;
}
}  // namespace

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    portid_ = o.portid_;
    seq_ = o.seq_;
    protocol_ = o.protocol_;
    netns_ = o.netns_;
    o.fd_ = -1;
  }
  return *this;
}

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<Socket> Socket::open(int protocol, Error* err) {
  Socket s;
  s.fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (s.fd_ < 0) {
    *err = Error::sys(errno, "socket", "cannot open a netlink socket");
    return std::nullopt;
  }
  int one = 1;
  // Extended ACK (kernel messages), capped ACK (no echo of our request),
  // strict checking (header fields validated, dump filters honoured).
  for (int opt : {NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK}) {
    if (setsockopt(s.fd_, SOL_NETLINK, opt, &one, sizeof one) < 0) {
      *err = Error::sys(errno, "setsockopt", "netlink socket option " + std::to_string(opt));
      return std::nullopt;
    }
  }
  int sz = kBufBytes;
  // FORCE variants need CAP_NET_ADMIN; fall back to the capped ones.
  if (setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
    setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  if (setsockopt(s.fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
    setsockopt(s.fd_, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(s.fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    *err = Error::sys(errno, "bind");
    return std::nullopt;
  }
  socklen_t len = sizeof sa;
  if (getsockname(s.fd_, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
    *err = Error::sys(errno, "getsockname");
    return std::nullopt;
  }
  s.portid_ = sa.nl_pid;
  s.protocol_ = protocol;
  // The namespace the socket lives in (SIOCGSKNS gives an fd of it), so a
  // trace can say which namespace a message went to. Unknown (0) if refused.
  int nsfd = ioctl(s.fd_, SIOCGSKNS);
  if (nsfd >= 0) {
    struct stat st{};
    if (fstat(nsfd, &st) == 0) s.netns_ = st.st_ino;
    ::close(nsfd);
  }
  return s;
}

Socket Socket::adopt(int fd, uint32_t portid) {
  Socket s;
  s.fd_ = fd;
  s.portid_ = portid;
  return s;
}

int Socket::send(std::span<const iovec> iov) {
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  msghdr m{};
  m.msg_name = &sa;
  m.msg_namelen = sizeof sa;
  m.msg_iov = const_cast<iovec*>(iov.data());
  m.msg_iovlen = iov.size();
  // Traced before it goes: rtnetlink does its work inside sendmsg, and the
  // time a request took is counted from here.
  if (trace_tap()) [[unlikely]] {
    std::vector<uint8_t> all;
    for (const iovec& v : iov) all.insert(all.end(), static_cast<const uint8_t*>(v.iov_base), static_cast<const uint8_t*>(v.iov_base) + v.iov_len);
    trace(true, bytes(all.data(), all.size()));
  }
  for (;;) {
    ssize_t n = sendmsg(fd_, &m, 0);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

std::optional<bytes> Socket::recv(int* err, bool nonblock) {
  auto& rbuf = recv_buffer();
  sockaddr_nl sa{};
  iovec iov{rbuf.data(), rbuf.size()};
  msghdr m{};
  m.msg_name = &sa;
  m.msg_namelen = sizeof sa;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  for (;;) {
    ssize_t n = recvmsg(fd_, &m, nonblock ? MSG_DONTWAIT : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return std::nullopt;
    }
    if (m.msg_flags & MSG_TRUNC) {
      *err = EMSGSIZE;
      return std::nullopt;
    }
    if (sa.nl_pid != 0) continue;  // only the kernel speaks to us
    if (trace_tap()) [[unlikely]]
      trace(false, bytes(rbuf.data(), static_cast<size_t>(n)));
    return bytes(rbuf.data(), static_cast<size_t>(n));
  }
}

}  // namespace nl
