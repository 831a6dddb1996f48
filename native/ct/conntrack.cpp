#include "conntrack.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <vector>

namespace nl::ct {

namespace {

// The width of a family's addresses, 0 for a family ctnetlink entries here never have.
size_t addr_len(uint8_t family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

// A CTA_TUPLE_* nest of a `family` entry: its addresses (of the family's width)
// and ports; with `src_only`, only the source address.
bool parse_tuple(bytes nest, uint8_t family, Tuple* t, Addr* src_only) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  AttrTable<CTA_TUPLE_MAX> tb(nest);
  if (!tb.valid || !tb[CTA_TUPLE_IP].present() || !tb[CTA_TUPLE_PROTO].present()) return false;
  AttrTable<CTA_IP_MAX> ip(tb[CTA_TUPLE_IP].data);
  const size_t n = addr_len(family);
  const int src = family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
  const int dst = family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST;
  if (!ip.valid || n == 0 || ip[src].data.size() != n || ip[dst].data.size() != n) return false;
  if (src_only) {
    *src_only = {};
    std::memcpy(src_only->data(), ip[src].data.data(), n);
    return true;
  }
  t->family = family;
  std::memcpy(t->src.data(), ip[src].data.data(), n);
  std::memcpy(t->dst.data(), ip[dst].data.data(), n);
  AttrTable<CTA_PROTO_MAX> pr(tb[CTA_TUPLE_PROTO].data);
  if (!pr.valid || !pr[CTA_PROTO_NUM].present()) return false;
  t->proto = pr[CTA_PROTO_NUM].u8();
  t->sport = ntohs(pr[CTA_PROTO_SRC_PORT].u16());
  t->dport = ntohs(pr[CTA_PROTO_DST_PORT].u16());
  if (tb[CTA_TUPLE_ZONE].present()) t->zone = ntohs(tb[CTA_TUPLE_ZONE].u16());
  return check.ok();
}

// A ctnetlink message header for a family's entries.
void put_header(Builder& b, uint16_t msg, uint16_t flags, uint8_t family) {
  b.put_header(static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg), flags);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
}

// IPCTNL_MSG_CT_GET, dumped: the kernel lists only the family's entries.  ~ conntrack -L -f ipv4|ipv6
std::vector<uint8_t> dump_msg(uint8_t family) {
  std::array<uint8_t, 64> buf;
  Builder b(buf);
  put_header(b, IPCTNL_MSG_CT_GET, 0, family);
  return {b.bytes().begin(), b.bytes().end()};
}

// IPCTNL_MSG_CT_DELETE of one entry by its original tuple.  ~ conntrack -D -s S -d D -p P --sport --dport
std::vector<uint8_t> delete_msg(const Tuple& t) {
  std::array<uint8_t, 512> buf;
  Builder b(buf);
  put_header(b, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, t.family);
  auto tuple = b.nest_begin(CTA_TUPLE_ORIG);
  auto ip = b.nest_begin(CTA_TUPLE_IP);
  const bool v4 = t.family == AF_INET;
  b.put(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.src.data(), v4 ? 4 : 16);
  b.put(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.dst.data(), v4 ? 4 : 16);
  b.nest_end(ip);
  auto pr = b.nest_begin(CTA_TUPLE_PROTO);
  b.put_u8(CTA_PROTO_NUM, t.proto);
  b.put_u16(CTA_PROTO_SRC_PORT, htons(t.sport));
  b.put_u16(CTA_PROTO_DST_PORT, htons(t.dport));
  b.nest_end(pr);
  b.nest_end(tuple);
  if (t.zone) b.put_u16(CTA_ZONE, htons(t.zone));
  return {b.bytes().begin(), b.bytes().end()};
}

}  // namespace

bool parse_entry(const nlmsghdr& h, bytes payload, Tuple* orig, Addr* reply_src) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW || (h.nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g || addr_len(g->nfgen_family) == 0) return false;
  AttrTable<CTA_MAX> tb(after_header<nfgenmsg>(payload));
  if (!tb.valid || !tb[CTA_TUPLE_ORIG].present() || !tb[CTA_TUPLE_REPLY].present()) return false;
  if (!parse_tuple(tb[CTA_TUPLE_ORIG].data, g->nfgen_family, orig, nullptr)) return false;
  if (tb[CTA_ZONE].present()) orig->zone = ntohs(tb[CTA_ZONE].u16());
  return parse_tuple(tb[CTA_TUPLE_REPLY].data, g->nfgen_family, nullptr, reply_src) && check.ok();
}

void FlushRequest::run(LocalContext& ctx) {
  Error err;
  Socket* s = ctx.netfilter(&err);
  if (!s) {
    error = err;
    return;
  }
  struct Dump : Request {
    FlushRequest* self = nullptr;
    std::vector<Tuple> found;
    void on_data(const nlmsghdr& h, bytes p) override {
      Tuple t;
      Addr reply{};
      if (!parse_entry(h, p, &t, &reply) || t.family != self->family) return;
      if (t.proto != self->proto || t.dport < self->dport_min || t.dport > self->dport_max) return;
      if (self->to && reply != *self->to) return;
      found.push_back(t);
    }
    void reset() override { found.clear(); }
  } dump;
  dump.self = this;
  dump.dump = true;
  dump.op = "IPCTNL_MSG_CT_GET";
  if (addr_len(family) == 0) {
    error = Error::sys(EAFNOSUPPORT, op, "conntrack entries are AF_INET or AF_INET6");
    return;
  }
  dump.msg = dump_msg(family);
  {
    Request* one[] = {&dump};
    transact(*s, one);
  }
  if (dump.error) {
    error = dump.error;
    return;
  }
  // Deleted in slices, all of a slice in one sendmsg.
  constexpr size_t kSlice = 256;
  for (size_t i = 0; i < dump.found.size(); i += kSlice) {
    std::vector<std::unique_ptr<Request>> reqs;
    std::vector<Request*> ptrs;
    for (size_t j = i; j < std::min(i + kSlice, dump.found.size()); ++j) {
      auto r = std::make_unique<Request>();
      r->op = "IPCTNL_MSG_CT_DELETE";
      r->msg = delete_msg(dump.found[j]);
      ptrs.push_back(r.get());
      reqs.push_back(std::move(r));
    }
    transact(*s, ptrs);
    for (Request* r : ptrs) {
      if (!r->error) ++deleted;
      else if (r->error->err != ENOENT && !error) error = r->error;  // ENOENT: gone meanwhile
    }
  }
}

}  // namespace nl::ct
