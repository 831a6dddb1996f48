// geneve: `ip link add NAME type geneve id VNI remote ADDR [dstport PORT] [ttl N] [tos N]`.
// The remote is IFLA_GENEVE_REMOTE or IFLA_GENEVE_REMOTE6 by its family; the
// port is in network order (the kernel's default is 6081).
#include <linux/if_link.h>

#include "kind.hpp"

namespace nl::rtnl::kinds {

static const Field fields[] = {
    NL_FIELD("id", IFLA_GENEVE_ID, U32),
    NL_FIELD_IP("remote", IFLA_GENEVE_REMOTE, IFLA_GENEVE_REMOTE6),
    NL_FIELD("ttl", IFLA_GENEVE_TTL, U8),
    NL_FIELD("tos", IFLA_GENEVE_TOS, U8),
    NL_FIELD("port", IFLA_GENEVE_PORT, Be16),
};
extern const LinkKind geneve{"geneve", fields};

}  // namespace nl::rtnl::kinds
