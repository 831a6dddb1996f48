// Namespace ids: RTM_GETNSID. A link whose peer lives in another namespace
// reports that namespace as an id (IFLA_LINK_NETNSID); this maps an fd to it.
#include <errno.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

#include "rtnl.hpp"

namespace nl::rtnl {

std::unique_ptr<Request> nsid_request(int target_fd, Error* err) {
  std::array<uint8_t, 64> buf;
  Builder b(buf);
  auto req = std::make_unique<NsidRequest>();
  req->op = "RTM_GETNSID";
  b.put_header(RTM_GETNSID, 0);
  auto* g = b.put_extra_header<rtgenmsg>();
  if (g) g->rtgen_family = AF_UNSPEC;
  int fd = req->own_fd(target_fd, "the namespace's fd", err);
  if (fd < 0) return nullptr;
  b.put_u32(NETNSA_FD, static_cast<uint32_t>(fd));
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

void NsidRequest::on_data(const nlmsghdr& h, bytes payload) {
  if (h.nlmsg_type != RTM_NEWNSID) return;
  AttrTable<NETNSA_MAX> tb(after_header<rtgenmsg>(payload));
  if (tb[NETNSA_NSID].present()) nsid = tb[NETNSA_NSID].s32(-1);
}

}  // namespace nl::rtnl
