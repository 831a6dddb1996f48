// nl::Socket — one netlink socket, bound in the namespace of the thread that
// opened it, with extended ACKs, capped ACKs and strict checking turned on.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "attr.hpp"
#include "error.hpp"

namespace nl {

// Message trace: one datagram a Socket sent or received, as the tap sees it.
struct TraceRecord {
  bool sent;        // true: we sent it; false: the kernel's reply
  int protocol;     // NETLINK_ROUTE, NETLINK_NETFILTER...
  uint32_t portid;  // the socket's port id (tells sockets apart)
  uint64_t netns;   // inode of the socket's network namespace (0 if unknown)
  bytes data;       // the whole datagram (valid during the call only)
};
// A tap is called on the thread that sent or received, for every datagram of
// every Socket, while it is installed. It must not block and must copy what
// it keeps. Whoever installs one decides what to do with it: this layer knows
// nothing of its callers.
using TraceTap = void (*)(const TraceRecord&);
// Installs (or, with nullptr, removes) the process-wide tap.
void set_trace_tap(TraceTap tap);
// The tap or nullptr: one relaxed atomic load, the whole cost when tracing is off.
extern std::atomic<TraceTap> g_trace_tap;
inline TraceTap trace_tap() { return g_trace_tap.load(std::memory_order_relaxed); }

class Socket {
 public:
  Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& o) noexcept { *this = std::move(o); }
  Socket& operator=(Socket&& o) noexcept;
  ~Socket() { close(); }

  // Opens and binds a socket for `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER).
  static std::optional<Socket> open(int protocol, Error* err);
  // For tests and fuzzers only: a Socket over an fd that stands in for the
  // kernel's end (e.g. one end of socketpair(AF_UNIX, SOCK_SEQPACKET), which
  // keeps datagram boundaries and ignores send()'s netlink address), with the
  // port id replies must carry. Takes ownership of fd; no option is set.
  static Socket adopt(int fd, uint32_t portid);
  void close();

  int fd() const { return fd_; }
  uint32_t portid() const { return portid_; }
  uint32_t next_seq() { return ++seq_; }
  uint64_t netns() const { return netns_; }

  // Sends the iovecs as one datagram. Returns 0 or a positive errno.
  int send(std::span<const iovec> iov);
  // Receives one datagram into the calling thread's receive buffer (one per
  // thread, not per socket: a process may hold thousands of sockets). Returns
  // its bytes, valid until the thread's next recv, or a
  // positive errno in *err (ENOBUFS when the kernel dropped replies).
  // With nonblock, EAGAIN means nothing is queued.
  std::optional<bytes> recv(int* err, bool nonblock = false);

 private:
  int fd_ = -1;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  int protocol_ = 0;
  uint64_t netns_ = 0;  // the namespace's inode, for the trace

  void trace(bool sent, bytes data) const;
};

}  // namespace nl
