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

// The original direction of an IPv4 entry, as the kernel reports it.
struct Tuple {
  std::array<uint8_t, 4> src{}, dst{};
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;  // host byte order
  uint16_t zone = 0;
};

// Parses one IPCTNL_MSG_CT_NEW dump message: the original tuple, and the
// reply's source address (where the flow really goes after DNAT).
bool parse_entry(const nlmsghdr& h, bytes payload, Tuple* orig, std::array<uint8_t, 4>* reply_src);

// Deletes every IPv4 entry of protocol `proto` whose original destination port
// is in [dport_min, dport_max], and (with `to`) whose reply comes from `to`
// (the container the flow was NATed to). `deleted` counts them; an entry gone
// meanwhile is not an error.  ~ conntrack -D -p udp --dport N [--reply-src A]
class FlushRequest : public LocalRequest {
 public:
  FlushRequest() { op = "IPCTNL_MSG_CT_DELETE"; }
  uint8_t proto = 17;
  uint16_t dport_min = 0, dport_max = 65535;
  std::optional<std::array<uint8_t, 4>> to;
  uint32_t deleted = 0;
  void run(LocalContext& ctx) override;
};

}  // namespace nl::ct
