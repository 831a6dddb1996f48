// Native unit tests: message bytes written from the UAPI headers, and the
// parsers against truncated, oversized and random input.
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../nl/attr.hpp"
#include "../nl/builder.hpp"
#include "../nl/transact.hpp"
#include "../rtnl/rtnl.hpp"
#include "check.hpp"

using nl::bytes;

// Little-endian helpers for hand-written golden messages.
struct Golden {
  Bytes b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { u8(v & 0xff); u8(v >> 8); }
  void u32(uint32_t v) { u16(v & 0xffff); u16(v >> 16); }
  void str(const char* s, size_t pad_to) {
    size_t n = std::strlen(s) + 1;
    for (size_t i = 0; i < n; ++i) u8(i < n - 1 ? s[i] : 0);
    for (size_t i = n; i < pad_to; ++i) u8(0);
  }
  void attr(uint16_t len, uint16_t type) { u16(len); u16(type); }
};

static void test_builder_bounds() {
  uint8_t buf[32];
  nl::Builder b(buf);
  CHECK(b.put_header(RTM_GETLINK, 0) != nullptr);
  CHECK(b.put_header(RTM_GETLINK, 0) == nullptr);  // one message per builder
  // 16 (nlmsghdr) + 16 (ifinfomsg) == 32: the headers fit exactly, no attribute does.
  nl::Builder c(buf);
  c.put_header(RTM_GETLINK, 0);
  CHECK(c.put_extra_header<ifinfomsg>() != nullptr);
  CHECK(c.ok());
  CHECK(!c.put_u32(IFLA_MTU, 1500));
  CHECK(!c.ok());                       // overflow is sticky
  CHECK(!c.put_u8(IFLA_OPERSTATE, 1));  // and every later call fails
  CHECK(c.size() == 32);
}

static void test_builder_nest() {
  uint8_t buf[256];
  nl::Builder b(buf);
  b.put_header(RTM_NEWLINK, 0);
  b.put_extra_header<ifinfomsg>();
  auto n = b.nest_begin(IFLA_LINKINFO);
  b.put_strz(IFLA_INFO_KIND, "veth");
  b.nest_end(n);
  auto c = b.nest_begin(IFLA_AF_SPEC);
  b.put_u32(1, 2);
  b.nest_cancel(c);
  CHECK(b.ok());
  CHECK(b.size() == 16 + 16 + 4 + 12);
  nl::AttrTable<IFLA_MAX> tb(b.bytes().subspan(32));
  CHECK(tb.valid);
  CHECK(tb[IFLA_LINKINFO].present());
  CHECK(!tb[IFLA_AF_SPEC].present());
  nl::AttrTable<IFLA_INFO_MAX> info(tb[IFLA_LINKINFO].data);
  CHECK(info[IFLA_INFO_KIND].str() == "veth");
}

// ip link add br0 type bridge; ip link set br0 up — as one RTM_NEWLINK.
static void test_golden_bridge() {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = "br0";
  s.kind = "bridge";
  s.up = true;
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  CHECK(req != nullptr);
  Golden g;
  g.u32(56); g.u16(RTM_NEWLINK); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);  // nlmsghdr
  g.u8(AF_UNSPEC); g.u8(0); g.u16(0); g.u32(0); g.u32(IFF_UP); g.u32(IFF_UP);          // ifinfomsg
  g.attr(8, IFLA_IFNAME); g.str("br0", 4);
  g.attr(16, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(11, IFLA_INFO_KIND); g.str("bridge", 8);
  CHECK(req && req->msg == g.b);
  CHECK(req && req->op == "RTM_NEWLINK");
}

