// fuzz_nft_batch: the real nf_tables batch, nl::nft::BatchRequest::run(),
// against a fake kernel (fake_kernel.hpp): the batch is encoded and sent
// through the library's nl::Socket, and the fuzz input is what the kernel
// answers. Reaches the non-blocking answer loop (ACKs and errors matched to
// the batch's messages by nlmsg_seq; foreign pids, other types and unknown
// sequence numbers skipped; a message answered twice; the queue running dry
// before every message answered → EPROTO; recv errors: EMSGSIZE for a
// truncated datagram), parse_error for the failing message, and the naming of
// the top-level attribute at the kernel's offset (nfta_rule_name, "#<type>").
//
// Input: two selector bytes, then reply records (fake_kernel.hpp).
//   byte 0 bit 0     the replies come from a named peer (not the kernel)
//   byte 0 bits 1-2  1 + value messages
//   byte 0 bit 3     the last message cannot be encoded (DELRULE without handle)
//   byte 1           2 bits per message: NEWTABLE, NEWCHAIN (base chain),
//                    NEWRULE (expressions and a comment), DELRULE
// Sequence numbers: BATCH_BEGIN 1, message i (from 0) i + 2, BATCH_END n + 2.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../local_request.hpp"
#include "../nft/nft.hpp"
#include "common.hpp"
#include "fake_kernel.hpp"

namespace {

namespace nft = nl::nft;

nft::Msg make_msg(unsigned type) {
  nft::Msg m;
  m.family = 2;
  m.table = "seed";  // as capture.cpp's batches
  switch (type & 3) {
    case 0:
      m.type = nft::MsgType::NewTable;
      break;
    case 1:
      m.type = nft::MsgType::NewChain;
      m.chain = "post";
      m.hooknum = 4;
      m.priority = 100;
      m.chain_type = "nat";
      m.policy = 1;
      break;
    case 2: {
      m.type = nft::MsgType::NewRule;
      m.chain = "post";
      nft::Expr p;
      p.name = "payload";
      p.dreg = 1;
      p.base = 1;
      p.offset = 12;
      p.len = 4;
      nft::Expr c;
      c.name = "cmp";
      c.sreg = 1;
      c.data = {10, 1, 0, 0};
      nft::Expr n;
      n.name = "counter";
      nft::Expr v;
      v.name = "immediate";
      v.verdict = 1;
      m.exprs = {p, c, n, v};
      const char text[] = "fuzz rule";
      m.userdata = {0, sizeof text};
      m.userdata.insert(m.userdata.end(), text, text + sizeof text);
      break;
    }
    default:
      m.type = nft::MsgType::DelRule;
      m.chain = "post";
      m.handle = 7;
      break;
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t sel = data[0], types = data[1];
  fuzz::FakeKernel k(sel & 1);

  nft::BatchRequest b;
  const size_t n = 1 + ((sel >> 1) & 3);
  for (size_t i = 0; i < n; ++i) b.msgs.push_back(make_msg(types >> (2 * i)));
  if (sel & 8) {
    b.msgs.back().type = nft::MsgType::DelRule;
    b.msgs.back().handle.reset();
  }

  nl::LocalContext ctx;
  ctx.netfilter = [&](nl::Error*) { return &k.sock; };
  k.feed(data + 2, size - 2);
  b.run(ctx);

  fuzz::debug_error("batch", b.error);
  if (fuzz::debug()) std::fprintf(stderr, "  failed_index %d\n", b.failed_index);
  FUZZ_CHECK(b.failed_index >= -1 && b.failed_index < static_cast<int>(n));
  if (b.failed_index >= 0) FUZZ_CHECK(b.error.has_value());
  if (b.error) {
    const nl::Error& e = *b.error;
    fuzz::check_any_error(e, size);
    bool about_a_message = e.syscall.rfind("NFT_MSG_", 0) == 0;
    if (about_a_message) {
      // The kernel's error (or the encoder's) is about the message it names.
      FUZZ_CHECK(b.failed_index >= 0);
      FUZZ_CHECK(e.syscall == nft::msg_name(b.msgs[b.failed_index].type));
    }
    if (!e.attribute.empty()) {
      // An attribute is named only for an offset inside the failing message.
      FUZZ_CHECK(b.failed_index >= 0 && e.offset >= 0);
      std::vector<uint8_t> m;
      nl::Error ignored;
      FUZZ_CHECK(nft::encode(b.msgs[b.failed_index], &m, &ignored));
      FUZZ_CHECK(static_cast<uint64_t>(e.offset) < m.size());
      FUZZ_CHECK(e.attribute.rfind("NFTA_RULE_", 0) == 0 || e.attribute[0] == '#');
    }
  }
  // The kernel refuses a whole batch by answering its BATCH_BEGIN (seq 1):
  // EPERM without CAP_NET_ADMIN, EOPNOTSUPP without nf_tables. When every
  // reply was read (EPROTO: not every message answered), such a refusal must
  // be the error reported, not dropped as an unknown sequence number.
  if (!k.foreign && b.error && b.error->syscall == "recvmsg" && b.error->err == EPROTO) {
    for (const auto& dg : k.sent) {
      nl::for_each_msg(nl::bytes(dg), [&](const nlmsghdr& h, nl::bytes payload) {
        auto e = nl::extra_header<nlmsgerr>(payload);
        FUZZ_CHECK(!(h.nlmsg_pid == fuzz::FakeKernel::kPortid && h.nlmsg_type == NLMSG_ERROR && h.nlmsg_seq == 1 && e &&
                     e->error != 0));
        return true;
      });
    }
  }
  // One sendmsg, and only if every message could be encoded.
  size_t sends = k.drain_requests();
  FUZZ_CHECK(sends == ((sel & 8) ? 0u : 1u));
  return 0;
}
