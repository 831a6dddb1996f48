// The native floor: the same requests as the Node benchmarks, sent by a
// small C++ program built on native/ alone (no Node, no threads, no queue).
//
//   native_floor addr-one  DEV N   add then delete N /32 addresses, one request at a time
//   native_floor addr-batch DEV N  the same, 256 requests per sendmsg
//   native_floor route-one DEV N   N /32 routes via DEV, one at a time
//   native_floor route-batch DEV N
//   native_floor veth-batch N      create N veth pairs, set both ends up, delete them (batched)
//
// With FLOOR_PAUSE=1 in the environment it prints the timings of the add
// phase (addr/route: add_us; veth: add_us, up_us) after that phase and waits
// for a line on stdin before deleting, so the caller can verify in between.
//
// Prints one JSON line: {"add_us":…, "del_us":…} (total microseconds per phase).
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/nl/socket.hpp"
#include "../native/nl/transact.hpp"
#include "../native/rtnl/rtnl.hpp"

using namespace nl;
using Clock = std::chrono::steady_clock;

static double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

static std::vector<uint8_t> ip_of(int i) {
  return {10, static_cast<uint8_t>(200 + (i >> 16)), static_cast<uint8_t>((i >> 8) & 255), static_cast<uint8_t>(i & 255)};
}

static int run(Socket& s, std::vector<std::unique_ptr<Request>>& reqs, size_t per_send) {
  for (size_t i = 0; i < reqs.size(); i += per_send) {
    std::vector<Request*> b;
    for (size_t j = i; j < reqs.size() && j < i + per_send; ++j) b.push_back(reqs[j].get());
    transact(s, b);
    for (auto* r : b)
      if (r->error) {
        std::fprintf(stderr, "%s: %s (errno %d)\n", r->op.c_str(), r->error->extack.c_str(), r->error->err);
        return 1;
      }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: native_floor MODE ARGS\n");
    return 2;
  }
  std::string mode = argv[1];
  Error err;
  auto sock = Socket::open(NETLINK_ROUTE, &err);
  if (!sock) {
    std::fprintf(stderr, "socket: %d\n", err.err);
    return 1;
  }
  size_t per_send = mode.find("batch") != std::string::npos ? kMaxBatch : 1;
  if (mode == "veth-batch") {
    int n = std::atoi(argv[2]);
    std::vector<std::unique_ptr<Request>> add, up, del;
    for (int i = 0; i < n; ++i) {
      rtnl::LinkSpec s;
      s.op = rtnl::LinkOp::New;
      s.kind = "veth";
      s.name = "nf" + std::to_string(i);
      s.peer = rtnl::PeerSpec{"nfp" + std::to_string(i), std::nullopt, std::nullopt, std::nullopt};
      add.push_back(rtnl::link_request(s, &err));
      for (const std::string& nm : {s.name, s.peer->name}) {
        rtnl::LinkSpec u;
        u.op = rtnl::LinkOp::Set;
        u.name = nm;  // looked up by name (index 0)
        u.up = true;
        up.push_back(rtnl::link_request(u, &err));
      }
      rtnl::LinkSpec d;
      d.op = rtnl::LinkOp::Del;
      d.name = s.name;
      del.push_back(rtnl::link_request(d, &err));
    }
    auto t0 = Clock::now();
    if (run(*sock, add, per_send)) return 1;
    double a = us_since(t0);
    t0 = Clock::now();
    if (run(*sock, up, per_send)) return 1;
    double u = us_since(t0);
    // Let the caller verify the pairs exist and are up before they are deleted.
    if (std::getenv("FLOOR_PAUSE")) {
      std::printf("{\"add_us\":%.1f,\"up_us\":%.1f}\n", a, u);
      std::fflush(stdout);
      char line[8];
      if (!std::fgets(line, sizeof line, stdin)) return 1;
    }
    t0 = Clock::now();
    if (run(*sock, del, per_send)) return 1;
    double d = us_since(t0);
    std::printf("{\"add_us\":%.1f,\"up_us\":%.1f,\"del_us\":%.1f}\n", a, u, d);
    return 0;
  }
  if (argc < 4) return 2;
  int index = static_cast<int>(if_nametoindex(argv[2]));
  int n = std::atoi(argv[3]);
  if (!index) {
    std::fprintf(stderr, "no device %s\n", argv[2]);
    return 1;
  }
  std::vector<std::unique_ptr<Request>> add, del;
  bool route = mode.rfind("route", 0) == 0;
  for (int i = 0; i < n; ++i) {
    if (route) {
      rtnl::RouteSpec s;
      s.op = rtnl::RouteOp::New;
      s.family = AF_INET;
      s.dst = ip_of(i);
      s.dst_len = 32;
      s.oif = static_cast<uint32_t>(index);
      add.push_back(rtnl::route_request(s, &err));
      s.op = rtnl::RouteOp::Del;
      del.push_back(rtnl::route_request(s, &err));
    } else {
      rtnl::AddrSpec s;
      s.op = rtnl::AddrOp::New;
      s.family = AF_INET;
      s.prefixlen = 32;
      s.index = index;
      s.local = ip_of(i);
      add.push_back(rtnl::addr_request(s, &err));
      s.op = rtnl::AddrOp::Del;
      del.push_back(rtnl::addr_request(s, &err));
    }
  }
  auto t0 = Clock::now();
  if (run(*sock, add, per_send)) return 1;
  double a = us_since(t0);
  // Let the caller verify between phases: wait for a line on stdin when asked.
  if (std::getenv("FLOOR_PAUSE")) {
    std::printf("{\"add_us\":%.1f}\n", a);
    std::fflush(stdout);
    char line[8];
    if (!std::fgets(line, sizeof line, stdin)) return 1;
  }
  t0 = Clock::now();
  if (run(*sock, del, per_send)) return 1;
  double d = us_since(t0);
  std::printf("{\"add_us\":%.1f,\"del_us\":%.1f}\n", a, d);
  return 0;
}
