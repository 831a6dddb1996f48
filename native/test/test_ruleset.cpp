// Native unit tests for native/nft/ruleset.cpp (the doctor's ruleset view):
// dump messages as the kernel writes them, built here byte by byte from
// linux/netfilter/nf_tables.h (not with nl::Builder, the code under test's
// own writer), and the decoders against every truncation and random bytes.
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../nft/ruleset.hpp"
#include "check.hpp"

using nl::bytes;

// A hand-rolled netlink writer: host-order headers, nf_tables values in network order.
struct W {
  Bytes b;
  std::vector<size_t> open;
  void raw(const void* p, size_t n) { b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n); }
  void pad() { while (b.size() % 4) b.push_back(0); }
  void hdr16(uint16_t v) { raw(&v, 2); }
  void hdr32(uint32_t v) { raw(&v, 4); }
  void begin(uint16_t type) {
    open.push_back(b.size());
    hdr16(0);
    hdr16(type);
  }
  void end() {
    size_t at = open.back();
    open.pop_back();
    uint16_t len = static_cast<uint16_t>(b.size() - at);
    std::memcpy(&b[at], &len, 2);
    pad();
  }
  void attr(uint16_t type, const void* p, size_t n) {
    begin(type);
    raw(p, n);
    uint16_t len = static_cast<uint16_t>(4 + n);
    std::memcpy(&b[open.back()], &len, 2);
    open.pop_back();
    pad();
  }
  void strz(uint16_t type, const char* s) { attr(type, s, std::strlen(s) + 1); }
  void be32(uint16_t type, uint32_t v) {
    v = __builtin_bswap32(v);
    attr(type, &v, 4);
  }
  void be64(uint16_t type, uint64_t v) {
    v = __builtin_bswap64(v);
    attr(type, &v, 8);
  }
  // nlmsghdr + nfgenmsg; finish() sets the length.
  void msg(uint8_t type, uint8_t family) {
    hdr32(0);
    hdr16(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type));
    hdr16(NLM_F_MULTI);
    hdr32(1);
    hdr32(0);
    uint8_t g[4] = {family, NFNETLINK_V0, 0, 0};
    raw(g, 4);
  }
  Bytes finish() {
    uint32_t len = static_cast<uint32_t>(b.size());
    std::memcpy(&b[0], &len, 4);
    return b;
  }
};

static nlmsghdr header(const Bytes& m) {
  nlmsghdr h;
  std::memcpy(&h, m.data(), sizeof h);
  return h;
}
static bytes payload(const Bytes& m) { return bytes(m).subspan(NLMSG_HDRLEN); }

// table inet filter { chain forward { type filter hook forward priority 0; policy drop; } }
static Bytes chain_msg() {
  W w;
  w.msg(NFT_MSG_NEWCHAIN, NFPROTO_INET);
  w.strz(NFTA_CHAIN_TABLE, "filter");
  w.be64(NFTA_CHAIN_HANDLE, 1);
  w.strz(NFTA_CHAIN_NAME, "forward");
  w.begin(NFTA_CHAIN_HOOK | NLA_F_NESTED);
  w.be32(NFTA_HOOK_HOOKNUM, NF_INET_FORWARD);
  w.be32(NFTA_HOOK_PRIORITY, 0);
  w.end();
  w.be32(NFTA_CHAIN_POLICY, NF_DROP);
  w.strz(NFTA_CHAIN_TYPE, "filter");
  w.be32(NFTA_CHAIN_FLAGS, NFT_CHAIN_BASE);
  return w.finish();
}

