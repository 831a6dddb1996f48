// JS <-> C++ conversions of the data the requests carry: a checked JS
// description (lib/validate.ts has checked it) into a native spec struct,
// and a decoded kernel object back into the plain object lib/native.ts types.
// Field by field, nothing else: which request uses which is in requests.hpp.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "../native/nft/nft.hpp"
#include "../native/nft/ruleset.hpp"
#include "../native/rtnl/rtnl.hpp"

namespace glue {

using nl::rtnl::Bytes;

// ---------------------------------------------------------------- JS -> C++ helpers

template <class T>
std::optional<T> opt_num(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("native spec: ") + k + " must be a number");
  return static_cast<T>(v.As<Napi::Number>().Int64Value());
}
template <class T>
T num(const Napi::Object& o, const char* k, T d = 0) { return opt_num<T>(o, k).value_or(d); }

std::optional<bool> opt_bool(const Napi::Object& o, const char* k);
std::string str(const Napi::Object& o, const char* k);
std::optional<Bytes> opt_bytes(const Napi::Object& o, const char* k);
Bytes bytes(const Napi::Object& o, const char* k);

// The op name of a spec, mapped through `ops`; anything else is a TypeError.
template <class Op>
Op op_of(const Napi::Object& o, const char* what, std::initializer_list<std::pair<const char*, Op>> ops) {
  std::string op = str(o, "op");
  for (const auto& [name, value] : ops)
    if (op == name) return value;
  throw Napi::TypeError::New(o.Env(), std::string("native spec: unknown ") + what + " op '" + op + "'");
}

// lib's family numbers (4, 6, and 7 for the bridge family) as AF_* values.
inline uint8_t af_of(uint32_t fam) { return fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : fam == 7 ? AF_BRIDGE : AF_UNSPEC; }
inline uint8_t family_of(const Napi::Object& o) { return af_of(num<uint32_t>(o, "family")); }

// The spec of most kinds is a plain object (argument 0).
template <class Spec, Spec (*F)(const Napi::Object&)>
Spec from_object(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "native spec must be an object");
  return F(info[0].As<Napi::Object>());
}

// ---------------------------------------------------------------- JS -> C++

nl::rtnl::LinkSpec to_link(const Napi::Object& o);
nl::rtnl::KindData to_kind_data(const Napi::Object& o);
nl::rtnl::NeighSpec to_neigh(const Napi::Object& o);
nl::rtnl::RuleSpec to_rule(const Napi::Object& o);
nl::nft::Msg to_nft_msg(const Napi::Object& o);
// Addresses and routes come packed: wire.hpp.

// ---------------------------------------------------------------- C++ -> JS

Napi::Object from_link(Napi::Env env, const nl::rtnl::LinkInfo& l);
Napi::Object from_kind_data(Napi::Env env, const nl::rtnl::KindData& d);
Napi::Object from_addr(Napi::Env env, const nl::rtnl::AddrInfo& a);
Napi::Object from_route(Napi::Env env, const nl::rtnl::RouteInfo& r);
Napi::Object from_neigh(Napi::Env env, const nl::rtnl::NeighInfo& n);
Napi::Object from_rule(Napi::Env env, const nl::rtnl::RuleInfo& r);
// nftDump's result: { exists, genid, tableUserdata, chains, rules }.
Napi::Object from_nft_dump(Napi::Env env, const nl::nft::DumpRequest& r);
// nftRuleset's result: { gen, consistent, tables, chains, rules }.
Napi::Object from_ruleset(Napi::Env env, const nl::nft::RulesetRequest& r);

template <class Vec, class F>
Napi::Array to_array(Napi::Env env, const Vec& v, F f) {
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), f(env, v[i]));
  return a;
}

}  // namespace glue
