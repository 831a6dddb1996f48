// vlan: `ip link add link DEV NAME type vlan id ID [protocol 802.1Q|802.1ad]`.
// The lower device is IFLA_LINK; the protocol an ethertype in network order
// (ETH_P_8021Q 0x8100, ETH_P_8021AD 0x88a8).
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("id", IFLA_VLAN_ID, U16),
    NL_FIELD("protocol", IFLA_VLAN_PROTOCOL, Be16),
};
extern const LinkKind vlan{"vlan", fields};

}  // namespace nl::rtnl::kinds
