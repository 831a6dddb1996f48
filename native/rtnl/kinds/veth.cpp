// veth: `ip link add NAME type veth peer name PEER [netns NS] [mtu N] [address MAC]`.
// The peer is a nested link description (VETH_INFO_PEER: an ifinfomsg and
// IFLA_* attributes), which a field table cannot say: the hook puts it.
// Read back: nothing in IFLA_INFO_DATA (the peer's index is IFLA_LINK).
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "../rtnl.hpp"
#include "kind.hpp"

namespace nl::rtnl::kinds {

static void put_peer(Builder& b, const LinkSpec& s) {
  if (!s.peer) return;
  auto peer = b.nest_begin(VETH_INFO_PEER);
  b.put_struct<ifinfomsg>();
  if (!s.peer->name.empty()) b.put_strz(IFLA_IFNAME, s.peer->name);
  if (s.peer->netns_fd) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(*s.peer->netns_fd));  // owned by the request
  if (s.peer->mtu) b.put_u32(IFLA_MTU, *s.peer->mtu);
  if (s.peer->mac) b.put(IFLA_ADDRESS, s.peer->mac->data(), s.peer->mac->size());
  b.nest_end(peer);
}

extern const LinkKind veth{"veth", {}, put_peer};

}  // namespace nl::rtnl::kinds
