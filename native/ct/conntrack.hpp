// nl::ct — the connection tracking table over NETLINK_NETFILTER (ctnetlink,
// linux/netfilter/nfnetlink_conntrack.h): what `conntrack -D` does, without
// the process. A published port that changes target leaves entries that keep
// sending a flow (UDP above all) to the old container; these requests find
// and delete them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "../local_request.hpp"

namespace nl::ct {

// An address of either family: IPv4 in the first 4 bytes, IPv6 in all 16.
using Addr = std::array<uint8_t, 16>;

// The original direction of an entry (IPv4 or IPv6), as the kernel reports it.
struct Tuple {
  uint8_t family = 0;  // AF_INET or AF_INET6 (nfgen_family)
  Addr src{}, dst{};
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;  // host byte order
  uint16_t zone = 0;
};

// Parses one IPCTNL_MSG_CT_NEW dump message of an IPv4 or IPv6 entry: the
// original tuple, and the reply's source address (where the flow really goes
// after DNAT). The addresses' width follows the family (CTA_IP_V4_* are 4
// bytes, CTA_IP_V6_* 16); anything else is not an entry.
bool parse_entry(const nlmsghdr& h, bytes payload, Tuple* orig, Addr* reply_src);

// Deletes every entry of `family` (AF_INET or AF_INET6) and protocol `proto`
// whose original destination port is in [dport_min, dport_max], and (with
// `to`, an address of that family) whose reply comes from `to` (the container
// the flow was NATed to). `deleted` counts them; an entry gone meanwhile is
// not an error.  ~ conntrack -D -f ipv6 -p udp --dport N [--reply-src A]
class FlushRequest : public LocalRequest {
 public:
  FlushRequest() { op = "IPCTNL_MSG_CT_DELETE"; }
  uint8_t family = 2;  // AF_INET
  uint8_t proto = 17;
  uint16_t dport_min = 0, dport_max = 65535;
  std::optional<Addr> to;  // its first 4 bytes for AF_INET
  uint32_t deleted = 0;
  void run(LocalContext& ctx) override;
};

}  // namespace nl::ct
