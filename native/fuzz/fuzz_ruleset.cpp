// fuzz_ruleset: the doctor's ruleset decoders (native/nft/ruleset.cpp) on a
// received datagram, as RulesetRequest sees it: every message, once with its
// own type and once as each of NEWTABLE, NEWCHAIN, NEWRULE and NEWGEN, to
// parse_table_summary, parse_chain_summary, parse_rule_summary (and so
// parse_expr_summary on every list element) and parse_gen. Invariants: no
// read outside the datagram (ASan), and no string or byte field longer than
// the payload it came from. Seeds: real nf_tables dumps (corpus/ruleset,
// copied from corpus/reply's nft captures).
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../nft/ruleset.hpp"
#include "common.hpp"

namespace {

using nl::bytes;

template <class S>
void bounded(const S& s, bytes payload) {
  FUZZ_CHECK(s.size() <= payload.size());
  fuzz::sink(s);
}

void decode(const nlmsghdr& h, bytes payload) {
  {
    nl::nft::TableSummary t;
    fuzz::sink(nl::nft::parse_table_summary(h, payload, &t));
    bounded(t.name, payload);
    fuzz::sink(t.flags + t.handle);
  }
  {
    nl::nft::ChainSummary c;
    fuzz::sink(nl::nft::parse_chain_summary(h, payload, &c));
    for (auto* s : {&c.table, &c.name, &c.type, &c.dev}) bounded(*s, payload);
    fuzz::sink(c.handle + c.hooknum.value_or(0) + uint32_t(c.priority) + c.policy.value_or(0));
  }
  {
    nl::nft::RuleSummary r;
    fuzz::sink(nl::nft::parse_rule_summary(h, payload, &r));
    bounded(r.table, payload);
    bounded(r.chain, payload);
    bounded(r.userdata, payload);
    // Each expression takes at least one attribute header.
    FUZZ_CHECK(r.exprs.size() <= payload.size() / 4);
    for (const auto& e : r.exprs) {
      bounded(e.name, payload);
      bounded(e.chain, payload);
      bounded(e.set, payload);
      bounded(e.data, payload);
      fuzz::sink(uint32_t(e.verdict.value_or(0)) + e.nat_type.value_or(0) + e.base + e.offset + e.len + e.op + e.key);
    }
  }
  {
    uint32_t gen = 0;
    fuzz::sink(nl::nft::parse_gen(h, payload, &gen) + gen);
  }
}

constexpr uint8_t kTypes[] = {NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWGEN};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);  // exactly sized: ASan catches overreads
  bytes dg(buf.data(), buf.size());
  nl::for_each_msg(dg, [&](const nlmsghdr& h, bytes payload) {
    FUZZ_CHECK(fuzz::within(payload, dg));
    decode(h, payload);
    for (uint8_t t : kTypes) {
      nlmsghdr o = h;
      o.nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | t);
      decode(o, payload);
    }
    return true;
  });
  return 0;
}
