// The packed hand-off of address and route requests, described once.
//
// Address and route requests are the hot path (many in flight at once), so
// lib/native.ts (sendAddr, sendRoute) hands them over packed in one reused
// buffer instead of as objects: reading ~20 named properties through N-API
// cost about 1.9 us per call. The buffer:
//   bytes 0..63    16 host-order uint32 words, named per kind below
//   bytes 64..127  four 16-byte address slots (IPv4 uses the first 4 bytes)
// Word `op` is the index of the op in the kind's ops list, word `flags` its
// flag bits, word `present` which optional fields are set.
//
// The lists below are the only description of it. The decoders (wire.cc)
// read through these names; the addon exports the same lists as the frozen
// object `wireLayout`, and lib/native.ts checks when it loads the addon that
// its own WIRE_LAYOUT is identical (test/unit/wire-layout.test.ts too): a
// side changed alone fails there, never as a misread request.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "../native/rtnl/rtnl.hpp"

namespace glue::wire {

constexpr size_t kSize = 128;
constexpr uint32_t kWords = 16;  // words 0..15, bytes 0..63
constexpr uint32_t kSlotSize = 16;

// X(name, value). Addresses: IFA_F_* flags are the word `ifaFlags`; the label
// (when `present` has `label`) is the call's second argument, a string.
#define NETPLUMB_ADDR_OPS(X) X(new, nl::rtnl::AddrOp::New) X(del, nl::rtnl::AddrOp::Del) X(dump, nl::rtnl::AddrOp::Dump)
#define NETPLUMB_ADDR_WORDS(X) \
  X(op, 0) X(flags, 1) X(present, 2) X(family, 3) X(prefixlen, 4) X(scope, 5) X(index, 6) X(ifaFlags, 7) X(validLft, 8) X(preferredLft, 9)
#define NETPLUMB_ADDR_FLAGS(X) X(replace, 1)
#define NETPLUMB_ADDR_PRESENT(X) X(peer, 1) X(broadcast, 2) X(validLft, 4) X(preferredLft, 8) X(label, 16)
#define NETPLUMB_ADDR_SLOTS(X) X(local, 64) X(peer, 80) X(broadcast, 96)

#define NETPLUMB_ROUTE_OPS(X) \
  X(new, nl::rtnl::RouteOp::New) X(del, nl::rtnl::RouteOp::Del) X(dump, nl::rtnl::RouteOp::Dump) X(get, nl::rtnl::RouteOp::Get)
#define NETPLUMB_ROUTE_WORDS(X)                                                                                       \
  X(op, 0) X(flags, 1) X(present, 2) X(family, 3) X(dstLen, 4) X(srcLen, 5) X(oif, 6) X(iif, 7) X(table, 8) X(priority, 9) \
  X(scope, 10) X(protocol, 11) X(type, 12) X(mtu, 13)
#define NETPLUMB_ROUTE_FLAGS(X) X(replace, 1) X(append, 2) X(onlink, 4)
#define NETPLUMB_ROUTE_PRESENT(X) \
  X(dst, 1) X(src, 2) X(gateway, 4) X(prefsrc, 8) X(priority, 16) X(scope, 32) X(protocol, 64) X(type, 128) X(mtu, 256)
#define NETPLUMB_ROUTE_SLOTS(X) X(dst, 64) X(src, 80) X(gateway, 96) X(prefsrc, 112)

// The names as C++ constants: wire::addr::word::prefixlen, wire::route::present::gateway...
#define NETPLUMB_WIRE_ENUM(n, v) n = v,
namespace addr {
namespace word { enum : uint32_t { NETPLUMB_ADDR_WORDS(NETPLUMB_WIRE_ENUM) }; }
namespace flag { enum : uint32_t { NETPLUMB_ADDR_FLAGS(NETPLUMB_WIRE_ENUM) }; }
namespace present { enum : uint32_t { NETPLUMB_ADDR_PRESENT(NETPLUMB_WIRE_ENUM) }; }
namespace slot { enum : uint32_t { NETPLUMB_ADDR_SLOTS(NETPLUMB_WIRE_ENUM) }; }
}  // namespace addr
namespace route {
namespace word { enum : uint32_t { NETPLUMB_ROUTE_WORDS(NETPLUMB_WIRE_ENUM) }; }
namespace flag { enum : uint32_t { NETPLUMB_ROUTE_FLAGS(NETPLUMB_WIRE_ENUM) }; }
namespace present { enum : uint32_t { NETPLUMB_ROUTE_PRESENT(NETPLUMB_WIRE_ENUM) }; }
namespace slot { enum : uint32_t { NETPLUMB_ROUTE_SLOTS(NETPLUMB_WIRE_ENUM) }; }
}  // namespace route
#undef NETPLUMB_WIRE_ENUM

// The layout as a frozen JS object: { size, words, slotSize, addr: { ops,
// words, flags, present, slots }, route: { ... } } (exported as wireLayout).
Napi::Object layout(Napi::Env env);

}  // namespace glue::wire

namespace glue {

// The spec packed in argument 0 (and, for an address label, argument 1).
nl::rtnl::AddrSpec to_addr(const Napi::CallbackInfo& info);
nl::rtnl::RouteSpec to_route(const Napi::CallbackInfo& info);

}  // namespace glue
