// A fake kernel for the reply-loop fuzzers (fuzz_transact, fuzz_nft_batch,
// fuzz_nft_dump): the library's real nl::Socket, adopted over one end of
// socketpair(AF_UNIX, SOCK_SEQPACKET), and the fuzz input written to the
// other end as the kernel's reply datagrams before the code under test runs.
//
// Why SOCK_SEQPACKET: it keeps datagram boundaries and reports MSG_TRUNC like
// netlink, its sendmsg ignores the netlink destination address that
// Socket::send passes (SOCK_DGRAM would refuse it), and a socketpair's peer
// is not subject to net.unix.max_dgram_qlen. recvmsg leaves the sender
// address zeroed (an unnamed peer), so replies pass Socket::recv's
// "nl_pid == 0: from the kernel" check — unless the input asks for a named
// peer (kForeign), whose address reads as a non-zero nl_pid.
//
// Nothing can block: both ends are O_NONBLOCK, so when the input has no more
// replies, Socket::recv fails with EAGAIN where the real kernel would still
// answer — transact() then fails its pending requests with that error (a
// path the real code has anyway, for any recvmsg error), and the nf_tables
// batch loop ends as it does on an empty queue.
//
// Input format (after the target's own selector bytes): records of
//   u16 len (LE) | u8 flags | u8 seq | len bytes
// one datagram each (len is cut to what is left). flags:
//   bit 0  set nlmsg_pid of every message header in the datagram to kPortid
//   bit 1  set nlmsg_seq of every message header to `seq`
//   bit 2  pad the datagram to kRecvBytes + 1 bytes (Socket::recv: MSG_TRUNC)
// Without bits 0/1 the input's own pid/seq are kept (the fuzzer finds
// kPortid and the small sequence numbers by itself; the seed corpus uses the
// bits so that real replies match the requests).
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "../nl/socket.hpp"
#include "common.hpp"

namespace fuzz {

struct FakeKernel {
  static constexpr uint32_t kPortid = 0x00c0ffee;
  static constexpr size_t kRecvBytes = 128 * 1024;  // Socket's receive buffer (socket.cpp)
  static constexpr size_t kMaxDatagrams = 64;

  nl::Socket sock;  // the library's end
  int kernel = -1;  // the fake kernel's end
  bool foreign = false;
  size_t queued = 0, queued_bytes = 0;
  std::vector<std::vector<uint8_t>> sent;  // the datagrams queued, as sent (for the harnesses' checks)

