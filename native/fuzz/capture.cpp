// capture: the fuzzers' seed corpus, from a real kernel. Run it as root in a
// throwaway network namespace (`make capture` runs it in `netplumb sandbox`):
// it builds a small network with the library's own request builders (veth,
// bridge, macvlan, vxlan, addresses, routes, neighbours, a rule, an nf_tables
// table), dumps it back, provokes errors with extended ACKs, and writes what
// the kernel sent:
//   corpus/reply/<name>-<n>    each datagram received, as is          (fuzz_reply)
//   corpus/attr/<name>-<n>     the attributes of a data message        (fuzz_attr)
//   corpus/extack/<name>       selector byte + NLMSG_ERROR payload     (fuzz_extack)
//   corpus/attr_at/<name>-<n>  u32 offset + the request we sent        (fuzz_attr_at)
//   corpus/transact/<name>     selector + every datagram of one exchange (fuzz_transact)
//   corpus/nft_batch/<name>    selectors + the answers to an nf_tables batch (fuzz_nft_batch)
//   corpus/nft_dump/<name>     selector + GETTABLE, chain and rule dump replies (fuzz_nft_dump)
// The last three use fake_kernel.hpp's records, with flags that set the
// replies' pid and sequence number to what the harness's requests carry.
//
// Usage: capture OUTDIR
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/genetlink.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../nft/nft.hpp"
#include "../nl/attr.hpp"
#include "../nl/builder.hpp"
#include "../rtnl/rtnl.hpp"

namespace {

using Bytes = std::vector<uint8_t>;
using nl::bytes;
namespace rtnl = nl::rtnl;

// fuzz::Requests order in common.hpp: which request fuzz_extack pairs a seed with.
enum ReqKind : uint8_t { kVeth = 0, kVxlan = 1, kAddr = 2, kRoute = 3, kNeigh = 4, kRule = 5, kPlain = 6 };

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "capture: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

std::string g_out;
size_t g_bytes = 0, g_files = 0;

// Every exchange's datagrams as fake_kernel.hpp records (u16 len, flags 3:
// set pid and seq, seq relative to the exchange's first message, from 1).
std::map<std::string, Bytes> g_sessions;
std::map<std::string, uint8_t> g_kinds;

void write_file(const std::string& target, const std::string& name, bytes data) {
  std::string dir = g_out + "/" + target;
  mkdir(g_out.c_str(), 0755);
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) die("open " + path);
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), f) != data.size()) die("write " + path);
  std::fclose(f);
  g_bytes += data.size();
  ++g_files;
}

struct Sock {
  int fd = -1;
  uint32_t portid = 0;
  uint32_t seq = 1000;
};

