// ipvlan: `ip link add link DEV NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("mode", IFLA_IPVLAN_MODE, U16),    // IPVLAN_MODE_L2 / L3 / L3S
    NL_FIELD("flags", IFLA_IPVLAN_FLAGS, U16),  // IPVLAN_F_PRIVATE, IPVLAN_F_VEPA (0: bridge)
};
extern const LinkKind ipvlan{"ipvlan", fields};

}  // namespace nl::rtnl::kinds
