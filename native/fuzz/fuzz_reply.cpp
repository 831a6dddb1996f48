// fuzz_reply: a received datagram, the way the reply loop (nl::transact) sees
// it. nl::for_each_msg splits it; NLMSG_ERROR goes to nl::parse_error with a
// real request (so attr_at() walks a real nested message with the kernel's
// offset), NLMSG_DONE is handled as transact() does, and every data message
// is fed to every decoder — rtnl parse_link/addr/route/neigh/rule and nft
// parse_rule/parse_chain — once with its own type and once with the type each
// decoder accepts, so each decoder sees every message's bytes; and the
// collecting requests' on_data (link, addr, route, neigh, rule, nsid); and the
// whole datagram as a monitor socket's (rtnl::parse_events).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../ct/conntrack.hpp"
#include "../nft/nft.hpp"
#include "../rtnl/brport.hpp"
#include "common.hpp"

namespace {

using nl::bytes;
namespace rtnl = nl::rtnl;

void bounded(const std::vector<uint8_t>& v, bytes payload) {
  FUZZ_CHECK(v.size() <= payload.size());
  fuzz::sink(v);
}
void bounded(const std::string& s, bytes payload) {
  FUZZ_CHECK(s.size() <= payload.size());
  fuzz::sink(s);
}

void decode_all(nlmsghdr h, bytes payload) {
  {
    rtnl::LinkInfo l;
    fuzz::sink(rtnl::parse_link(h, payload, &l));
    for (auto* v : {&l.mac, &l.broadcast, &l.perm_mac}) bounded(*v, payload);
    for (auto* s : {&l.name, &l.kind, &l.slave_kind, &l.alias}) bounded(*s, payload);
    fuzz::sink(l.mtu + l.master + l.group + uint32_t(l.link) + uint32_t(l.link_netnsid));
    for (const auto& [k, v] : l.data.values) {
      bounded(v.str, payload);
      FUZZ_CHECK(v.type != rtnl::KindValue::Type::Ip || v.ip.size() == 4 || v.ip.size() == 16);
      fuzz::sink(v.num + k.size());
    }
  }
  {
    rtnl::AddrInfo a;
    bool ok = rtnl::parse_addr(h, payload, &a);
    if (ok) FUZZ_CHECK(a.local.size() == (a.family == AF_INET ? 4u : 16u));
    for (auto* v : {&a.local, &a.address, &a.broadcast}) bounded(*v, payload);
    bounded(a.label, payload);
    fuzz::sink(ok + a.valid_lft + a.preferred_lft + a.flags);
  }
  {
    rtnl::RouteInfo r;
    fuzz::sink(rtnl::parse_route(h, payload, &r));
    for (auto* v : {&r.dst, &r.src, &r.gateway, &r.prefsrc}) bounded(*v, payload);
    FUZZ_CHECK(r.multipath.size() <= payload.size() / sizeof(rtnexthop));
    for (auto& nh : r.multipath) bounded(nh.gateway, payload);
    fuzz::sink(r.table + r.oif + r.iif + r.mtu + r.priority.value_or(0));
  }
  {
    rtnl::BrPortInfo p;
    fuzz::sink(rtnl::parse_brport(h, payload, &p));
    bounded(p.name, payload);
    FUZZ_CHECK(p.vlans.size() <= payload.size() / 8);
    fuzz::sink(uint32_t(p.index) + uint32_t(p.master) + p.state + p.learning.value_or(false));
  }
  {
    rtnl::NeighInfo n;
    fuzz::sink(rtnl::parse_neigh(h, payload, &n));
    bounded(n.dst, payload);
    bounded(n.lladdr, payload);
    fuzz::sink(uint64_t(n.vni) + uint32_t(n.vlan) + n.master);
  }
  {
    rtnl::RuleInfo x;
    fuzz::sink(rtnl::parse_rule(h, payload, &x));
    bounded(x.dst, payload);
    bounded(x.src, payload);
    bounded(x.iifname, payload);
    bounded(x.oifname, payload);
    fuzz::sink(x.table + x.priority.value_or(0) + x.fwmark.value_or(0) + x.fwmask.value_or(0));
  }
  {
    nl::nft::RuleInfo r;
    fuzz::sink(nl::nft::parse_rule(h, payload, &r));
    bounded(r.table, payload);
    bounded(r.chain, payload);
    bounded(r.userdata, payload);
    fuzz::sink(r.handle);
  }
  {
    nl::ct::Tuple t;
    nl::ct::Addr reply{};
    fuzz::sink(nl::ct::parse_entry(h, payload, &t, &reply));
    fuzz::sink(uint64_t(t.sport) + t.dport + t.proto + t.zone + t.src[0] + t.dst[3] + reply[0]);
  }
  {
    nl::nft::ChainInfo c;
    fuzz::sink(nl::nft::parse_chain(h, payload, &c));
    bounded(c.table, payload);
    bounded(c.name, payload);
    bounded(c.type, payload);
    fuzz::sink(uint64_t(c.hooknum) + uint32_t(c.priority) + c.policy);
  }
}

// The collecting requests' on_data (what a dump calls per message).
void collect(const nlmsghdr& h, bytes payload) {
  rtnl::LinkRequest l;
  rtnl::AddrRequest a;
  rtnl::RouteRequest r;
  rtnl::NeighRequest n;
  rtnl::RuleRequest u;
  rtnl::NsidRequest s;
  rtnl::BrPortRequest b;
  for (nl::Request* q : {static_cast<nl::Request*>(&l), static_cast<nl::Request*>(&a), static_cast<nl::Request*>(&r),
                         static_cast<nl::Request*>(&n), static_cast<nl::Request*>(&u), static_cast<nl::Request*>(&s),
                         static_cast<nl::Request*>(&b)}) {
    q->on_data(h, payload);
    q->on_data(h, payload);
    q->reset();
  }
}

const uint16_t kTypes[] = {
    RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH, RTM_NEWRULE, RTM_NEWNSID,
    (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& reqs = fuzz::Requests::get();
  std::vector<uint8_t> buf(data, data + size);  // exactly sized: ASan catches overreads
  bytes dg(buf.data(), buf.size());
  size_t n = 0;
  bool well_formed = nl::for_each_msg(dg, [&](const nlmsghdr& h, bytes payload) {
    FUZZ_CHECK(fuzz::within(payload, dg));
    FUZZ_CHECK(h.nlmsg_len >= sizeof(nlmsghdr) && payload.size() == h.nlmsg_len - nl::align(sizeof(nlmsghdr)));
    ++n;
    const nl::Request& req = reqs.pick(h.nlmsg_seq);
    if (h.nlmsg_type == NLMSG_ERROR) {
      // As transact(): a truncated header, an ACK, or an error with extack TLVs
      // after the capped header or the echoed request.
      auto err = nl::extra_header<nlmsgerr>(payload);
      if (err && err->error != 0 && !fuzz::known_bug(err->error)) {
        size_t errhdr = (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsgerr) : sizeof(int) + nl::align(err->msg.nlmsg_len);
        fuzz::check_error(nl::parse_error(err->error, h, payload, errhdr, req), payload, req);
      }
    } else if (h.nlmsg_type == NLMSG_DONE) {
      int code = 0;
      if (payload.size() >= sizeof(int)) std::memcpy(&code, payload.data(), sizeof code);
      if (code < 0 && !fuzz::known_bug(code)) fuzz::check_error(nl::parse_error(code, h, payload, sizeof(int), req), payload, req);
    }
    // Every decoder, with the message's own type and with the type it accepts.
    decode_all(h, payload);
    for (uint16_t t : kTypes) {
      nlmsghdr o = h;
      o.nlmsg_type = t;
      decode_all(o, payload);
      collect(o, payload);
    }
    return true;
  });
  fuzz::sink(well_formed + n);
  // The same datagram as a monitor socket delivers it (Watcher): at most one event per message.
  {
    std::vector<rtnl::Event> evs;
    bool ok = rtnl::parse_events(dg, &evs);
    FUZZ_CHECK(evs.size() <= n);
    FUZZ_CHECK(!ok || well_formed);
    for (const auto& e : evs) {
      bounded(e.link.name, dg);
      bounded(e.addr.local, dg);
      bounded(e.route.dst, dg);
    }
  }
  // Stopping early (the callback returning false) is honoured.
  size_t calls = 0;
  nl::for_each_msg(dg, [&](const nlmsghdr&, bytes) { return ++calls < 1; });
  FUZZ_CHECK(calls <= 1);
  return 0;
}
