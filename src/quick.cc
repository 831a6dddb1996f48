// The quick hand-off of the commonest address and route calls (requests.hpp,
// RouteTextReq and AddrTextReq): Route.add/delete({ to, dev }) and
// Address.add/delete(link, cidr) with an IPv4 CIDR, the address handed over
// as the caller's own text and parsed here, in one call, instead of parsed,
// checked and packed by JavaScript (about half of a fresh process's work per
// call: bench/RESULTS.md).
//
// Only what lib/validate.ts cidr() takes as IPv4 is taken here, with the same
// bytes: a canonical dotted quad (four decimal parts 0-255, no leading zero)
// and a "/" with one to three digits up to 32, or no "/" where the call takes
// a bare address. A route's destination must have no host bit set. Anything
// else is declined (null to JavaScript, nothing sent), and the full path
// checks the call and says what is wrong with it.
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>

#include "requests.hpp"

namespace glue {
namespace {

struct V4 {
  std::array<uint8_t, 4> addr{};
  uint8_t len = 32;
};

// Argument i parsed, when it is such a string (at most 19 characters:
// "255.255.255.255/032"); else nullopt.
std::optional<V4> v4_cidr(const Napi::CallbackInfo& info, size_t i, bool bare_ok) {
  if (!info[i].IsString()) return std::nullopt;
  char buf[24];
  size_t n = 0;
  if (napi_get_value_string_utf8(info.Env(), info[i], buf, sizeof buf, &n) != napi_ok || n > 19) return std::nullopt;
  V4 r;
  size_t at = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (at >= n || buf[at] != '.') return std::nullopt;
      ++at;
    }
    size_t start = at;
    unsigned val = 0;
    while (at < n && buf[at] >= '0' && buf[at] <= '9') {
      if (at > start && val == 0) return std::nullopt;  // a leading zero
      val = val * 10 + static_cast<unsigned>(buf[at] - '0');
      if (val > 255) return std::nullopt;
      ++at;
    }
    if (at == start) return std::nullopt;
    r.addr[static_cast<size_t>(part)] = static_cast<uint8_t>(val);
  }
  if (at == n) {
    if (!bare_ok) return std::nullopt;
    return r;
  }
  if (buf[at] != '/' || n - at - 1 < 1 || n - at - 1 > 3) return std::nullopt;
  unsigned len = 0;
  for (++at; at < n; ++at) {
    if (buf[at] < '0' || buf[at] > '9') return std::nullopt;
    len = len * 10 + static_cast<unsigned>(buf[at] - '0');
  }
  if (len > 32) return std::nullopt;
  r.len = static_cast<uint8_t>(len);
  return r;
}

bool host_bits(const V4& v) {
  uint32_t a = (uint32_t{v.addr[0]} << 24) | (uint32_t{v.addr[1]} << 16) | (uint32_t{v.addr[2]} << 8) | v.addr[3];
  uint32_t host = v.len == 32 ? 0 : (v.len == 0 ? ~uint32_t{0} : ~uint32_t{0} >> v.len);
  return (a & host) != 0;
}

// Argument i as a uint32 when it is a number; else nullopt (declined, the
// full path then checks the call).
std::optional<uint32_t> u32_at(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) return std::nullopt;
  return info[i].As<Napi::Number>().Uint32Value();
}

}  // namespace

// routeText(del: 0 | 1, replace: 0 | 1, oif, to)
std::optional<nl::rtnl::RouteSpec> RouteTextReq::spec(const Napi::CallbackInfo& info) {
  auto del = u32_at(info, 0), replace = u32_at(info, 1), oif = u32_at(info, 2);
  auto v = v4_cidr(info, 3, true);
  if (!del || !replace || !oif || !v || host_bits(*v)) return std::nullopt;
  nl::rtnl::RouteSpec s;
  s.op = *del ? nl::rtnl::RouteOp::Del : nl::rtnl::RouteOp::New;
  s.replace = *replace != 0;
  s.oif = *oif;
  s.family = AF_INET;
  s.dst.assign(v->addr.begin(), v->addr.end());
  s.dst_len = v->len;
  return s;
}
Made RouteTextReq::make(const nl::rtnl::RouteSpec& s, nl::Error* err) { return nl::rtnl::route_request(s, err); }

// addrText(del: 0 | 1, index, cidr): a bare address only for a delete.
std::optional<nl::rtnl::AddrSpec> AddrTextReq::spec(const Napi::CallbackInfo& info) {
  auto del = u32_at(info, 0), index = u32_at(info, 1);
  if (!del || !index) return std::nullopt;
  auto v = v4_cidr(info, 2, *del != 0);
  if (!v) return std::nullopt;
  nl::rtnl::AddrSpec s;
  s.op = *del ? nl::rtnl::AddrOp::Del : nl::rtnl::AddrOp::New;
  s.index = static_cast<int32_t>(*index);
  s.family = AF_INET;
  s.prefixlen = v->len;
  s.local.assign(v->addr.begin(), v->addr.end());
  s.scope = v->addr[0] == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;  // as Address.spec: loopback is host scope
  return s;
}
Made AddrTextReq::make(const nl::rtnl::AddrSpec& s, nl::Error* err) { return nl::rtnl::addr_request(s, err); }

}  // namespace glue
