// Policy routing rules: RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE.
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

#include "names.hpp"
#include "rtnl.hpp"

namespace nl::rtnl {

namespace {
std::string fra_name(uint32_t t) {
  static const char* const n[] = {"FRA_UNSPEC", "FRA_DST", "FRA_SRC", "FRA_IIFNAME", "FRA_GOTO", "FRA_UNUSED2",
                                  "FRA_PRIORITY", "FRA_UNUSED3", "FRA_UNUSED4", "FRA_UNUSED5", "FRA_FWMARK",
                                  "FRA_FLOW", "FRA_TUN_ID", "FRA_SUPPRESS_IFGROUP", "FRA_SUPPRESS_PREFIXLEN",
                                  "FRA_TABLE", "FRA_FWMASK", "FRA_OIFNAME"};
  return t < sizeof n / sizeof *n ? n[t] : "FRA#" + std::to_string(t);
}
}  // namespace

std::unique_ptr<Request> rule_request(const RuleSpec& s, Error* err) {
  std::array<uint8_t, 512> buf;
  Builder b(buf);
  auto req = std::make_unique<RuleRequest>();
  switch (s.op) {
    case RuleOp::New: req->op = "RTM_NEWRULE"; b.put_header(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL); break;
    case RuleOp::Del: req->op = "RTM_DELRULE"; b.put_header(RTM_DELRULE, 0); break;
    case RuleOp::Dump: req->op = "RTM_GETRULE"; req->dump = true; b.put_header(RTM_GETRULE, 0); break;
  }
  auto* r = b.put_extra_header<fib_rule_hdr>();
  if (!r) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  r->family = s.family;
  if (s.op != RuleOp::Dump) {
    if (s.family != AF_INET && s.family != AF_INET6) {
      *err = Error::sys(EINVAL, req->op, "rule family must be AF_INET or AF_INET6");
      return nullptr;
    }
    r->dst_len = s.dst_len;
    r->src_len = s.src_len;
    r->tos = s.tos;
    r->action = s.action;
    if (s.invert) r->flags |= FIB_RULE_INVERT;
    uint32_t table = s.table;
    if (s.op == RuleOp::New && s.action == FR_ACT_TO_TBL && table == 0) table = RT_TABLE_MAIN;
    r->table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
    if (s.dst_len) b.put(FRA_DST, s.dst.data(), s.dst.size());
    if (s.src_len) b.put(FRA_SRC, s.src.data(), s.src.size());
    if (!s.iifname.empty()) b.put_strz(FRA_IIFNAME, s.iifname);
    if (!s.oifname.empty()) b.put_strz(FRA_OIFNAME, s.oifname);
    if (s.priority) b.put_u32(FRA_PRIORITY, *s.priority);
    if (s.fwmark) b.put_u32(FRA_FWMARK, *s.fwmark);
    if (s.fwmask) b.put_u32(FRA_FWMASK, *s.fwmask);
    if (table) b.put_u32(FRA_TABLE, table);
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "rule request too large"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_rule(const nlmsghdr& h, bytes payload, RuleInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (h.nlmsg_type != RTM_NEWRULE) return false;
  auto r = extra_header<fib_rule_hdr>(payload);
  if (!r) return false;
  RuleInfo& x = *out;
  x.family = r->family;
  x.dst_len = r->dst_len;
  x.src_len = r->src_len;
  x.tos = r->tos;
  x.action = r->action;
  x.flags = r->flags;
  AttrTable<FRA_MAX> tb(after_header<fib_rule_hdr>(payload));
  x.table = tb[FRA_TABLE].present() ? tb[FRA_TABLE].u32() : r->table;
  x.dst.assign(tb[FRA_DST].data.begin(), tb[FRA_DST].data.end());
  x.src.assign(tb[FRA_SRC].data.begin(), tb[FRA_SRC].data.end());
  if (tb[FRA_PRIORITY].present()) x.priority = tb[FRA_PRIORITY].u32();
  if (tb[FRA_FWMARK].present()) x.fwmark = tb[FRA_FWMARK].u32();
  if (tb[FRA_FWMASK].present()) x.fwmask = tb[FRA_FWMASK].u32();
  x.iifname = tb[FRA_IIFNAME].str();
  x.oifname = tb[FRA_OIFNAME].str();
  return tb.valid && check.ok();
}

void RuleRequest::on_data(const nlmsghdr& h, bytes payload) {
  RuleInfo x;
  if (parse_rule(h, payload, &x)) rules.push_back(std::move(x));
  else if (h.nlmsg_type == RTM_NEWRULE) refuse_reply(h, "RTM_NEWRULE could not be decoded (a length out of bounds)");
}

std::string RuleRequest::attr_at(size_t off) const {
  static const Level top{fra_name, nullptr};
  return attr_path(msg, align(sizeof(fib_rule_hdr)), off, top);
}

std::unique_ptr<Request> set_nsid_request(int target_fd, int32_t nsid, Error* err) {
  std::array<uint8_t, 64> buf;
  Builder b(buf);
  auto req = std::make_unique<NsidRequest>();
  req->op = "RTM_NEWNSID";
  b.put_header(RTM_NEWNSID, 0);
  auto* g = b.put_extra_header<rtgenmsg>();
  if (g) g->rtgen_family = AF_UNSPEC;
  int fd = req->own_fd(target_fd);
  if (fd < 0) { *err = dup_fd_error(errno, "the namespace's fd"); return nullptr; }
  b.put_u32(NETNSA_FD, static_cast<uint32_t>(fd));
  b.put_s32(NETNSA_NSID, nsid);
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  req->nsid = nsid;
  return req;
}

}  // namespace nl::rtnl
