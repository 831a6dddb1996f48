// fuzz_transact: the real reply loop, nl::transact(), against a fake kernel
// (fake_kernel.hpp): the library's nl::Socket over a socketpair whose other
// end holds the fuzz input as reply datagrams. Reaches Socket::send and
// Socket::recv (MSG_TRUNC → EMSGSIZE, a sender that is not the kernel,
// EAGAIN once the input is used up), the routing of replies by nlmsg_pid and
// nlmsg_seq (stale and foreign replies skipped, a request answered twice),
// NLMSG_ERROR (truncated, ACK, error with or without NLM_F_CAPPED and
// extended-ACK TLVs → parse_error → the request's own attr_at()), NLMSG_DONE
// with and without an error, data messages to the collecting requests'
// on_data, a malformed datagram (EBADMSG for the whole batch), and the
// restart of an interrupted dump (NLM_F_DUMP_INTR → reset(), at most
// kDumpRetries more rounds, then EINTR with dump_interrupted).
//
// Input: one selector byte, then reply records (fake_kernel.hpp).
//   bit 0     the replies come from a named peer (not the kernel: all skipped)
//   bit 1     one dump request (else a batch of ACKed requests)
//   bits 2-4  dump: link, addr, route, neigh, rule dump (value % 5);
//             batch: the first 1 + (value % 7) of build_requests() (veth link,
//             vxlan link, addr, route, neigh, rule, plain) — sequence numbers
//             1..n in that order
//   bit 5     batch: also an RTM_GETNSID request (NsidRequest::on_data)
//   bit 6     batch: also a request with no message (never sent: EINVAL)
// A dump's first round has sequence number 1, each restart the next one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common.hpp"
#include "fake_kernel.hpp"

namespace {

using nl::bytes;
namespace rtnl = nl::rtnl;

std::unique_ptr<nl::Request> dump_request(unsigned which) {
  nl::Error err;
  std::unique_ptr<nl::Request> r;
  switch (which % 5) {
    case 0: {
      rtnl::LinkSpec s;
      s.op = rtnl::LinkOp::Dump;
      r = rtnl::link_request(s, &err);
      break;
    }
    case 1: {
      rtnl::AddrSpec s;
      s.op = rtnl::AddrOp::Dump;
      r = rtnl::addr_request(s, &err);
      break;
    }
    case 2: {
      rtnl::RouteSpec s;
      s.op = rtnl::RouteOp::Dump;
      s.family = AF_INET;
      r = rtnl::route_request(s, &err);
      break;
    }
    case 3: {
      rtnl::NeighSpec s;
      s.op = rtnl::NeighOp::Dump;
      s.family = AF_INET;
      r = rtnl::neigh_request(s, &err);
      break;
    }
    default: {
      rtnl::RuleSpec s;
      s.op = rtnl::RuleOp::Dump;
      s.family = AF_INET;
      r = rtnl::rule_request(s, &err);
      break;
    }
  }
  if (!r || !r->dump) {
    std::fprintf(stderr, "fuzz: dump request %u could not be built: %s\n", which, err.detail.c_str());
    std::abort();
  }
  return r;
}

// What a request collected, and a check that every decoded field is bounded
// by the input (nothing read from outside it).
size_t collected(nl::Request& r, size_t input) {
  auto b = [&](size_t n) { FUZZ_CHECK(n <= input); };
  // The requests are the library's own classes (nl::Request knows no kinds).
  if (auto* q = dynamic_cast<rtnl::LinkRequest*>(&r)) {
    for (auto& l : q->links) {
      b(l.name.size());
      b(l.kind.size());
      b(l.mac.size());
      b(l.alias.size());
      fuzz::sink(l.name);
    }
    return q->links.size();
  }
  if (auto* q = dynamic_cast<rtnl::AddrRequest*>(&r)) {
    for (auto& a : q->addrs) {
      FUZZ_CHECK(a.local.size() == (a.family == AF_INET ? 4u : 16u));
      b(a.label.size());
      fuzz::sink(a.local);
    }
    return q->addrs.size();
  }
  if (auto* q = dynamic_cast<rtnl::RouteRequest*>(&r)) {
    for (auto& x : q->routes) {
      b(x.dst.size() + x.gateway.size());
      FUZZ_CHECK(x.multipath.size() <= input / sizeof(rtnexthop));
    }
    return q->routes.size();
  }
  if (auto* q = dynamic_cast<rtnl::NeighRequest*>(&r)) {
    for (auto& n : q->neighs) b(n.dst.size() + n.lladdr.size());
    return q->neighs.size();
  }
  if (auto* q = dynamic_cast<rtnl::RuleRequest*>(&r)) {
    for (auto& x : q->rules) b(x.iifname.size() + x.oifname.size());
    return q->rules.size();
  }
  if (auto* q = dynamic_cast<rtnl::NsidRequest*>(&r)) fuzz::sink(uint32_t(q->nsid));
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  fuzz::FakeKernel k(sel & 1);

  std::vector<std::unique_ptr<nl::Request>> owned;
  const bool dump = sel & 2;
  const unsigned which = (sel >> 2) & 7;
  if (dump) {
    owned.push_back(dump_request(which));
  } else {
    auto all = fuzz::build_requests();
    for (size_t i = 0; i < 1 + which % 7 && i < all.size(); ++i) owned.push_back(std::move(all[i]));
    if (sel & 0x20) {
      nl::Error err;
      auto n = rtnl::nsid_request(fuzz::null_fd(), &err);
      FUZZ_CHECK(n != nullptr);
      owned.push_back(std::move(n));
    }
    if (sel & 0x40) {
      auto e = std::make_unique<nl::Request>();
      e->op = "EMPTY";
      owned.push_back(std::move(e));
    }
  }
  std::vector<nl::Request*> batch;
  for (auto& r : owned) batch.push_back(r.get());

  k.feed(data + 1, size - 1);
  nl::transact(k.sock, batch);

  // Every request ends, with at most a well-formed error.
  for (nl::Request* r : batch) {
    FUZZ_CHECK(r->done);
    fuzz::debug_error(r->op.c_str(), r->error);
    if (r->error) {
      fuzz::check_any_error(*r->error, size);
      if (r->error->offset >= 0 && static_cast<uint64_t>(r->error->offset) >= r->msg.size())
        FUZZ_CHECK(r->error->attribute.empty());
    }
    size_t n = collected(*r, size);
    if (fuzz::debug()) std::fprintf(stderr, "  %zu collected\n", n);
    // An interrupted dump that gave up has forgotten its partial results.
    if (r->error && r->error->dump_interrupted) FUZZ_CHECK(n == 0);
    if (r->msg.size() < sizeof(nlmsghdr)) FUZZ_CHECK(r->error && r->error->err == EINVAL);
  }
  // One sendmsg per round: the batch once, a dump at most 1 + kDumpRetries times.
  size_t sends = k.drain_requests();
  FUZZ_CHECK(sends <= (dump ? 1 + size_t(nl::kDumpRetries) : 1));
  return 0;
}
