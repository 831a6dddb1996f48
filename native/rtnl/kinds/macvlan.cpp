// macvlan and macvtap: `ip link add NAME link DEV type macvlan|macvtap mode MODE`.
// The kernel's macvtap is macvlan with a character device on top: the same
// IFLA_MACVLAN_* attributes, so both kinds share this table.
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("mode", IFLA_MACVLAN_MODE, U32),  // MACVLAN_MODE_*
};
extern const LinkKind macvlan{"macvlan", fields};
extern const LinkKind macvtap{"macvtap", fields};

}  // namespace nl::rtnl::kinds
