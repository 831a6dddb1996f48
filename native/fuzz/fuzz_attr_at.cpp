// fuzz_attr_at: the walkers that map an extended-ACK offset back to the
// attribute of our own request it points into (link_attr_at, addr_attr_at,
// route_attr_at, and the neighbour and rule requests' attr_at), over
// arbitrary "request" bytes and offsets.
// Input: 4 bytes little-endian offset, then the request message.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <linux/fib_rules.h>

#include "common.hpp"

namespace {

namespace rtnl = nl::rtnl;

size_t count(const std::string& s, char c) {
  size_t n = 0;
  for (char x : s) n += x == c;
  return n;
}

void check_path(const std::string& p, size_t offset, size_t size, size_t hdr, const char* prefix) {
  // Nothing before the attributes or past the end is named.
  if (offset < nl::align(sizeof(nlmsghdr)) + hdr || offset >= size) FUZZ_CHECK(p.empty());
  // At most 8 levels deep, and the top level is the family's own namespace.
  if (!p.empty()) {
    FUZZ_CHECK(count(p, '/') < 8);
    FUZZ_CHECK(p.rfind(prefix, 0) == 0);
    FUZZ_CHECK(p.back() != '/');
  }
  fuzz::sink(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t raw;
  std::memcpy(&raw, data, 4);
  std::vector<uint8_t> msg(data + 4, data + size);  // exactly sized
  nl::bytes m(msg.data(), msg.size());
  // The offset as given (often out of range), and folded into the message.
  size_t offsets[] = {raw, msg.empty() ? 0 : raw % msg.size(), msg.size(), msg.empty() ? 0 : msg.size() - 1};
  rtnl::NeighRequest neigh;
  rtnl::RuleRequest rule;
  neigh.msg = msg;
  rule.msg = msg;
  for (size_t off : offsets) {
    check_path(rtnl::link_attr_at(m, off), off, msg.size(), sizeof(ifinfomsg), "IFLA");
    check_path(rtnl::addr_attr_at(m, off), off, msg.size(), sizeof(ifaddrmsg), "IFA");
    check_path(rtnl::route_attr_at(m, off), off, msg.size(), sizeof(rtmsg), "RTA");
    check_path(neigh.attr_at(off), off, msg.size(), sizeof(ndmsg), "NDA");
    check_path(rule.attr_at(off), off, msg.size(), sizeof(fib_rule_hdr), "FRA");
  }
  return 0;
}
