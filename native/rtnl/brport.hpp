// Bridge ports (ifi_family AF_BRIDGE): port flags in IFLA_PROTINFO
// (IFLA_BRPORT_*), per-port VLANs in IFLA_AF_SPEC (IFLA_BRIDGE_VLAN_INFO),
// and a bridge's vlan_filtering (IFLA_BR_VLAN_FILTERING). linux/if_link.h,
// linux/if_bridge.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../nl/transact.hpp"

namespace nl::rtnl {

enum class BrPortOp {
  SetFlags,      // RTM_SETLINK AF_BRIDGE, IFLA_PROTINFO: bridge link set dev D learning on ...
  VlanAdd,       // RTM_SETLINK AF_BRIDGE, IFLA_AF_SPEC: bridge vlan add dev D vid V [pvid] [untagged] [self]
  VlanDel,       // RTM_DELLINK AF_BRIDGE, IFLA_AF_SPEC: bridge vlan del dev D vid V [self]
  Dump,          // RTM_GETLINK AF_BRIDGE dump, RTEXT_FILTER_BRVLAN: bridge -d link show / bridge vlan show
  VlanFiltering  // RTM_NEWLINK, IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_BR_VLAN_FILTERING: ip link set B type bridge vlan_filtering 1
};

struct BrVlan {
  uint16_t vid = 0;
  uint16_t vid_end = 0;   // a range vid..vid_end (0: just vid)
  uint16_t flags = 0;     // BRIDGE_VLAN_INFO_PVID | _UNTAGGED
};

struct BrPortSpec {
  BrPortOp op = BrPortOp::Dump;
  int32_t index = 0;      // the port (or the bridge itself, with self); Dump: a filter (0 = all)
  std::optional<bool> learning, flood, isolated, guard, fast_leave, neigh_suppress;
  std::vector<BrVlan> vlans;
  bool self = false;      // the VLANs of the bridge device itself (BRIDGE_FLAGS_SELF)
  std::optional<bool> vlan_filtering;
};

struct BrPortInfo {
  int32_t index = 0;
  int32_t master = 0;
  std::string name;
  uint8_t state = 0;      // IFLA_BRPORT_STATE (BR_STATE_*)
  std::optional<bool> learning, flood, isolated, guard, fast_leave, neigh_suppress;
  std::vector<BrVlan> vlans;  // one entry per VLAN (ranges expanded by the kernel without COMPRESSED)
};

struct BrPortRequest : Request {
  int32_t filter = 0;
  std::vector<BrPortInfo> ports;
  void on_data(const nlmsghdr&, bytes) override;
  void reset() override { ports.clear(); }
  std::string attr_at(size_t) const override;
  std::string reply_attr_at(bytes m, size_t off) const override;
};

std::unique_ptr<Request> brport_request(const BrPortSpec&, Error* err);
// One RTM_NEWLINK of an AF_BRIDGE dump; false if malformed.
bool parse_brport(const nlmsghdr&, bytes payload, BrPortInfo* out);

}  // namespace nl::rtnl