// ip link add v0 type veth peer name eth0 netns <fd 7>, mtu 1400 on both.
static void test_golden_veth() {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = "v0";
  s.kind = "veth";
  s.mtu = 1400;
  int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  s.peer = nl::rtnl::PeerSpec{"eth0", nsfd, 1400, std::nullopt};
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  CHECK(req != nullptr);
  if (!req) return;
  // The request carries its own dup of the fd, not the caller's.
  CHECK(req->owned_fds.size() == 1 && req->owned_fds[0] != nsfd);
  uint32_t owned = static_cast<uint32_t>(req->owned_fds[0]);
  close(nsfd);
  Golden g;
  g.u32(0); g.u16(RTM_NEWLINK); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(0); g.u8(0); g.u16(0); g.u32(0); g.u32(0); g.u32(0);
  g.attr(7, IFLA_IFNAME); g.str("v0", 4);
  g.attr(8, IFLA_MTU); g.u32(1400);
  // IFLA_LINKINFO { KIND "veth", DATA { VETH_INFO_PEER { ifinfomsg, IFNAME eth0, NET_NS_FD 7, MTU 1400 } } }
  uint16_t peer_len = 4 + 16 + 12 + 8 + 8;
  uint16_t data_len = 4 + peer_len;
  uint16_t info_len = 4 + 12 + data_len;  // wait: KIND "veth\0" = 4 + 5 = 9 -> 12 aligned
  g.attr(info_len, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(9, IFLA_INFO_KIND); g.str("veth", 8);
  g.attr(data_len, IFLA_INFO_DATA | NLA_F_NESTED);
  g.attr(peer_len, VETH_INFO_PEER | NLA_F_NESTED);
  for (int i = 0; i < 16; ++i) g.u8(0);
  g.attr(9, IFLA_IFNAME); g.str("eth0", 8);
  g.attr(8, IFLA_NET_NS_FD); g.u32(owned);
  g.attr(8, IFLA_MTU); g.u32(1400);
  uint32_t total = static_cast<uint32_t>(g.b.size());
  std::memcpy(g.b.data(), &total, 4);
  // A closed fd is refused when the request is built.
  nl::rtnl::LinkSpec bad = s;
  bad.peer->netns_fd = 1 << 20;
  CHECK(nl::rtnl::link_request(bad, &err) == nullptr && err.err == EBADF);
  if (req && req->msg != g.b) {
    for (size_t i = 0; i < std::max(req->msg.size(), g.b.size()); ++i)
      if (i >= req->msg.size() || i >= g.b.size() || req->msg[i] != g.b[i]) { std::fprintf(stderr, "veth golden differs at byte %zu (sizes %zu/%zu)\n", i, req->msg.size(), g.b.size()); break; }
  }
  CHECK(req && req->msg == g.b);
}

// ip link add mv0 link #3 type macvlan mode bridge
static void test_golden_macvlan() {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = "mv0";
  s.kind = "macvlan";
  s.parent = 3;
  s.data.num("mode", MACVLAN_MODE_BRIDGE);
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  CHECK(req != nullptr);
  Golden g;
  g.u32(76); g.u16(RTM_NEWLINK); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(AF_UNSPEC); g.u8(0); g.u16(0); g.u32(0); g.u32(0); g.u32(0);
  g.attr(8, IFLA_IFNAME); g.str("mv0", 4);
  g.attr(8, IFLA_LINK); g.u32(3);
  g.attr(28, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(12, IFLA_INFO_KIND); g.str("macvlan", 8);
  g.attr(12, IFLA_INFO_DATA | NLA_F_NESTED);
  g.attr(8, IFLA_MACVLAN_MODE); g.u32(4);  // MACVLAN_MODE_BRIDGE
  CHECK(req && req->msg == g.b);
}

// ip link add vx0 type vxlan id 42 dstport 4789 remote 10.60.0.2 local 10.60.0.1 dev #5
// (the device goes in IFLA_VXLAN_LINK, not IFLA_LINK; the port in network order)
static void test_golden_vxlan() {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = "vx0";
  s.kind = "vxlan";
  s.data.num("id", 42).num("port", 4789).ip("group", Bytes{10, 60, 0, 2}).ip("local", Bytes{10, 60, 0, 1}).num("link", 5);
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  CHECK(req != nullptr);
  Golden g;
  g.u32(100); g.u16(RTM_NEWLINK); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(AF_UNSPEC); g.u8(0); g.u16(0); g.u32(0); g.u32(0); g.u32(0);
  g.attr(8, IFLA_IFNAME); g.str("vx0", 4);
  g.attr(60, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(10, IFLA_INFO_KIND); g.str("vxlan", 8);
  g.attr(44, IFLA_INFO_DATA | NLA_F_NESTED);
  g.attr(8, IFLA_VXLAN_ID); g.u32(42);
  g.attr(6, IFLA_VXLAN_PORT); g.u8(4789 >> 8); g.u8(4789 & 0xff); g.u16(0);
  g.attr(8, IFLA_VXLAN_GROUP); g.u8(10); g.u8(60); g.u8(0); g.u8(2);
  g.attr(8, IFLA_VXLAN_LOCAL); g.u8(10); g.u8(60); g.u8(0); g.u8(1);
  g.attr(8, IFLA_VXLAN_LINK); g.u32(5);
  CHECK(req && req->msg == g.b);
}

// The kinds this kernel lacks (dummy, vlan, ipvlan, bond, wireguard) are
// checked here, byte for byte from linux/if_link.h; the others also against
// the kernel (test/integration/kinds.test.ts).
static Bytes golden_new(const char* name, const char* kind, std::optional<uint32_t> link, const std::function<void(Golden&)>& data) {
  Golden d;
  if (data) data(d);
  Golden g;
  size_t name_len = std::strlen(name) + 1, kind_len = std::strlen(kind) + 1;
  auto al = [](size_t n) { return static_cast<uint16_t>((n + 3) & ~size_t{3}); };
  uint16_t data_len = d.b.empty() ? 0 : static_cast<uint16_t>(4 + d.b.size());
  uint16_t info_len = static_cast<uint16_t>(4 + al(4 + kind_len) + data_len);
  uint32_t total = 16 + 16 + al(4 + name_len) + (link ? 8 : 0) + info_len;
  g.u32(total); g.u16(RTM_NEWLINK); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(AF_UNSPEC); g.u8(0); g.u16(0); g.u32(0); g.u32(0); g.u32(0);
  g.attr(static_cast<uint16_t>(4 + name_len), IFLA_IFNAME); g.str(name, al(name_len));
  if (link) { g.attr(8, IFLA_LINK); g.u32(*link); }
  g.attr(info_len, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(static_cast<uint16_t>(4 + kind_len), IFLA_INFO_KIND); g.str(kind, al(kind_len));
  if (data_len) {
    g.attr(data_len, IFLA_INFO_DATA | NLA_F_NESTED);
    g.b.insert(g.b.end(), d.b.begin(), d.b.end());
  }
  return g.b;
}

static void check_golden(const char* what, const nl::rtnl::LinkSpec& s, const Bytes& want) {
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  if (!req) std::fprintf(stderr, "%s: %s\n", what, err.detail.c_str());
  CHECK(req != nullptr);
  if (req && req->msg != want) {
    for (size_t i = 0; i < std::max(req->msg.size(), want.size()); ++i)
      if (i >= req->msg.size() || i >= want.size() || req->msg[i] != want[i]) { std::fprintf(stderr, "%s golden differs at byte %zu (sizes %zu/%zu)\n", what, i, req->msg.size(), want.size()); break; }
  }
  CHECK(req && req->msg == want);
}

static nl::rtnl::LinkSpec new_link(const char* name, const char* kind) {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = name;
  s.kind = kind;
  return s;
}

static void test_golden_new_kinds() {
  // ip link add d0 type dummy; ip link add wg0 type wireguard; ip link add ifb2 type ifb
  check_golden("dummy", new_link("d0", "dummy"), golden_new("d0", "dummy", std::nullopt, nullptr));
  check_golden("wireguard", new_link("wg0", "wireguard"), golden_new("wg0", "wireguard", std::nullopt, nullptr));
  check_golden("ifb", new_link("ifb2", "ifb"), golden_new("ifb2", "ifb", std::nullopt, nullptr));
  // ip link add link #3 name vl0 type vlan id 100 protocol 802.1ad
  auto vl = new_link("vl0", "vlan");
  vl.parent = 3;
  vl.data.num("id", 100).num("protocol", 0x88a8);
  check_golden("vlan", vl, golden_new("vl0", "vlan", 3, [](Golden& d) {
    d.attr(6, IFLA_VLAN_ID); d.u16(100); d.u16(0);
    d.attr(6, IFLA_VLAN_PROTOCOL); d.u8(0x88); d.u8(0xa8); d.u16(0);
  }));
  // ip link add link #3 name iv0 type ipvlan mode l3s private
  auto iv = new_link("iv0", "ipvlan");
  iv.parent = 3;
  iv.data.num("mode", IPVLAN_MODE_L3S).num("flags", IPVLAN_F_PRIVATE);
  check_golden("ipvlan", iv, golden_new("iv0", "ipvlan", 3, [](Golden& d) {
    d.attr(6, IFLA_IPVLAN_MODE); d.u16(2); d.u16(0);
    d.attr(6, IFLA_IPVLAN_FLAGS); d.u16(1); d.u16(0);
  }));
  // ip link add bond0 type bond mode active-backup miimon 100
  auto bo = new_link("bond0", "bond");
  bo.data.num("miimon", 100).num("mode", 1);  // table order on the wire, whatever the order given
  check_golden("bond", bo, golden_new("bond0", "bond", std::nullopt, [](Golden& d) {
    d.attr(5, IFLA_BOND_MODE); d.u8(1); d.u8(0); d.u16(0);
    d.attr(8, IFLA_BOND_MIIMON); d.u32(100);
  }));
  // ip link add mt0 link #3 type macvtap mode bridge: macvlan's attributes
  auto mt = new_link("mt0", "macvtap");
  mt.parent = 3;
  mt.data.num("mode", MACVLAN_MODE_BRIDGE);
  check_golden("macvtap", mt, golden_new("mt0", "macvtap", 3, [](Golden& d) { d.attr(8, IFLA_MACVLAN_MODE); d.u32(4); }));

  // Refused when built: a key the kind does not have, a value too wide for
  // its field, data for a kind without any.
  nl::Error err;
  auto bad = vl;
  bad.data.num("qos", 1);
  CHECK(nl::rtnl::link_request(bad, &err) == nullptr && err.err == EINVAL && err.detail == "vlan has no option 'qos'");
  bad = vl;
  bad.data = {};
  bad.data.num("id", 70000);
  CHECK(nl::rtnl::link_request(bad, &err) == nullptr && err.err == EINVAL && err.detail.find("'id' is out of range") != std::string::npos);
  auto d = new_link("d0", "dummy");
  d.data.num("x", 1);
  CHECK(nl::rtnl::link_request(d, &err) == nullptr && err.err == EINVAL && err.detail == "link kind 'dummy' takes no data");

  // Changing kind data later: RTM_NEWLINK without NLM_F_CREATE (`ip link set br0 type bridge stp_state 1`).
  nl::rtnl::LinkSpec st;
  st.op = nl::rtnl::LinkOp::Set;
  st.index = 7;
  st.kind = "bridge";
  st.data.num("stp", 1);
  auto sr = nl::rtnl::link_request(st, &err);
  CHECK(sr && sr->op == "RTM_NEWLINK");
  Golden g;
  g.u32(60); g.u16(RTM_NEWLINK); g.u16(0); g.u32(0); g.u32(0);
  g.u8(AF_UNSPEC); g.u8(0); g.u16(0); g.u32(7); g.u32(0); g.u32(0);
  g.attr(28, IFLA_LINKINFO | NLA_F_NESTED);
  g.attr(11, IFLA_INFO_KIND); g.str("bridge", 8);
  g.attr(12, IFLA_INFO_DATA | NLA_F_NESTED);
  g.attr(8, IFLA_BR_STP_STATE); g.u32(1);
  check_golden("bridge set", st, g.b);

  // An extended ACK into the data names the kind's attribute.
  auto vr = nl::rtnl::link_request(vl, &err);
  // 16 + 16 + IFNAME "vl0" (8) + IFLA_LINK (8) = 48: LINKINFO 48, KIND 52..64, DATA 64, VLAN_ID 68, PROTOCOL 76
  CHECK(vr && nl::rtnl::link_attr_at(vr->msg, 68) == "IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VLAN_ID");
  CHECK(vr && nl::rtnl::link_attr_at(vr->msg, 77) == "IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VLAN_PROTOCOL");
}

// Read back: an RTM_NEWLINK of each kind decodes into its named values.
static void test_parse_kind_data() {
  auto reply = [](const char* kind, const std::function<void(Golden&)>& data) {
    Golden d;
    data(d);
    Golden g;
    for (size_t i = 0; i < sizeof(ifinfomsg); ++i) g.u8(0);
    size_t kind_len = std::strlen(kind) + 1;
    uint16_t kal = static_cast<uint16_t>((4 + kind_len + 3) & ~size_t{3});
    g.attr(static_cast<uint16_t>(4 + kal + 4 + d.b.size()), IFLA_LINKINFO);
    g.attr(static_cast<uint16_t>(4 + kind_len), IFLA_INFO_KIND); g.str(kind, kal - 4);
    g.attr(static_cast<uint16_t>(4 + d.b.size()), IFLA_INFO_DATA);
    g.b.insert(g.b.end(), d.b.begin(), d.b.end());
    return g.b;
  };
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWLINK;
  {
    Bytes p = reply("vlan", [](Golden& d) {
      d.attr(6, IFLA_VLAN_ID); d.u16(100); d.u16(0);
      d.attr(6, IFLA_VLAN_PROTOCOL); d.u8(0x81); d.u8(0x00); d.u16(0);
    });
    nl::rtnl::LinkInfo l;
    CHECK(nl::rtnl::parse_link(h, p, &l));
    CHECK(l.kind == "vlan" && l.data.num_or("id", 0) == 100 && l.data.num_or("protocol", 0) == 0x8100);
  }
  {
    Bytes p = reply("tun", [](Golden& d) {
      d.attr(5, IFLA_TUN_TYPE); d.u8(2); d.u8(0); d.u16(0);
      d.attr(5, IFLA_TUN_MULTI_QUEUE); d.u8(1); d.u8(0); d.u16(0);
      d.attr(8, IFLA_TUN_OWNER); d.u32(1000);
    });
    nl::rtnl::LinkInfo l;
    CHECK(nl::rtnl::parse_link(h, p, &l));
    CHECK(l.data.num_or("type", 0) == 2 && l.data.num_or("multiQueue", 0) == 1 && l.data.num_or("owner", 0) == 1000);
    CHECK(l.data.find("group") == nullptr);  // absent stays absent
  }
  {
    Bytes p = reply("vxlan", [](Golden& d) {
      d.attr(20, IFLA_VXLAN_GROUP6); for (int i = 0; i < 16; ++i) d.u8(i == 0 ? 0xfd : i == 15 ? 2 : 0);
    });
    nl::rtnl::LinkInfo l;
    CHECK(nl::rtnl::parse_link(h, p, &l));
    const auto* g6 = l.data.find("group");
    CHECK(g6 && g6->type == nl::rtnl::KindValue::Type::Ip && g6->ip.size() == 16 && g6->ip[0] == 0xfd);
  }
  {
    // A bond mode of the wrong width: the message is malformed, not a silent 0.
    Bytes p = reply("bond", [](Golden& d) { d.attr(8, IFLA_BOND_MODE); d.u32(1); });
    nl::rtnl::LinkInfo l;
    nl::AttrCheck check;
    CHECK(!nl::rtnl::parse_link(h, p, &l));
  }
}

// A monitor datagram: RTM_NEWLINK (lo), RTM_DELADDR (10.0.0.1/8 on #2), an
// unknown type (skipped), then a truncated message (stops the walk).
static void test_parse_events() {
  Golden g;
  // RTM_NEWLINK: nlmsghdr + ifinfomsg + IFLA_IFNAME "lo"
  g.u32(16 + 16 + 8); g.u16(RTM_NEWLINK); g.u16(0); g.u32(0); g.u32(0);
  g.u8(AF_UNSPEC); g.u8(0); g.u16(772); g.u32(1); g.u32(IFF_UP); g.u32(0);
  g.attr(7, IFLA_IFNAME); g.str("lo", 4);
  // RTM_DELADDR: nlmsghdr + ifaddrmsg + IFA_LOCAL 10.0.0.1
  g.u32(16 + 8 + 8); g.u16(RTM_DELADDR); g.u16(0); g.u32(0); g.u32(0);
  g.u8(AF_INET); g.u8(8); g.u8(0); g.u8(0); g.u32(2);
  g.attr(8, IFA_LOCAL); g.u8(10); g.u8(0); g.u8(0); g.u8(1);
  // type 0x7777: not ours
  g.u32(16 + 4); g.u16(0x7777); g.u16(0); g.u32(0); g.u32(0); g.u32(0);
  std::vector<nl::rtnl::Event> evs;
  CHECK(nl::rtnl::parse_events(nl::bytes(g.b.data(), g.b.size()), &evs));
  CHECK(evs.size() == 2);
  if (evs.size() == 2) {
    CHECK(evs[0].type == nl::rtnl::Event::Type::Link && evs[0].added && evs[0].link.name == "lo" && evs[0].link.index == 1);
    CHECK(evs[1].type == nl::rtnl::Event::Type::Addr && !evs[1].added && evs[1].addr.index == 2 && evs[1].addr.prefixlen == 8);
  }
  // Cut inside the second message: the first is kept, the datagram reported malformed.
  std::vector<nl::rtnl::Event> cut;
  CHECK(!nl::rtnl::parse_events(nl::bytes(g.b.data(), 40 + 20), &cut));
  CHECK(cut.size() == 1);
}

// ip addr add 172.17.0.2/16 dev #3
static void test_golden_addr() {
  nl::rtnl::AddrSpec s;
  s.op = nl::rtnl::AddrOp::New;
  s.family = AF_INET;
  s.prefixlen = 16;
  s.index = 3;
  s.local = {172, 17, 0, 2};
  nl::Error err;
  auto req = nl::rtnl::addr_request(s, &err);
  Golden g;
  g.u32(40); g.u16(RTM_NEWADDR); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(AF_INET); g.u8(16); g.u8(0); g.u8(0); g.u32(3);
  g.attr(8, IFA_LOCAL); g.u8(172); g.u8(17); g.u8(0); g.u8(2);
  g.attr(8, IFA_ADDRESS); g.u8(172); g.u8(17); g.u8(0); g.u8(2);
  CHECK(req && req->msg == g.b);
  // Family and address length must agree.
  s.local = {1, 2, 3};
  CHECK(nl::rtnl::addr_request(s, &err) == nullptr && err.err == EINVAL);
}

// ip route add default via 172.17.0.1
static void test_golden_route() {
  nl::rtnl::RouteSpec s;
  s.op = nl::rtnl::RouteOp::New;
  s.family = AF_INET;
  s.gateway = Bytes{172, 17, 0, 1};
  nl::Error err;
  auto req = nl::rtnl::route_request(s, &err);
  Golden g;
  g.u32(44); g.u16(RTM_NEWROUTE); g.u16(NLM_F_CREATE | NLM_F_EXCL); g.u32(0); g.u32(0);
  g.u8(AF_INET); g.u8(0); g.u8(0); g.u8(0);
  g.u8(RT_TABLE_MAIN); g.u8(RTPROT_BOOT); g.u8(RT_SCOPE_UNIVERSE); g.u8(RTN_UNICAST); g.u32(0);
  g.attr(8, RTA_GATEWAY); g.u8(172); g.u8(17); g.u8(0); g.u8(1);
  g.attr(8, RTA_TABLE); g.u32(RT_TABLE_MAIN);
  CHECK(req && req->msg == g.b);
  // A device route gets scope link, like ip(8).
  nl::rtnl::RouteSpec d;
  d.op = nl::rtnl::RouteOp::New;
  d.family = AF_INET;
  d.dst = {10, 0, 0, 0};
  d.dst_len = 8;
  d.oif = 2;
  auto r2 = nl::rtnl::route_request(d, &err);
  CHECK(r2 && reinterpret_cast<const rtmsg*>(r2->msg.data() + 16)->rtm_scope == RT_SCOPE_LINK);
  // A gateway of the wrong family is refused before sending.
  s.gateway = Bytes(16, 0);
  CHECK(nl::rtnl::route_request(s, &err) == nullptr);
}

static void test_attr_parser_rejects() {
  // nla_len below the header size.
  uint8_t a[] = {2, 0, 1, 0, 0, 0, 0, 0};
  int n = 0;
  CHECK(!nl::for_each_attr(bytes(a, sizeof a), [&](const nl::Attr&) { ++n; }));
  CHECK(n == 0);
  // nla_len past the buffer.
  uint8_t b[] = {12, 0, 1, 0, 1, 2, 3, 4};
  n = 0;
  CHECK(!nl::for_each_attr(bytes(b, sizeof b), [&](const nl::Attr&) { ++n; }));
  CHECK(n == 0);
  // A valid attribute followed by a truncated header: the first is seen, the rest refused quietly.
  uint8_t c[] = {8, 0, 4, 0, 0xdc, 5, 0, 0, 8, 0};
  n = 0;
  nl::for_each_attr(bytes(c, sizeof c), [&](const nl::Attr& x) { ++n; CHECK(x.u32() == 1500); });
  CHECK(n == 1);
  // Short payloads read as defaults, never past the end.
  uint8_t d[] = {5, 0, 4, 0, 7, 0, 0, 0};
  nl::AttrTable<8> tb(bytes(d, sizeof d));
  CHECK(tb[4].present());
  CHECK(!tb[4].as<uint32_t>().has_value());
  CHECK(tb[4].u32(42) == 42);
  CHECK(tb[4].u8() == 7);
  // Unterminated string stops at the payload end.
  uint8_t e[] = {8, 0, 3, 0, 'a', 'b', 'c', 'd'};
  nl::AttrTable<8> te(bytes(e, sizeof e));
  CHECK(te[3].str() == "abcd");
}

static void test_msg_parser_rejects() {
  uint8_t a[20] = {};
  uint32_t len = 1000;  // claims more than the buffer
  std::memcpy(a, &len, 4);
  int n = 0;
  CHECK(!nl::for_each_msg(bytes(a, sizeof a), [&](const nlmsghdr&, bytes) { ++n; return true; }));
  CHECK(n == 0);
  len = 4;  // below the header size
  std::memcpy(a, &len, 4);
  CHECK(!nl::for_each_msg(bytes(a, sizeof a), [&](const nlmsghdr&, bytes) { ++n; return true; }));
  CHECK(n == 0);
  CHECK(!nl::for_each_msg(bytes(a, 10), [&](const nlmsghdr&, bytes) { ++n; return true; }));
}

// Integer attributes are read only at their exact width: a short (or long)
// one makes the parser refuse the message and say which attribute, where it
// used to read as a silent 0 (or a prefix).
static Bytes link_payload(uint16_t mtu_len, uint16_t vxlan_id_len) {
  Golden g;
  for (size_t i = 0; i < sizeof(ifinfomsg); ++i) g.u8(0);
  g.attr(4 + 4, IFLA_IFNAME);
  g.str("vx0", 4);
  g.attr(4 + mtu_len, IFLA_MTU);
  for (uint16_t i = 0; i < mtu_len; ++i) g.u8(i == 0 ? 0xdc : i == 1 ? 0x05 : 0);
  while (g.b.size() % 4) g.u8(0);
  // IFLA_LINKINFO { IFLA_INFO_KIND "vxlan", IFLA_INFO_DATA { IFLA_VXLAN_ID } }
  uint16_t id_attr = static_cast<uint16_t>((4 + vxlan_id_len + 3) & ~3);
  g.attr(static_cast<uint16_t>(4 + 12 + 4 + id_attr), IFLA_LINKINFO);
  g.attr(4 + 6, IFLA_INFO_KIND);
  g.str("vxlan", 8);
  g.attr(static_cast<uint16_t>(4 + id_attr), IFLA_INFO_DATA);
  g.attr(static_cast<uint16_t>(4 + vxlan_id_len), IFLA_VXLAN_ID);
  for (uint16_t i = 0; i < vxlan_id_len; ++i) g.u8(i == 0 ? 42 : 0);
  while (g.b.size() % 4) g.u8(0);
  return g.b;
}

static void test_attr_widths_validated() {
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWLINK;
  {
    Bytes p = link_payload(4, 4);
    nl::rtnl::LinkInfo l;
    nl::AttrCheck check;
    CHECK(nl::rtnl::parse_link(h, p, &l));
    CHECK(check.ok());
    CHECK(l.name == "vx0" && l.mtu == 1500 && l.data.num_or("id", 0) == 42);
  }
  for (uint16_t len : {2, 8}) {  // IFLA_MTU short, then long
    Bytes p = link_payload(len, 4);
    nl::rtnl::LinkInfo l;
    nl::AttrCheck check;
    CHECK(!nl::rtnl::parse_link(h, p, &l));
    CHECK(!check.ok());
    nl::Error e = check.error();
    CHECK(e.err == EINVAL);
    CHECK(e.detail == "attribute 4 has length " + std::to_string(len) + ", want 4");
  }
  {
    // Nested: IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_ID of 2 bytes (IFLA_VXLAN_ID is 1).
    Bytes p = link_payload(4, 2);
    nl::rtnl::LinkInfo l;
    nl::AttrCheck check;
    CHECK(!nl::rtnl::parse_link(h, p, &l));
    CHECK(check.error().detail == "attribute 1 has length 2, want 4");
  }
  {
    // Without a check open, a read still never reads a wrong width: the default.
    uint8_t b[] = {6, 0, 4, 0, 7, 0, 0, 0};
    nl::AttrTable<8> tb(bytes(b, sizeof b));
    CHECK(!tb[4].get<uint32_t>().has_value());
    CHECK(tb[4].u32(9) == 9);
    CHECK(tb[4].u16() == 7);
    CHECK(!tb[5].get<uint32_t>().has_value());  // absent: nullopt, nothing recorded
  }
}

static void test_parse_link_truncated() {
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWLINK;
  uint8_t small[8] = {};
  nl::rtnl::LinkInfo l;
  CHECK(!nl::rtnl::parse_link(h, bytes(small, sizeof small), &l));
  h.nlmsg_type = RTM_NEWROUTE;
  uint8_t ok[64] = {};
  CHECK(!nl::rtnl::parse_link(h, bytes(ok, sizeof ok), &l));  // wrong type
}

// An extended ACK pointing at IFLA_MTU of our request names that attribute.
static void test_extack_offset() {
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::Set;
  s.index = 5;
  s.name = "x";
  s.mtu = 100;
  nl::Error err;
  auto req = nl::rtnl::link_request(s, &err);
  CHECK(req != nullptr);
  // nlmsghdr 16 + ifinfomsg 16 + IFLA_IFNAME (4 + 2 -> 8) = 40: IFLA_MTU starts at 40.
  CHECK(req && nl::rtnl::link_attr_at(req->msg, 40) == "IFLA_MTU");
  CHECK(req && nl::rtnl::link_attr_at(req->msg, 44) == "IFLA_MTU");
  CHECK(req && nl::rtnl::link_attr_at(req->msg, 4) == "");
  CHECK(req && nl::rtnl::link_attr_at(req->msg, 10000) == "");
  // A whole NLMSG_ERROR with TLVs.
  Golden g;
  nlmsghdr orig{};
  g.u32(-22);  // error
  for (size_t i = 0; i < sizeof orig; ++i) g.u8(0);
  g.attr(4 + 13, NLMSGERR_ATTR_MSG); g.str("mtu too small", 16);
  g.attr(8, NLMSGERR_ATTR_OFFS); g.u32(40);
  nlmsghdr eh{};
  eh.nlmsg_type = NLMSG_ERROR;
  eh.nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
  nl::Error e = nl::parse_error(-22, eh, g.b, sizeof(nlmsgerr), *req);
  CHECK(e.err == 22);
  CHECK(e.extack == "mtu too small");
  CHECK(e.offset == 40);
  CHECK(e.attribute == "IFLA_MTU");
  CHECK(e.syscall == "RTM_SETLINK");
  // Nested: the peer's IFLA_IFNAME inside a veth request.
  nl::rtnl::LinkSpec v;
  v.op = nl::rtnl::LinkOp::New;
  v.name = "v0";
  v.kind = "veth";
  v.peer = nl::rtnl::PeerSpec{"eth0", std::nullopt, std::nullopt, std::nullopt};
  auto vr = nl::rtnl::link_request(v, &err);
  // 16 + 16 + IFNAME(8) = 40: LINKINFO hdr 40, KIND 44..56, DATA hdr 56, PEER hdr 60, ifinfomsg 64..80, IFNAME 80
  CHECK(vr && nl::rtnl::link_attr_at(vr->msg, 84) == "IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER/IFLA_IFNAME");
}

// Random and mutated input never crashes a decoder (run under ASan/UBSan by `make asan`).
static void test_random_inputs() {
  std::mt19937 rng(12345);
  nl::rtnl::LinkSpec s;
  s.op = nl::rtnl::LinkOp::New;
  s.name = "v0";
  s.kind = "veth";
  s.peer = nl::rtnl::PeerSpec{"eth0", std::nullopt, 1500, Bytes{2, 0, 0, 0, 0, 1}};
  nl::Error err;
  auto base = nl::rtnl::link_request(s, &err)->msg;
  for (int i = 0; i < 200000; ++i) {
    Bytes m = base;
    if (i % 2) {
      m.resize(rng() % 200);
      for (auto& x : m) x = static_cast<uint8_t>(rng());
    } else {
      for (int k = 0; k < 4; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
      m.resize(rng() % (m.size() + 1));
    }
    nl::for_each_msg(m, [&](const nlmsghdr& h, bytes p) {
      nl::rtnl::LinkInfo l;
      nl::rtnl::AddrInfo a;
      nl::rtnl::RouteInfo r;
      nlmsghdr hh = h;
      hh.nlmsg_type = RTM_NEWLINK;
      nl::rtnl::parse_link(hh, p, &l);
      hh.nlmsg_type = RTM_NEWADDR;
      nl::rtnl::parse_addr(hh, p, &a);
      hh.nlmsg_type = RTM_NEWROUTE;
      nl::rtnl::parse_route(hh, p, &r);
      return true;
    });
    nl::rtnl::link_attr_at(m, rng() % (m.size() + 8));
  }
  CHECK(true);
}

int main() {
  test_builder_bounds();
  test_builder_nest();
  test_golden_bridge();
  test_golden_veth();
  test_golden_macvlan();
  test_golden_vxlan();
  test_golden_new_kinds();
  test_parse_kind_data();
  test_golden_addr();
  test_parse_events();
  test_golden_route();
  test_attr_parser_rejects();
  test_msg_parser_rejects();
  test_parse_link_truncated();
  test_attr_widths_validated();
  test_extack_offset();
  test_random_inputs();
  return check_summary();
}
