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

bool parse_tuple(bytes nest, Tuple* t, std::array<uint8_t, 4>* src_only) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  AttrTable<CTA_TUPLE_MAX> tb(nest);
  if (!tb.valid || !tb[CTA_TUPLE_IP].present() || !tb[CTA_TUPLE_PROTO].present()) return false;
  AttrTable<CTA_IP_MAX> ip(tb[CTA_TUPLE_IP].data);
  if (!ip.valid || ip[CTA_IP_V4_SRC].data.size() != 4 || ip[CTA_IP_V4_DST].data.size() != 4) return false;
  if (src_only) {
    std::memcpy(src_only->data(), ip[CTA_IP_V4_SRC].data.data(), 4);
    return true;
  }
  std::memcpy(t->src.data(), ip[CTA_IP_V4_SRC].data.data(), 4);
  std::memcpy(t->dst.data(), ip[CTA_IP_V4_DST].data.data(), 4);
  AttrTable<CTA_PROTO_MAX> pr(tb[CTA_TUPLE_PROTO].data);
  if (!pr.valid || !pr[CTA_PROTO_NUM].present()) return false;
  t->proto = pr[CTA_PROTO_NUM].u8();
  t->sport = ntohs(pr[CTA_PROTO_SRC_PORT].u16());
  t->dport = ntohs(pr[CTA_PROTO_DST_PORT].u16());
  if (tb[CTA_TUPLE_ZONE].present()) t->zone = ntohs(tb[CTA_TUPLE_ZONE].u16());
  return check.ok();
}

// A ctnetlink message header for IPv4 entries.
void put_header(Builder& b, uint16_t msg, uint16_t flags) {
  b.put_header(static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg), flags);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = AF_INET;
  g->version = NFNETLINK_V0;
}

// IPCTNL_MSG_CT_GET, dumped.  ~ conntrack -L -f ipv4
std::vector<uint8_t> dump_msg() {
  std::array<uint8_t, 64> buf;
  Builder b(buf);
  put_header(b, IPCTNL_MSG_CT_GET, 0);
  return {b.bytes().begin(), b.bytes().end()};
}

// IPCTNL_MSG_CT_DELETE of one entry by its original tuple.  ~ conntrack -D -s S -d D -p P --sport --dport
std::vector<uint8_t> delete_msg(const Tuple& t) {
  std::array<uint8_t, 512> buf;
  Builder b(buf);
  put_header(b, IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
  auto tuple = b.nest_begin(CTA_TUPLE_ORIG);
  auto ip = b.nest_begin(CTA_TUPLE_IP);
  b.put(CTA_IP_V4_SRC, t.src.data(), 4);
  b.put(CTA_IP_V4_DST, t.dst.data(), 4);
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

bool parse_entry(const nlmsghdr& h, bytes payload, Tuple* orig, std::array<uint8_t, 4>* reply_src) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW || (h.nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g || g->nfgen_family != AF_INET) return false;
  AttrTable<CTA_MAX> tb(after_header<nfgenmsg>(payload));
  if (!tb.valid || !tb[CTA_TUPLE_ORIG].present() || !tb[CTA_TUPLE_REPLY].present()) return false;
  if (!parse_tuple(tb[CTA_TUPLE_ORIG].data, orig, nullptr)) return false;
  if (tb[CTA_ZONE].present()) orig->zone = ntohs(tb[CTA_ZONE].u16());
  return parse_tuple(tb[CTA_TUPLE_REPLY].data, nullptr, reply_src) && check.ok();
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
      std::array<uint8_t, 4> reply{};
      if (!parse_entry(h, p, &t, &reply)) return;
      if (t.proto != self->proto || t.dport < self->dport_min || t.dport > self->dport_max) return;
      if (self->to && reply != *self->to) return;
      found.push_back(t);
    }
    void reset() override { found.clear(); }
  } dump;
  dump.self = this;
  dump.dump = true;
  dump.op = "IPCTNL_MSG_CT_GET";
  dump.msg = dump_msg();
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
