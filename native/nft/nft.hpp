// nl::nft — nf_tables over NETLINK_NETFILTER. Changes go out as one batch
// (NFNL_MSG_BATCH_BEGIN … END) that the kernel applies atomically or not at
// all; an error names the message of the batch that caused it. Rules are
// described as a list of expressions (payload, cmp, meta, nat...), encoded
// here from linux/netfilter/nf_tables.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../local_request.hpp"

namespace nl::nft {

using Bytes = std::vector<uint8_t>;

// One expression. Which fields matter depends on `name`:
//   payload:   dreg, base, offset, len
//   cmp:       sreg, op, data
//   bitwise:   sreg, dreg, len, mask, xor_
//   meta:      dreg, key
//   fib:       dreg, result, flags
//   ct:        dreg, key
//   immediate: dreg, data — or, with verdict set, a verdict (dreg 0)
//   nat:       type, family, reg_addr, reg_proto, flags (0 = unset)
//   masq:      flags
//   counter:   —
struct Expr {
  std::string name;
  uint32_t dreg = 0, sreg = 0, key = 0, base = 0, offset = 0, len = 0, op = 0, result = 0, flags = 0;
  uint32_t type = 0, family = 0, reg_addr = 0, reg_proto = 0;
  Bytes data, mask, xor_;
  std::optional<int32_t> verdict;
};

enum class MsgType { NewTable, DelTable, NewChain, DelChain, NewRule, DelRule };

struct Msg {
  MsgType type = MsgType::NewTable;
  uint8_t family = 2;  // NFPROTO_IPV4
  std::string table, chain;
  // Base chains.
  std::optional<uint32_t> hooknum;
  int32_t priority = 0;
  std::string chain_type;  // "nat", "filter"
  std::optional<uint32_t> policy;
  // Rules.
  std::vector<Expr> exprs;
  std::optional<uint64_t> handle;  // DelRule
  Bytes userdata;                  // NFTA_RULE_USERDATA / NFTA_TABLE_USERDATA (nft's comment TLVs)
};

// Encodes one message (without seq); returns false if it does not fit.
bool encode(const Msg& m, std::vector<uint8_t>* out, Error* err);
const char* msg_name(MsgType t);

// Applies a list of messages as one atomic batch, sent as one datagram (the
// kernel applies a batch only within one sendmsg). With `genid`, the kernel
// refuses the whole batch with ERESTART if the ruleset changed since that
// generation was read: optimistic concurrency across processes (nft's own
// NFNL_BATCH_GENID). Only the last message asks for an ACK; every failing
// message is reported anyway, so a batch of any size needs no room for
// thousands of ACKs. failed_index -1 with an error means the batch itself
// (the generation check, or the kernel's memory) was refused.
class BatchRequest : public LocalRequest {
 public:
  BatchRequest() { op = "NFNL_MSG_BATCH"; }
  std::vector<Msg> msgs;
  std::optional<uint32_t> genid;
  int failed_index = -1;  // which message the error is about
  void run(LocalContext& ctx) override;
};

// What a rule dump reports: where it is, its handle, and its user data.
struct RuleInfo {
  uint8_t family = 0;
  std::string table, chain;
  uint64_t handle = 0;
  Bytes userdata;
};
struct ChainInfo {
  uint8_t family = 0;
  std::string table, name, type;
  int64_t hooknum = -1;
  int32_t priority = 0;
  uint32_t policy = 0;
};

// Dumps the rules (and chains) of one table of one family, with the ruleset
// generation read before the dump (NFT_MSG_GETGEN): a batch sent with that
// genid applies only if nothing changed since.
class DumpRequest : public LocalRequest {
 public:
  DumpRequest() { op = "NFT_MSG_GETRULE"; }
  uint8_t family = 2;
  std::string table;
  std::vector<ChainInfo> chains;
  std::vector<RuleInfo> rules;
  bool table_exists = true;
  Bytes table_userdata;  // NFTA_TABLE_USERDATA: whose table it is
  uint32_t genid = 0;
  void run(LocalContext& ctx) override;
};

bool parse_rule(const nlmsghdr& h, bytes payload, RuleInfo* out);
bool parse_chain(const nlmsghdr& h, bytes payload, ChainInfo* out);

// A dump request that keeps what Parse accepts of each message in *out.
template <class T, bool (*Parse)(const nlmsghdr&, bytes, T*)>
struct Collect : Request {
  std::vector<T>* out = nullptr;
  void on_data(const nlmsghdr& h, bytes p) override {
    T x;
    if (Parse(h, p, &x)) out->push_back(std::move(x));
  }
  void reset() override { out->clear(); }
};

}  // namespace nl::nft
