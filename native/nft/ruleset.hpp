// nl::nft ruleset — a read-only view of a namespace's WHOLE nf_tables
// ruleset (every family, every table, not only ours): tables, chains with
// their hook, priority, policy and type, and rules with their expressions
// summarized (names, verdicts, nat types, the operands of payload/cmp/meta),
// decoded from linux/netfilter/nf_tables.h. It is what `netplumb doctor`
// reads to find what would drop or divert a published port's packets; it
// never changes anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../local_request.hpp"
#include "nft.hpp"

namespace nl::nft {

using Bytes = std::vector<uint8_t>;

struct TableSummary {
  uint8_t family = 0;
  std::string name;
  uint32_t flags = 0;
  uint64_t handle = 0;
};

struct ChainSummary {
  uint8_t family = 0;
  std::string table, name, type;  // type: "filter", "nat", "route" (base chains only)
  uint64_t handle = 0;
  std::optional<uint32_t> hooknum;  // unset: a regular chain (reached by jump/goto only)
  int32_t priority = 0;
  std::optional<uint32_t> policy;  // NF_DROP 0, NF_ACCEPT 1 (base chains)
  std::string dev;                 // netdev/ingress: the (first) device
  uint32_t flags = 0;
};

// One expression, reduced to what the analysis needs. Which fields are set
// depends on `name`:
//   immediate: verdict (NF_DROP, NF_ACCEPT, NFT_JUMP, NFT_GOTO, NFT_RETURN...) and
//              chain (jump/goto target) — or dreg and data for a value
//   nat:       nat_type (NFT_NAT_SNAT 0, NFT_NAT_DNAT 1), family
//   payload:   base, offset, len, dreg
//   cmp:       sreg, op, data
//   meta, ct:  key, dreg (meta with sreg: a set statement)
//   lookup:    set, sreg, dreg (dreg 0: a verdict map)
//   reject:    type
//   redirect, masq, counter, log, ...: the name only
struct ExprSummary {
  std::string name;
  std::optional<int32_t> verdict;
  std::string chain;
  std::optional<uint32_t> nat_type;
  uint32_t family = 0, base = 0, offset = 0, len = 0, dreg = 0, sreg = 0, op = 0, key = 0, type = 0;
  std::optional<uint32_t> dreg_set;  // lookup: whether NFTA_LOOKUP_DREG was present
  std::string set;
  Bytes data;
};

// A rule as parse_rule reads it (where, handle, user data), with its expressions.
struct RuleSummary : RuleInfo {
  std::vector<ExprSummary> exprs;
};

// Decoders for one dump message each (false: not that message, or malformed).
bool parse_table_summary(const nlmsghdr& h, bytes payload, TableSummary* out);
bool parse_chain_summary(const nlmsghdr& h, bytes payload, ChainSummary* out);
bool parse_rule_summary(const nlmsghdr& h, bytes payload, RuleSummary* out);
bool parse_expr_summary(bytes elem, ExprSummary* out);  // one NFTA_LIST_ELEM's payload
bool parse_gen(const nlmsghdr& h, bytes payload, uint32_t* gen);

// Dumps every table, chain and rule of every family (NFPROTO_UNSPEC), with
// the ruleset generation (NFT_MSG_GETGEN) read before and after: if it moved
// during the dumps, they are read again (a few times), so that what is
// returned is one generation's ruleset. With gen_only, only the generation.
class RulesetRequest : public LocalRequest {
 public:
  RulesetRequest() { op = "NFT_MSG_GETRULE"; }
  bool gen_only = false;
  // Tables whose rules are not read (their tables and chains still are).
  std::vector<std::pair<uint8_t, std::string>> skip_rules;
  // Results.
  uint32_t gen = 0;
  bool consistent = true;  // false: the generation kept moving across every retry
  std::vector<TableSummary> tables;
  std::vector<ChainSummary> chains;
  std::vector<RuleSummary> rules;
  void run(LocalContext& ctx) override;
};

}  // namespace nl::nft
