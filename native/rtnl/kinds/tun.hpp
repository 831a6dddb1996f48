// tun/tap: made through /dev/net/tun (rtnetlink cannot create one), on the
// namespace's own thread, so the device is born in that namespace. Read back
// from IFLA_INFO_DATA (IFLA_TUN_*) like any other kind (tun.cpp).
#pragma once

#include <optional>
#include <string>

#include "../../local_request.hpp"

namespace nl::rtnl {

// `ip tuntap add NAME mode tun|tap [multi_queue] [user UID] [group GID] [vnet_hdr] [pi]`:
// TUNSETIFF, TUNSETOWNER, TUNSETGROUP, TUNSETPERSIST, then the fd is closed:
// the device stays (persistent). A failure before TUNSETPERSIST leaves nothing.
struct TunSpec {
  std::string name;
  bool tap = false;
  bool multi_queue = false;
  bool vnet_hdr = false;
  bool pi = false;  // packet information header (IFF_NO_PI when false)
  std::optional<uint32_t> owner, group;
};

class TunRequest : public LocalRequest {
 public:
  explicit TunRequest(TunSpec s) : spec(std::move(s)) { op = "TUNSETIFF"; }
  TunSpec spec;
  void run(LocalContext& ctx) override;
};

}  // namespace nl::rtnl
