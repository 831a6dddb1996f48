#include "nft.hpp"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <unordered_map>

namespace nl::nft {

namespace {

constexpr size_t kMsgBytes = 8192;

uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
uint64_t be64(uint64_t v) { return __builtin_bswap64(v); }

void put_be32(Builder& b, uint16_t type, uint32_t v) { b.put_u32(type, be32(v)); }

void put_data(Builder& b, uint16_t type, const Bytes& v) {
  auto n = b.nest_begin(type);
  b.put(NFTA_DATA_VALUE, v.data(), v.size());
  b.nest_end(n);
}

void put_expr(Builder& b, const Expr& e) {
  auto elem = b.nest_begin(NFTA_LIST_ELEM);
  b.put_strz(NFTA_EXPR_NAME, e.name);
  auto data = b.nest_begin(NFTA_EXPR_DATA);
  if (e.name == "payload") {
    put_be32(b, NFTA_PAYLOAD_DREG, e.dreg);
    put_be32(b, NFTA_PAYLOAD_BASE, e.base);
    put_be32(b, NFTA_PAYLOAD_OFFSET, e.offset);
    put_be32(b, NFTA_PAYLOAD_LEN, e.len);
  } else if (e.name == "cmp") {
    put_be32(b, NFTA_CMP_SREG, e.sreg);
    put_be32(b, NFTA_CMP_OP, e.op);
    put_data(b, NFTA_CMP_DATA, e.data);
  } else if (e.name == "bitwise") {
    put_be32(b, NFTA_BITWISE_SREG, e.sreg);
    put_be32(b, NFTA_BITWISE_DREG, e.dreg);
    put_be32(b, NFTA_BITWISE_LEN, e.len);
    put_data(b, NFTA_BITWISE_MASK, e.mask);
    put_data(b, NFTA_BITWISE_XOR, e.xor_.empty() ? Bytes(e.mask.size(), 0) : e.xor_);
  } else if (e.name == "meta") {
    put_be32(b, NFTA_META_DREG, e.dreg);
    put_be32(b, NFTA_META_KEY, e.key);
  } else if (e.name == "fib") {
    put_be32(b, NFTA_FIB_DREG, e.dreg);
    put_be32(b, NFTA_FIB_RESULT, e.result);
    put_be32(b, NFTA_FIB_FLAGS, e.flags);
  } else if (e.name == "ct") {
    put_be32(b, NFTA_CT_DREG, e.dreg);
    put_be32(b, NFTA_CT_KEY, e.key);
  } else if (e.name == "immediate") {
    put_be32(b, NFTA_IMMEDIATE_DREG, e.verdict ? static_cast<uint32_t>(NFT_REG_VERDICT) : e.dreg);
    auto d = b.nest_begin(NFTA_IMMEDIATE_DATA);
    if (e.verdict) {
      auto v = b.nest_begin(NFTA_DATA_VERDICT);
      b.put_u32(NFTA_VERDICT_CODE, be32(static_cast<uint32_t>(*e.verdict)));
      b.nest_end(v);
    } else {
      b.put(NFTA_DATA_VALUE, e.data.data(), e.data.size());
    }
    b.nest_end(d);
  } else if (e.name == "nat") {
    put_be32(b, NFTA_NAT_TYPE, e.type);
    put_be32(b, NFTA_NAT_FAMILY, e.family);
    if (e.reg_addr) put_be32(b, NFTA_NAT_REG_ADDR_MIN, e.reg_addr);
    if (e.reg_proto) put_be32(b, NFTA_NAT_REG_PROTO_MIN, e.reg_proto);
    if (e.flags) put_be32(b, NFTA_NAT_FLAGS, e.flags);
  } else if (e.name == "masq") {
    if (e.flags) put_be32(b, NFTA_MASQ_FLAGS, e.flags);
  }
  // counter and unknown names: no attributes (the kernel judges the name).
  b.nest_end(data);
  b.nest_end(elem);
}

}  // namespace

const char* msg_name(MsgType t) {
  switch (t) {
    case MsgType::NewTable: return "NFT_MSG_NEWTABLE";
    case MsgType::DelTable: return "NFT_MSG_DELTABLE";
    case MsgType::NewChain: return "NFT_MSG_NEWCHAIN";
    case MsgType::DelChain: return "NFT_MSG_DELCHAIN";
    case MsgType::NewRule: return "NFT_MSG_NEWRULE";
    case MsgType::DelRule: return "NFT_MSG_DELRULE";
  }
  return "?";
}

bool encode(const Msg& m, std::vector<uint8_t>* out, Error* err) {
  std::array<uint8_t, kMsgBytes> buf;
  Builder b(buf);
  uint16_t type = 0, flags = NLM_F_ACK;
  switch (m.type) {
    case MsgType::NewTable: type = NFT_MSG_NEWTABLE; flags |= NLM_F_CREATE; break;
    case MsgType::DelTable: type = NFT_MSG_DELTABLE; break;
    case MsgType::NewChain: type = NFT_MSG_NEWCHAIN; flags |= NLM_F_CREATE; break;
    case MsgType::DelChain: type = NFT_MSG_DELCHAIN; break;
    case MsgType::NewRule: type = NFT_MSG_NEWRULE; flags |= NLM_F_CREATE | NLM_F_APPEND; break;
    case MsgType::DelRule: type = NFT_MSG_DELRULE; break;
  }
  b.put_header(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type), flags);
  auto* g = b.put_extra_header<nfgenmsg>();
  if (g) {
    g->nfgen_family = m.family;
    g->version = NFNETLINK_V0;
  }
  switch (m.type) {
    case MsgType::NewTable:
    case MsgType::DelTable:
      b.put_strz(NFTA_TABLE_NAME, m.table);
      if (m.type == MsgType::NewTable && !m.userdata.empty()) b.put(NFTA_TABLE_USERDATA, m.userdata.data(), m.userdata.size());
      break;
    case MsgType::NewChain:
    case MsgType::DelChain:
      b.put_strz(NFTA_CHAIN_TABLE, m.table);
      b.put_strz(NFTA_CHAIN_NAME, m.chain);
      if (m.type == MsgType::NewChain && m.hooknum) {
        auto h = b.nest_begin(NFTA_CHAIN_HOOK);
        put_be32(b, NFTA_HOOK_HOOKNUM, *m.hooknum);
        put_be32(b, NFTA_HOOK_PRIORITY, static_cast<uint32_t>(m.priority));
        b.nest_end(h);
        if (!m.chain_type.empty()) b.put_strz(NFTA_CHAIN_TYPE, m.chain_type);
        if (m.policy) put_be32(b, NFTA_CHAIN_POLICY, *m.policy);
      }
      break;
    case MsgType::NewRule:
    case MsgType::DelRule: {
      b.put_strz(NFTA_RULE_TABLE, m.table);
      b.put_strz(NFTA_RULE_CHAIN, m.chain);
      if (m.type == MsgType::DelRule) {
        if (!m.handle) {
          *err = Error::sys(EINVAL, msg_name(m.type), "deleting a rule needs its handle");
          return false;
        }
        b.put_u64(NFTA_RULE_HANDLE, be64(*m.handle));
        break;
      }
      auto list = b.nest_begin(NFTA_RULE_EXPRESSIONS);
      for (const Expr& e : m.exprs) put_expr(b, e);
      b.nest_end(list);
      if (!m.userdata.empty()) b.put(NFTA_RULE_USERDATA, m.userdata.data(), m.userdata.size());
      break;
    }
  }
  if (!b.ok()) {
    *err = Error::sys(EMSGSIZE, msg_name(m.type), "nf_tables message does not fit in " + std::to_string(kMsgBytes) + " bytes");
    return false;
  }
  out->assign(b.bytes().begin(), b.bytes().end());
  return true;
}

