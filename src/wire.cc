#include "wire.hpp"

#include <cstring>

#include "convert.hpp"

namespace glue {

namespace {

// Address and route requests are the hot path (many in flight at once), so
// lib/native.ts (sendAddr, sendRoute) hands them over packed in one reused
// buffer instead of as objects: reading ~20 named properties through N-API
// cost about 1.9 us per call. The layout, shared with lib/native.ts:
//   bytes 0..63    16 host-order uint32 words, per kind below
//   bytes 64..127  four 16-byte address slots (IPv4 uses the first 4 bytes)
// Word 0 is the op, word 1 flag bits, word 2 which optional fields are present.
constexpr size_t kWireSize = 128;
constexpr int kSlotA = 64, kSlotB = 80, kSlotC = 96, kSlotD = 112;

struct Wire {
  const uint8_t* p;
  uint32_t w(int i) const {
    uint32_t v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  bool has(uint32_t bit) const { return (w(2) & bit) != 0; }
  Bytes addr(int slot, uint8_t af) const { return Bytes(p + slot, p + slot + (af == AF_INET6 ? 16 : 4)); }
};

Wire wire_of(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), "native spec must be a packed Uint8Array");
  auto a = info[0].As<Napi::Uint8Array>();
  if (a.ByteLength() < kWireSize) throw Napi::TypeError::New(info.Env(), "native spec: packed buffer too short");
  return Wire{a.Data()};
}

template <class Op>
Op wire_op(const Napi::CallbackInfo& info, uint32_t v, std::initializer_list<Op> ops) {
  if (v < ops.size()) return *(ops.begin() + v);
  throw Napi::TypeError::New(info.Env(), "native spec: unknown op " + std::to_string(v));
}

}  // namespace

// Address words: 0 op (new, del, dump) 1 flags (1 replace) 2 present (1 peer,
// 2 broadcast, 4 validLft, 8 preferredLft, 16 label: info[1]) 3 family
// 4 prefixlen 5 scope 6 index 7 IFA_F_* flags 8 validLft 9 preferredLft.
// Slots: A local, B peer, C broadcast.
nl::rtnl::AddrSpec to_addr(const Napi::CallbackInfo& info) {
  Wire x = wire_of(info);
  nl::rtnl::AddrSpec s;
  s.op = wire_op(info, x.w(0), {nl::rtnl::AddrOp::New, nl::rtnl::AddrOp::Del, nl::rtnl::AddrOp::Dump});
  s.replace = (x.w(1) & 1) != 0;
  s.family = af_of(x.w(3));
  s.prefixlen = static_cast<uint8_t>(x.w(4));
  s.scope = static_cast<uint8_t>(x.w(5));
  s.index = static_cast<int32_t>(x.w(6));
  if (s.op != nl::rtnl::AddrOp::Dump) s.local = x.addr(kSlotA, s.family);
  if (x.has(1)) s.peer = x.addr(kSlotB, s.family);
  if (x.has(2)) s.broadcast = x.addr(kSlotC, s.family);
  s.flags = x.w(7);
  if (x.has(4)) s.valid_lft = x.w(8);
  if (x.has(8)) s.preferred_lft = x.w(9);
  if (x.has(16)) {
    if (!info[1].IsString()) throw Napi::TypeError::New(info.Env(), "native spec: label must be a string");
    s.label = info[1].As<Napi::String>().Utf8Value();
  }
  return s;
}

// Route words: 0 op (new, del, dump, get) 1 flags (1 replace, 2 append,
// 4 onlink) 2 present (1 dst, 2 src, 4 gateway, 8 prefsrc, 16 priority,
// 32 scope, 64 protocol, 128 type, 256 mtu) 3 family 4 dstLen 5 srcLen 6 oif
// 7 iif 8 table 9 priority 10 scope 11 protocol 12 type 13 mtu.
// Slots: A dst, B src, C gateway, D prefsrc.
nl::rtnl::RouteSpec to_route(const Napi::CallbackInfo& info) {
  Wire x = wire_of(info);
  nl::rtnl::RouteSpec s;
  s.op = wire_op(info, x.w(0), {nl::rtnl::RouteOp::New, nl::rtnl::RouteOp::Del, nl::rtnl::RouteOp::Dump, nl::rtnl::RouteOp::Get});
  s.replace = (x.w(1) & 1) != 0;
  s.append = (x.w(1) & 2) != 0;
  s.onlink = (x.w(1) & 4) != 0;
  s.family = af_of(x.w(3));
  s.dst_len = static_cast<uint8_t>(x.w(4));
  s.src_len = static_cast<uint8_t>(x.w(5));
  s.oif = x.w(6);
  s.iif = x.w(7);
  s.table = x.w(8);
  if (x.has(1)) s.dst = x.addr(kSlotA, s.family);
  if (x.has(2)) s.src = x.addr(kSlotB, s.family);
  if (x.has(4)) s.gateway = x.addr(kSlotC, s.family);
  if (x.has(8)) s.prefsrc = x.addr(kSlotD, s.family);
  if (x.has(16)) s.priority = x.w(9);
  if (x.has(32)) s.scope = static_cast<uint8_t>(x.w(10));
  if (x.has(64)) s.protocol = static_cast<uint8_t>(x.w(11));
  if (x.has(128)) s.type = static_cast<uint8_t>(x.w(12));
  if (x.has(256)) s.mtu = x.w(13);
  return s;
}

}  // namespace glue
