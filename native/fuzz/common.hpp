// Shared helpers for the libFuzzer targets in native/fuzz: an invariant check
// that crashes loudly (so libFuzzer records the input), a sink the optimiser
// cannot drop, and real request objects built from specs, whose attr_at()
// walkers the error decoder runs with arbitrary offsets.
#pragma once

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../nl/attr.hpp"
#include "../nl/transact.hpp"
#include "../rtnl/rtnl.hpp"

namespace fuzz {

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// Keeps computed values alive without printing them.
inline volatile uint64_t g_sink;
inline void sink(uint64_t v) { g_sink = g_sink + v; }
inline void sink(const std::string& s) {
  uint64_t h = s.size();
  for (unsigned char c : s) h = h * 31 + c;
  sink(h);
}
inline void sink(const std::vector<uint8_t>& b) {
  uint64_t h = b.size();
  for (uint8_t c : b) h = h * 131 + c;
  sink(h);
}

// True if `inner` lies entirely inside `outer` (the parsers must never hand
// out a span that points outside the buffer they were given).
inline bool within(nl::bytes inner, nl::bytes outer) {
  if (inner.empty()) return true;
  auto b = reinterpret_cast<uintptr_t>(inner.data()), e = b + inner.size();
  auto ob = reinterpret_cast<uintptr_t>(outer.data()), oe = ob + outer.size();
  return b >= ob && e <= oe && b <= e;
}

// An open fd for the requests' namespace fds (link_request dups them).
inline int null_fd() {
  static const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd;
}

// One real request of each family, built by the library's own builders, so
// parse_error's calls to attr_at()/attr_type_name() walk real nested messages.
// build_requests() makes fresh ones (the reply-loop fuzzers give transact()
// requests it may change); Requests::get() keeps one set for the decoders.
inline std::vector<std::unique_ptr<nl::Request>> build_requests() {
  std::vector<std::unique_ptr<nl::Request>> all;
  {
    using namespace nl::rtnl;
    nl::Error err;
    {
      LinkSpec s;  // veth with a peer: IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER/ifinfomsg/IFLA_*
      s.op = LinkOp::New;
      s.name = "fz0";
      s.kind = "veth";
      s.mtu = 1400;
      s.mac = Bytes{0x02, 0, 0, 0, 0, 1};
      s.up = true;
      s.master = 7;
      s.netns_fd = null_fd();  // link_request keeps a dup of it
      s.alias = "fuzz";
      PeerSpec p;
      p.name = "fz1";
      p.netns_fd = null_fd();
      p.mtu = 1400;
      p.mac = Bytes{0x02, 0, 0, 0, 0, 2};
      s.peer = p;
      all.push_back(link_request(s, &err));
    }
    {
      LinkSpec s;  // vxlan: IFLA_INFO_DATA without a deeper level
      s.op = LinkOp::New;
      s.name = "fzx";
      s.kind = "vxlan";
      s.data.num("id", 42).num("port", 4789).ip("group", Bytes{239, 1, 1, 1}).num("link", 2);
      all.push_back(link_request(s, &err));
    }
    {
      AddrSpec s;
      s.op = AddrOp::New;
      s.family = AF_INET;
      s.prefixlen = 24;
      s.index = 5;
      s.local = {10, 0, 0, 1};
      s.broadcast = Bytes{10, 0, 0, 255};
      s.label = "fz0:1";
      s.flags = 0x100;
      s.valid_lft = 100;
      all.push_back(addr_request(s, &err));
    }
    {
      RouteSpec s;
      s.op = RouteOp::New;
      s.family = AF_INET6;
      s.dst = Bytes(16, 0xfd);
      s.dst_len = 64;
      s.gateway = Bytes(16, 0xfe);
      s.oif = 5;
      s.priority = 10;
      s.mtu = 1280;
      s.table = 1000;
      all.push_back(route_request(s, &err));
    }
    {
      NeighSpec s;
      s.op = NeighOp::New;
      s.family = AF_INET;
      s.index = 5;
      s.state = NUD_PERMANENT;
      s.dst = Bytes{10, 0, 0, 2};
      s.lladdr = Bytes{2, 0, 0, 0, 0, 3};
      all.push_back(neigh_request(s, &err));
    }
    {
      RuleSpec s;
      s.op = RuleOp::New;
      s.family = AF_INET;
      s.src = {10, 0, 0, 0};
      s.src_len = 8;
      s.iifname = "fz0";
      s.priority = 100;
      s.fwmark = 1;
      s.fwmask = 0xff;
      s.table = 1000;
      all.push_back(rule_request(s, &err));
    }
    {
      auto plain = std::make_unique<nl::Request>();  // the base class: attr_at() names nothing
      plain->op = "PLAIN";
      plain->msg.assign(sizeof(nlmsghdr), 0);
      nlmsghdr h{};
      h.nlmsg_len = sizeof h;  // a well-formed message when sent (fuzz_transact)
      h.nlmsg_type = NLMSG_NOOP;
      std::memcpy(plain->msg.data(), &h, sizeof h);
      all.push_back(std::move(plain));
    }
    for (size_t i = 0; i < all.size(); ++i) {
      if (!all[i] || all[i]->msg.size() < sizeof(nlmsghdr)) {
        std::fprintf(stderr, "fuzz: request %zu could not be built: %s\n", i, err.detail.c_str());
        std::abort();
      }
    }
  }
  return all;
}

struct Requests {
  std::vector<std::unique_ptr<nl::Request>> all = build_requests();
  const nl::Request& pick(size_t i) const { return *all[i % all.size()]; }
  static const Requests& get() {
    static const Requests r;
    return r;
  }
};

// A finding reported and not yet fixed in native/ makes a harness stop at once.
// While it is open, add its condition here: built with -DFUZZ_SKIP_KNOWN
// (make ... KNOWN=skip) the harnesses then step around it, so a long run can
// look for other bugs. Its input is replayed by every smoke run from
// native/test/fuzz-regressions/, without this flag.
// Open findings: none. (Fixed: parse_error negating INT_MIN; for_each_attr
// refusing an unpadded last attribute — see README.md.)
inline bool known_bug(int err) {
#ifdef FUZZ_SKIP_KNOWN
  // e.g., while it was open: if (err == INT32_MIN) return true;
#endif
  (void)err;
  return false;
}

// What every decoded error must satisfy, whatever the payload: a positive
// errno (kernel codes are 1..4095; anything else is EPROTO), the request's
// operation, an extack no longer than the payload, and an attribute named only
// for an offset inside our request.
inline void check_error(const nl::Error& e, nl::bytes payload, const nl::Request& req) {
  FUZZ_CHECK(e.err > 0 && e.err <= 4095);
  FUZZ_CHECK(e.syscall == req.op);
  FUZZ_CHECK(e.extack.size() <= payload.size());
  FUZZ_CHECK(e.extack.find('\0') == std::string::npos);
  if (e.offset < 0 || static_cast<uint64_t>(e.offset) >= req.msg.size()) FUZZ_CHECK(e.attribute.empty());
  sink(e.extack);
  sink(e.attribute);
  sink(e.missing);
  sink(static_cast<uint64_t>(e.offset) ^ static_cast<uint64_t>(e.missing_type));
}

}  // namespace fuzz