// A netlink socket like nl::Socket (extended ACK, strict checking), with or
// without capped ACKs: uncapped errors echo the whole request before the TLVs.
Sock open_sock(int proto, bool capped) {
  Sock s;
  s.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (s.fd < 0) die("socket");
  int one = 1, zero = 0;
  setsockopt(s.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(s.fd, SOL_NETLINK, NETLINK_CAP_ACK, capped ? &one : &zero, sizeof one);
  setsockopt(s.fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  timeval tv{5, 0};  // never hang on a reply that does not come
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) die("bind");
  socklen_t len = sizeof sa;
  getsockname(s.fd, reinterpret_cast<sockaddr*>(&sa), &len);
  s.portid = sa.nl_pid;
  return s;
}

struct Reply {
  std::vector<std::pair<nlmsghdr, Bytes>> data;  // data messages (header, payload)
  int error = 0;                                 // from NLMSG_ERROR / NLMSG_DONE
  int64_t offset = -1;                           // NLMSGERR_ATTR_OFFS
  std::string extack;
};

// Records the extended-ACK TLVs of an error for fuzz_extack and fuzz_attr_at.
// An NLMSG_DONE that ends a failed dump carries the int error, then the TLVs.
void record_error(const std::string& name, const nlmsghdr& h, bytes payload, ReqKind kind, const Bytes& request,
                  Reply* r) {
  bool done = h.nlmsg_type == NLMSG_DONE;
  size_t errhdr = sizeof(int);
  if (done) {
    if (payload.size() < sizeof(int)) return;
    std::memcpy(&r->error, payload.data(), sizeof(int));
  } else {
    auto e = nl::extra_header<nlmsgerr>(payload);
    if (!e) return;
    r->error = e->error;
    errhdr = (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsgerr) : sizeof(int) + nl::align(e->msg.nlmsg_len);
  }
  if ((h.nlmsg_flags & NLM_F_ACK_TLVS) && payload.size() > errhdr) {
    nl::for_each_attr(payload.subspan(errhdr), [&](const nl::Attr& a) {
      if (a.type == NLMSGERR_ATTR_MSG) r->extack = a.str();
      if (a.type == NLMSGERR_ATTR_OFFS && a.as<uint32_t>()) r->offset = *a.as<uint32_t>();
      if (a.type == NLMSGERR_ATTR_MISS_TYPE) r->extack += "[missing attribute type " + std::to_string(a.u32()) + "]";
    });
  }
  // fuzz_extack: bit 0 ACK_TLVS, bit 1 CAPPED, bits 2-4 the request, bit 5 NLMSG_DONE.
  Bytes seed;
  seed.push_back(static_cast<uint8_t>(((h.nlmsg_flags & NLM_F_ACK_TLVS) ? 1 : 0) |
                                      ((h.nlmsg_flags & NLM_F_CAPPED) ? 2 : 0) | (kind << 2) | (done ? 0x20 : 0)));
  seed.insert(seed.end(), payload.begin(), payload.end());
  write_file("extack", name, seed);
  if (r->offset >= 0) {
    Bytes at(4);
    uint32_t off = static_cast<uint32_t>(r->offset);
    std::memcpy(at.data(), &off, 4);
    at.insert(at.end(), request.begin(), request.end());
    write_file("attr_at", name + "-offs", at);
  }
  std::fprintf(stderr, "  %s: %s%s (%d)%s%s%s\n", name.c_str(), done ? "NLMSG_DONE " : "", std::strerror(-r->error), r->error,
               r->extack.empty() ? "" : " extack: ", r->extack.c_str(),
               r->offset >= 0 ? (" offset " + std::to_string(r->offset)).c_str() : "");
}

// Sends one request (or a batch of messages in one datagram, answered through
// `seq_of_interest`'s reply) and records every datagram until its ACK, error
// or NLMSG_DONE. `hdr` is the family header size before the attributes.
Reply exchange(Sock& s, std::vector<Bytes> msgs, bool dump, const std::string& name, ReqKind kind, size_t hdr,
               size_t last_index = SIZE_MAX) {
  uint32_t want = 0, first = s.seq + 1;
  g_kinds[name] = kind;
  Bytes wire;
  for (size_t i = 0; i < msgs.size(); ++i) {
    auto* h = reinterpret_cast<nlmsghdr*>(msgs[i].data());
    h->nlmsg_seq = ++s.seq;
    h->nlmsg_pid = 0;
    h->nlmsg_flags |= NLM_F_REQUEST;
    if (i == (last_index == SIZE_MAX ? msgs.size() - 1 : last_index)) {
      // Only the request of interest asks for an answer (not nf_tables batch markers).
      h->nlmsg_flags |= dump ? NLM_F_DUMP : NLM_F_ACK;
      want = h->nlmsg_seq;
    }
    wire.insert(wire.end(), msgs[i].begin(), msgs[i].end());
  }
  const Bytes& request = msgs[last_index == SIZE_MAX ? msgs.size() - 1 : last_index];
  // fuzz_attr_at: the request itself, with an offset inside its last attribute.
  if (request.size() >= 4) {
    Bytes at(4);
    uint32_t off = static_cast<uint32_t>(request.size() - 2);
    std::memcpy(at.data(), &off, 4);
    at.insert(at.end(), request.begin(), request.end());
    write_file("attr_at", name, at);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (sendto(s.fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) die("sendto " + name);

  Reply r;
  std::vector<uint8_t> buf(256 * 1024);
  int n_dg = 0, n_attr = 0;
  bool finished = false;
  while (!finished) {
    ssize_t n = recv(s.fd, buf.data(), buf.size(), 0);
    if (n < 0) die("recv " + name);
    bytes dg(buf.data(), static_cast<size_t>(n));
    write_file("reply", name + "-" + std::to_string(n_dg++), dg);
    {
      uint8_t rel = 1;
      if (dg.size() >= sizeof(nlmsghdr)) rel = static_cast<uint8_t>(reinterpret_cast<const nlmsghdr*>(dg.data())->nlmsg_seq - first + 1);
      Bytes& sess = g_sessions[name];
      size_t len = std::min<size_t>(dg.size(), 0xffff);
      sess.insert(sess.end(), {uint8_t(len & 0xff), uint8_t(len >> 8), 3, rel});
      sess.insert(sess.end(), dg.begin(), dg.begin() + len);
    }
    nl::for_each_msg(dg, [&](const nlmsghdr& h, bytes payload) {
      if (h.nlmsg_seq != want) return true;
      if (h.nlmsg_type == NLMSG_ERROR) {
        auto e = nl::extra_header<nlmsgerr>(payload);
        if (e && e->error != 0) record_error(name, h, payload, kind, request, &r);
        finished = true;
      } else if (h.nlmsg_type == NLMSG_DONE) {
        if (payload.size() >= 4) std::memcpy(&r.error, payload.data(), 4);
        if (r.error < 0) record_error(name, h, payload, kind, request, &r);
        finished = true;
      } else {
        r.data.emplace_back(h, Bytes(payload.begin(), payload.end()));
        if (n_attr < 6 && payload.size() > hdr) write_file("attr", name + "-" + std::to_string(n_attr++), payload.subspan(nl::align(hdr)));
      }
      return true;
    });
  }
  return r;
}

Reply send_rtnl(Sock& s, std::unique_ptr<nl::Request> req, const nl::Error& err, const std::string& name, ReqKind kind,
                size_t hdr) {
  if (!req) {
    std::fprintf(stderr, "capture: %s: %s\n", name.c_str(), err.detail.c_str());
    std::exit(1);
  }
  return exchange(s, {req->msg}, req->dump, name, kind, hdr);
}

void expect_ok(const Reply& r, const std::string& what) {
  if (r.error != 0) {
    std::fprintf(stderr, "capture: %s failed: %s %s\n", what.c_str(), std::strerror(-r.error), r.extack.c_str());
    std::exit(1);
  }
}

int32_t ifindex(Sock& s, const std::string& name) {
  rtnl::LinkSpec ls;
  ls.op = rtnl::LinkOp::Get;
  ls.name = name;
  nl::Error err;
  Reply r = send_rtnl(s, rtnl::link_request(ls, &err), err, "getlink-" + name, kVeth, sizeof(ifinfomsg));
  expect_ok(r, "get " + name);
  for (auto& [h, p] : r.data) {
    rtnl::LinkInfo l;
    if (rtnl::parse_link(h, p, &l) && l.name == name) return l.index;
  }
  std::fprintf(stderr, "capture: no link %s\n", name.c_str());
  std::exit(1);
}

Reply link(Sock& s, const rtnl::LinkSpec& ls, const std::string& name) {
  nl::Error err;
  return send_rtnl(s, rtnl::link_request(ls, &err), err, name, kVeth, sizeof(ifinfomsg));
}

void up(Sock& s, int32_t index, const std::string& name) {
  rtnl::LinkSpec ls;
  ls.op = rtnl::LinkOp::Set;
  ls.index = index;
  ls.up = true;
  expect_ok(link(s, ls, "setlink-up-" + name), "up " + name);
}

Bytes ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
Bytes ip6(uint16_t first, uint16_t last) {
  Bytes v(16, 0);
  v[0] = first >> 8;
  v[1] = first & 0xff;
  v[14] = last >> 8;
  v[15] = last & 0xff;
  return v;
}

void run(const char* cmd) {
  std::fprintf(stderr, "  $ %s\n", cmd);
  if (std::system(cmd) != 0) {
    std::fprintf(stderr, "capture: command failed: %s\n", cmd);
    std::exit(1);
  }
}

Bytes nft_marker(uint16_t type) {
  std::array<uint8_t, 64> buf;
  nl::Builder b(buf);
  b.put_header(type, NLM_F_REQUEST);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES);
  return {b.bytes().begin(), b.bytes().end()};
}

Bytes nft_get(uint16_t type, uint16_t name_attr, const std::string& table) {
  std::array<uint8_t, 256> buf;
  nl::Builder b(buf);
  b.put_header(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type), 0);
  auto* g = b.put_extra_header<nfgenmsg>();
  g->nfgen_family = NFPROTO_IPV4;
  g->version = NFNETLINK_V0;
  b.put_strz(name_attr, table);
  return {b.bytes().begin(), b.bytes().end()};
}

// A session with `add` added to every record's sequence number.
Bytes reframe(const Bytes& sess, int add) {
  Bytes out = sess;
  for (size_t off = 0; off + 4 <= out.size();) {
    size_t len = out[off] | (size_t(out[off + 1]) << 8);
    out[off + 3] = static_cast<uint8_t>(out[off + 3] + add);
    off += 4 + len;
  }
  return out;
}

const Bytes& session(const std::string& name) {
  auto it = g_sessions.find(name);
  if (it == g_sessions.end()) {
    std::fprintf(stderr, "capture: no exchange %s\n", name.c_str());
    std::exit(1);
  }
  return it->second;
}

void write_seed(const std::string& target, const std::string& name, Bytes selectors, const Bytes& records) {
  selectors.insert(selectors.end(), records.begin(), records.end());
  write_file(target, name, selectors);
}

// The seeds of the reply-loop fuzzers, from the recorded exchanges.
void write_sessions() {
  for (const auto& [name, sess] : g_sessions) {
    if (name.rfind("nft", 0) == 0 || name.rfind("err-nft", 0) == 0 || name.find("genl") != std::string::npos) continue;
    // fuzz_transact: a dump (link, addr, route, neigh, rule) or a batch of
    // build_requests()'s first kind+1 requests, answered as request kind+1.
    bool dump = name.rfind("dump-", 0) == 0 || name == "err-route-dump-bad-header";
    if (dump) {
      uint8_t which = name.rfind("dump-links", 0) == 0   ? 0
                      : name.rfind("dump-addrs", 0) == 0 ? 1
                      : name.rfind("dump-rules", 0) == 0 ? 4
                      : name.rfind("dump-neigh", 0) == 0 || name == "dump-fdb" ? 3
                                                                              : 2;
      write_seed("transact", name, {uint8_t(2 | which << 2)}, sess);
    } else {
      uint8_t kind = g_kinds[name];
      write_seed("transact", name, {uint8_t(kind << 2)}, reframe(sess, kind));
    }
  }
  // fuzz_nft_batch: byte 0 = (n - 1) << 1, byte 1 = 2 bits per message
  // (NEWTABLE 0, NEWCHAIN 1, NEWRULE 2, DELRULE 3).
  write_seed("nft_batch", "nft-batch-ok", {4, 0x24}, session("nft-batch-ok"));
  write_seed("nft_batch", "err-nft-no-chain", {0, 2}, session("err-nft-no-chain"));
  write_seed("nft_batch", "err-nft-del-no-rule", {0, 3}, session("err-nft-del-no-rule"));
  // fuzz_nft_dump: GETTABLE 1, GETCHAIN 2, GETRULE 3.
  Bytes seed = session("nft-gettable");
  for (auto& [n, add] : {std::pair<const char*, int>{"nft-dump-chains", 1}, {"nft-dump-rules", 2}}) {
    Bytes r = reframe(session(n), add);
    seed.insert(seed.end(), r.begin(), r.end());
  }
  write_seed("nft_dump", "seed-table", {0}, seed);
  write_seed("nft_dump", "missing-table", {0}, session("err-nft-gettable-missing"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: capture OUTDIR (as root, in a throwaway network namespace)\n");
    return 2;
  }
  g_out = argv[1];
  Sock s = open_sock(NETLINK_ROUTE, true);
  Sock echo = open_sock(NETLINK_ROUTE, false);  // uncapped: errors echo the request
  nl::Error err;

  std::fprintf(stderr, "capture: building links\n");
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::New;
    ls.name = "veth0";
    ls.kind = "veth";
    ls.mtu = 1400;
    ls.alias = "fuzz seed";
    rtnl::PeerSpec p;
    p.name = "veth1";
    p.mac = Bytes{0x02, 0xfe, 0, 0, 0, 1};
    ls.peer = p;
    expect_ok(link(s, ls, "newlink-veth"), "veth");
  }
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::New;
    ls.name = "br0";
    ls.kind = "bridge";
    ls.data.num("stp", 0);
    // (no IFLA_BR_VLAN_FILTERING: this kernel lacks VLAN filtering and refuses even 0)
    ls.mac = Bytes{0x02, 0xfe, 0, 0, 0, 0xb0};
    expect_ok(link(s, ls, "newlink-bridge"), "bridge");
  }
  int32_t veth0 = ifindex(s, "veth0"), veth1 = ifindex(s, "veth1"), br0 = ifindex(s, "br0");
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::Set;
    ls.index = veth0;
    ls.master = static_cast<uint32_t>(br0);
    ls.up = true;
    expect_ok(link(s, ls, "setlink-master"), "enslave");
  }
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::New;
    ls.name = "mv0";
    ls.kind = "macvlan";
    ls.parent = static_cast<uint32_t>(veth1);
    ls.data.num("mode", MACVLAN_MODE_BRIDGE);
    expect_ok(link(s, ls, "newlink-macvlan"), "macvlan");
  }
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::New;
    ls.name = "vx0";
    ls.kind = "vxlan";
    ls.data.num("id", 42).num("port", 4789).ip("local", ip4(10, 2, 0, 1)).num("link", static_cast<uint32_t>(veth1));
    expect_ok(link(s, ls, "newlink-vxlan"), "vxlan");
  }
  up(s, 1, "lo");
  up(s, veth1, "veth1");
  up(s, br0, "br0");
  up(s, ifindex(s, "vx0"), "vx0");

  std::fprintf(stderr, "capture: addresses, routes, neighbours, rules\n");
  auto addr = [&](int32_t index, uint8_t family, Bytes local, uint8_t plen, const std::string& name,
                  std::function<void(rtnl::AddrSpec&)> more = nullptr) {
    rtnl::AddrSpec a;
    a.op = rtnl::AddrOp::New;
    a.family = family;
    a.index = index;
    a.local = std::move(local);
    a.prefixlen = plen;
    if (more) more(a);
    return send_rtnl(s, rtnl::addr_request(a, &err), err, name, kAddr, sizeof(ifaddrmsg));
  };
  expect_ok(addr(br0, AF_INET, ip4(10, 1, 0, 1), 24, "newaddr-v4",
                 [](rtnl::AddrSpec& a) {
                   a.broadcast = Bytes{10, 1, 0, 255};
                   a.label = "br0:seed";
                 }),
            "addr v4");
  expect_ok(addr(br0, AF_INET6, ip6(0xfd00, 1), 64, "newaddr-v6",
                 [](rtnl::AddrSpec& a) {
                   a.flags = IFA_F_NODAD;
                   a.valid_lft = 3600;
                   a.preferred_lft = 1800;
                 }),
            "addr v6");
  expect_ok(addr(veth1, AF_INET, ip4(10, 2, 0, 1), 24, "newaddr-veth1"), "addr veth1");

  auto route = [&](rtnl::RouteSpec rs, const std::string& name) {
    return send_rtnl(s, rtnl::route_request(rs, &err), err, name, kRoute, sizeof(rtmsg));
  };
  {
    rtnl::RouteSpec rs;
    rs.op = rtnl::RouteOp::New;
    rs.family = AF_INET;
    rs.dst = ip4(10, 9, 0, 0);
    rs.dst_len = 16;
    rs.gateway = ip4(10, 1, 0, 254);
    rs.priority = 20;
    rs.mtu = 1300;
    rs.table = 100;
    expect_ok(route(rs, "newroute-v4-gw"), "route v4");
    rs.table = 0;
    rs.prefsrc = ip4(10, 1, 0, 1);
    expect_ok(route(rs, "newroute-v4-main"), "route v4 main");
  }
  {
    rtnl::RouteSpec rs;
    rs.op = rtnl::RouteOp::New;
    rs.family = AF_INET6;
    rs.dst = ip6(0xfd01, 0);
    rs.dst_len = 64;
    rs.oif = static_cast<uint32_t>(br0);
    rs.priority = 50;
    expect_ok(route(rs, "newroute-v6"), "route v6");
  }
  // Multipath (RTA_MULTIPATH) and a blackhole, with ip(8).
  run("ip route add 10.8.0.0/16 nexthop via 10.1.0.2 dev br0 weight 2 nexthop via 10.2.0.2 dev veth1 weight 1");
  run("ip -6 route add fd02::/64 nexthop via fd00::2 dev br0 nexthop via fd00::3 dev br0");
  run("ip route add blackhole 10.7.0.0/16 table 100");
  {
    rtnl::NeighSpec n;
    n.op = rtnl::NeighOp::New;
    n.family = AF_INET;
    n.index = br0;
    n.state = NUD_PERMANENT;
    n.dst = ip4(10, 1, 0, 9);
    n.lladdr = Bytes{0x02, 0xfe, 0, 0, 0, 9};
    expect_ok(send_rtnl(s, rtnl::neigh_request(n, &err), err, "newneigh-v4", kNeigh, sizeof(ndmsg)), "neigh");
    n.family = AF_BRIDGE;  // vxlan fdb: all-zero MAC towards a remote VTEP
    n.index = ifindex(s, "vx0");
    n.state = NUD_PERMANENT | NUD_NOARP;
    n.flags = NTF_SELF;
    n.dst = ip4(10, 2, 0, 9);
    n.lladdr = Bytes(6, 0);
    expect_ok(send_rtnl(s, rtnl::neigh_request(n, &err), err, "newneigh-fdb", kNeigh, sizeof(ndmsg)), "fdb");
  }
  {
    rtnl::RuleSpec r;
    r.op = rtnl::RuleOp::New;
    r.family = AF_INET;
    r.src = ip4(10, 0, 0, 0);
    r.src_len = 8;
    r.iifname = "veth0";
    r.fwmark = 1;
    r.fwmask = 0xff;
    r.priority = 100;
    r.table = 100;
    expect_ok(send_rtnl(s, rtnl::rule_request(r, &err), err, "newrule", kRule, sizeof(fib_rule_hdr)), "rule");
  }
  run("nft add table ip seed && nft add chain ip seed post '{ type nat hook postrouting priority 100; policy accept; }' && "
      "nft add rule ip seed post ip saddr 10.1.0.0/24 oifname veth1 counter masquerade comment '\"fuzz seed\"' && "
      "nft add chain ip seed filt '{ type filter hook forward priority 0; policy drop; }' && "
      "nft add rule ip seed filt ct state established,related accept");

  std::fprintf(stderr, "capture: dumps\n");
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::Dump;
    expect_ok(link(s, ls, "dump-links"), "link dump");
    ls.filter_master = static_cast<uint32_t>(br0);
    expect_ok(link(s, ls, "dump-links-master"), "link dump by master");
  }
  for (uint8_t fam : {uint8_t(AF_UNSPEC), uint8_t(AF_INET6)}) {
    rtnl::AddrSpec a;
    a.op = rtnl::AddrOp::Dump;
    a.family = fam;
    expect_ok(send_rtnl(s, rtnl::addr_request(a, &err), err, fam ? "dump-addrs-v6" : "dump-addrs", kAddr, sizeof(ifaddrmsg)),
              "addr dump");
  }
  for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
    rtnl::RouteSpec rs;
    rs.op = rtnl::RouteOp::Dump;
    rs.family = fam;
    expect_ok(route(rs, fam == AF_INET ? "dump-routes-v4" : "dump-routes-v6"), "route dump");
  }
  {
    rtnl::RouteSpec rs;
    rs.op = rtnl::RouteOp::Get;
    rs.family = AF_INET;
    rs.dst = ip4(10, 9, 1, 1);
    rs.dst_len = 32;
    expect_ok(route(rs, "getroute-v4"), "route get");
  }
  for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6), uint8_t(AF_BRIDGE)}) {
    rtnl::NeighSpec n;
    n.op = rtnl::NeighOp::Dump;
    n.family = fam;
    std::string name = fam == AF_INET ? "dump-neigh-v4" : fam == AF_INET6 ? "dump-neigh-v6" : "dump-fdb";
    expect_ok(send_rtnl(s, rtnl::neigh_request(n, &err), err, name, kNeigh, sizeof(ndmsg)), "neigh dump");
  }
  for (uint8_t fam : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
    rtnl::RuleSpec r;
    r.op = rtnl::RuleOp::Dump;
    r.family = fam;
    expect_ok(send_rtnl(s, rtnl::rule_request(r, &err), err, fam == AF_INET ? "dump-rules-v4" : "dump-rules-v6", kRule,
                        sizeof(fib_rule_hdr)),
              "rule dump");
  }
  Sock nf = open_sock(NETLINK_NETFILTER, true);
  expect_ok(exchange(nf, {nft_get(NFT_MSG_GETTABLE, NFTA_TABLE_NAME, "seed")}, false, "nft-gettable", kPlain,
                     sizeof(nfgenmsg)),
            "nft get table");
  expect_ok(exchange(nf, {nft_get(NFT_MSG_GETCHAIN, NFTA_CHAIN_TABLE, "seed")}, true, "nft-dump-chains", kPlain,
                     sizeof(nfgenmsg)),
            "nft chain dump");
  expect_ok(exchange(nf, {nft_get(NFT_MSG_GETRULE, NFTA_RULE_TABLE, "seed")}, true, "nft-dump-rules", kPlain,
                     sizeof(nfgenmsg)),
            "nft rule dump");

  std::fprintf(stderr, "capture: errors with extended ACKs\n");
  auto must_fail = [](const Reply& r, const std::string& what) {
    if (r.error == 0) {
      std::fprintf(stderr, "capture: %s unexpectedly succeeded\n", what.c_str());
      std::exit(1);
    }
  };
  {
    rtnl::LinkSpec ls;
    ls.op = rtnl::LinkOp::New;
    ls.name = "nk0";
    ls.kind = "no-such-kind";
    must_fail(link(s, ls, "err-unknown-kind"), "unknown kind");
    nl::Error e;
    must_fail(send_rtnl(echo, rtnl::link_request(ls, &e), e, "err-unknown-kind-uncapped", kVeth, sizeof(ifinfomsg)),
              "unknown kind (uncapped)");
    ls.kind = "bridge";
    ls.name = "veth0";
    must_fail(link(s, ls, "err-duplicate-name"), "duplicate name");
    // A veth whose peer name is too long: policy validation, offset inside the nested peer.
    ls.kind = "veth";
    ls.name = "vx9";
    rtnl::PeerSpec p;
    p.name = "a-peer-name-far-too-long-for-ifnamsiz";
    ls.peer = p;
    must_fail(link(s, ls, "err-peer-name-too-long"), "long peer name");
    must_fail(send_rtnl(echo, rtnl::link_request(ls, &e), e, "err-peer-name-too-long-uncapped", kVeth, sizeof(ifinfomsg)),
              "long peer name (uncapped)");
    ls.peer.reset();
    ls.kind = "bridge";
    ls.name = "br9";
    ls.mtu = 10;  // below the minimum
    must_fail(link(s, ls, "err-mtu-too-small"), "mtu too small");
    rtnl::LinkSpec del;
    del.op = rtnl::LinkOp::Del;
    del.index = 9999;
    must_fail(link(s, del, "err-del-no-device"), "delete missing link");
  }
  {
    rtnl::AddrSpec a;
    a.op = rtnl::AddrOp::New;
    a.family = AF_INET;
    a.index = 9999;
    a.local = ip4(10, 5, 0, 1);
    a.prefixlen = 24;
    must_fail(send_rtnl(s, rtnl::addr_request(a, &err), err, "err-addr-no-device", kAddr, sizeof(ifaddrmsg)), "addr");
    a.index = br0;
    a.local = ip4(10, 1, 0, 1);
    must_fail(send_rtnl(s, rtnl::addr_request(a, &err), err, "err-addr-exists", kAddr, sizeof(ifaddrmsg)), "addr dup");
  }
  {
    rtnl::RouteSpec rs;
    rs.op = rtnl::RouteOp::New;
    rs.family = AF_INET;
    rs.dst = ip4(10, 6, 0, 0);
    rs.dst_len = 16;
    rs.gateway = ip4(192, 0, 2, 1);  // not on any link
    must_fail(route(rs, "err-route-unreachable-gw"), "route gw");
    rs.gateway = ip4(10, 1, 0, 254);
    rs.oif = static_cast<uint32_t>(veth1);  // gateway not on this device
    must_fail(route(rs, "err-route-gw-wrong-dev"), "route gw dev");
    // A dump with header fields strict checking refuses.
    rtnl::RouteSpec d;
    d.op = rtnl::RouteOp::Dump;
    d.family = AF_INET;
    auto req = rtnl::route_request(d, &err);
    reinterpret_cast<rtmsg*>(req->msg.data() + NLMSG_HDRLEN)->rtm_dst_len = 8;
    must_fail(exchange(s, {req->msg}, true, "err-route-dump-bad-header", kRoute, sizeof(rtmsg)), "bad dump header");
  }
  {
    rtnl::RuleSpec r;
    r.op = rtnl::RuleOp::New;
    r.family = AF_INET;
    r.priority = 100;
    r.table = 100;
    r.src = ip4(10, 0, 0, 0);
    r.src_len = 8;
    r.iifname = "veth0";
    r.fwmark = 1;
    r.fwmask = 0xff;
    must_fail(send_rtnl(s, rtnl::rule_request(r, &err), err, "err-rule-exists", kRule, sizeof(fib_rule_hdr)), "rule dup");
  }
  {
    // nf_tables: a rule for a chain that does not exist; the kernel points at NFTA_RULE_CHAIN.
    nl::nft::Msg m;
    m.type = nl::nft::MsgType::NewRule;
    m.table = "seed";
    m.chain = "no-such-chain";
    nl::nft::Expr e;
    e.name = "counter";
    m.exprs.push_back(e);
    Bytes rule;
    if (!nl::nft::encode(m, &rule, &err)) die("nft encode");
    must_fail(exchange(nf, {nft_marker(NFNL_MSG_BATCH_BEGIN), rule, nft_marker(NFNL_MSG_BATCH_END)}, false,
                       "err-nft-no-chain", kPlain, sizeof(nfgenmsg), 1),
              "nft rule in a missing chain");
  }
  {
    // A whole batch accepted (an ACK per message), as BatchRequest sends it;
    // then a rule that is not there, and a table that is not there.
    std::vector<Bytes> batch{nft_marker(NFNL_MSG_BATCH_BEGIN)};
    nl::nft::Msg t;
    t.type = nl::nft::MsgType::NewTable;
    t.table = "fuzzt";
    nl::nft::Msg c = t;
    c.type = nl::nft::MsgType::NewChain;
    c.chain = "post";
    c.hooknum = 4;
    c.priority = 100;
    c.chain_type = "nat";
    c.policy = 1;
    nl::nft::Msg r = c;
    r.type = nl::nft::MsgType::NewRule;
    nl::nft::Expr e;
    e.name = "counter";
    r.exprs.push_back(e);
    r.userdata = {0, 5, 's', 'e', 'e', 'd', 0};
    for (const auto* m : {&t, &c, &r}) {
      Bytes b;
      if (!nl::nft::encode(*m, &b, &err)) die("nft encode");
      batch.push_back(b);
    }
    batch.push_back(nft_marker(NFNL_MSG_BATCH_END));
    expect_ok(exchange(nf, batch, false, "nft-batch-ok", kPlain, sizeof(nfgenmsg), 3), "nft batch");
    nl::nft::Msg d;
    d.type = nl::nft::MsgType::DelRule;
    d.table = "seed";
    d.chain = "post";
    d.handle = 9999;
    Bytes del;
    if (!nl::nft::encode(d, &del, &err)) die("nft encode");
    must_fail(exchange(nf, {nft_marker(NFNL_MSG_BATCH_BEGIN), del, nft_marker(NFNL_MSG_BATCH_END)}, false,
                       "err-nft-del-no-rule", kPlain, sizeof(nfgenmsg), 1),
              "nft delete a missing rule");
    must_fail(exchange(nf, {nft_get(NFT_MSG_GETTABLE, NFTA_TABLE_NAME, "no-such-table")}, false,
                       "err-nft-gettable-missing", kPlain, sizeof(nfgenmsg)),
              "nft get a missing table");
  }
  {
    // NLMSGERR_ATTR_MISS_TYPE: the generic netlink "netdev" family's dev-get
    // without its required NETDEV_A_DEV_IFINDEX (GENL_REQ_ATTR_CHECK).
    Sock g = open_sock(NETLINK_GENERIC, true);
    std::array<uint8_t, 128> buf;
    nl::Builder b(buf);
    b.put_header(GENL_ID_CTRL, 0);
    auto* gh = b.put_extra_header<genlmsghdr>();
    gh->cmd = CTRL_CMD_GETFAMILY;
    gh->version = 1;
    b.put_strz(CTRL_ATTR_FAMILY_NAME, "netdev");
    Reply fam = exchange(g, {Bytes(b.bytes().begin(), b.bytes().end())}, false, "genl-getfamily-netdev", kPlain,
                         sizeof(genlmsghdr));
    uint16_t id = 0;
    for (auto& [h, p] : fam.data) {
      nl::AttrTable<CTRL_ATTR_MAX> tb(nl::after_header<genlmsghdr>(p));
      id = tb[CTRL_ATTR_FAMILY_ID].u16();
    }
    if (id) {
      std::array<uint8_t, 64> buf2;
      nl::Builder c(buf2);
      c.put_header(id, 0);
      auto* gc = c.put_extra_header<genlmsghdr>();
      gc->cmd = 1;  // NETDEV_CMD_DEV_GET
      gc->version = 1;
      Reply r = exchange(g, {Bytes(c.bytes().begin(), c.bytes().end())}, false, "err-genl-missing-attr", kPlain,
                         sizeof(genlmsghdr));
      if (r.error == 0) std::fprintf(stderr, "  (netdev dev-get without ifindex succeeded?)\n");
    } else {
      std::fprintf(stderr, "  (no netdev generic netlink family: no MISS_TYPE seed)\n");
    }
    close(g.fd);
  }
  write_sessions();
  close(nf.fd);
  close(echo.fd);
  close(s.fd);
  std::fprintf(stderr, "capture: wrote %zu files, %zu bytes, into %s\n", g_files, g_bytes, g_out.c_str());
  return 0;
}
