// Addresses: RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR.
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

#include "names.hpp"
#include "rtnl.hpp"

namespace nl::rtnl {

std::unique_ptr<Request> addr_request(const AddrSpec& s, Error* err) {
  std::array<uint8_t, 1024> buf;
  Builder b(buf);
  auto req = std::make_unique<AddrRequest>();
  switch (s.op) {
    case AddrOp::New:
      req->op = "RTM_NEWADDR";
      b.put_header(RTM_NEWADDR, NLM_F_CREATE | (s.replace ? NLM_F_REPLACE : NLM_F_EXCL));
      break;
    case AddrOp::Del: req->op = "RTM_DELADDR"; b.put_header(RTM_DELADDR, 0); break;
    case AddrOp::Dump: req->op = "RTM_GETADDR"; req->dump = true; b.put_header(RTM_GETADDR, 0); break;
  }
  auto* ifa = b.put_extra_header<ifaddrmsg>();
  if (!ifa) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  ifa->ifa_family = s.family;
  ifa->ifa_index = static_cast<uint32_t>(s.index);
  if (s.op != AddrOp::Dump) {
    size_t want = s.family == AF_INET ? 4 : 16;
    if ((s.family != AF_INET && s.family != AF_INET6) || s.local.size() != want) {
      *err = Error::sys(EINVAL, req->op, "address family and address length disagree");
      return nullptr;
    }
    ifa->ifa_prefixlen = s.prefixlen;
    ifa->ifa_scope = s.scope;
    ifa->ifa_flags = static_cast<uint8_t>(s.flags & 0xff);
    b.put(IFA_LOCAL, s.local.data(), s.local.size());
    const Bytes& addr = s.peer ? *s.peer : s.local;
    b.put(IFA_ADDRESS, addr.data(), addr.size());
    if (s.broadcast) b.put(IFA_BROADCAST, s.broadcast->data(), s.broadcast->size());
    if (!s.label.empty()) b.put_strz(IFA_LABEL, s.label);
    if (s.flags) b.put_u32(IFA_FLAGS, s.flags);
    if (s.valid_lft || s.preferred_lft) {
      ifa_cacheinfo ci{};
      ci.ifa_valid = s.valid_lft.value_or(0xffffffff);
      ci.ifa_prefered = s.preferred_lft.value_or(ci.ifa_valid);
      b.put(IFA_CACHEINFO, &ci, sizeof ci);
    }
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "address request too large"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_addr(const nlmsghdr& h, bytes payload, AddrInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (h.nlmsg_type != RTM_NEWADDR) return false;
  auto ifa = extra_header<ifaddrmsg>(payload);
  if (!ifa) return false;
  AddrInfo& a = *out;
  a.family = ifa->ifa_family;
  a.prefixlen = ifa->ifa_prefixlen;
  a.scope = ifa->ifa_scope;
  a.flags = ifa->ifa_flags;
  a.index = static_cast<int32_t>(ifa->ifa_index);
  AttrTable<IFA_MAX> tb(after_header<ifaddrmsg>(payload));
  auto raw = [](const Attr& x) { return Bytes(x.data.begin(), x.data.end()); };
  a.local = raw(tb[IFA_LOCAL]);
  a.address = raw(tb[IFA_ADDRESS]);
  if (a.local.empty()) a.local = a.address;  // IPv6 reports only IFA_ADDRESS
  a.broadcast = raw(tb[IFA_BROADCAST]);
  a.label = tb[IFA_LABEL].str();
  if (tb[IFA_FLAGS].present()) a.flags = tb[IFA_FLAGS].u32();
  if (auto ci = tb[IFA_CACHEINFO].as<ifa_cacheinfo>()) {
    a.valid_lft = ci->ifa_valid;
    a.preferred_lft = ci->ifa_prefered;
  }
  size_t want = a.family == AF_INET ? 4 : a.family == AF_INET6 ? 16 : 0;
  return (tb.valid && want && a.local.size() == want) && check.ok();
}

void AddrRequest::on_data(const nlmsghdr& h, bytes payload) {
  AddrInfo a;
  if (parse_addr(h, payload, &a)) addrs.push_back(std::move(a));
  else if (h.nlmsg_type == RTM_NEWADDR) refuse_reply(h, "RTM_NEWADDR could not be decoded (a length out of bounds)");
}

std::string addr_attr_at(bytes msg, size_t offset) {
  static const Level top{ifa_name, nullptr};
  return attr_path(msg, align(sizeof(ifaddrmsg)), offset, top);
}
std::string AddrRequest::attr_at(size_t off) const { return addr_attr_at(msg, off); }
std::string AddrRequest::attr_type_name(uint32_t t) const { return ifa_name(t); }

}  // namespace nl::rtnl