// table ip hijack { chain pre { ...; tcp dport 8080 dnat to 172.21.0.3:80 # handle 4 } }, and a jump.
static Bytes rule_msg() {
  W w;
  w.msg(NFT_MSG_NEWRULE, NFPROTO_IPV4);
  w.strz(NFTA_RULE_TABLE, "hijack");
  w.strz(NFTA_RULE_CHAIN, "pre");
  w.be64(NFTA_RULE_HANDLE, 4);
  w.begin(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED);
  auto expr = [&](const char* name, auto&& body) {
    w.begin(NFTA_LIST_ELEM | NLA_F_NESTED);
    w.strz(NFTA_EXPR_NAME, name);
    w.begin(NFTA_EXPR_DATA | NLA_F_NESTED);
    body();
    w.end();
    w.end();
  };
  expr("payload", [&] {
    w.be32(NFTA_PAYLOAD_DREG, NFT_REG_1);
    w.be32(NFTA_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
    w.be32(NFTA_PAYLOAD_OFFSET, 2);
    w.be32(NFTA_PAYLOAD_LEN, 2);
  });
  expr("cmp", [&] {
    w.be32(NFTA_CMP_SREG, NFT_REG_1);
    w.be32(NFTA_CMP_OP, NFT_CMP_EQ);
    w.begin(NFTA_CMP_DATA | NLA_F_NESTED);
    uint8_t port[2] = {0x1f, 0x90};
    w.attr(NFTA_DATA_VALUE, port, 2);
    w.end();
  });
  expr("immediate", [&] {
    w.be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    w.begin(NFTA_IMMEDIATE_DATA | NLA_F_NESTED);
    w.begin(NFTA_DATA_VERDICT | NLA_F_NESTED);
    w.be32(NFTA_VERDICT_CODE, static_cast<uint32_t>(NFT_JUMP));
    w.strz(NFTA_VERDICT_CHAIN, "elsewhere");
    w.end();
    w.end();
  });
  expr("nat", [&] {
    w.be32(NFTA_NAT_TYPE, NFT_NAT_DNAT);
    w.be32(NFTA_NAT_FAMILY, NFPROTO_IPV4);
    w.be32(NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
  });
  expr("redir", [] {});
  expr("immediate", [&] {
    w.be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    w.begin(NFTA_IMMEDIATE_DATA | NLA_F_NESTED);
    w.begin(NFTA_DATA_VERDICT | NLA_F_NESTED);
    w.be32(NFTA_VERDICT_CODE, NF_DROP);
    w.end();
    w.end();
  });
  expr("lookup", [&] {
    w.strz(NFTA_LOOKUP_SET, "__map0");
    w.be32(NFTA_LOOKUP_SREG, NFT_REG_1);
    w.be32(NFTA_LOOKUP_DREG, NFT_REG_VERDICT);
  });
  expr("reject", [&] { w.be32(NFTA_REJECT_TYPE, NFT_REJECT_TCP_RST); });
  w.end();
  uint8_t ud[] = {0, 3, 'h', 'i', 0};
  w.attr(NFTA_RULE_USERDATA, ud, sizeof ud);
  return w.finish();
}

static void test_golden_chain() {
  Bytes m = chain_msg();
  nl::nft::ChainSummary c;
  CHECK(nl::nft::parse_chain_summary(header(m), payload(m), &c));
  CHECK(c.family == NFPROTO_INET);
  CHECK(c.table == "filter" && c.name == "forward" && c.type == "filter");
  CHECK(c.handle == 1);
  CHECK(c.hooknum && *c.hooknum == NF_INET_FORWARD);
  CHECK(c.priority == 0);
  CHECK(c.policy && *c.policy == NF_DROP);
  CHECK(c.flags == NFT_CHAIN_BASE);
  CHECK(c.dev.empty());
  // A regular chain: no hook, no policy.
  W w;
  w.msg(NFT_MSG_NEWCHAIN, NFPROTO_INET);
  w.strz(NFTA_CHAIN_TABLE, "filter");
  w.strz(NFTA_CHAIN_NAME, "foo");
  Bytes r = w.finish();
  nl::nft::ChainSummary rc;
  CHECK(nl::nft::parse_chain_summary(header(r), payload(r), &rc));
  CHECK(!rc.hooknum && !rc.policy && rc.name == "foo");
  // Negative priorities survive the big-endian round trip.
  W n;
  n.msg(NFT_MSG_NEWCHAIN, NFPROTO_IPV4);
  n.strz(NFTA_CHAIN_TABLE, "t");
  n.strz(NFTA_CHAIN_NAME, "pre");
  n.begin(NFTA_CHAIN_HOOK | NLA_F_NESTED);
  n.be32(NFTA_HOOK_HOOKNUM, NF_INET_PRE_ROUTING);
  n.be32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(-150));
  n.strz(NFTA_HOOK_DEV, "eth0");
  n.end();
  Bytes nm = n.finish();
  nl::nft::ChainSummary nc;
  CHECK(nl::nft::parse_chain_summary(header(nm), payload(nm), &nc));
  CHECK(nc.priority == -150 && nc.dev == "eth0");
  // Not a chain message.
  Bytes wrong = m;
  uint16_t t = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
  std::memcpy(&wrong[4], &t, 2);
  CHECK(!nl::nft::parse_chain_summary(header(wrong), payload(wrong), &nc));
}

static void test_golden_rule() {
  Bytes m = rule_msg();
  nl::nft::RuleSummary r;
  CHECK(nl::nft::parse_rule_summary(header(m), payload(m), &r));
  CHECK(r.family == NFPROTO_IPV4 && r.table == "hijack" && r.chain == "pre" && r.handle == 4);
  CHECK((r.userdata == Bytes{0, 3, 'h', 'i', 0}));
  CHECK(r.exprs.size() == 8);
  if (r.exprs.size() != 8) return;
  const auto& p = r.exprs[0];
  CHECK(p.name == "payload" && p.dreg == NFT_REG_1 && p.base == NFT_PAYLOAD_TRANSPORT_HEADER && p.offset == 2 && p.len == 2);
  const auto& c = r.exprs[1];
  CHECK(c.name == "cmp" && c.sreg == NFT_REG_1 && c.op == NFT_CMP_EQ && (c.data == Bytes{0x1f, 0x90}));
  const auto& j = r.exprs[2];
  CHECK(j.name == "immediate" && j.verdict && *j.verdict == NFT_JUMP && j.chain == "elsewhere");
  const auto& n = r.exprs[3];
  CHECK(n.name == "nat" && n.nat_type && *n.nat_type == NFT_NAT_DNAT && n.family == NFPROTO_IPV4);
  CHECK(r.exprs[4].name == "redir" && !r.exprs[4].verdict);
  CHECK(r.exprs[5].verdict && *r.exprs[5].verdict == NF_DROP && r.exprs[5].chain.empty());
  const auto& l = r.exprs[6];
  CHECK(l.name == "lookup" && l.set == "__map0" && l.dreg_set && *l.dreg_set == NFT_REG_VERDICT);
  CHECK(r.exprs[7].name == "reject" && r.exprs[7].type == NFT_REJECT_TCP_RST);
}

static void test_golden_table_and_gen() {
  W w;
  w.msg(NFT_MSG_NEWTABLE, NFPROTO_NETDEV);
  w.strz(NFTA_TABLE_NAME, "nd");
  w.be32(NFTA_TABLE_FLAGS, 0);
  w.be32(NFTA_TABLE_USE, 1);
  w.be64(NFTA_TABLE_HANDLE, 3);
  Bytes m = w.finish();
  nl::nft::TableSummary t;
  CHECK(nl::nft::parse_table_summary(header(m), payload(m), &t));
  CHECK(t.family == NFPROTO_NETDEV && t.name == "nd" && t.handle == 3);

  W g;
  g.msg(NFT_MSG_NEWGEN, AF_UNSPEC);
  g.be32(NFTA_GEN_ID, 0x01020304);
  g.be32(NFTA_GEN_PROC_PID, 42);
  g.strz(NFTA_GEN_PROC_NAME, "nft");
  Bytes gm = g.finish();
  uint32_t gen = 0;
  CHECK(nl::nft::parse_gen(header(gm), payload(gm), &gen));
  CHECK(gen == 0x01020304);
  // Without NFTA_GEN_ID: not an answer.
  W e;
  e.msg(NFT_MSG_NEWGEN, AF_UNSPEC);
  Bytes em = e.finish();
  CHECK(!nl::nft::parse_gen(header(em), payload(em), &gen));
}

// Every truncation and random corruption of the golden messages: the
// decoders return (true or false) without reading outside the buffer (run
// under ASan: `make asan-ruleset`), and every string and byte field they
// hand out is no longer than the payload.
static void test_truncated_and_random() {
  std::mt19937 rng(4242);
  const Bytes golden[] = {chain_msg(), rule_msg()};
  size_t tried = 0;
  auto decode = [&](const Bytes& m) {
    if (m.size() < NLMSG_HDRLEN) return;
    nlmsghdr h = header(m);
    bytes p = bytes(m).subspan(NLMSG_HDRLEN);
    nl::nft::ChainSummary c;
    nl::nft::RuleSummary r;
    nl::nft::TableSummary t;
    uint32_t gen;
    for (uint8_t type : {NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE, NFT_MSG_NEWGEN}) {
      h.nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
      nl::nft::parse_chain_summary(h, p, &c);
      nl::nft::parse_rule_summary(h, p, &r);
      nl::nft::parse_table_summary(h, p, &t);
      nl::nft::parse_gen(h, p, &gen);
    }
    CHECK(c.name.size() <= p.size() && c.table.size() <= p.size() && c.dev.size() <= p.size());
    CHECK(r.userdata.size() <= p.size() && r.exprs.size() <= p.size() / 4);
    for (const auto& e : r.exprs) CHECK(e.data.size() <= p.size() && e.chain.size() <= p.size());
    ++tried;
  };
  for (const Bytes& g : golden) {
    for (size_t n = 0; n <= g.size(); ++n) decode(Bytes(g.begin(), g.begin() + n));
    for (int i = 0; i < 50000; ++i) {
      Bytes m = g;
      for (int k = 0; k < 1 + i % 6; ++k) m[NLMSG_HDRLEN + rng() % (m.size() - NLMSG_HDRLEN)] = static_cast<uint8_t>(rng());
      decode(m);
    }
  }
  CHECK(tried > 100000);
}

int main() {
  test_golden_chain();
  test_golden_rule();
  test_golden_table_and_gen();
  test_truncated_and_random();
  return check_summary();
}
