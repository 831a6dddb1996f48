// nl::rtnl — spec structs for links, addresses and routes, the messages they
// become, and the structs that kernel replies decode into.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../nl/transact.hpp"
#include "kinds/kind.hpp"

namespace nl::rtnl {

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------- links

enum class LinkOp { New, Set, Del, Get, Dump };

// The other end of a veth, created with it. It cannot be created up: the
// kernel opens the peer before the first end is registered and answers
// ENOTCONN, so bring it up with a second request in its own namespace.
struct PeerSpec {
  std::string name;
  std::optional<int> netns_fd;
  std::optional<uint32_t> mtu;
  std::optional<Bytes> mac;
};

struct LinkSpec {
  LinkOp op = LinkOp::Get;
  int32_t index = 0;             // ifi_index: the link to change, get or delete
  std::string name;              // IFLA_IFNAME: create / rename / look up by name
  std::string kind;              // IFLA_INFO_KIND, for New
  std::optional<uint32_t> mtu;
  std::optional<Bytes> mac;      // IFLA_ADDRESS
  std::optional<uint32_t> master;  // IFLA_MASTER; 0 detaches
  std::optional<bool> up;        // IFF_UP in ifi_flags/ifi_change
  std::optional<bool> promisc;   // IFF_PROMISC in ifi_flags/ifi_change
  std::optional<int> netns_fd;   // IFLA_NET_NS_FD: move (or create) into that namespace
  std::optional<uint32_t> netns_pid;  // IFLA_NET_NS_PID
  std::optional<uint32_t> group; // IFLA_GROUP; with Del and index 0: delete the whole group
  std::optional<uint32_t> txqlen;
  std::optional<std::string> alias;  // IFLA_IFALIAS ("" clears)
  std::optional<uint32_t> parent;  // IFLA_LINK: lower device (macvlan, vlan, ipvlan)
  std::optional<PeerSpec> peer;    // veth
  // IFLA_INFO_DATA, encoded by the kind's table (kinds/<kind>.cpp). With New,
  // or with Set and a kind: then sent as RTM_NEWLINK without NLM_F_CREATE,
  // the way kind data is changed (`ip link set NAME type bridge stp_state 1`).
  KindData data;
  // Set only: hairpin mode of a bridge port (`bridge link set dev X hairpin on`):
  // an RTM_SETLINK of family AF_BRIDGE with IFLA_PROTINFO { IFLA_BRPORT_MODE }.
  std::optional<bool> hairpin;
  // Dump filters (strict checking): by master, by kind.
  std::optional<uint32_t> filter_master;
  std::string filter_kind;
};

struct LinkInfo {
  int32_t index = 0;
  std::string name;
  std::string kind;        // "veth", "bridge"... empty for plain devices
  std::string slave_kind;  // "bridge" for a bridge port
  uint32_t flags = 0;      // IFF_*
  uint16_t type = 0;       // ARPHRD_*
  uint32_t mtu = 0, min_mtu = 0, max_mtu = 0;
  Bytes mac, broadcast, perm_mac;
  uint8_t operstate = 0;
  uint32_t master = 0;
  int32_t link = 0;          // IFLA_LINK: a veth's peer index (in its own namespace)
  int32_t link_netnsid = -1; // IFLA_LINK_NETNSID: that namespace, as an id seen from here
  uint32_t group = 0;
  uint32_t txqlen = 0;
  std::string alias;
  KindData data;  // IFLA_INFO_DATA of a registered kind, by its table (kinds/)
};

// ---------------------------------------------------------------- addresses

enum class AddrOp { New, Del, Dump };

struct AddrSpec {
  AddrOp op = AddrOp::Dump;
  bool replace = false;
  uint8_t family = 0;   // AF_INET / AF_INET6; 0 in a dump = both
  uint8_t prefixlen = 0;
  uint8_t scope = 0;    // RT_SCOPE_*
  int32_t index = 0;    // ifa_index; in a dump, a filter (0 = all)
  Bytes local;          // IFA_LOCAL (and IFA_ADDRESS unless peer)
  std::optional<Bytes> peer;       // IFA_ADDRESS for point-to-point
  std::optional<Bytes> broadcast;  // IFA_BROADCAST
  uint32_t flags = 0;   // IFA_F_* (NODAD, NOPREFIXROUTE...) via IFA_FLAGS
  std::string label;
  std::optional<uint32_t> valid_lft, preferred_lft;  // seconds
};

struct AddrInfo {
  uint8_t family = 0, prefixlen = 0, scope = 0;
  uint32_t flags = 0;
  int32_t index = 0;
  Bytes local, address, broadcast;
  std::string label;
  uint32_t valid_lft = 0xffffffff, preferred_lft = 0xffffffff;
};

// ---------------------------------------------------------------- routes

enum class RouteOp { New, Del, Dump, Get };

// One hop of a multipath route. A gateway of the route's family goes as
// RTA_GATEWAY; an IPv6 gateway of an IPv4 route as RTA_VIA.
struct NexthopSpec {
  Bytes gateway;        // empty: a device hop
  uint32_t oif = 0;
  uint16_t weight = 1;  // 1..256 (rtnh_hops + 1)
};

struct RouteSpec {
  RouteOp op = RouteOp::Dump;
  bool excl = true;      // New: fail if it exists (ip route add)
  bool replace = false;  // New: replace or create (ip route replace)
  bool append = false;   // New: append a nexthop route (ip route append)
  uint8_t family = 0;
  Bytes dst;             // empty = default
  uint8_t dst_len = 0;
  Bytes src;             // source prefix (IPv6 subtrees)
  uint8_t src_len = 0;
  std::optional<Bytes> gateway;
  uint32_t oif = 0;
  uint32_t iif = 0;      // Get: the input device to simulate
  uint32_t table = 0;    // 0: main for New/Del, all for Dump
  std::optional<uint32_t> priority;  // metric
  std::optional<Bytes> prefsrc;
  std::optional<uint8_t> scope;
  std::optional<uint8_t> protocol;
  std::optional<uint8_t> type;       // RTN_*
  bool onlink = false;
  std::optional<uint32_t> mtu;       // RTAX_MTU
  // ECMP: RTA_MULTIPATH, one struct rtnexthop per hop (gateway and oif then stay unset).
  std::vector<NexthopSpec> nexthops;
};

struct Nexthop {
  Bytes gateway;        // RTA_GATEWAY, or the address of RTA_VIA
  uint32_t oif = 0;
  uint16_t weight = 1;  // rtnh_hops + 1: 1..256
  uint8_t flags = 0;
};

struct RouteInfo {
  uint8_t family = 0, dst_len = 0, src_len = 0, tos = 0;
  uint8_t table8 = 0, protocol = 0, scope = 0, type = 0;
  uint32_t flags = 0;
  uint32_t table = 0;
  Bytes dst, src, gateway, prefsrc;
  uint32_t oif = 0, iif = 0;
  std::optional<uint32_t> priority;
  uint32_t mtu = 0;
  std::vector<Nexthop> multipath;
};

// ---------------------------------------------------------------- neighbours

enum class NeighOp { New, Del, Dump };

// ARP/NDP entries (family AF_INET/AF_INET6) and bridge/VXLAN forwarding
// database entries (family AF_BRIDGE: `bridge fdb`).
struct NeighSpec {
  NeighOp op = NeighOp::Dump;
  bool replace = false;  // New: NLM_F_REPLACE (ip neigh replace)
  uint8_t family = 0;
  int32_t index = 0;
  uint16_t state = 0;    // NUD_*
  uint8_t flags = 0;     // NTF_*
  std::optional<Bytes> dst;     // NDA_DST (IP; for fdb on vxlan: the remote)
  std::optional<Bytes> lladdr;  // NDA_LLADDR
  std::optional<uint16_t> vlan; // NDA_VLAN
  std::optional<uint32_t> vni;  // NDA_VNI
  std::optional<uint32_t> master;  // NDA_MASTER (fdb dump filter, or entry)
};

struct NeighInfo {
  uint8_t family = 0;
  int32_t index = 0;
  uint16_t state = 0;
  uint8_t flags = 0, type = 0;
  Bytes dst, lladdr;
  int32_t vlan = -1;
  int64_t vni = -1;
  uint32_t master = 0;
};

// ---------------------------------------------------------------- rules

enum class RuleOp { New, Del, Dump };

struct RuleSpec {
  RuleOp op = RuleOp::Dump;
  uint8_t family = 0;
  Bytes dst, src;
  uint8_t dst_len = 0, src_len = 0;
  uint8_t tos = 0;
  uint8_t action = 1;  // FR_ACT_TO_TBL
  uint32_t table = 0;
  std::optional<uint32_t> priority;
  std::optional<uint32_t> fwmark, fwmask;
  std::string iifname, oifname;
  bool invert = false;  // FIB_RULE_INVERT ("not")
};

struct RuleInfo {
  uint8_t family = 0, dst_len = 0, src_len = 0, tos = 0, action = 0;
  uint32_t flags = 0, table = 0;
  Bytes dst, src;
  std::optional<uint32_t> priority, fwmark, fwmask;
  std::string iifname, oifname;
};

// ---------------------------------------------------------------- requests

// Each returns a ready-to-send request, or sets *err (EMSGSIZE when the spec
// does not fit the message buffer, EINVAL for an inconsistent spec).
std::unique_ptr<Request> link_request(const LinkSpec&, Error* err);
std::unique_ptr<Request> addr_request(const AddrSpec&, Error* err);
std::unique_ptr<Request> route_request(const RouteSpec&, Error* err);
std::unique_ptr<Request> neigh_request(const NeighSpec&, Error* err);
std::unique_ptr<Request> rule_request(const RuleSpec&, Error* err);
// RTM_NEWNSID: give the namespace behind target_fd the id `nsid` here.
std::unique_ptr<Request> set_nsid_request(int target_fd, int32_t nsid, Error* err);

// Attribute names, for errors: "IFLA_IFNAME", "IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER"...
std::string link_attr_at(bytes msg, size_t offset);
std::string addr_attr_at(bytes msg, size_t offset);
std::string route_attr_at(bytes msg, size_t offset);

// Requests that collect decoded replies.
struct LinkRequest : Request {
  std::vector<LinkInfo> links;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { links.clear(); }
  std::string attr_at(size_t) const override;
  std::string reply_attr_at(bytes m, size_t off) const override { return link_attr_at(m, off); }
  std::string attr_type_name(uint32_t) const override;
};
struct AddrRequest : Request {
  std::vector<AddrInfo> addrs;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { addrs.clear(); }
  std::string attr_at(size_t) const override;
  std::string reply_attr_at(bytes m, size_t off) const override { return addr_attr_at(m, off); }
  std::string attr_type_name(uint32_t) const override;
};
struct RouteRequest : Request {
  std::vector<RouteInfo> routes;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { routes.clear(); }
  std::string attr_at(size_t) const override;
  std::string reply_attr_at(bytes m, size_t off) const override { return route_attr_at(m, off); }
  std::string attr_type_name(uint32_t) const override;
};

// `ip netns identify`-style lookup: the id (as seen from the namespace the
// request is sent in) of the namespace behind target_fd; -1 if none assigned.
struct NsidRequest : Request {
  int32_t nsid = -1;
  void on_data(const nlmsghdr&, bytes) override;
};
std::unique_ptr<Request> nsid_request(int target_fd, Error* err);

struct NeighRequest : Request {
  std::vector<NeighInfo> neighs;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { neighs.clear(); }
  std::string attr_at(size_t) const override;
};
struct RuleRequest : Request {
  std::vector<RuleInfo> rules;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { rules.clear(); }
  std::string attr_at(size_t) const override;
};

// Decoders (exposed for tests and fuzzing). Return false on a malformed message.
// ---------------------------------------------------------------- notifications

// One change announced on a monitor socket (RTMGRP_LINK, *_IFADDR, *_ROUTE,
// RTMGRP_NEIGH, RTNLGRP_IPV4_RULE / IPV6_RULE).
struct Event {
  enum class Type { Link, Addr, Route, Neigh, Rule } type = Type::Link;
  bool added = true;  // RTM_NEW* (or a change); false for RTM_DEL*
  LinkInfo link;
  AddrInfo addr;
  RouteInfo route;
  NeighInfo neigh;
  RuleInfo rule;
};
// Decodes a datagram read from a monitor socket; other message types are skipped.
// False if the datagram is malformed (the events decoded before that are kept).
bool parse_events(bytes datagram, std::vector<Event>* out);

bool parse_link(const nlmsghdr&, bytes payload, LinkInfo* out);
bool parse_addr(const nlmsghdr&, bytes payload, AddrInfo* out);
bool parse_route(const nlmsghdr&, bytes payload, RouteInfo* out);
bool parse_neigh(const nlmsghdr&, bytes payload, NeighInfo* out);
bool parse_rule(const nlmsghdr&, bytes payload, RuleInfo* out);


}  // namespace nl::rtnl
