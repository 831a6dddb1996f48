// tun and tap (one kernel kind, "tun"; IFLA_TUN_TYPE tells them apart).
// Created by TunRequest (tun.hpp) with the ioctls of linux/if_tun.h; read
// back from IFLA_INFO_DATA as `ip -d link show` prints it.
#include "tun.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "kind.hpp"

namespace nl::rtnl {

namespace kinds {

static const Field fields[] = {
    NL_FIELD("type", IFLA_TUN_TYPE, U8),  // IFF_TUN 1, IFF_TAP 2
    NL_FIELD("pi", IFLA_TUN_PI, U8),
    NL_FIELD("vnetHdr", IFLA_TUN_VNET_HDR, U8),
    NL_FIELD("persist", IFLA_TUN_PERSIST, U8),
    NL_FIELD("multiQueue", IFLA_TUN_MULTI_QUEUE, U8),
    NL_FIELD("numQueues", IFLA_TUN_NUM_QUEUES, U32),
    NL_FIELD("owner", IFLA_TUN_OWNER, U32),  // absent when no owner is set
    NL_FIELD("group", IFLA_TUN_GROUP, U32),
};
extern const LinkKind tun{"tun", fields};

}  // namespace kinds

void TunRequest::run(LocalContext&) {
  if (spec.name.empty() || spec.name.size() >= IFNAMSIZ) {
    error = Error::sys(EINVAL, "TUNSETIFF", "a tun/tap device needs a name of 1 to 15 bytes");
    return;
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = Error::sys(errno, "open", "/dev/net/tun");
    return;
  }
  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, spec.name.data(), spec.name.size());
  ifr.ifr_flags = static_cast<short>((spec.tap ? IFF_TAP : IFF_TUN) | (spec.pi ? 0 : IFF_NO_PI) |
                                     (spec.vnet_hdr ? IFF_VNET_HDR : 0) | (spec.multi_queue ? IFF_MULTI_QUEUE : 0) | IFF_TUN_EXCL);
  auto fail = [&](const char* call) {
    error = Error::sys(errno, call, spec.name);
    ::close(fd);  // not yet persistent: the device goes with the fd
  };
  // IFF_TUN_EXCL: a name already taken is EBUSY (without it, TUNSETIFF
  // attaches to an existing tun). Reported as EEXIST, as RTM_NEWLINK would.
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    if (errno == EBUSY) errno = EEXIST;
    return fail("TUNSETIFF");
  }
  if (spec.owner && ::ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(*spec.owner)) < 0) return fail("TUNSETOWNER");
  if (spec.group && ::ioctl(fd, TUNSETGROUP, static_cast<unsigned long>(*spec.group)) < 0) return fail("TUNSETGROUP");
  if (::ioctl(fd, TUNSETPERSIST, 1UL) < 0) return fail("TUNSETPERSIST");
  ::close(fd);
}

}  // namespace nl::rtnl
