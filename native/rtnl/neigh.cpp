// Neighbours: RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH — ARP and NDP
// entries, and (family AF_BRIDGE) bridge and VXLAN forwarding databases.
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

#include "names.hpp"
#include "rtnl.hpp"

namespace nl::rtnl {

namespace {
std::string nda_name(uint32_t t) {
  static const char* const n[] = {"NDA_UNSPEC", "NDA_DST", "NDA_LLADDR", "NDA_CACHEINFO", "NDA_PROBES", "NDA_VLAN",
                                  "NDA_PORT", "NDA_VNI", "NDA_IFINDEX", "NDA_MASTER", "NDA_LINK_NETNSID"};
  return t < sizeof n / sizeof *n ? n[t] : "NDA#" + std::to_string(t);
}
}  // namespace

std::unique_ptr<Request> neigh_request(const NeighSpec& s, Error* err) {
  std::array<uint8_t, 512> buf;
  Builder b(buf);
  auto req = std::make_unique<NeighRequest>();
  switch (s.op) {
    case NeighOp::New:
      req->op = "RTM_NEWNEIGH";
      b.put_header(RTM_NEWNEIGH, NLM_F_CREATE | (s.replace ? NLM_F_REPLACE : NLM_F_EXCL));
      break;
    case NeighOp::Del: req->op = "RTM_DELNEIGH"; b.put_header(RTM_DELNEIGH, 0); break;
    case NeighOp::Dump: req->op = "RTM_GETNEIGH"; req->dump = true; b.put_header(RTM_GETNEIGH, 0); break;
  }
  auto* nd = b.put_extra_header<ndmsg>();
  if (!nd) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  nd->ndm_family = s.family;
  nd->ndm_ifindex = s.index;
  if (s.op == NeighOp::Dump) {
    // Strict checking: filter by device and master in the kernel.
    if (s.index) b.put_u32(NDA_IFINDEX, static_cast<uint32_t>(s.index));
    if (s.master) b.put_u32(NDA_MASTER, *s.master);
    nd->ndm_ifindex = 0;
  } else {
    nd->ndm_state = s.state;
    nd->ndm_flags = s.flags;
    if (s.dst) b.put(NDA_DST, s.dst->data(), s.dst->size());
    if (s.lladdr) b.put(NDA_LLADDR, s.lladdr->data(), s.lladdr->size());
    if (s.vlan) b.put_u16(NDA_VLAN, *s.vlan);
    if (s.vni) b.put_u32(NDA_VNI, *s.vni);
    if (s.master) b.put_u32(NDA_MASTER, *s.master);
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "neighbour request too large"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_neigh(const nlmsghdr& h, bytes payload, NeighInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (h.nlmsg_type != RTM_NEWNEIGH) return false;
  auto nd = extra_header<ndmsg>(payload);
  if (!nd) return false;
  NeighInfo& n = *out;
  n.family = nd->ndm_family;
  n.index = nd->ndm_ifindex;
  n.state = nd->ndm_state;
  n.flags = nd->ndm_flags;
  n.type = nd->ndm_type;
  AttrTable<NDA_MAX> tb(after_header<ndmsg>(payload));
  n.dst.assign(tb[NDA_DST].data.begin(), tb[NDA_DST].data.end());
  n.lladdr.assign(tb[NDA_LLADDR].data.begin(), tb[NDA_LLADDR].data.end());
  if (tb[NDA_VLAN].present()) n.vlan = tb[NDA_VLAN].u16();
  if (tb[NDA_VNI].present()) n.vni = tb[NDA_VNI].u32();
  n.master = tb[NDA_MASTER].u32();
  return tb.valid && check.ok();
}

void NeighRequest::on_data(const nlmsghdr& h, bytes payload) {
  NeighInfo n;
  if (parse_neigh(h, payload, &n)) neighs.push_back(std::move(n));
  else if (h.nlmsg_type == RTM_NEWNEIGH) refuse_reply(h, "RTM_NEWNEIGH could not be decoded (a length out of bounds)");
}

std::string NeighRequest::attr_at(size_t off) const {
  static const Level top{nda_name, nullptr};
  return attr_path(msg, align(sizeof(ndmsg)), off, top);
}

}  // namespace nl::rtnl
