// Every request kind a Handle offers (handle.link(spec), handle.nftBatch(...)),
// one struct each, and nothing else:
//   Req      the native request class it makes (native/)
//   name     the JS method on Handle
//   make     the request built from the JS arguments; null with *err set when
//            it cannot be (the promise rejects with err)
//   result   what the promise resolves with, from the finished request
//   reject   optional: fields a failure adds to the error object
// A new kind is a struct here, its make/result in requests.cc, and one entry
// in Requests (below): HandleWrap (handle_wrap.cc) registers each as a method
// and settles each request with its own kind's result, never by a switch.
#pragma once

#include <napi.h>

#include <memory>
#include <optional>

#include "../native/ct/conntrack.hpp"
#include "../native/handle.hpp"
#include "../native/local.hpp"
#include "../native/nft/nft.hpp"
#include "../native/nft/ruleset.hpp"
#include "../native/rtnl/kinds/tun.hpp"
#include "../native/rtnl/brport.hpp"
#include "../native/rtnl/rtnl.hpp"
#include "errors.hpp"

namespace glue {

using Made = std::unique_ptr<nl::Request>;

// A kind lib/pace.ts may hold back (addresses and routes, the requests a
// caller makes a thousand of at once): the others let those go first.
template <class K>
constexpr bool paced = requires { K::paced; };

// Requests with no result of their own resolve with undefined.
struct NoResult {
  static Napi::Value result(Napi::Env env, const nl::Request&) { return env.Undefined(); }
};

struct LinkReq {
  using Req = nl::rtnl::LinkRequest;
  static constexpr const char* name = "link";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
struct AddrReq {  // packed (wire.hpp)
  using Req = nl::rtnl::AddrRequest;
  static constexpr bool paced = true;  // lib/pace.ts may hold it for a later turn
  static constexpr const char* name = "addr";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
struct RouteReq {  // packed (wire.hpp)
  using Req = nl::rtnl::RouteRequest;
  static constexpr bool paced = true;
  static constexpr const char* name = "route";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// The quick hand-off (quick.cc): the spec from plain arguments and the
// address's text, or nullopt (declined: the call returns null, nothing sent).
struct RouteTextReq {
  using Req = nl::rtnl::RouteRequest;
  static constexpr bool paced = true;
  static constexpr const char* name = "routeText";
  static std::optional<nl::rtnl::RouteSpec> spec(const Napi::CallbackInfo& info);
  static Made make(const nl::rtnl::RouteSpec& s, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r) { return RouteReq::result(env, r); }
};
struct AddrTextReq {
  using Req = nl::rtnl::AddrRequest;
  static constexpr bool paced = true;
  static constexpr const char* name = "addrText";
  static std::optional<nl::rtnl::AddrSpec> spec(const Napi::CallbackInfo& info);
  static Made make(const nl::rtnl::AddrSpec& s, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r) { return AddrReq::result(env, r); }
};
// routeMultipath(wire, nexthops): a RouteSpec packed as route() takes it, and
// its hops [{ gateway?: Uint8Array, oif, weight }] (RTA_MULTIPATH) beside it.
struct RouteMultipathReq {
  using Req = nl::rtnl::RouteRequest;
  static constexpr const char* name = "routeMultipath";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r) { return RouteReq::result(env, r); }
};
// brport({ op: 'flags'|'vlanAdd'|'vlanDel'|'dump'|'vlanFiltering', index, ... }): src/brport.cc.
struct BrPortReq {
  using Req = nl::rtnl::BrPortRequest;
  static constexpr const char* name = "brport";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
struct NeighReq {
  using Req = nl::rtnl::NeighRequest;
  static constexpr const char* name = "neigh";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
struct RuleReq {
  using Req = nl::rtnl::RuleRequest;
  static constexpr const char* name = "rule";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// nsid(fd): the id of fd's namespace as seen here (-1: none).
struct NsidReq {
  using Req = nl::rtnl::NsidRequest;
  static constexpr const char* name = "nsid";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// setNsid(fd, id): resolves as nsid() does (the request is an NsidRequest; -1 from a plain ACK).
struct SetNsidReq {
  using Req = nl::rtnl::NsidRequest;
  static constexpr const char* name = "setNsid";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r) { return NsidReq::result(env, r); }
};
// socket({ domain: 4|6, type: 'stream'|'dgram', bind?, port? }) or socket({ netlinkGroups }).
struct SocketReq {
  using Req = nl::SocketRequest;
  static constexpr const char* name = "socket";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, Req& r);  // takes the fd
};
// sysctl({ path: 'ipv4/ip_forward', write?: '1' }).
struct SysctlReq {
  using Req = nl::SysctlRequest;
  static constexpr const char* name = "sysctl";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// tun({ name, tap?, multiQueue?, vnetHdr?, pi?, owner?, group? }): a persistent tun/tap made through /dev/net/tun.
struct TunReq : NoResult {
  using Req = nl::rtnl::TunRequest;
  static constexpr const char* name = "tun";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
};
// nftBatch([msg...], genid?): one atomic nf_tables transaction; a failure says which message (index).
struct NftBatchReq : NoResult {
  using Req = nl::nft::BatchRequest;
  static constexpr const char* name = "nftBatch";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static void reject(Napi::Object& error, const Req& r);
};
// nftDump({ family, table }): the chains and rules of one table.
struct NftDumpReq {
  using Req = nl::nft::DumpRequest;
  static constexpr const char* name = "nftDump";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// nftRuleset({ genOnly?, skipRules? }): every table, chain and rule (read only).
struct NftRulesetReq {
  using Req = nl::nft::RulesetRequest;
  static constexpr const char* name = "nftRuleset";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};
// ctFlush({ family?, proto, dportMin, dportMax, to? }): deletes matching IPv4 or IPv6 conntrack entries; resolves with how many.
struct CtFlushReq {
  using Req = nl::ct::FlushRequest;
  static constexpr const char* name = "ctFlush";
  static Made make(const Napi::CallbackInfo& info, nl::Error* err);
  static Napi::Value result(Napi::Env env, const Req& r);
};

template <class... K>
struct KindList {};
// The Handle's request methods, in this order.
using Requests = KindList<LinkReq, AddrReq, RouteReq, RouteTextReq, AddrTextReq, RouteMultipathReq, BrPortReq, NeighReq, RuleReq, SocketReq,
                          SysctlReq, NsidReq, SetNsidReq, TunReq, NftBatchReq, NftDumpReq, NftRulesetReq, CtFlushReq>;

// K's request from the call's arguments. A quick kind (quick.cc) may decline
// them: *declined, and no request.
template <class K>
Made make(const Napi::CallbackInfo& info, nl::Error* err, bool* declined) {
  if constexpr (requires { K::spec(info); }) {
    auto s = K::spec(info);
    if (!s) {
      *declined = true;
      return nullptr;
    }
    return K::make(*s, err);
  } else {
    return K::make(info, err);
  }
}

// Settles one finished request of kind K: rejects with its error, else
// resolves with K::result. HandleWrap keeps this function with each pending
// request (chosen when it was made, so no dispatch on a kind afterwards).
using SettleFn = void (*)(Napi::Env, nl::Request&, Napi::Promise::Deferred&);
// The handle's opening (nl::OpenRequest), from new Handle(mode, path | what,
// fd?)'s arguments (handle_wrap.cc); it resolves with { ref, dev, ino }.
std::unique_ptr<nl::OpenRequest> make_open(const Napi::CallbackInfo& info);
void settle_open(Napi::Env env, nl::Request& r, Napi::Promise::Deferred& d);
template <class K>
void settle(Napi::Env env, nl::Request& r, Napi::Promise::Deferred& d) {
  auto& req = static_cast<typename K::Req&>(r);
  if (r.error) {
    auto e = from_error(env, *r.error);
    if constexpr (requires { K::reject(e, req); }) K::reject(e, req);
    d.Reject(e);
  } else {
    d.Resolve(K::result(env, req));
  }
}

}  // namespace glue
