// bridge: `ip link add NAME type bridge [stp_state 0|1] [vlan_filtering 0|1]`,
// also changed later (`ip link set NAME type bridge stp_state 1`).
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("stp", IFLA_BR_STP_STATE, U32),
    NL_FIELD("vlanFiltering", IFLA_BR_VLAN_FILTERING, U8),
};
extern const LinkKind bridge{"bridge", fields};

}  // namespace nl::rtnl::kinds
