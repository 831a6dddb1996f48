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
#include "../rtnl/brport.hpp"
#include "../rtnl/rtnl.hpp"
#include "check.hpp"


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

static void ifinfo_header(Golden& g, uint16_t type, uint16_t flags, uint8_t family, int32_t index) {
  g.u32(0); g.u16(type); g.u16(flags); g.u32(0); g.u32(0);
  g.u8(family); g.u8(0); g.u16(0); g.u32(static_cast<uint32_t>(index)); g.u32(0); g.u32(0);
}

static void test_golden_brport() {
  using nl::rtnl::BrPortOp;
  nl::Error err;
  {
    // bridge link set dev 7 learning off isolated on neigh_suppress on
    nl::rtnl::BrPortSpec s;
    s.op = BrPortOp::SetFlags;
    s.index = 7;
    s.learning = false;
    s.isolated = true;
    s.neigh_suppress = true;
    auto req = nl::rtnl::brport_request(s, &err);
    Golden g;
    ifinfo_header(g, RTM_SETLINK, 0, AF_BRIDGE, 7);
    g.attr(4 + 3 * 8, IFLA_PROTINFO | NLA_F_NESTED);
    g.attr(5, IFLA_BRPORT_LEARNING); g.u8(0); g.u8(0); g.u16(0);
    g.attr(5, IFLA_BRPORT_ISOLATED); g.u8(1); g.u8(0); g.u16(0);
    g.attr(5, IFLA_BRPORT_NEIGH_SUPPRESS); g.u8(1); g.u8(0); g.u16(0);
    g.set_len();
    CHECK(req && req->msg == g.b && req->op == "RTM_SETLINK");
  }
  {
    // bridge vlan add dev 7 vid 10 pvid untagged; then vid 100-103 (a range: BEGIN and END entries)
    nl::rtnl::BrPortSpec s;
    s.op = BrPortOp::VlanAdd;
    s.index = 7;
    s.vlans = {{10, 0, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED}, {100, 103, 0}};
    auto req = nl::rtnl::brport_request(s, &err);
    Golden g;
    ifinfo_header(g, RTM_SETLINK, 0, AF_BRIDGE, 7);
    g.attr(4 + 3 * 8, IFLA_AF_SPEC | NLA_F_NESTED);
    g.attr(8, IFLA_BRIDGE_VLAN_INFO); g.u16(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED); g.u16(10);
    g.attr(8, IFLA_BRIDGE_VLAN_INFO); g.u16(BRIDGE_VLAN_INFO_RANGE_BEGIN); g.u16(100);
    g.attr(8, IFLA_BRIDGE_VLAN_INFO); g.u16(BRIDGE_VLAN_INFO_RANGE_END); g.u16(103);
    g.set_len();
    CHECK(req && req->msg == g.b);
  }
  {
    // bridge vlan del dev 3 vid 30 self (the bridge's own VLAN)
    nl::rtnl::BrPortSpec s;
    s.op = BrPortOp::VlanDel;
    s.index = 3;
    s.self = true;
    s.vlans = {{30, 0, 0}};
    auto req = nl::rtnl::brport_request(s, &err);
    Golden g;
    ifinfo_header(g, RTM_DELLINK, 0, AF_BRIDGE, 3);
    g.attr(4 + 8 + 8, IFLA_AF_SPEC | NLA_F_NESTED);
    g.attr(6, IFLA_BRIDGE_FLAGS); g.u16(BRIDGE_FLAGS_SELF); g.u16(0);
    g.attr(8, IFLA_BRIDGE_VLAN_INFO); g.u16(0); g.u16(30);
    g.set_len();
    CHECK(req && req->msg == g.b && req->op == "RTM_DELLINK");
    s.vlans = {{4095, 0, 0}};
    CHECK(nl::rtnl::brport_request(s, &err) == nullptr && err.err == EINVAL);
    s.vlans = {{10, 5, 0}};
    CHECK(nl::rtnl::brport_request(s, &err) == nullptr && err.err == EINVAL);
  }
  {
    // bridge vlan show: an AF_BRIDGE dump with RTEXT_FILTER_BRVLAN, no index in the header.
    nl::rtnl::BrPortSpec s;
    s.op = BrPortOp::Dump;
    s.index = 7;
    auto req = nl::rtnl::brport_request(s, &err);
    Golden g;
    ifinfo_header(g, RTM_GETLINK, 0, AF_BRIDGE, 0);
    g.attr(8, IFLA_EXT_MASK); g.u32(RTEXT_FILTER_BRVLAN);
    g.set_len();
    CHECK(req && req->msg == g.b && req->dump);
  }
  {
    // ip link set dev 3 type bridge vlan_filtering 1
    nl::rtnl::BrPortSpec s;
    s.op = BrPortOp::VlanFiltering;
    s.index = 3;
    s.vlan_filtering = true;
    auto req = nl::rtnl::brport_request(s, &err);
    Golden g;
    ifinfo_header(g, RTM_NEWLINK, 0, AF_UNSPEC, 3);
    g.attr(4 + 12 + 12, IFLA_LINKINFO | NLA_F_NESTED);
    g.attr(11, IFLA_INFO_KIND); g.b.insert(g.b.end(), {'b', 'r', 'i', 'd', 'g', 'e', 0, 0});
    g.attr(12, IFLA_INFO_DATA | NLA_F_NESTED);
    g.attr(5, IFLA_BR_VLAN_FILTERING); g.u8(1); g.u8(0); g.u16(0);
    g.set_len();
    CHECK(req && req->msg == g.b);
  }
}

