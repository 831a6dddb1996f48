// Native unit tests: multipath (ECMP) route messages written from the UAPI
// headers (linux/rtnetlink.h: struct rtnexthop, struct rtvia), and dumps whose
// replies hold a message we cannot decode, answered by the fake kernel of
// native/fuzz: the request must fail naming the attribute, never return a
// silently shorter list.
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../fuzz/fake_kernel.hpp"
#include "../nl/attr.hpp"
#include "../nl/transact.hpp"
#include "../rtnl/rtnl.hpp"

static int failures = 0, checks = 0;
#define CHECK(cond)                                                                   \
  do {                                                                                \
    ++checks;                                                                         \
    if (!(cond)) {                                                                    \
      ++failures;                                                                     \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                 \
  } while (0)

using Bytes = std::vector<uint8_t>;

struct Golden {
  Bytes b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { u8(v & 0xff); u8(v >> 8); }
  void u32(uint32_t v) { u16(v & 0xffff); u16(v >> 16); }
  void attr(uint16_t len, uint16_t type) { u16(len); u16(type); }
  void bytes(std::initializer_list<uint8_t> v) { b.insert(b.end(), v.begin(), v.end()); }
  void set_len() {  // nlmsg_len of a message that starts at 0
    uint32_t n = static_cast<uint32_t>(b.size());
    std::memcpy(b.data(), &n, 4);
  }
};

static void rtmsg_header(Golden& g, uint16_t type, uint16_t flags, uint8_t family, uint8_t dst_len, uint8_t scope, uint32_t seq = 0) {
  g.u32(0); g.u16(type); g.u16(flags); g.u32(seq); g.u32(seq ? fuzz::FakeKernel::kPortid : 0);
  g.u8(family); g.u8(dst_len); g.u8(0); g.u8(0);
  g.u8(RT_TABLE_MAIN); g.u8(RTPROT_BOOT); g.u8(scope); g.u8(RTN_UNICAST); g.u32(0);
}

static void test_golden_multipath_v4() {
  // ip route add 10.99.0.0/24 nexthop via 10.71.1.1 dev 3 nexthop via 10.71.2.1 dev 4 weight 3
  nl::rtnl::RouteSpec s;
  s.op = nl::rtnl::RouteOp::New;
  s.family = AF_INET;
  s.dst = {10, 99, 0, 0};
  s.dst_len = 24;
  s.nexthops = {{{10, 71, 1, 1}, 3, 1}, {{10, 71, 2, 1}, 4, 3}};
  nl::Error err;
  auto req = nl::rtnl::route_request(s, &err);
  Golden g;
  rtmsg_header(g, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, 24, RT_SCOPE_UNIVERSE);
  g.attr(8, RTA_DST); g.bytes({10, 99, 0, 0});
  g.attr(4 + 2 * 16, RTA_MULTIPATH);
  // struct rtnexthop { len, flags, hops (weight - 1), ifindex } + RTA_GATEWAY
  g.u16(16); g.u8(0); g.u8(0); g.u32(3); g.attr(8, RTA_GATEWAY); g.bytes({10, 71, 1, 1});
  g.u16(16); g.u8(0); g.u8(2); g.u32(4); g.attr(8, RTA_GATEWAY); g.bytes({10, 71, 2, 1});
  g.attr(8, RTA_TABLE); g.u32(RT_TABLE_MAIN);
  g.set_len();
  CHECK(req && req->msg == g.b);
}

static void test_golden_multipath_via_v6() {
  // ip route add 10.98.0.0/24 nexthop via inet6 fd71::1 dev 3 weight 256 nexthop dev 4 (onlink)
  nl::rtnl::RouteSpec s;
  s.op = nl::rtnl::RouteOp::New;
  s.family = AF_INET;
  s.dst = {10, 98, 0, 0};
  s.dst_len = 24;
  s.onlink = true;
  Bytes gw6(16, 0);
  gw6[0] = 0xfd; gw6[1] = 0x71; gw6[15] = 1;
  s.nexthops = {{gw6, 3, 256}, {{}, 4, 1}};
  nl::Error err;
  auto req = nl::rtnl::route_request(s, &err);
  Golden g;
  rtmsg_header(g, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, 24, RT_SCOPE_UNIVERSE);
  g.b[16 + 8] = RTNH_F_ONLINK;  // rtm_flags
  g.attr(8, RTA_DST); g.bytes({10, 98, 0, 0});
  g.attr(4 + 8 + 4 + 20 + 8, RTA_MULTIPATH);
  // RTA_VIA: struct rtvia { family, addr } = 2 + 16 bytes, padded to 20 (attribute length 22).
  g.u16(8 + 24); g.u8(RTNH_F_ONLINK); g.u8(255); g.u32(3);
  g.attr(22, RTA_VIA); g.u16(AF_INET6); g.b.insert(g.b.end(), gw6.begin(), gw6.end()); g.u16(0);
  g.u16(8); g.u8(RTNH_F_ONLINK); g.u8(0); g.u32(4);
  g.attr(8, RTA_TABLE); g.u32(RT_TABLE_MAIN);
  g.set_len();
  CHECK(req && req->msg == g.b);
  // Read back: the hops, with the RTA_VIA address as the gateway.
  nl::rtnl::RouteInfo r;
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWROUTE;
  CHECK(req && nl::rtnl::parse_route(h, nl::bytes(req->msg).subspan(16), &r));
  CHECK(r.multipath.size() == 2);
  if (r.multipath.size() == 2) {
    CHECK(r.multipath[0].gateway == gw6 && r.multipath[0].oif == 3 && r.multipath[0].weight == 256);
    CHECK(r.multipath[1].gateway.empty() && r.multipath[1].oif == 4 && r.multipath[1].weight == 1);
  }
}

static void test_multipath_refused() {
  nl::rtnl::RouteSpec s;
  s.op = nl::rtnl::RouteOp::New;
  s.family = AF_INET6;
  s.dst = Bytes(16, 0);
  s.dst_len = 64;
  nl::Error err;
  s.nexthops = {{{10, 0, 0, 1}, 3, 1}};  // an IPv4 gateway of an IPv6 route
  CHECK(nl::rtnl::route_request(s, &err) == nullptr && err.err == EINVAL);
  s.nexthops = {{{}, 3, 0}};  // weight 0
  CHECK(nl::rtnl::route_request(s, &err) == nullptr && err.err == EINVAL);
  s.nexthops = {{{}, 3, 257}};
  CHECK(nl::rtnl::route_request(s, &err) == nullptr && err.err == EINVAL);
  s.nexthops = {{{}, 3, 1}};
  s.oif = 2;  // a device beside the hops
  CHECK(nl::rtnl::route_request(s, &err) == nullptr && err.err == EINVAL);
  s.oif = 0;
  s.nexthops.assign(200, {Bytes(16, 1), 3, 1});  // more than the message holds
  CHECK(nl::rtnl::route_request(s, &err) == nullptr && err.err == EINVAL);
}

// A dump reply of routes: one good RTM_NEWROUTE per entry of `oif_len`, with
// RTA_OIF of that length, then NLMSG_DONE; one datagram.
static Bytes route_dump_reply(std::initializer_list<uint16_t> oif_len) {
  Bytes dg;
  for (uint16_t len : oif_len) {
    Golden g;
    rtmsg_header(g, RTM_NEWROUTE, NLM_F_MULTI, AF_INET, 24, RT_SCOPE_LINK, 1);
    g.attr(8, RTA_DST); g.bytes({10, 1, 0, 0});
    g.attr(static_cast<uint16_t>(4 + len), RTA_OIF);
    for (uint16_t i = 0; i < len; ++i) g.u8(i == 0 ? 2 : 0);
    while (g.b.size() % 4) g.u8(0);
    g.set_len();
    dg.insert(dg.end(), g.b.begin(), g.b.end());
  }
  Golden d;
  d.u32(20); d.u16(NLMSG_DONE); d.u16(NLM_F_MULTI); d.u32(1); d.u32(fuzz::FakeKernel::kPortid); d.u32(0);
  dg.insert(dg.end(), d.b.begin(), d.b.end());
  return dg;
}

static std::unique_ptr<nl::Request> dump_routes(const Bytes& reply) {
  fuzz::FakeKernel k(false);
  Bytes rec = {static_cast<uint8_t>(reply.size() & 0xff), static_cast<uint8_t>(reply.size() >> 8), 0, 0};
  rec.insert(rec.end(), reply.begin(), reply.end());
  k.feed(rec.data(), rec.size());
  nl::rtnl::RouteSpec s;
  s.op = nl::rtnl::RouteOp::Dump;
  s.family = AF_INET;
  nl::Error err;
  auto req = nl::rtnl::route_request(s, &err);
  nl::Request* batch[] = {req.get()};
  nl::transact(k.sock, batch);
  return req;
}

static void test_dump_with_wrong_width_fails() {
  {
    auto req = dump_routes(route_dump_reply({4, 4, 4}));
    auto& r = static_cast<nl::rtnl::RouteRequest&>(*req);
    CHECK(!r.error && r.routes.size() == 3);
  }
  {
    // The second of three routes has a 2-byte RTA_OIF: the dump fails, naming it.
    auto req = dump_routes(route_dump_reply({4, 2, 4}));
    CHECK(req->error.has_value());
    if (req->error) {
      const nl::Error& e = *req->error;
      CHECK(e.err == EBADMSG);
      CHECK(e.malformed_reply);
      CHECK(e.syscall == "RTM_GETROUTE");
      CHECK(e.attribute == "RTA_OIF");
      CHECK(e.detail == "reply message 2 (type 24) malformed: attribute RTA_OIF (type 4) has length 2, want 4");
    }
  }
  {
    // A length out of bounds (not an integer's width): refused too.
    Bytes reply = route_dump_reply({4, 4});
    reply[28 + 8 + 0] = 200;  // the first message's RTA_OIF nla_len past its message
    auto req = dump_routes(reply);
    CHECK(req->error && req->error->malformed_reply && req->error->err == EBADMSG);
    CHECK(req->error && req->error->detail.find("reply message 1 (type 24) malformed: RTM_NEWROUTE could not be decoded") == 0);
  }
}

int main() {
  test_golden_multipath_v4();
  test_golden_multipath_via_v6();
  test_multipath_refused();
  test_dump_with_wrong_width_fails();
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
