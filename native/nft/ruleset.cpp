#include "ruleset.hpp"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

namespace nl::nft {

namespace {

uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
uint64_t be64(uint64_t v) { return __builtin_bswap64(v); }

// A nested NFTA_DATA_* attribute's value bytes (NFTA_DATA_VALUE).
Bytes data_value(const Attr& a) {
  if (!a.present()) return {};
  AttrTable<NFTA_DATA_MAX> d(a.data);
  const Attr& v = d[NFTA_DATA_VALUE];
  return Bytes(v.data.begin(), v.data.end());
}

}  // namespace

bool parse_table_summary(const nlmsghdr& h, bytes payload, TableSummary* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWTABLE) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g) return false;
  out->family = g->nfgen_family;
  AttrTable<NFTA_TABLE_MAX> tb(after_header<nfgenmsg>(payload));
  out->name = tb[NFTA_TABLE_NAME].str();
  out->flags = be32(tb[NFTA_TABLE_FLAGS].u32());
  out->handle = be64(tb[NFTA_TABLE_HANDLE].u64());
  return (tb.valid && !out->name.empty()) && check.ok();
}

bool parse_chain_summary(const nlmsghdr& h, bytes payload, ChainSummary* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWCHAIN) return false;
  auto g = extra_header<nfgenmsg>(payload);
  if (!g) return false;
  out->family = g->nfgen_family;
  AttrTable<NFTA_CHAIN_MAX> tb(after_header<nfgenmsg>(payload));
  out->table = tb[NFTA_CHAIN_TABLE].str();
  out->name = tb[NFTA_CHAIN_NAME].str();
  out->type = tb[NFTA_CHAIN_TYPE].str();
  out->handle = be64(tb[NFTA_CHAIN_HANDLE].u64());
  out->flags = be32(tb[NFTA_CHAIN_FLAGS].u32());
  if (tb[NFTA_CHAIN_POLICY].present()) out->policy = be32(tb[NFTA_CHAIN_POLICY].u32());
  bool ok = tb.valid;
  if (tb[NFTA_CHAIN_HOOK].present()) {
    AttrTable<NFTA_HOOK_MAX> hk(tb[NFTA_CHAIN_HOOK].data);
    ok = ok && hk.valid;
    if (hk[NFTA_HOOK_HOOKNUM].present()) out->hooknum = be32(hk[NFTA_HOOK_HOOKNUM].u32());
    out->priority = static_cast<int32_t>(be32(hk[NFTA_HOOK_PRIORITY].u32()));
    if (hk[NFTA_HOOK_DEV].present()) {
      out->dev = hk[NFTA_HOOK_DEV].str();
    } else if (hk[NFTA_HOOK_DEVS].present()) {
      // A list of NFTA_DEVICE_NAME: keep the first.
      for_each_attr(hk[NFTA_HOOK_DEVS].data, [&](const Attr& d) {
        if (out->dev.empty()) out->dev = d.str();
      });
    }
  }
  return (ok && !out->name.empty()) && check.ok();
}