  // foreign: the kernel's end gets an address, so every reply looks as if
  // it came from another process (Socket::recv must skip them all).
  explicit FakeKernel(bool foreign_) : foreign(foreign_) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
      std::perror("fuzz: socketpair");
      std::abort();
    }
    kernel = sv[1];
    int sz = 1 << 20;  // room for a padded datagram and the rest of the input
    if (setsockopt(kernel, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
      setsockopt(kernel, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
      setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (foreign) {
      // An abstract name whose sun_path bytes 2..5 land on nl_pid (sockaddr_nl:
      // family, pad, pid): non-zero. 12 bytes in all, no longer than a
      // sockaddr_nl — recvmsg reports the sender's full address length, and a
      // longer one would make ASan's recvmsg interceptor flag Socket::recv's
      // 12-byte buffer (a netlink socket's addresses are always 12 bytes).
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      char name[16];
      std::snprintf(name, sizeof name, "npfk%05x", (static_cast<unsigned>(getpid()) * 131u + counter()++) & 0xfffff);
      std::memcpy(a.sun_path + 1, name, 9);
      static_assert(offsetof(sockaddr_un, sun_path) + 1 + 9 == sizeof(sockaddr_nl));
      // A name already taken (another fuzzer in this network namespace) only
      // means that this input's replies look as if they came from the kernel.
      (void)bind(kernel, reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_nl));
    }
    sock = nl::Socket::adopt(sv[0], kPortid);
  }
  ~FakeKernel() {
    if (kernel >= 0) ::close(kernel);
  }
  FakeKernel(const FakeKernel&) = delete;
  FakeKernel& operator=(const FakeKernel&) = delete;

  static unsigned& counter() {
    static unsigned c = 0;
    return c;
  }

  // Rewrites pid/seq in every complete message header of dg (bounded walk).
  static void patch(std::vector<uint8_t>& dg, bool pid, bool seq, uint8_t seq_value) {
    size_t off = 0;
    while (dg.size() - off >= sizeof(nlmsghdr)) {
      nlmsghdr h;
      std::memcpy(&h, dg.data() + off, sizeof h);
      if (pid) h.nlmsg_pid = kPortid;
      if (seq) h.nlmsg_seq = seq_value;
      std::memcpy(dg.data() + off, &h, sizeof h);
      if (h.nlmsg_len < sizeof(nlmsghdr)) break;
      // (Not NLMSG_ALIGN: its 32-bit mask would wrap a length near 4 GiB to 0.)
      size_t step = (static_cast<size_t>(h.nlmsg_len) + 3) & ~size_t{3};
      if (step > dg.size() - off) break;
      off += step;
    }
  }

  // Queues the records of `in` as reply datagrams. Returns the datagrams queued.
  size_t feed(const uint8_t* in, size_t size) {
    size_t off = 0;
    while (size - off >= 4 && queued < kMaxDatagrams) {
      size_t len = in[off] | (size_t(in[off + 1]) << 8);
      uint8_t flags = in[off + 2], seq = in[off + 3];
      off += 4;
      if (len > size - off) len = size - off;
      std::vector<uint8_t> dg(in + off, in + off + len);
      off += len;
      patch(dg, flags & 1, flags & 2, seq);
      if (flags & 4) dg.resize(kRecvBytes + 1, 0);
      if (::send(kernel, dg.data(), dg.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) break;  // full: the rest is dropped
      ++queued;
      queued_bytes += dg.size();
      if (dg.size() <= kRecvBytes) sent.push_back(std::move(dg));
    }
    return queued;
  }

  // What the library sent (drains the kernel end's queue): the number of
  // datagrams, and checks each is a well-formed netlink message sequence.
  size_t drain_requests() {
    std::vector<uint8_t> buf(kRecvBytes * 2 + 1);
    size_t n = 0;
    for (;;) {
      ssize_t got = ::recv(kernel, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got < 0) break;
      ++n;
      bool ok = nl::for_each_msg(nl::bytes(buf.data(), size_t(got)), [&](const nlmsghdr& h, nl::bytes) {
        FUZZ_CHECK(h.nlmsg_flags & NLM_F_REQUEST);
        return true;
      });
      FUZZ_CHECK(ok);
    }
    return n;
  }
};

// FUZZ_DEBUG=1 in the environment: the harnesses print what happened (to
// check that a seed reaches the path it is meant for).
inline bool debug() {
  static const bool on = std::getenv("FUZZ_DEBUG") != nullptr;
  return on;
}
inline void debug_error(const char* what, const std::optional<nl::Error>& e) {
  if (!debug()) return;
  if (!e) std::fprintf(stderr, "%s: ok\n", what);
  else
    std::fprintf(stderr, "%s: %s err %d (%s) extack '%s' offset %lld attribute '%s'\n", what, e->syscall.c_str(), e->err,
                 e->detail.c_str(), e->extack.c_str(), static_cast<long long>(e->offset), e->attribute.c_str());
}

// Every Error the reply loop produces: a positive errno (kernel codes are
// 1..4095, anything else EPROTO) and an extended ACK no longer than the input.
inline void check_any_error(const nl::Error& e, size_t input_size) {
  FUZZ_CHECK(e.err > 0 && e.err <= 4095);
  FUZZ_CHECK(e.extack.size() <= input_size);
  FUZZ_CHECK(e.extack.find('\0') == std::string::npos);
  FUZZ_CHECK(!e.syscall.empty());
  sink(e.extack);
  sink(e.attribute);
  sink(e.detail);
}

}  // namespace fuzz