namespace {

std::vector<uint8_t> batch_marker(uint16_t type, std::optional<uint32_t> genid = std::nullopt) {
  std::array<uint8_t, 64> buf;
  Builder b(buf);
  b.put_header(type, NLM_F_REQUEST);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES);
  if (genid) put_be32(b, NFNL_BATCH_GENID, *genid);
  return {b.bytes().begin(), b.bytes().end()};
}

std::string nfta_rule_name(uint32_t t) {
  static const char* const n[] = {"NFTA_RULE_UNSPEC", "NFTA_RULE_TABLE", "NFTA_RULE_CHAIN", "NFTA_RULE_HANDLE",
                                  "NFTA_RULE_EXPRESSIONS", "NFTA_RULE_COMPAT", "NFTA_RULE_POSITION",
                                  "NFTA_RULE_USERDATA"};
  return t < sizeof n / sizeof *n ? n[t] : "NFTA_RULE#" + std::to_string(t);
}

}  // namespace

void BatchRequest::run(LocalContext& ctx) {
  Error err;
  Socket* s = ctx.netfilter(&err);
  if (!s) {
    error = err;
    return;
  }
  if (msgs.empty()) return;
  // One contiguous datagram: BEGIN, the messages, END. offsets[i] is where
  // message i starts (offsets[0] is BEGIN's).
  std::vector<uint8_t> wire = batch_marker(NFNL_MSG_BATCH_BEGIN, genid);
  std::vector<size_t> offsets{0};
  for (size_t i = 0; i < msgs.size(); ++i) {
    std::vector<uint8_t> m;
    if (!encode(msgs[i], &m, &err)) {
      failed_index = static_cast<int>(i);
      error = err;
      return;
    }
    auto* h = reinterpret_cast<nlmsghdr*>(m.data());
    if (i + 1 < msgs.size()) h->nlmsg_flags &= static_cast<uint16_t>(~NLM_F_ACK);
    offsets.push_back(wire.size());
    wire.insert(wire.end(), m.begin(), m.end());
  }
  offsets.push_back(wire.size());
  {
    auto end = batch_marker(NFNL_MSG_BATCH_END);
    wire.insert(wire.end(), end.begin(), end.end());
  }
  std::unordered_map<uint32_t, int> index_of;  // seq -> message index (-1: BEGIN)
  for (size_t k = 0; k < offsets.size(); ++k) {
    auto* h = reinterpret_cast<nlmsghdr*>(wire.data() + offsets[k]);
    h->nlmsg_seq = s->next_seq();
    h->nlmsg_flags |= NLM_F_REQUEST;
    if (k <= msgs.size()) index_of[h->nlmsg_seq] = static_cast<int>(k) - 1;
  }
  // netlink refuses a datagram larger than the send buffer (EMSGSIZE): grow it
  // for a large batch (SO_SNDBUFFORCE needs CAP_NET_ADMIN, which a batch needs anyway).
  int sndbuf = 0;
  socklen_t optlen = sizeof sndbuf;
  if (getsockopt(s->fd(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &optlen) == 0 && static_cast<size_t>(sndbuf) < wire.size() + 4096) {
    size_t want = wire.size() + 4096;
    int sz = want > static_cast<size_t>(INT32_MAX / 2) ? INT32_MAX / 2 : static_cast<int>(want);
    if (setsockopt(s->fd(), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0) setsockopt(s->fd(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  }
  iovec one{wire.data(), wire.size()};
  if (int e = s->send(std::span<const iovec>(&one, 1))) {
    error = Error::sys(e, "sendmsg", "sending an nf_tables batch of " + std::to_string(msgs.size()) + " message(s), " + std::to_string(wire.size()) + " bytes");
    return;
  }
  // The kernel processes the whole batch inside sendmsg: every error (and the
  // last message's ACK) is queued by now, so read without waiting until
  // nothing is left.
  bool acked = false;
  for (;;) {
    int rerr = 0;
    auto dg = s->recv(&rerr, /*nonblock=*/true);
    if (!dg) {
      if (rerr == EAGAIN || rerr == EWOULDBLOCK) break;
      if (!error) error = Error::sys(rerr, "recvmsg", "reading the answers to an nf_tables batch");
      return;
    }
    for_each_msg(*dg, [&](const nlmsghdr& h, bytes payload) {
      if (h.nlmsg_pid != s->portid() || h.nlmsg_type != NLMSG_ERROR) return true;
      auto it = index_of.find(h.nlmsg_seq);
      if (it == index_of.end()) return true;
      int i = it->second;
      index_of.erase(it);
      auto e = extra_header<nlmsgerr>(payload);
      if (!e) return true;
      if (e->error == 0) {
        if (i == static_cast<int>(msgs.size()) - 1) acked = true;
        return true;
      }
      if (error) return true;  // the first failure is the one reported
      // A tiny Request stand-in so the shared decoder can name attributes.
      struct Named : Request {
        std::string attr_at(size_t off) const override { (void)off; return {}; }
      } named;
      named.op = i < 0 ? "NFNL_MSG_BATCH_BEGIN" : msg_name(msgs[i].type);
      size_t errhdr = (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsgerr) : sizeof(int) + align(e->msg.nlmsg_len);
      error = parse_error(e->error, h, payload, errhdr, named);
      failed_index = i;
      if (i < 0 && error->err == ERESTART && error->detail.empty())
        error->detail = "the ruleset changed since it was read (generation " + std::to_string(genid.value_or(0)) + ")";
      if (i >= 0 && error->offset >= 0) {
        // Name the top-level attribute of the failing message.
        auto m = bytes(wire).subspan(offsets[i + 1], offsets[i + 2] - offsets[i + 1]);
        size_t start = align(sizeof(nlmsghdr)) + align(sizeof(nfgenmsg));
        size_t off = 0;
        for_each_attr(m.subspan(std::min(start, m.size())), [&](const Attr& a) {
          size_t a0 = start + off, a1 = a0 + attr_hdrlen + a.data.size();
          if (static_cast<size_t>(error->offset) >= a0 && static_cast<size_t>(error->offset) < a1 && error->attribute.empty())
            error->attribute = msgs[i].type == MsgType::NewRule || msgs[i].type == MsgType::DelRule ? nfta_rule_name(a.type) : "#" + std::to_string(a.type);
          off += align(attr_hdrlen + a.data.size());
        });
      }
      return true;
    });
  }
  if (!error && !acked) error = Error::sys(EPROTO, "recvmsg", "the kernel did not acknowledge the nf_tables batch");
}

bool parse_rule(const nlmsghdr& h, bytes payload, RuleInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWRULE) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g) return false;
  out->family = g->nfgen_family;
  AttrTable<NFTA_RULE_MAX> tb(after_header<nfgenmsg>(payload));
  out->table = tb[NFTA_RULE_TABLE].str();
  out->chain = tb[NFTA_RULE_CHAIN].str();
  out->handle = be64(tb[NFTA_RULE_HANDLE].u64());
  out->userdata.assign(tb[NFTA_RULE_USERDATA].data.begin(), tb[NFTA_RULE_USERDATA].data.end());
  return tb.valid && check.ok();
}

bool parse_chain(const nlmsghdr& h, bytes payload, ChainInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWCHAIN) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g) return false;
  out->family = g->nfgen_family;
  AttrTable<NFTA_CHAIN_MAX> tb(after_header<nfgenmsg>(payload));
  out->table = tb[NFTA_CHAIN_TABLE].str();
  out->name = tb[NFTA_CHAIN_NAME].str();
  out->type = tb[NFTA_CHAIN_TYPE].str();
  if (tb[NFTA_CHAIN_POLICY].present()) out->policy = be32(tb[NFTA_CHAIN_POLICY].u32());
  if (tb[NFTA_CHAIN_HOOK].present()) {
    AttrTable<NFTA_HOOK_MAX> hk(tb[NFTA_CHAIN_HOOK].data);
    out->hooknum = be32(hk[NFTA_HOOK_HOOKNUM].u32());
    out->priority = static_cast<int32_t>(be32(hk[NFTA_HOOK_PRIORITY].u32()));
  }
  return tb.valid && check.ok();
}

