// Decoding the packed hand-off (the layout: wire.hpp) and exporting its layout.
#include "wire.hpp"

#include <cstring>
#include <string>

#include "convert.hpp"

namespace glue {

namespace wire {
namespace {

#define NETPLUMB_WIRE_VALUE(n, v) v,
#define NETPLUMB_WIRE_NAME(n, v) #n,
// The ops in their wire order (word `op` is an index into these).
constexpr nl::rtnl::AddrOp kAddrOps[] = {NETPLUMB_ADDR_OPS(NETPLUMB_WIRE_VALUE)};
constexpr const char* kAddrOpNames[] = {NETPLUMB_ADDR_OPS(NETPLUMB_WIRE_NAME)};
constexpr nl::rtnl::RouteOp kRouteOps[] = {NETPLUMB_ROUTE_OPS(NETPLUMB_WIRE_VALUE)};
constexpr const char* kRouteOpNames[] = {NETPLUMB_ROUTE_OPS(NETPLUMB_WIRE_NAME)};

// Every word inside the 16, every slot inside the buffer.
constexpr uint32_t kAllWords[] = {NETPLUMB_ADDR_WORDS(NETPLUMB_WIRE_VALUE) NETPLUMB_ROUTE_WORDS(NETPLUMB_WIRE_VALUE)};
constexpr uint32_t kAllSlots[] = {NETPLUMB_ADDR_SLOTS(NETPLUMB_WIRE_VALUE) NETPLUMB_ROUTE_SLOTS(NETPLUMB_WIRE_VALUE)};
constexpr bool all_below(const uint32_t* v, size_t n, uint32_t lo, uint32_t hi) {
  for (size_t i = 0; i < n; ++i)
    if (v[i] < lo || v[i] >= hi) return false;
  return true;
}
static_assert(all_below(kAllWords, std::size(kAllWords), 0, kWords), "a word outside the 16");
static_assert(all_below(kAllSlots, std::size(kAllSlots), 4 * kWords, kSize - kSlotSize + 1), "a slot outside the buffer");
#undef NETPLUMB_WIRE_VALUE
#undef NETPLUMB_WIRE_NAME

struct Wire {
  const uint8_t* p;
  uint32_t w(uint32_t i) const {
    uint32_t v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  bool has(uint32_t present_word, uint32_t bit) const { return (w(present_word) & bit) != 0; }
  Bytes addr(uint32_t slot, uint8_t af) const { return Bytes(p + slot, p + slot + (af == AF_INET6 ? 16 : 4)); }
};

Wire wire_of(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), "native spec must be a packed Uint8Array");
  auto a = info[0].As<Napi::Uint8Array>();
  if (a.ByteLength() < kSize) throw Napi::TypeError::New(info.Env(), "native spec: packed buffer too short");
  return Wire{a.Data()};
}

template <class Op, size_t N>
Op op_at(const Napi::CallbackInfo& info, uint32_t v, const Op (&ops)[N]) {
  if (v < N) return ops[v];
  throw Napi::TypeError::New(info.Env(), "native spec: unknown op " + std::to_string(v));
}

template <size_t N>
Napi::Object op_table(Napi::Env env, const char* const (&names)[N]) {
  auto o = Napi::Object::New(env);
  for (size_t i = 0; i < N; ++i) o.Set(names[i], static_cast<double>(i));
  o.Freeze();
  return o;
}

}  // namespace

#define NETPLUMB_WIRE_SET(n, v) o.Set(#n, static_cast<double>(v));
#define NETPLUMB_WIRE_TABLE(LIST)      \
  [&] {                                \
    auto o = Napi::Object::New(env);   \
    LIST(NETPLUMB_WIRE_SET)            \
    o.Freeze();                        \
    return o;                          \
  }()
Napi::Object layout(Napi::Env env) {
  auto a = Napi::Object::New(env);
  a.Set("ops", op_table(env, kAddrOpNames));
  a.Set("words", NETPLUMB_WIRE_TABLE(NETPLUMB_ADDR_WORDS));
  a.Set("flags", NETPLUMB_WIRE_TABLE(NETPLUMB_ADDR_FLAGS));
  a.Set("present", NETPLUMB_WIRE_TABLE(NETPLUMB_ADDR_PRESENT));
  a.Set("slots", NETPLUMB_WIRE_TABLE(NETPLUMB_ADDR_SLOTS));
  a.Freeze();
  auto r = Napi::Object::New(env);
  r.Set("ops", op_table(env, kRouteOpNames));
  r.Set("words", NETPLUMB_WIRE_TABLE(NETPLUMB_ROUTE_WORDS));
  r.Set("flags", NETPLUMB_WIRE_TABLE(NETPLUMB_ROUTE_FLAGS));
  r.Set("present", NETPLUMB_WIRE_TABLE(NETPLUMB_ROUTE_PRESENT));
  r.Set("slots", NETPLUMB_WIRE_TABLE(NETPLUMB_ROUTE_SLOTS));
  r.Freeze();
  auto o = Napi::Object::New(env);
  o.Set("size", static_cast<double>(kSize));
  o.Set("words", static_cast<double>(kWords));
  o.Set("slotSize", static_cast<double>(kSlotSize));
  o.Set("addr", a);
  o.Set("route", r);
  o.Freeze();
  return o;
}
#undef NETPLUMB_WIRE_TABLE
#undef NETPLUMB_WIRE_SET

}  // namespace wire