bool parse_expr_summary(bytes elem, ExprSummary* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  AttrTable<NFTA_EXPR_MAX> ex(elem);
  out->name = ex[NFTA_EXPR_NAME].str();
  const bytes data = ex[NFTA_EXPR_DATA].data;
  const std::string& n = out->name;
  bool ok = ex.valid && !n.empty();
  if (n == "immediate") {
    AttrTable<NFTA_IMMEDIATE_MAX> t(data);
    ok = ok && t.valid;
    out->dreg = be32(t[NFTA_IMMEDIATE_DREG].u32());
    if (t[NFTA_IMMEDIATE_DATA].present()) {
      AttrTable<NFTA_DATA_MAX> d(t[NFTA_IMMEDIATE_DATA].data);
      ok = ok && d.valid;
      if (d[NFTA_DATA_VERDICT].present()) {
        AttrTable<NFTA_VERDICT_MAX> v(d[NFTA_DATA_VERDICT].data);
        ok = ok && v.valid;
        if (v[NFTA_VERDICT_CODE].present()) out->verdict = static_cast<int32_t>(be32(v[NFTA_VERDICT_CODE].u32()));
        out->chain = v[NFTA_VERDICT_CHAIN].str();
      } else {
        const Attr& val = d[NFTA_DATA_VALUE];
        out->data.assign(val.data.begin(), val.data.end());
      }
    }
  } else if (n == "nat") {
    AttrTable<NFTA_NAT_MAX> t(data);
    ok = ok && t.valid;
    if (t[NFTA_NAT_TYPE].present()) out->nat_type = be32(t[NFTA_NAT_TYPE].u32());
    out->family = be32(t[NFTA_NAT_FAMILY].u32());
  } else if (n == "payload") {
    AttrTable<NFTA_PAYLOAD_MAX> t(data);
    ok = ok && t.valid;
    out->dreg = be32(t[NFTA_PAYLOAD_DREG].u32());
    out->sreg = be32(t[NFTA_PAYLOAD_SREG].u32());
    out->base = be32(t[NFTA_PAYLOAD_BASE].u32());
    out->offset = be32(t[NFTA_PAYLOAD_OFFSET].u32());
    out->len = be32(t[NFTA_PAYLOAD_LEN].u32());
  } else if (n == "cmp") {
    AttrTable<NFTA_CMP_MAX> t(data);
    ok = ok && t.valid;
    out->sreg = be32(t[NFTA_CMP_SREG].u32());
    out->op = be32(t[NFTA_CMP_OP].u32());
    out->data = data_value(t[NFTA_CMP_DATA]);
  } else if (n == "meta") {
    AttrTable<NFTA_META_MAX> t(data);
    ok = ok && t.valid;
    out->key = be32(t[NFTA_META_KEY].u32());
    out->dreg = be32(t[NFTA_META_DREG].u32());
    out->sreg = be32(t[NFTA_META_SREG].u32());
  } else if (n == "ct") {
    AttrTable<NFTA_CT_MAX> t(data);
    ok = ok && t.valid;
    out->key = be32(t[NFTA_CT_KEY].u32());
    out->dreg = be32(t[NFTA_CT_DREG].u32());
    out->sreg = be32(t[NFTA_CT_SREG].u32());
  } else if (n == "lookup") {
    AttrTable<NFTA_LOOKUP_MAX> t(data);
    ok = ok && t.valid;
    out->set = t[NFTA_LOOKUP_SET].str();
    out->sreg = be32(t[NFTA_LOOKUP_SREG].u32());
    if (t[NFTA_LOOKUP_DREG].present()) out->dreg_set = out->dreg = be32(t[NFTA_LOOKUP_DREG].u32());
  } else if (n == "reject") {
    AttrTable<NFTA_REJECT_MAX> t(data);
    ok = ok && t.valid;
    out->type = be32(t[NFTA_REJECT_TYPE].u32());
  }
  // Every other expression (redirect, masq, counter, log, limit, ...): its name is enough.
  return ok && check.ok();
}

bool parse_rule_summary(const nlmsghdr& h, bytes payload, RuleSummary* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (!parse_rule(h, payload, out)) return false;  // the header, where, handle, user data
  AttrTable<NFTA_RULE_MAX> tb(after_header<nfgenmsg>(payload));
  bool ok = tb.valid;
  if (tb[NFTA_RULE_EXPRESSIONS].present()) {
    ok = for_each_attr(tb[NFTA_RULE_EXPRESSIONS].data, [&](const Attr& a) {
      if (a.type != NFTA_LIST_ELEM) return;
      ExprSummary e;
      if (!parse_expr_summary(a.data, &e)) ok = false;
      out->exprs.push_back(std::move(e));
    }) && ok;
  }
  return (ok && !out->table.empty() && !out->chain.empty()) && check.ok();
}

