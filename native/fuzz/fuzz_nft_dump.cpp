// fuzz_nft_dump: the real nf_tables dump, nl::nft::DumpRequest::run(), against
// a fake kernel (fake_kernel.hpp): NFT_MSG_GETTABLE (does the table exist?),
// then the chain dump (ChainDump → parse_chain) and the rule dump (RuleDump →
// parse_rule), each through nl::transact() on the library's nl::Socket, with
// the fuzz input as every reply. Reaches ENOENT at each step (table_exists =
// false, results cleared), other errors, interrupted dumps (reset() and
// retries), and the final filter by table name.
//
// Input: one selector byte, then reply records (fake_kernel.hpp).
//   bit 0  the replies come from a named peer (not the kernel)
//   bit 1  no table name (every table's chains and rules)
//   bit 2  family NFPROTO_BRIDGE (7) instead of NFPROTO_IPV4 (2)
// Sequence numbers: GETTABLE 1, GETCHAIN 2 (each restart +1), GETRULE next.
#include <cstddef>
#include <cstdint>

#include "../local_request.hpp"
#include "../nft/nft.hpp"
#include "common.hpp"
#include "fake_kernel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  fuzz::FakeKernel k(sel & 1);

  nl::nft::DumpRequest d;
  d.family = (sel & 4) ? 7 : 2;
  d.table = (sel & 2) ? "" : "seed";
  nl::LocalContext ctx;
  ctx.netfilter = [&](nl::Error*) { return &k.sock; };
  k.feed(data + 1, size - 1);
  d.run(ctx);

  fuzz::debug_error("nft dump", d.error);
  if (fuzz::debug())
    std::fprintf(stderr, "  table_exists %d, %zu chains, %zu rules\n", d.table_exists, d.chains.size(), d.rules.size());
  if (d.error) fuzz::check_any_error(*d.error, size);
  if (!d.table_exists) FUZZ_CHECK(d.chains.empty() && d.rules.empty() && !d.error);
  // With an error, what was collected so far is left as is (unfiltered): the
  // addon rejects the promise and never reads it. Without one, only the table's.
  for (const auto& c : d.chains) {
    if (!d.table.empty() && !d.error) FUZZ_CHECK(c.table == d.table);
    FUZZ_CHECK(c.name.size() + c.type.size() <= size);
    fuzz::sink(c.name);
  }
  for (const auto& r : d.rules) {
    if (!d.table.empty() && !d.error) FUZZ_CHECK(r.table == d.table);
    FUZZ_CHECK(r.chain.size() <= size && r.userdata.size() <= size);
    fuzz::sink(r.userdata);
  }
  // Three requests, each dump restarted at most kDumpRetries times.
  FUZZ_CHECK(k.drain_requests() <= 1 + 2 * (1 + size_t(nl::kDumpRetries)));
  return 0;
}
