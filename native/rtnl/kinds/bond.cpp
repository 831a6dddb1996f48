// bond: `ip link add NAME type bond mode MODE miimon MS`. Slaves join with
// IFLA_MASTER on their own link (`ip link set DEV master BOND`).
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("mode", IFLA_BOND_MODE, U8),  // BOND_MODE_* (linux/if_bonding.h)
    NL_FIELD("miimon", IFLA_BOND_MIIMON, U32),
};
extern const LinkKind bond{"bond", fields};

}  // namespace nl::rtnl::kinds