bool parse_gen(const nlmsghdr& h, bytes payload, uint32_t* gen) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if ((h.nlmsg_type & 0xff) != NFT_MSG_NEWGEN) return false;
  if (!extra_header<nfgenmsg>(payload)) return false;
  AttrTable<NFTA_GEN_MAX> tb(after_header<nfgenmsg>(payload));
  if (!tb.valid || !tb[NFTA_GEN_ID].present()) return false;
  *gen = be32(tb[NFTA_GEN_ID].u32());
  return check.ok();
}

namespace {


struct GenGet : Request {
  std::optional<uint32_t> gen;
  void on_data(const nlmsghdr& h, bytes p) override {
    uint32_t g = 0;
    if (parse_gen(h, p, &g)) gen = g;
  }
};

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

// Runs one request alone; its error, if any.
std::optional<Error> one(Socket& s, Request& r) {
  Request* batch[] = {&r};
  transact(s, batch);
  return r.error;
}

constexpr int kGenRetries = 5;

}  // namespace

void RulesetRequest::run(LocalContext& ctx) {
  Error err;
  Socket* s = ctx.netfilter(&err);
  if (!s) {
    error = err;
    return;
  }
  auto read_gen = [&](uint32_t* out) -> bool {
    GenGet g;
    g.op = "NFT_MSG_GETGEN";
    g.msg = get_msg(NFT_MSG_GETGEN, AF_UNSPEC, 0, {});
    if (auto e = one(*s, g)) {
      error = e;
      return false;
    }
    if (!g.gen) {
      error = Error::sys(EPROTO, "NFT_MSG_GETGEN", "the kernel's answer carried no NFTA_GEN_ID");
      return false;
    }
    *out = *g.gen;
    return true;
  };
  if (!read_gen(&gen)) return;
  if (gen_only) return;
  for (int attempt = 0; attempt <= kGenRetries; ++attempt) {
    tables.clear();
    chains.clear();
    rules.clear();
    Collect<TableSummary, parse_table_summary> t;
    t.dump = true;
    t.op = "NFT_MSG_GETTABLE";
    t.out = &tables;
    t.msg = get_msg(NFT_MSG_GETTABLE, NFPROTO_UNSPEC, 0, {});
    if (auto e = one(*s, t)) {
      error = e;
      return;
    }
    Collect<ChainSummary, parse_chain_summary> c;
    c.dump = true;
    c.op = "NFT_MSG_GETCHAIN";
    c.out = &chains;
    c.msg = get_msg(NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, 0, {});
    if (auto e = one(*s, c)) {
      error = e;
      return;
    }
    // Rules: one dump of everything, or one per table when some are skipped.
    auto dump_rules = [&](uint8_t family, const std::string& table) -> bool {
      std::vector<RuleSummary> got;
      Collect<RuleSummary, parse_rule_summary> r;
      r.dump = true;
      r.op = "NFT_MSG_GETRULE";
      r.out = &got;
      r.msg = get_msg(NFT_MSG_GETRULE, family, NFTA_RULE_TABLE, table);
      if (auto e = one(*s, r)) {
        if (e->err == ENOENT) return true;  // the table went away meanwhile: the generation check catches it
        error = e;
        return false;
      }
      for (auto& x : got)
        if (table.empty() || (x.table == table && x.family == family)) rules.push_back(std::move(x));
      return true;
    };
    if (skip_rules.empty()) {
      if (!dump_rules(NFPROTO_UNSPEC, {})) return;
    } else {
      for (const auto& tab : tables) {
        bool skip = std::any_of(skip_rules.begin(), skip_rules.end(),
                                [&](const auto& p) { return p.first == tab.family && p.second == tab.name; });
        if (!skip && !dump_rules(tab.family, tab.name)) return;
      }
    }
    uint32_t after = 0;
    if (!read_gen(&after)) return;
    if (after == gen) {
      consistent = true;
      return;
    }
    gen = after;
    consistent = false;
  }
}

}  // namespace nl::nft