namespace {


std::vector<uint8_t> get_msg(uint16_t type, uint8_t family, uint16_t name_attr, const std::string& table) {
  std::array<uint8_t, 512> buf;
  Builder b(buf);
  b.put_header(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type), 0);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  if (!table.empty()) b.put_strz(name_attr, table);
  return {b.bytes().begin(), b.bytes().end()};
}

}  // namespace

void DumpRequest::run(LocalContext& ctx) {
  Error err;
  Socket* s = ctx.netfilter(&err);
  if (!s) {
    error = err;
    return;
  }
  // The generation first: whatever the dump shows is at least this recent, and
  // a batch carrying it applies only if nothing changed in between.
  {
    struct Gen : Request {
      uint32_t* out = nullptr;
      void on_data(const nlmsghdr& h, bytes p) override {
        if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWGEN) return;
        AttrTable<NFTA_GEN_MAX> tb(after_header<nfgenmsg>(p));
        if (tb[NFTA_GEN_ID].present()) *out = be32(tb[NFTA_GEN_ID].u32());
      }
    } gen;
    gen.op = "NFT_MSG_GETGEN";
    gen.out = &genid;
    gen.msg = get_msg(NFT_MSG_GETGEN, AF_UNSPEC, 0, {});
    Request* one[] = {&gen};
    transact(*s, one);
    if (gen.error) {
      error = gen.error;
      return;
    }
  }
  // Does the table exist, and whose is it? (A filtered dump of a missing table is just empty.)
  {
    struct Table : Request {
      Bytes* out = nullptr;
      void on_data(const nlmsghdr& h, bytes p) override {
        if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWTABLE) return;
        AttrTable<NFTA_TABLE_MAX> tb(after_header<nfgenmsg>(p));
        out->assign(tb[NFTA_TABLE_USERDATA].data.begin(), tb[NFTA_TABLE_USERDATA].data.end());
      }
    } get;
    get.out = &table_userdata;
    get.op = "NFT_MSG_GETTABLE";
    get.msg = get_msg(NFT_MSG_GETTABLE, family, NFTA_TABLE_NAME, table);
    Request* one[] = {&get};
    transact(*s, one);
    if (get.error) {
      if (get.error->err == ENOENT) {
        table_exists = false;
        return;
      }
      error = get.error;
      return;
    }
  }
  Collect<ChainInfo, parse_chain> chains_req;
  chains_req.dump = true;
  chains_req.op = "NFT_MSG_GETCHAIN";
  chains_req.out = &chains;
  chains_req.msg = get_msg(NFT_MSG_GETCHAIN, family, NFTA_CHAIN_TABLE, table);
  Collect<RuleInfo, parse_rule> rules_req;
  rules_req.dump = true;
  rules_req.op = "NFT_MSG_GETRULE";
  rules_req.out = &rules;
  rules_req.msg = get_msg(NFT_MSG_GETRULE, family, NFTA_RULE_TABLE, table);
  for (Request* r : {static_cast<Request*>(&chains_req), static_cast<Request*>(&rules_req)}) {
    Request* one[] = {r};
    transact(*s, one);
    if (r->error) {
      if (r->error->err == ENOENT) {  // no such table: nothing of ours here
        table_exists = false;
        chains.clear();
        rules.clear();
        return;
      }
      error = r->error;
      return;
    }
  }
  // A chain dump filtered by table still lists only that table's chains; be strict anyway.
  std::erase_if(chains, [&](const ChainInfo& c) { return !table.empty() && c.table != table; });
  std::erase_if(rules, [&](const RuleInfo& r) { return !table.empty() && r.table != table; });
}

}  // namespace nl::nft
