#include "names.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <array>
#include <string_view>

namespace nl::rtnl {

namespace {

template <size_t N>
std::string pick(const std::array<std::string_view, N>& t, uint32_t type, const char* prefix) {
  if (type < N && !t[type].empty()) return std::string(t[type]);
  return std::string(prefix) + "#" + std::to_string(type);
}

constexpr std::array<std::string_view, 63> kIfla = {
    "IFLA_UNSPEC", "IFLA_ADDRESS", "IFLA_BROADCAST", "IFLA_IFNAME", "IFLA_MTU", "IFLA_LINK", "IFLA_QDISC",
    "IFLA_STATS", "IFLA_COST", "IFLA_PRIORITY", "IFLA_MASTER", "IFLA_WIRELESS", "IFLA_PROTINFO", "IFLA_TXQLEN",
    "IFLA_MAP", "IFLA_WEIGHT", "IFLA_OPERSTATE", "IFLA_LINKMODE", "IFLA_LINKINFO", "IFLA_NET_NS_PID",
    "IFLA_IFALIAS", "IFLA_NUM_VF", "IFLA_VFINFO_LIST", "IFLA_STATS64", "IFLA_VF_PORTS", "IFLA_PORT_SELF",
    "IFLA_AF_SPEC", "IFLA_GROUP", "IFLA_NET_NS_FD", "IFLA_EXT_MASK", "IFLA_PROMISCUITY", "IFLA_NUM_TX_QUEUES",
    "IFLA_NUM_RX_QUEUES", "IFLA_CARRIER", "IFLA_PHYS_PORT_ID", "IFLA_CARRIER_CHANGES", "IFLA_PHYS_SWITCH_ID",
    "IFLA_LINK_NETNSID", "IFLA_PHYS_PORT_NAME", "IFLA_PROTO_DOWN", "IFLA_GSO_MAX_SEGS", "IFLA_GSO_MAX_SIZE",
    "IFLA_PAD", "IFLA_XDP", "IFLA_EVENT", "IFLA_NEW_NETNSID", "IFLA_TARGET_NETNSID", "IFLA_CARRIER_UP_COUNT",
    "IFLA_CARRIER_DOWN_COUNT", "IFLA_NEW_IFINDEX", "IFLA_MIN_MTU", "IFLA_MAX_MTU", "IFLA_PROP_LIST",
    "IFLA_ALT_IFNAME", "IFLA_PERM_ADDRESS", "IFLA_PROTO_DOWN_REASON", "IFLA_PARENT_DEV_NAME",
    "IFLA_PARENT_DEV_BUS_NAME", "IFLA_GRO_MAX_SIZE", "IFLA_TSO_MAX_SIZE", "IFLA_TSO_MAX_SEGS", "IFLA_ALLMULTI",
    "IFLA_DEVLINK_PORT"};
constexpr std::array<std::string_view, 6> kInfo = {"IFLA_INFO_UNSPEC", "IFLA_INFO_KIND", "IFLA_INFO_DATA",
                                                   "IFLA_INFO_XSTATS", "IFLA_INFO_SLAVE_KIND",
                                                   "IFLA_INFO_SLAVE_DATA"};
constexpr std::array<std::string_view, 13> kIfa = {
    "IFA_UNSPEC", "IFA_ADDRESS", "IFA_LOCAL", "IFA_LABEL", "IFA_BROADCAST", "IFA_ANYCAST", "IFA_CACHEINFO",
    "IFA_MULTICAST", "IFA_FLAGS", "IFA_RT_PRIORITY", "IFA_TARGET_NETNSID", "IFA_PROTO", ""};
constexpr std::array<std::string_view, 31> kRta = {
    "RTA_UNSPEC", "RTA_DST", "RTA_SRC", "RTA_IIF", "RTA_OIF", "RTA_GATEWAY", "RTA_PRIORITY", "RTA_PREFSRC",
    "RTA_METRICS", "RTA_MULTIPATH", "RTA_PROTOINFO", "RTA_FLOW", "RTA_CACHEINFO", "RTA_SESSION",
    "RTA_MP_ALGO", "RTA_TABLE", "RTA_MARK", "RTA_MFC_STATS", "RTA_VIA", "RTA_NEWDST", "RTA_PREF",
    "RTA_ENCAP_TYPE", "RTA_ENCAP", "RTA_EXPIRES", "RTA_PAD", "RTA_UID", "RTA_TTL_PROPAGATE", "RTA_IP_PROTO",
    "RTA_SPORT", "RTA_DPORT", "RTA_NH_ID"};

}  // namespace

std::string ifla_name(uint32_t t) { return pick(kIfla, t, "IFLA"); }
std::string ifla_info_name(uint32_t t) { return pick(kInfo, t, "IFLA_INFO"); }
std::string ifa_name(uint32_t t) { return pick(kIfa, t, "IFA"); }
std::string rta_name(uint32_t t) { return pick(kRta, t, "RTA"); }

std::string attr_path(bytes msg, size_t hdr, size_t offset, const Level& top) {
  size_t start = align(sizeof(nlmsghdr)) + hdr;
  if (offset < start || offset >= msg.size()) return {};
  std::string path;
  const Level* level = &top;
  size_t base = start;
  bytes region = msg.subspan(start);
  for (int depth = 0; depth < 8 && level; ++depth) {
    bool found = false;
    size_t off = 0;
    const Level* next = nullptr;
    size_t next_base = 0;
    bytes next_region;
    for_each_attr(region, [&](const Attr& a) {
      if (found) return;
      size_t a_start = base + off;
      size_t a_len = attr_hdrlen + a.data.size();
      if (offset >= a_start && offset < a_start + a_len) {
        found = true;
        if (!path.empty()) path += '/';
        path += level->name(a.type);
        size_t skip = 0;
        if (level->inner && offset >= a_start + attr_hdrlen) {
          next = level->inner(a.type, &skip);
          if (next && a.data.size() >= skip) {
            next_base = a_start + attr_hdrlen + skip;
            next_region = a.data.subspan(skip);
          } else {
            next = nullptr;
          }
        }
      }
      off += align(a_len);
    });
    if (!found) break;
    level = next;
    base = next_base;
    region = next_region;
    if (offset < base) break;
  }
  return path;
}

}  // namespace nl::rtnl
