// vxlan: `ip link add NAME type vxlan id VNI dstport PORT remote|group ADDR local ADDR dev DEV`.
// The underlay device is IFLA_VXLAN_LINK (not IFLA_LINK); the port is in
// network order; a remote and a multicast group are the same attribute.
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("id", IFLA_VXLAN_ID, U32),
    NL_FIELD("port", IFLA_VXLAN_PORT, Be16),
    NL_FIELD_IP("group", IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6),
    NL_FIELD_IP("local", IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6),
    NL_FIELD("link", IFLA_VXLAN_LINK, U32),
};
extern const LinkKind vxlan{"vxlan", fields};

}  // namespace nl::rtnl::kinds