nl::rtnl::AddrSpec to_addr(const Napi::CallbackInfo& info) {
  namespace W = wire::addr::word;
  namespace P = wire::addr::present;
  namespace S = wire::addr::slot;
  wire::Wire x = wire::wire_of(info);
  nl::rtnl::AddrSpec s;
  s.op = wire::op_at(info, x.w(W::op), wire::kAddrOps);
  s.replace = (x.w(W::flags) & wire::addr::flag::replace) != 0;
  s.family = af_of(x.w(W::family));
  s.prefixlen = static_cast<uint8_t>(x.w(W::prefixlen));
  s.scope = static_cast<uint8_t>(x.w(W::scope));
  s.index = static_cast<int32_t>(x.w(W::index));
  if (s.op != nl::rtnl::AddrOp::Dump) s.local = x.addr(S::local, s.family);
  if (x.has(W::present, P::peer)) s.peer = x.addr(S::peer, s.family);
  if (x.has(W::present, P::broadcast)) s.broadcast = x.addr(S::broadcast, s.family);
  s.flags = x.w(W::ifaFlags);
  if (x.has(W::present, P::validLft)) s.valid_lft = x.w(W::validLft);
  if (x.has(W::present, P::preferredLft)) s.preferred_lft = x.w(W::preferredLft);
  if (x.has(W::present, P::label)) {
    if (!info[1].IsString()) throw Napi::TypeError::New(info.Env(), "native spec: label must be a string");
    s.label = info[1].As<Napi::String>().Utf8Value();
  }
  return s;
}

nl::rtnl::RouteSpec to_route(const Napi::CallbackInfo& info) {
  namespace W = wire::route::word;
  namespace F = wire::route::flag;
  namespace P = wire::route::present;
  namespace S = wire::route::slot;
  wire::Wire x = wire::wire_of(info);
  nl::rtnl::RouteSpec s;
  s.op = wire::op_at(info, x.w(W::op), wire::kRouteOps);
  s.replace = (x.w(W::flags) & F::replace) != 0;
  s.append = (x.w(W::flags) & F::append) != 0;
  s.onlink = (x.w(W::flags) & F::onlink) != 0;
  s.family = af_of(x.w(W::family));
  s.dst_len = static_cast<uint8_t>(x.w(W::dstLen));
  s.src_len = static_cast<uint8_t>(x.w(W::srcLen));
  s.oif = x.w(W::oif);
  s.iif = x.w(W::iif);
  s.table = x.w(W::table);
  if (x.has(W::present, P::dst)) s.dst = x.addr(S::dst, s.family);
  if (x.has(W::present, P::src)) s.src = x.addr(S::src, s.family);
  if (x.has(W::present, P::gateway)) s.gateway = x.addr(S::gateway, s.family);
  if (x.has(W::present, P::prefsrc)) s.prefsrc = x.addr(S::prefsrc, s.family);
  if (x.has(W::present, P::priority)) s.priority = x.w(W::priority);
  if (x.has(W::present, P::scope)) s.scope = static_cast<uint8_t>(x.w(W::scope));
  if (x.has(W::present, P::protocol)) s.protocol = static_cast<uint8_t>(x.w(W::protocol));
  if (x.has(W::present, P::type)) s.type = static_cast<uint8_t>(x.w(W::type));
  if (x.has(W::present, P::mtu)) s.mtu = x.w(W::mtu);
  return s;
}

}  // namespace glue