// A port of an AF_BRIDGE dump: flags and VLANs decoded; a 2-byte VLAN info refused.
static void test_parse_brport() {
  auto port = [](uint16_t vlan_len) {
    Golden g;
    ifinfo_header(g, RTM_NEWLINK, NLM_F_MULTI, AF_BRIDGE, 7);
    g.attr(7, IFLA_IFNAME); g.b.insert(g.b.end(), {'p', '1', 0, 0});
    g.attr(8, IFLA_MASTER); g.u32(3);
    g.attr(4 + 8 + 8, IFLA_PROTINFO | NLA_F_NESTED);
    g.attr(5, IFLA_BRPORT_LEARNING); g.u8(0); g.u8(0); g.u16(0);
    g.attr(5, IFLA_BRPORT_ISOLATED); g.u8(1); g.u8(0); g.u16(0);
    g.attr(static_cast<uint16_t>(4 + 8 + 4 + vlan_len + (vlan_len % 4 ? 4 - vlan_len % 4 : 0)), IFLA_AF_SPEC | NLA_F_NESTED);
    g.attr(8, IFLA_BRIDGE_VLAN_INFO); g.u16(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED); g.u16(1);
    g.attr(static_cast<uint16_t>(4 + vlan_len), IFLA_BRIDGE_VLAN_INFO); g.u16(0);
    if (vlan_len == 4) g.u16(10);
    else g.u16(0);
    g.set_len();
    return g.b;
  };
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWLINK;
  Bytes ok = port(4);
  nl::rtnl::BrPortInfo p;
  CHECK(nl::rtnl::parse_brport(h, nl::bytes(ok).subspan(16), &p));
  CHECK(p.index == 7 && p.name == "p1" && p.master == 3);
  CHECK(p.learning == false && p.isolated == true && !p.flood.has_value());
  CHECK(p.vlans.size() == 2 && p.vlans[0].vid == 1 && p.vlans[1].vid == 10 && p.vlans[1].flags == 0);
  Bytes short_vlan = port(2);
  nl::rtnl::BrPortInfo q;
  CHECK(!nl::rtnl::parse_brport(h, nl::bytes(short_vlan).subspan(16), &q));
}

int main() {
  test_golden_brport();
  test_parse_brport();
  test_golden_multipath_v4();
  test_golden_multipath_via_v6();
  test_multipath_refused();
  test_dump_with_wrong_width_fails();
  return check_summary();
}
