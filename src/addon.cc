// N-API glue: converts checked JS descriptions into native spec structs,
// queues them on a namespace handle, and settles promises when the handle's
// I/O thread delivers results. No netlink logic lives here.
#include <napi.h>
#include <linux/netlink.h>
#include <uv.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "../native/format.hpp"
#include "../native/handle.hpp"
#include "../native/local.hpp"
#include "../native/ct/conntrack.hpp"
#include "../native/lock.hpp"
#include "../native/nft/nft.hpp"
#include "../native/nft/ruleset.hpp"
#include "../native/rtnl/rtnl.hpp"

namespace {

using nl::rtnl::Bytes;

// ---------------------------------------------------------------- JS -> C++

template <class T>
std::optional<T> opt_num(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("native spec: ") + k + " must be a number");
  return static_cast<T>(v.As<Napi::Number>().Int64Value());
}
template <class T>
T num(const Napi::Object& o, const char* k, T d = 0) { return opt_num<T>(o, k).value_or(d); }

std::optional<bool> opt_bool(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  return v.ToBoolean().Value();
}
std::string str(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("native spec: ") + k + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
std::optional<Bytes> opt_bytes(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsTypedArray()) throw Napi::TypeError::New(o.Env(), std::string("native spec: ") + k + " must be a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  return Bytes(a.Data(), a.Data() + a.ByteLength());
}
Bytes bytes(const Napi::Object& o, const char* k) { return opt_bytes(o, k).value_or(Bytes{}); }

// The op name of a spec, mapped through `ops`; anything else is a TypeError.
template <class Op>
Op op_of(const Napi::Object& o, const char* what, std::initializer_list<std::pair<const char*, Op>> ops) {
  std::string op = str(o, "op");
  for (const auto& [name, value] : ops)
    if (op == name) return value;
  throw Napi::TypeError::New(o.Env(), std::string("native spec: unknown ") + what + " op '" + op + "'");
}

// lib's family numbers (4, 6, and 7 for the bridge family) as AF_* values.
uint8_t af_of(uint32_t fam) { return fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : fam == 7 ? AF_BRIDGE : AF_UNSPEC; }
uint8_t family_of(const Napi::Object& o) { return af_of(num<uint32_t>(o, "family")); }

// The other kinds take their spec as a plain object (argument 0).
template <class Spec, Spec (*F)(const Napi::Object&)>
Spec from_object(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "native spec must be an object");
  return F(info[0].As<Napi::Object>());
}

nl::rtnl::LinkSpec to_link(const Napi::Object& o) {
  nl::rtnl::LinkSpec s;
  s.op = op_of<nl::rtnl::LinkOp>(o, "link", {{"new", nl::rtnl::LinkOp::New}, {"set", nl::rtnl::LinkOp::Set}, {"del", nl::rtnl::LinkOp::Del}, {"get", nl::rtnl::LinkOp::Get}, {"dump", nl::rtnl::LinkOp::Dump}});
  s.index = num<int32_t>(o, "index");
  s.name = str(o, "name");
  s.kind = str(o, "kind");
  s.mtu = opt_num<uint32_t>(o, "mtu");
  s.mac = opt_bytes(o, "mac");
  s.master = opt_num<uint32_t>(o, "master");
  s.up = opt_bool(o, "up");
  s.netns_fd = opt_num<int>(o, "netnsFd");
  s.netns_pid = opt_num<uint32_t>(o, "netnsPid");
  s.group = opt_num<uint32_t>(o, "group");
  s.txqlen = opt_num<uint32_t>(o, "txqlen");
  if (o.Get("alias").IsString()) s.alias = str(o, "alias");
  s.parent = opt_num<uint32_t>(o, "parent");
  s.hairpin = opt_bool(o, "hairpin");
  s.br_stp = opt_num<uint32_t>(o, "stp");
  s.br_vlan_filtering = opt_num<uint8_t>(o, "vlanFiltering");
  s.macvlan_mode = opt_num<uint32_t>(o, "macvlanMode");
  s.vxlan_id = opt_num<uint32_t>(o, "vxlanId");
  s.vxlan_port = opt_num<uint16_t>(o, "vxlanPort");
  s.vxlan_remote = opt_bytes(o, "vxlanRemote");
  s.vxlan_local = opt_bytes(o, "vxlanLocal");
  s.filter_master = opt_num<uint32_t>(o, "filterMaster");
  s.filter_kind = str(o, "filterKind");
  Napi::Value p = o.Get("peer");
  if (p.IsObject()) {
    auto po = p.As<Napi::Object>();
    nl::rtnl::PeerSpec peer;
    peer.name = str(po, "name");
    peer.netns_fd = opt_num<int>(po, "netnsFd");
    peer.mtu = opt_num<uint32_t>(po, "mtu");
    peer.mac = opt_bytes(po, "mac");
    s.peer = std::move(peer);
  }
  return s;
}

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

nl::rtnl::NeighSpec to_neigh(const Napi::Object& o) {
  nl::rtnl::NeighSpec s;
  s.op = op_of<nl::rtnl::NeighOp>(o, "neighbour", {{"new", nl::rtnl::NeighOp::New}, {"del", nl::rtnl::NeighOp::Del}, {"dump", nl::rtnl::NeighOp::Dump}});
  s.replace = opt_bool(o, "replace").value_or(false);
  s.family = family_of(o);
  s.index = num<int32_t>(o, "index");
  s.state = num<uint16_t>(o, "state");
  s.flags = num<uint8_t>(o, "flags");
  s.dst = opt_bytes(o, "dst");
  s.lladdr = opt_bytes(o, "lladdr");
  s.vlan = opt_num<uint16_t>(o, "vlan");
  s.vni = opt_num<uint32_t>(o, "vni");
  s.master = opt_num<uint32_t>(o, "master");
  return s;
}

nl::rtnl::RuleSpec to_rule(const Napi::Object& o) {
  nl::rtnl::RuleSpec s;
  s.op = op_of<nl::rtnl::RuleOp>(o, "rule", {{"new", nl::rtnl::RuleOp::New}, {"del", nl::rtnl::RuleOp::Del}, {"dump", nl::rtnl::RuleOp::Dump}});
  s.family = family_of(o);
  s.dst = bytes(o, "dst");
  s.dst_len = num<uint8_t>(o, "dstLen");
  s.src = bytes(o, "src");
  s.src_len = num<uint8_t>(o, "srcLen");
  s.tos = num<uint8_t>(o, "tos");
  // A new rule looks up a table unless told otherwise; a delete matches any action.
  s.action = num<uint8_t>(o, "action", s.op == nl::rtnl::RuleOp::New ? 1 : 0);
  s.table = num<uint32_t>(o, "table");
  s.priority = opt_num<uint32_t>(o, "priority");
  s.fwmark = opt_num<uint32_t>(o, "fwmark");
  s.fwmask = opt_num<uint32_t>(o, "fwmask");
  s.iifname = str(o, "iifname");
  s.oifname = str(o, "oifname");
  s.invert = opt_bool(o, "invert").value_or(false);
  return s;
}

nl::nft::Expr to_expr(const Napi::Object& o) {
  nl::nft::Expr e;
  e.name = str(o, "name");
  e.dreg = num<uint32_t>(o, "dreg");
  e.sreg = num<uint32_t>(o, "sreg");
  e.key = num<uint32_t>(o, "key");
  e.base = num<uint32_t>(o, "base");
  e.offset = num<uint32_t>(o, "offset");
  e.len = num<uint32_t>(o, "len");
  e.op = num<uint32_t>(o, "op");
  e.result = num<uint32_t>(o, "result");
  e.flags = num<uint32_t>(o, "flags");
  e.type = num<uint32_t>(o, "type");
  e.family = num<uint32_t>(o, "family");
  e.reg_addr = num<uint32_t>(o, "regAddr");
  e.reg_proto = num<uint32_t>(o, "regProto");
  e.data = bytes(o, "data");
  e.mask = bytes(o, "mask");
  e.xor_ = bytes(o, "xor");
  e.verdict = opt_num<int32_t>(o, "verdict");
  return e;
}

nl::nft::Msg to_nft_msg(const Napi::Object& o) {
  nl::nft::Msg m;
  std::string t = str(o, "type");
  using T = nl::nft::MsgType;
  if (t == "newtable") m.type = T::NewTable;
  else if (t == "deltable") m.type = T::DelTable;
  else if (t == "newchain") m.type = T::NewChain;
  else if (t == "delchain") m.type = T::DelChain;
  else if (t == "newrule") m.type = T::NewRule;
  else if (t == "delrule") m.type = T::DelRule;
  else throw Napi::TypeError::New(o.Env(), "native spec: unknown nft message type '" + t + "'");
  m.family = num<uint8_t>(o, "family", 2);
  m.table = str(o, "table");
  m.chain = str(o, "chain");
  m.hooknum = opt_num<uint32_t>(o, "hooknum");
  m.priority = num<int32_t>(o, "priority");
  m.chain_type = str(o, "chainType");
  m.policy = opt_num<uint32_t>(o, "policy");
  Napi::Value h = o.Get("handle");
  if (h.IsBigInt()) {
    bool lossless = true;
    m.handle = h.As<Napi::BigInt>().Uint64Value(&lossless);
  } else if (h.IsNumber()) {
    m.handle = static_cast<uint64_t>(h.As<Napi::Number>().Int64Value());
  }
  m.userdata = bytes(o, "userdata");
  Napi::Value ex = o.Get("exprs");
  if (ex.IsArray()) {
    auto a = ex.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) m.exprs.push_back(to_expr(a.Get(i).As<Napi::Object>()));
  }
  return m;
}

// ---------------------------------------------------------------- C++ -> JS

Napi::Object from_neigh(Napi::Env env, const nl::rtnl::NeighInfo& n) {
  auto o = Napi::Object::New(env);
  o.Set("family", n.family == AF_INET ? 4 : n.family == AF_INET6 ? 6 : n.family == AF_BRIDGE ? 7 : n.family);
  o.Set("index", n.index);
  o.Set("state", n.state);
  o.Set("flags", n.flags);
  o.Set("dst", nl::format_ip(n.dst));
  o.Set("lladdr", nl::format_mac(n.lladdr));
  if (n.vlan >= 0) o.Set("vlan", n.vlan);
  if (n.vni >= 0) o.Set("vni", static_cast<double>(n.vni));
  o.Set("master", n.master);
  return o;
}

Napi::Object from_rule(Napi::Env env, const nl::rtnl::RuleInfo& r) {
  auto o = Napi::Object::New(env);
  o.Set("family", r.family == AF_INET ? 4 : 6);
  o.Set("dst", nl::format_ip(r.dst));
  o.Set("dstLen", r.dst_len);
  o.Set("src", nl::format_ip(r.src));
  o.Set("srcLen", r.src_len);
  o.Set("tos", r.tos);
  o.Set("action", r.action);
  o.Set("flags", r.flags);
  o.Set("table", r.table);
  if (r.priority) o.Set("priority", *r.priority);
  if (r.fwmark) o.Set("fwmark", *r.fwmark);
  if (r.fwmask) o.Set("fwmask", *r.fwmask);
  o.Set("iifname", r.iifname);
  o.Set("oifname", r.oifname);
  return o;
}

Napi::Object from_link(Napi::Env env, const nl::rtnl::LinkInfo& l) {
  auto o = Napi::Object::New(env);
  o.Set("index", l.index);
  o.Set("name", l.name);
  o.Set("kind", l.kind);
  o.Set("slaveKind", l.slave_kind);
  o.Set("flags", l.flags);
  o.Set("type", l.type);
  o.Set("mtu", l.mtu);
  o.Set("minMtu", l.min_mtu);
  o.Set("maxMtu", l.max_mtu);
  o.Set("mac", nl::format_mac(l.mac));
  o.Set("broadcast", nl::format_mac(l.broadcast));
  o.Set("operstate", l.operstate);
  o.Set("master", l.master);
  o.Set("link", l.link);
  o.Set("linkNetnsid", l.link_netnsid);
  o.Set("group", l.group);
  o.Set("txqlen", l.txqlen);
  o.Set("alias", l.alias);
  o.Set("stp", l.br_stp);
  o.Set("vlanFiltering", l.br_vlan_filtering);
  if (l.macvlan_mode) o.Set("macvlanMode", l.macvlan_mode);
  if (l.vxlan) {
    auto x = Napi::Object::New(env);
    x.Set("id", l.vxlan->id);
    x.Set("port", l.vxlan->port);
    if (!l.vxlan->group.empty()) x.Set("group", nl::format_ip(l.vxlan->group));
    if (!l.vxlan->local.empty()) x.Set("local", nl::format_ip(l.vxlan->local));
    if (l.vxlan->link) x.Set("link", l.vxlan->link);
    o.Set("vxlan", x);
  }
  return o;
}

Napi::Object from_addr(Napi::Env env, const nl::rtnl::AddrInfo& a) {
  auto o = Napi::Object::New(env);
  o.Set("family", a.family == AF_INET ? 4 : 6);
  o.Set("prefixlen", a.prefixlen);
  o.Set("scope", a.scope);
  o.Set("flags", a.flags);
  o.Set("index", a.index);
  o.Set("local", nl::format_ip(a.local));
  o.Set("address", nl::format_ip(a.address));
  o.Set("broadcast", nl::format_ip(a.broadcast));
  o.Set("label", a.label);
  o.Set("validLft", a.valid_lft);
  o.Set("preferredLft", a.preferred_lft);
  return o;
}

Napi::Object from_route(Napi::Env env, const nl::rtnl::RouteInfo& r) {
  // Dumps convert thousands of these: set only what is there (each property
  // set is a separate call into V8).
  auto o = Napi::Object::New(env);
  o.Set("family", r.family == AF_INET ? 4 : r.family == AF_INET6 ? 6 : r.family);
  o.Set("dst", nl::format_ip(r.dst));
  o.Set("dstLen", r.dst_len);
  if (r.src_len) {
    o.Set("src", nl::format_ip(r.src));
    o.Set("srcLen", r.src_len);
  }
  if (!r.gateway.empty()) o.Set("gateway", nl::format_ip(r.gateway));
  if (!r.prefsrc.empty()) o.Set("prefsrc", nl::format_ip(r.prefsrc));
  if (r.oif) o.Set("oif", r.oif);
  if (r.iif) o.Set("iif", r.iif);
  o.Set("table", r.table);
  if (r.priority) o.Set("priority", *r.priority);
  o.Set("protocol", r.protocol);
  o.Set("scope", r.scope);
  o.Set("type", r.type);
  o.Set("flags", r.flags);
  if (r.mtu) o.Set("mtu", r.mtu);
  if (!r.multipath.empty()) {
    auto mp = Napi::Array::New(env, r.multipath.size());
    for (size_t i = 0; i < r.multipath.size(); ++i) {
      auto nh = Napi::Object::New(env);
      nh.Set("gateway", nl::format_ip(r.multipath[i].gateway));
      nh.Set("oif", r.multipath[i].oif);
      nh.Set("weight", r.multipath[i].weight);
      mp.Set(i, nh);
    }
    o.Set("multipath", mp);
  }
  return o;
}

// The plain object lib/ turns into a NetlinkError in the caller's frame.
Napi::Object from_error(Napi::Env env, const nl::Error& e) {
  auto o = Napi::Object::New(env);
  o.Set("errno", e.err);
  o.Set("syscall", e.syscall);
  if (!e.extack.empty()) o.Set("extack", e.extack);
  if (e.offset >= 0) o.Set("offset", static_cast<double>(e.offset));
  if (!e.attribute.empty()) o.Set("attribute", e.attribute);
  if (e.missing_type >= 0) o.Set("missingAttribute", e.missing.empty() ? std::to_string(e.missing_type) : e.missing);
  if (!e.detail.empty()) o.Set("detail", e.detail);
  if (e.dump_interrupted) o.Set("dumpInterrupted", true);
  o.Set("native", true);
  return o;
}

// The same shape as a JS Error, for what is thrown synchronously (a
// constructor): lib turns it into a NetlinkError (errors.ts, fromNative).
Napi::Error native_exception(Napi::Env env, const nl::Error& e) {
  auto x = Napi::Error::New(env, e.syscall + ": " + std::strerror(e.err) + (e.detail.empty() ? "" : " — " + e.detail));
  auto o = x.Value();
  auto shape = from_error(env, e);
  for (const char* k : {"errno", "syscall", "detail", "native"})
    if (shape.Has(k)) o.Set(k, shape.Get(k));
  return x;
}

// A promise already rejected with `e` (the plain shape lib's kernel() types).
Napi::Value rejected(Napi::Env env, const nl::Error& e) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(from_error(env, e));
  return d.Promise();
}

// Every entry point runs its body through one of these. A Napi::Error (a
// TypeError of the glue, a failing N-API call) is JS's already; any other C++
// exception — std::bad_alloc, a std::system_error — would pass through
// node-addon-api (which only catches its own) and abort the process: it
// becomes a typed error instead.
//   guard_promise: the entry point returns a promise; it is rejected.
//   guard_throw:   thrown as an Error carrying errno/syscall (lib types it).
template <class F>
Napi::Value guard_promise(Napi::Env env, const char* op, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    nl::Error e = nl::error_of_current_exception(op);
    return rejected(env, e);
  }
}
template <class F>
auto guard_throw(Napi::Env env, const char* op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    nl::Error e = nl::error_of_current_exception(op);
    throw native_exception(env, e);
  }
}

template <class Vec, class F>
Napi::Array to_array(Napi::Env env, const Vec& v, F f) {
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), f(env, v[i]));
  return a;
}

// nftRuleset's result: { gen, consistent, tables, chains, rules }, with the
// optional fields left out when unset (hooknum, policy, verdict, natType).
Napi::Object from_ruleset(Napi::Env env, const nl::nft::RulesetRequest& r) {
  auto res = Napi::Object::New(env);
  res.Set("gen", r.gen);
  res.Set("consistent", r.consistent);
  res.Set("tables", to_array(env, r.tables, [](Napi::Env e, const nl::nft::TableSummary& t) {
    auto o = Napi::Object::New(e);
    o.Set("family", t.family);
    o.Set("name", t.name);
    o.Set("flags", t.flags);
    o.Set("handle", Napi::BigInt::New(e, t.handle));
    return o;
  }));
  res.Set("chains", to_array(env, r.chains, [](Napi::Env e, const nl::nft::ChainSummary& c) {
    auto o = Napi::Object::New(e);
    o.Set("family", c.family);
    o.Set("table", c.table);
    o.Set("name", c.name);
    o.Set("handle", Napi::BigInt::New(e, c.handle));
    o.Set("type", c.type);
    if (c.hooknum) o.Set("hooknum", *c.hooknum);
    o.Set("priority", c.priority);
    if (c.policy) o.Set("policy", *c.policy);
    if (!c.dev.empty()) o.Set("dev", c.dev);
    o.Set("flags", c.flags);
    return o;
  }));
  res.Set("rules", to_array(env, r.rules, [](Napi::Env e, const nl::nft::RuleSummary& x) {
    auto o = Napi::Object::New(e);
    o.Set("family", x.family);
    o.Set("table", x.table);
    o.Set("chain", x.chain);
    o.Set("handle", Napi::BigInt::New(e, x.handle));
    o.Set("userdata", Napi::Buffer<uint8_t>::Copy(e, x.userdata.data(), x.userdata.size()));
    o.Set("exprs", to_array(e, x.exprs, [](Napi::Env e2, const nl::nft::ExprSummary& ex) {
      auto y = Napi::Object::New(e2);
      y.Set("name", ex.name);
      if (ex.verdict) y.Set("verdict", *ex.verdict);
      if (!ex.chain.empty()) y.Set("chain", ex.chain);
      if (ex.nat_type) y.Set("natType", *ex.nat_type);
      for (auto [k, v] : {std::pair{"family", ex.family}, {"base", ex.base}, {"offset", ex.offset}, {"len", ex.len},
                          {"dreg", ex.dreg}, {"sreg", ex.sreg}, {"op", ex.op}, {"key", ex.key}, {"type", ex.type}})
        if (v) y.Set(k, v);
      if (ex.dreg_set) y.Set("hasDreg", true);
      if (!ex.set.empty()) y.Set("set", ex.set);
      if (!ex.data.empty()) y.Set("data", Napi::Buffer<uint8_t>::Copy(e2, ex.data.data(), ex.data.size()));
      return y;
    }));
    return o;
  }));
  return res;
}

// ---------------------------------------------------------------- handle

class HandleWrap;
void CallDrain(Napi::Env env, Napi::Function, HandleWrap* self, void*);
using Tsfn = Napi::TypedThreadSafeFunction<HandleWrap, void, CallDrain>;

// Bridges the I/O thread's deliveries to the JS thread: one thread-safe call
// per pile of finished batches, however many requests they hold.
class Bridge : public nl::Handle::Sink {
 public:
  Tsfn tsfn;
  std::mutex mu;
  nl::Handle::Batch done;
  bool scheduled = false;
  bool is_closed = false;

  // Set, under mu, when the TSFN has been finalized: Node frees it when its
  // environment ends (a worker terminated) even while this handle's I/O
  // thread still holds it, so from then on nothing may call it.
  bool dead = false;
  std::weak_ptr<nl::Handle> handle;

  void deliver(nl::Handle::Batch&& b) override {
    std::lock_guard<std::mutex> lk(mu);
    done.reserve(done.size() + b.size());  // may throw (the I/O thread retries); the moves below cannot
    for (auto& r : b) done.push_back(std::move(r));
    kick();
  }
  void closed() override {
    std::lock_guard<std::mutex> lk(mu);
    is_closed = true;
    if (dead) return;
    kick();
    tsfn.Release();
  }

  // The TSFN's finalizer, on the JS thread: after a normal close, or when
  // the environment goes away with the handle still open. Then the I/O
  // thread drops what it has not sent yet and closes, and what it still
  // delivers is dropped.
  static void finalized(const std::shared_ptr<Bridge>& b) {
    std::shared_ptr<nl::Handle> h;
    {
      std::lock_guard<std::mutex> lk(b->mu);
      b->dead = true;
      h = b->handle.lock();
    }
    if (h) h->abandon();
  }

 private:
  void kick() {
    if (scheduled || dead) return;
    scheduled = true;
    tsfn.NonBlockingCall();
  }
};

// After requests are handed to an I/O thread, keeps the event loop from
// going to sleep in epoll_wait for a moment (an active idle handle makes its
// poll timeout 0), so a quick answer is picked up at once instead of paying
// for waking this thread: that wake-up is most of an awaited request's round
// trip. The loop keeps running timers and I/O meanwhile; the handle is unref'd
// (it never keeps the process alive) and stops itself kSpinNanos after the
// last hand-over. One per Node environment (main thread or worker).
class Spinner {
 public:
  static constexpr uint64_t kSpinNanos = 50'000;

  static Spinner* of(Napi::Env env) {
    if (auto* s = env.GetInstanceData<Spinner>()) return s;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return nullptr;
    auto* s = new Spinner();
    uv_idle_init(loop, &s->idle_);
    s->idle_.data = s;
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->idle_));
    s->env_ = env;
    env.SetInstanceData<Spinner, &Spinner::forget>(s);
    // When the environment goes away (process exit, a worker ending), the
    // handle is closed while its loop still runs, and the close frees the Spinner.
    napi_add_env_cleanup_hook(env, &Spinner::cleanup, s);
    return s;
  }

  void extend() {
    deadline_ = uv_hrtime() + kSpinNanos;
    if (!active_) {
      uv_idle_start(&idle_, &Spinner::tick);
      active_ = true;
    }
  }

 private:
  static void tick(uv_idle_t* h) {
    auto* s = static_cast<Spinner*>(h->data);
    if (uv_hrtime() >= s->deadline_) {
      uv_idle_stop(h);
      s->active_ = false;
      return;
    }
    // When this CPU is shared (the I/O thread, V8's GC helpers, the kernel's
    // own work on a busy machine), let whoever else is runnable go first.
    sched_yield();
  }
  static void cleanup(void* arg) {
    auto* s = static_cast<Spinner*>(arg);
    napi_set_instance_data(s->env_, nullptr, nullptr, nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->idle_), [](uv_handle_t* h) { delete static_cast<Spinner*>(h->data); });
  }
  static void forget(Napi::Env, Spinner*) {}  // freed by cleanup()

  napi_env env_ = nullptr;
  uv_idle_t idle_{};
  uint64_t deadline_ = 0;
  bool active_ = false;
};

class HandleWrap : public Napi::ObjectWrap<HandleWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Handle",
                       {InstanceMethod("ready", &HandleWrap::Ready),
                        InstanceMethod("link", &HandleWrap::Guarded<&HandleWrap::Kernel<nl::rtnl::LinkSpec, from_object<nl::rtnl::LinkSpec, to_link>, nl::rtnl::link_request>>),
                        InstanceMethod("addr", &HandleWrap::Guarded<&HandleWrap::Kernel<nl::rtnl::AddrSpec, to_addr, nl::rtnl::addr_request>>),
                        InstanceMethod("route", &HandleWrap::Guarded<&HandleWrap::Kernel<nl::rtnl::RouteSpec, to_route, nl::rtnl::route_request>>),
                        InstanceMethod("neigh", &HandleWrap::Guarded<&HandleWrap::Kernel<nl::rtnl::NeighSpec, from_object<nl::rtnl::NeighSpec, to_neigh>, nl::rtnl::neigh_request>>),
                        InstanceMethod("rule", &HandleWrap::Guarded<&HandleWrap::Kernel<nl::rtnl::RuleSpec, from_object<nl::rtnl::RuleSpec, to_rule>, nl::rtnl::rule_request>>),
                        InstanceMethod("socket", &HandleWrap::Guarded<&HandleWrap::Socket>), InstanceMethod("sysctl", &HandleWrap::Guarded<&HandleWrap::Sysctl>),
                        InstanceMethod("nsid", &HandleWrap::Guarded<&HandleWrap::Nsid>), InstanceMethod("setNsid", &HandleWrap::Guarded<&HandleWrap::SetNsid>),
                        InstanceMethod("nftBatch", &HandleWrap::Guarded<&HandleWrap::NftBatch>), InstanceMethod("nftDump", &HandleWrap::Guarded<&HandleWrap::NftDump>),
                        InstanceMethod("nftRuleset", &HandleWrap::Guarded<&HandleWrap::NftRuleset>),
                        InstanceMethod("ctFlush", &HandleWrap::Guarded<&HandleWrap::CtFlush>),
                        InstanceMethod("close", &HandleWrap::Guarded<&HandleWrap::Close>),
                        InstanceAccessor("pending", &HandleWrap::Pending, nullptr)});
  }

  // new Handle(mode: 'path' | 'name' | 'create' | 'current', path: string)
  // new Handle('fd', what: string, fd: number): the namespace of fd, dup'd
  // now, synchronously: fd may be closed (and its number reused) right after.
  HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HandleWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
      throw Napi::TypeError::New(env, "Handle(mode, path)");
    std::string mode = info[0].As<Napi::String>();
    if (mode == "fd" && !info[2].IsNumber()) throw Napi::TypeError::New(env, "Handle('fd', what, fd)");
    auto open = guard_throw(env, "open", [&] {
      auto o = std::make_unique<nl::OpenRequest>();
      o->op = "open";
      o->path = info[1].As<Napi::String>();
      return o;
    });
    if (mode == "fd") {
      open->pinned_fd = fcntl(info[2].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
      if (open->pinned_fd < 0) throw native_exception(env, nl::dup_fd_error(errno, "the namespace's fd"));
    }
    if (mode == "create") open->mode = nl::OpenRequest::Mode::Create;
    else if (mode == "current") open->mode = nl::OpenRequest::Mode::Current;
    else open->mode = nl::OpenRequest::Mode::Path;
    open->nofollow = mode == "name";  // a /run/netns entry: never follow a symbolic link

    std::unique_ptr<std::shared_ptr<Bridge>> keep;
    guard_throw(env, "open", [&] {
      spinner_ = Spinner::of(env);
      bridge_ = std::make_shared<Bridge>();
      keep = std::make_unique<std::shared_ptr<Bridge>>(bridge_);
    });
    // The wrapper stays alive until its I/O thread has closed: the TSFN's
    // finalizer drops this reference.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    bridge_->tsfn = Tsfn::New(
        env, "netplumb-handle", 0, 1, this,
        [](Napi::Env, std::shared_ptr<Bridge>* bridge, HandleWrap* self) {
          Bridge::finalized(*bridge);
          delete bridge;
          self->self_.Reset();
        },
        keep.get());
    keep.release();  // the finalizer owns it now
    bridge_->tsfn.Unref(env);  // an idle handle does not keep the process alive
    nl::Request* opening = open.get();
    try {
      auto d = Napi::Promise::Deferred::New(env);
      ready_ = Napi::Persistent(d.Promise().As<Napi::Object>());
      track(env, opening, d);
      nl::Error err;
      handle_ = nl::Handle::start(std::move(open), bridge_, &err);
      if (!handle_) {
        // No I/O thread: nothing was opened or created. ready() rejects
        // (pthread_create, EAGAIN/ENOMEM), the handle is closed from the start.
        pending_.erase(opening);
        d.Reject(from_error(env, err));
        StartClosed(env);
        return;
      }
    } catch (...) {
      // Out of memory before the thread started (it never did): the same.
      pending_.erase(opening);
      nl::Error e = nl::error_of_current_exception("open");
      StartClosed(env);
      throw native_exception(env, e);
    }
    std::lock_guard<std::mutex> lk(bridge_->mu);
    bridge_->handle = handle_;
  }

  // A handle whose thread never started: closed, close() resolves at once,
  // and the TSFN (nobody will call it) is released, which drops self_.
  void StartClosed(Napi::Env env) {
    closed_ = true;
    auto c = Napi::Promise::Deferred::New(env);
    c.Resolve(env.Undefined());
    close_promise_ = Napi::Persistent(c.Promise().As<Napi::Object>());
    refd_ = false;
    bridge_->tsfn.Release();
  }

  // Settles at most this many promises per turn of the event loop: each
  // settlement runs the awaiting code's continuation (as microtasks, before
  // control returns to the loop), so a pile of 256 completions at once would
  // otherwise hold timers and I/O back for its whole duration.
  static constexpr size_t kSettlePerTurn = 16;
  // Staged requests handed to the I/O thread at once, without waiting for the microtask.
  static constexpr size_t kFlushEarly = 32;

  void Drain(Napi::Env env) {
    nl::Handle::Batch batch;
    bool now_closed;
    {
      std::lock_guard<std::mutex> lk(bridge_->mu);
      // Take a slice when more is waiting and the next turn can be signalled
      // (after the thread has closed it cannot: then take everything).
      bool sliced = false;
      if (bridge_->done.size() > kSettlePerTurn && bridge_->tsfn.NonBlockingCall() == napi_ok) {
        auto mid = bridge_->done.begin() + kSettlePerTurn;
        try {
          batch.assign(std::make_move_iterator(bridge_->done.begin()), std::make_move_iterator(mid));
          bridge_->done.erase(bridge_->done.begin(), mid);
          sliced = true;
        } catch (...) {
          batch.clear();  // no memory for a slice: take everything (the next call finds nothing)
        }
      }
      if (!sliced) {
        batch.swap(bridge_->done);
        bridge_->scheduled = false;
      }
      now_closed = bridge_->is_closed && bridge_->done.empty();
    }
    Napi::HandleScope scope(env);
    // Each request is settled on its own: one that cannot be settled must not
    // leave the others' promises (and their pending_ entries) behind.
    std::string failure;
    for (auto& r : batch) {
      auto it = pending_.find(r.get());
      if (it == pending_.end()) continue;
      Napi::Promise::Deferred d = it->second;
      pending_.erase(it);
      try {
        Settle(env, r.get(), d);
      } catch (const Napi::Error& e) {
        if (failure.empty()) failure = std::string("netplumb: settling a request failed: ") + e.what();
      } catch (...) {
        // Out of memory converting the result: the request fails, typed.
        try {
          d.Reject(from_error(env, nl::error_of_current_exception(r->op)));
        } catch (...) {
        }
      }
    }
    if (pending_.empty() && !closed_ && refd_) {
      bridge_->tsfn.Unref(env);
      refd_ = false;
    }
    if (now_closed && close_) {
      close_->Resolve(env.Undefined());
      close_.reset();
    }
    // Where JS can still run this surfaces as an uncaught exception; in an
    // environment being torn down (a terminated worker) the throw just fails.
    if (!failure.empty()) napi_throw_error(env, nullptr, failure.c_str());
  }

  // Resolves or rejects one finished request's promise with its result.
  void Settle(Napi::Env env, nl::Request* r, Napi::Promise::Deferred& d) {
    if (r->error) {
      auto e = from_error(env, *r->error);
      if (r->kind == nl::Request::Kind::NftBatch) e.Set("index", static_cast<nl::nft::BatchRequest*>(r)->failed_index);
      d.Reject(e);
    } else if (r->kind == nl::Request::Kind::Open) {
      auto* o = static_cast<nl::OpenRequest*>(r);
      auto res = Napi::Object::New(env);
      res.Set("fd", o->ns_fd);
      res.Set("dev", static_cast<double>(o->id.dev));
      res.Set("ino", static_cast<double>(o->id.ino));
      d.Resolve(res);
    } else if (r->kind == nl::Request::Kind::Link) {
      d.Resolve(to_array(env, static_cast<nl::rtnl::LinkRequest*>(r)->links, from_link));
    } else if (r->kind == nl::Request::Kind::Addr) {
      d.Resolve(to_array(env, static_cast<nl::rtnl::AddrRequest*>(r)->addrs, from_addr));
    } else if (r->kind == nl::Request::Kind::Route) {
      d.Resolve(to_array(env, static_cast<nl::rtnl::RouteRequest*>(r)->routes, from_route));
    } else if (r->kind == nl::Request::Kind::Neigh) {
      d.Resolve(to_array(env, static_cast<nl::rtnl::NeighRequest*>(r)->neighs, from_neigh));
    } else if (r->kind == nl::Request::Kind::Rule) {
      d.Resolve(to_array(env, static_cast<nl::rtnl::RuleRequest*>(r)->rules, from_rule));
    } else if (r->kind == nl::Request::Kind::Socket) {
      auto* sr = static_cast<nl::SocketRequest*>(r);
      d.Resolve(Napi::Number::New(env, sr->fd));
      sr->fd = -1;  // JS owns it now
    } else if (r->kind == nl::Request::Kind::Sysctl) {
      d.Resolve(Napi::String::New(env, static_cast<nl::SysctlRequest*>(r)->value));
    } else if (r->kind == nl::Request::Kind::NftDump) {
      auto* dr = static_cast<nl::nft::DumpRequest*>(r);
      auto res = Napi::Object::New(env);
      res.Set("exists", dr->table_exists);
      res.Set("genid", dr->genid);
      res.Set("tableUserdata", Napi::Buffer<uint8_t>::Copy(env, dr->table_userdata.data(), dr->table_userdata.size()));
      auto chains = Napi::Array::New(env, dr->chains.size());
      for (size_t i = 0; i < dr->chains.size(); ++i) {
        auto c = Napi::Object::New(env);
        c.Set("table", dr->chains[i].table);
        c.Set("name", dr->chains[i].name);
        c.Set("type", dr->chains[i].type);
        c.Set("hooknum", static_cast<double>(dr->chains[i].hooknum));
        c.Set("priority", dr->chains[i].priority);
        c.Set("policy", dr->chains[i].policy);
        chains.Set(static_cast<uint32_t>(i), c);
      }
      auto rules = Napi::Array::New(env, dr->rules.size());
      for (size_t i = 0; i < dr->rules.size(); ++i) {
        auto x = Napi::Object::New(env);
        x.Set("table", dr->rules[i].table);
        x.Set("chain", dr->rules[i].chain);
        x.Set("handle", Napi::BigInt::New(env, dr->rules[i].handle));
        x.Set("userdata", Napi::Buffer<uint8_t>::Copy(env, dr->rules[i].userdata.data(), dr->rules[i].userdata.size()));
        rules.Set(static_cast<uint32_t>(i), x);
      }
      res.Set("chains", chains);
      res.Set("rules", rules);
      d.Resolve(res);
    } else if (r->kind == nl::Request::Kind::NftRuleset) {
      d.Resolve(from_ruleset(env, *static_cast<nl::nft::RulesetRequest*>(r)));
    } else if (r->kind == nl::Request::Kind::Nsid) {
      d.Resolve(Napi::Number::New(env, static_cast<nl::rtnl::NsidRequest*>(r)->nsid));
    } else if (r->kind == nl::Request::Kind::CtFlush) {
      d.Resolve(Napi::Number::New(env, static_cast<nl::ct::FlushRequest*>(r)->deleted));
    } else {
      d.Resolve(env.Undefined());
    }
  }

 private:
  // Every promise-returning method: a C++ exception rejects its promise, typed.
  template <Napi::Value (HandleWrap::*M)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return guard_promise(info.Env(), "request", [&] { return (this->*M)(info); });
  }

  Napi::Value Ready(const Napi::CallbackInfo&) { return ready_.Value(); }
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }

  Napi::Value Submit(Napi::Env env, std::unique_ptr<nl::Request> req, const nl::Error& err) {
    auto d = Napi::Promise::Deferred::New(env);
    if (!req) {
      d.Reject(from_error(env, err));
    } else if (closed_) {
      d.Reject(from_error(env, nl::Error::sys(EBADF, req->op, "the namespace handle is closed")));
    } else {
      // Whatever can fail for memory comes first: once tracked, the request
      // is staged without allocating (a tracked request that was not staged
      // would leave a promise nobody settles).
      staged_.reserve(staged_.size() + 1);
      track(env, req.get(), d);
      Stage(env, std::move(req));
    }
    return d.Promise();
  }

  // Requests made during one turn of JS are handed to the I/O thread together,
  // from a microtask: one lock and one wake-up for a whole Promise.all, and the
  // thread sees the pile at once (one sendmsg). An awaited single request pays
  // only for the microtask.
  void StageOrFlush(Napi::Env env, std::unique_ptr<nl::Request> req) {
    staged_.push_back(std::move(req));
    // A long burst is handed over in slices as it grows, so the I/O thread
    // and the kernel start on the first requests while JS is still making
    // the rest (two cores working instead of one after the other).
    if (staged_.size() >= kFlushEarly) Flush();
    if (flush_scheduled_) return;
    flush_scheduled_ = true;
    if (flush_fn_.IsEmpty()) {
      flush_fn_ = Napi::Persistent(Napi::Function::New(env, [this](const Napi::CallbackInfo&) {
        flush_scheduled_ = false;
        Flush();
      }));
      queue_microtask_ = Napi::Persistent(env.Global().Get("queueMicrotask").As<Napi::Function>());
    }
    queue_microtask_.Call({flush_fn_.Value()});
  }
  void Stage(Napi::Env env, std::unique_ptr<nl::Request> req) {
    // Staged requests must reach the I/O thread even if the microtask cannot
    // be queued (the request is tracked already): then hand them over now.
    try {
      StageOrFlush(env, std::move(req));
    } catch (...) {
      flush_scheduled_ = false;
      Flush();
      throw;
    }
  }

  void Flush() {
    if (staged_.empty()) return;
    std::vector<std::unique_ptr<nl::Request>> out;
    out.swap(staged_);
    handle_->submit(std::move(out));
    if (spinner_) spinner_->extend();
  }

  // One method per request kind: convert the JS spec, build the message, queue it.
  template <class Spec, Spec (*Convert)(const Napi::CallbackInfo&), std::unique_ptr<nl::Request> (*Build)(const Spec&, nl::Error*)>
  Napi::Value Kernel(const Napi::CallbackInfo& info) {
    nl::Error err;
    auto req = Build(Convert(info), &err);
    return Submit(info.Env(), std::move(req), err);
  }

  // socket({ domain: 4|6, type: 'stream'|'dgram', bind?: Uint8Array, port?: number })
  Napi::Value Socket(const Napi::CallbackInfo& info) {
    auto o = info[0].As<Napi::Object>();
    auto req = std::make_unique<nl::SocketRequest>();
    // socket({ netlinkGroups }): a monitor socket (read with Watcher).
    if (auto groups = opt_num<uint32_t>(o, "netlinkGroups")) {
      req->netlink_groups = *groups;
      return Submit(info.Env(), std::move(req), nl::Error{});
    }
    req->domain = num<int>(o, "domain") == 6 ? AF_INET6 : AF_INET;
    req->type = str(o, "type") == "dgram" ? SOCK_DGRAM : SOCK_STREAM;
    req->bind_addr = opt_bytes(o, "bind");
    req->port = num<uint16_t>(o, "port");
    // SO_REUSEADDR lets a TCP listener rebind over TIME_WAIT; on UDP it would
    // let a second socket silently share (and steal from) a bound port.
    req->reuseaddr = req->type == SOCK_STREAM;
    return Submit(info.Env(), std::move(req), nl::Error{});
  }
  // sysctl({ path: 'ipv4/ip_forward', write?: '1' })
  Napi::Value Sysctl(const Napi::CallbackInfo& info) {
    auto o = info[0].As<Napi::Object>();
    auto req = std::make_unique<nl::SysctlRequest>();
    req->path = str(o, "path");
    Napi::Value w = o.Get("write");
    if (w.IsString()) req->write = w.As<Napi::String>().Utf8Value();
    return Submit(info.Env(), std::move(req), nl::Error{});
  }
  // nftBatch([msg...], genid?): one atomic nf_tables transaction (refused with ERESTART if genid is stale).
  Napi::Value NftBatch(const Napi::CallbackInfo& info) {
    if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "nftBatch(messages[])");
    auto a = info[0].As<Napi::Array>();
    auto req = std::make_unique<nl::nft::BatchRequest>();
    for (uint32_t i = 0; i < a.Length(); ++i) req->msgs.push_back(to_nft_msg(a.Get(i).As<Napi::Object>()));
    if (info[1].IsNumber()) req->genid = info[1].As<Napi::Number>().Uint32Value();
    return Submit(info.Env(), std::move(req), nl::Error{});
  }
  // nftDump({ family, table }): the chains and rules of one table.
  Napi::Value NftDump(const Napi::CallbackInfo& info) {
    auto o = info[0].As<Napi::Object>();
    auto req = std::make_unique<nl::nft::DumpRequest>();
    req->family = num<uint8_t>(o, "family", 2);
    req->table = str(o, "table");
    return Submit(info.Env(), std::move(req), nl::Error{});
  }

  // ctFlush({ proto, dportMin, dportMax, to? }): deletes the matching IPv4
  // conntrack entries; resolves with how many.
  Napi::Value CtFlush(const Napi::CallbackInfo& info) {
    auto o = info[0].As<Napi::Object>();
    auto req = std::make_unique<nl::ct::FlushRequest>();
    req->proto = num<uint8_t>(o, "proto", 17);
    req->dport_min = num<uint16_t>(o, "dportMin", 0);
    req->dport_max = num<uint16_t>(o, "dportMax", 65535);
    auto to = bytes(o, "to");
    if (to.size() == 4) req->to = std::array<uint8_t, 4>{to[0], to[1], to[2], to[3]};
    return Submit(info.Env(), std::move(req), nl::Error{});
  }

  // nftRuleset({ genOnly?, skipRules?: [{ family, table }] }): every table,
  // chain and rule of every family, with the ruleset generation (read only).
  Napi::Value NftRuleset(const Napi::CallbackInfo& info) {
    auto req = std::make_unique<nl::nft::RulesetRequest>();
    if (info.Length() > 0 && info[0].IsObject()) {
      auto o = info[0].As<Napi::Object>();
      req->gen_only = opt_bool(o, "genOnly").value_or(false);
      Napi::Value skip = o.Get("skipRules");
      if (skip.IsArray()) {
        auto a = skip.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
          auto t = a.Get(i).As<Napi::Object>();
          req->skip_rules.emplace_back(num<uint8_t>(t, "family"), str(t, "table"));
        }
      }
    }
    return Submit(info.Env(), std::move(req), nl::Error{});
  }

  Napi::Value SetNsid(const Napi::CallbackInfo& info) {
    nl::Error err;
    auto req = nl::rtnl::set_nsid_request(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), &err);
    return Submit(info.Env(), std::move(req), err);
  }

  Napi::Value Nsid(const Napi::CallbackInfo& info) {
    nl::Error err;
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "nsid(fd)");
    auto req = nl::rtnl::nsid_request(info[0].As<Napi::Number>().Int32Value(), &err);
    return Submit(info.Env(), std::move(req), err);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!closed_) {
      auto close = std::make_unique<Napi::Promise::Deferred>(env);  // allocated before anything changes
      close_promise_ = Napi::Persistent(close->Promise().As<Napi::Object>());
      close_ = std::move(close);
      closed_ = true;
      if (!refd_) {
        bridge_->tsfn.Ref(env);  // until the thread says it has closed
        refd_ = true;
      }
      Flush();  // what was asked before close() still runs
      handle_->close();
    }
    return close_promise_.Value();
  }

  void track(Napi::Env env, nl::Request* r, Napi::Promise::Deferred d) {
    if (!refd_) {
      bridge_->tsfn.Ref(env);
      refd_ = true;
    }
    pending_.emplace(r, d);
  }

  std::shared_ptr<Bridge> bridge_;
  std::shared_ptr<nl::Handle> handle_;
  Spinner* spinner_ = nullptr;
  std::unordered_map<nl::Request*, Napi::Promise::Deferred> pending_;
  Napi::ObjectReference self_;
  Napi::ObjectReference ready_;
  Napi::ObjectReference close_promise_;
  std::unique_ptr<Napi::Promise::Deferred> close_;
  std::vector<std::unique_ptr<nl::Request>> staged_;
  bool flush_scheduled_ = false;
  Napi::FunctionReference flush_fn_, queue_microtask_;
  bool closed_ = false;
  bool refd_ = false;
};

// Watcher(fd, callback): reads a netlink monitor socket (socket({ netlinkGroups }))
// on the JS thread whenever libuv says it is readable: non-blocking reads of
// what the kernel already queued, never a wait. Each readable turn calls
// callback(events) once, events being [{ type: 'link' | 'address' | 'route',
// action: 'new' | 'del', raw }] and { type: 'overrun' } when the kernel
// dropped notifications (ENOBUFS). close() stops it and closes the fd.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod("close", &Watcher::Close), InstanceMethod("ref", &Watcher::Ref),
                        InstanceMethod("unref", &Watcher::Unref)});
  }

  Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "Watcher(fd, callback)");
    // What can fail (memory, N-API) comes before the poll handle exists; a
    // failure is thrown typed and the caller closes the fd.
    guard_throw(env, "uv_poll_init", [&] {
      callback_ = Napi::Persistent(info[1].As<Napi::Function>());
      context_ = std::make_unique<Napi::AsyncContext>(env, "netplumb-watcher");
      buf_.resize(128 * 1024);
      auto poll = std::make_unique<uv_poll_t>();
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
        throw native_exception(env, nl::Error::sys(EINVAL, "uv_poll_init", "no event loop"));
      self_ = Napi::Persistent(info.This().As<Napi::Object>());  // alive while open
      int fd = info[0].As<Napi::Number>().Int32Value();
      if (int rc = uv_poll_init(loop, poll.get(), fd); rc != 0) {
        self_.Reset();
        throw native_exception(env, nl::Error::sys(-rc, "uv_poll_init", "cannot watch the monitor socket"));
      }
      fd_ = fd;
      poll_ = poll.release();
      poll_->data = this;
      uv_poll_start(poll_, UV_READABLE, &Watcher::OnReadable);
      env_ = env;
      napi_add_env_cleanup_hook(env, &Watcher::Cleanup, this);
    });
  }

  ~Watcher() override { Stop(); }

 private:
  static void OnReadable(uv_poll_t* h, int status, int) {
    auto* w = static_cast<Watcher*>(h->data);
    if (w == nullptr) return;
    // Called from the event loop, not from JS: an exception must not escape.
    // One is expected when a worker is being terminated (its environment can
    // no longer run JS): then there is nobody left to tell.
    try {
      w->Read(status);
    } catch (...) {
      // Napi::Error as above. Out of memory: these events are lost; the
      // socket stays watched and the next ones come (an overrun, in effect).
    }
  }

  void Read(int status) {
    Napi::Env env = env_;
    Napi::HandleScope scope(env);
    auto events = Napi::Array::New(env);
    uint32_t n = 0;
    auto push = [&](const char* type, const char* action, Napi::Value raw) {
      auto e = Napi::Object::New(env);
      e.Set("type", type);
      if (action) e.Set("action", action);
      if (!raw.IsEmpty()) e.Set("raw", raw);
      events.Set(n++, e);
    };
    bool overrun = false;
    for (int i = 0; i < 256; ++i) {  // at most this many datagrams per turn: let the loop breathe
      sockaddr_nl from{};
      socklen_t fromlen = sizeof from;
      ssize_t got = ::recvfrom(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // reading it clears the socket's error
          if (!overrun) push("overrun", nullptr, Napi::Value());
          overrun = true;
          continue;
        }
        break;  // EAGAIN: all read
      }
      if (from.nl_pid != 0) continue;  // only the kernel speaks on these groups
      std::vector<nl::rtnl::Event> evs;
      nl::rtnl::parse_events(nl::bytes(buf_.data(), static_cast<size_t>(got)), &evs);
      for (const auto& e : evs) {
        const char* action = e.added ? "new" : "del";
        if (e.type == nl::rtnl::Event::Type::Link) push("link", action, from_link(env, e.link));
        else if (e.type == nl::rtnl::Event::Type::Addr) push("address", action, from_addr(env, e.addr));
        else push("route", action, from_route(env, e.route));
      }
    }
    // A socket error (the kernel's ENOBUFS) made libuv stop the poll handle
    // before calling us: the error is read now, so watch again.
    if (status < 0 && poll_ && fd_ >= 0) uv_poll_start(poll_, UV_READABLE, &Watcher::OnReadable);
    if (n == 0) return;
    // The C call, not node-addon-api's: in a worker being terminated the call
    // fails with an exception that cannot be fetched, and node-addon-api
    // would abort the process over it.
    napi_value recv = self_.IsEmpty() ? env.Undefined() : self_.Value();
    napi_value argv[] = {events};
    napi_value result;
    if (napi_make_callback(env, *context_, recv, callback_.Value(), 1, argv, &result) == napi_pending_exception) {
      // A listener threw: an uncaught exception, as Node reports one from a
      // socket's 'data' handler (nothing to fetch when JS can no longer run).
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }

  // Stops polling and closes the fd; true if they were open (safe to call twice).
  bool Release() {
    bool open = poll_ != nullptr;
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return open;
  }
  void Stop() {
    if (Release()) napi_remove_env_cleanup_hook(env_, &Watcher::Cleanup, this);
  }
  // The environment is going away (its hooks are being run: nothing to remove).
  static void Cleanup(void* arg) { static_cast<Watcher*>(arg)->Release(); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    self_.Reset();
    return info.Env().Undefined();
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> buf_;
};

void CallDrain(Napi::Env env, Napi::Function, HandleWrap* self, void*) {
  if (env == nullptr || self == nullptr) return;
  // Called from the event loop, not from JS: an exception thrown here would
  // terminate the process. The one expected is a worker being terminated
  // with requests in flight (its environment can no longer run JS): then
  // the promises have nobody left to settle for.
  try {
    self->Drain(env);
  } catch (...) {
    // Napi::Error as above; anything else (no memory) must not end the process either.
  }
}

// Namespace file operations that do not depend on the calling thread's
// namespace (umount, unlink, bind mounts), run off the JS thread on libuv's pool.
class NetnsWorker : public Napi::AsyncWorker {
 public:
  NetnsWorker(Napi::Env env, std::function<bool(nl::Error*)> fn)
      : Napi::AsyncWorker(env), fn_(std::move(fn)), d_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return d_.Promise(); }
  void Execute() override {
    try {
      ok_ = fn_(&err_);
    } catch (...) {
      ok_ = false;
      err_ = nl::error_of_current_exception("netns");
    }
  }
  void OnOK() override {
    try {
      if (ok_) d_.Resolve(Env().Undefined());
      else d_.Reject(from_error(Env(), err_));
    } catch (...) {
      // No memory to report it: the promise is rejected with what can be made.
      try {
        d_.Reject(Env().Undefined());
      } catch (...) {
      }
    }
  }
  // Execute's own exceptions are caught there; this is node-addon-api's SetError path.
  void OnError(const Napi::Error&) override { d_.Reject(from_error(Env(), nl::Error::sys(EIO, "netns", "internal error"))); }

 private:
  std::function<bool(nl::Error*)> fn_;
  Napi::Promise::Deferred d_;
  nl::Error err_;
  bool ok_ = false;
};

// Queues fn on libuv's pool; the promise settles with its outcome. Nothing
// thrown here (no memory for the worker) escapes: the promise rejects.
Napi::Value Queue(Napi::Env env, const char* op, std::function<bool(nl::Error*)> fn) {
  return guard_promise(env, op, [&]() -> Napi::Value {
    auto w = std::make_unique<NetnsWorker>(env, std::move(fn));
    auto p = w->Promise();
    w->Queue();
    w.release();  // deletes itself when done
    return p;
  });
}

// removeNamespace(path, dev?, ino?): `ip netns delete`; with dev and ino, only
// if path is still that namespace.
Napi::Value RemoveNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "removeNamespace(path, dev?, ino?)");
  return guard_promise(info.Env(), "umount2", [&] {
    std::string path = info[0].As<Napi::String>();
    nl::netns::Identity expect;
    if (info[1].IsNumber() && info[2].IsNumber()) {
      expect.dev = static_cast<dev_t>(info[1].As<Napi::Number>().Int64Value());
      expect.ino = static_cast<ino_t>(info[2].As<Napi::Number>().Int64Value());
    }
    return Queue(info.Env(), "umount2", [path, expect](nl::Error* e) { return nl::netns::remove(path, e, expect); });
  });
}

// attachNamespace(path, source): `ip netns attach`.
Napi::Value AttachNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "attachNamespace(path, source)");
  return guard_promise(info.Env(), "mount", [&] {
    std::string path = info[0].As<Napi::String>(), source = info[1].As<Napi::String>();
    return Queue(info.Env(), "mount", [path, source](nl::Error* e) { return nl::netns::attach(path, source, e); });
  });
}

// enterNamespace(fd) -> saved fd, on the calling (JS) thread: only for the
// instant around a fork in ns.spawn(). Failure returns an error object.
Napi::Value EnterNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "enterNamespace(fd)");
  nl::Error err;
  int saved = -1;
  try {
    saved = nl::netns::enter_saving(info[0].As<Napi::Number>().Int32Value(), &err);
  } catch (...) {
    err = nl::error_of_current_exception("setns");
  }
  if (saved < 0) return from_error(info.Env(), err);
  return Napi::Number::New(info.Env(), saved);
}

Napi::Value RestoreNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "restoreNamespace(fd)");
  nl::Error err;
  bool ok = false;
  try {
    ok = nl::netns::restore(info[0].As<Napi::Number>().Int32Value(), &err);
  } catch (...) {
    err = nl::error_of_current_exception("setns");
  }
  if (!ok) return from_error(info.Env(), err);
  return info.Env().Undefined();
}

// tryLock(path) -> fd holding an exclusive flock on path, -1 if another open
// file holds it, or an error object. Never waits (LOCK_NB): lib/lock.ts polls.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "tryLock(path)");
  nl::Error err;
  int fd = -2;
  try {
    fd = nl::lock::try_exclusive(info[0].As<Napi::String>(), &err);
  } catch (...) {
    err = nl::error_of_current_exception("flock");
  }
  if (fd == -2) return from_error(info.Env(), err);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Node unloads an addon when the last environment that loaded it ends (a
  // worker thread exiting). Code of ours can run after that: an I/O thread
  // finishing its close, the Spinner's close callback. Keep this library
  // mapped until the process exits.
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&Init), &self) != 0 && self.dli_fname != nullptr)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  exports.Set("attachNamespace", Napi::Function::New(env, AttachNamespace));
  exports.Set("enterNamespace", Napi::Function::New(env, EnterNamespace));
  exports.Set("restoreNamespace", Napi::Function::New(env, RestoreNamespace));
  exports.Set("Handle", HandleWrap::Init(env));
  exports.Set("removeNamespace", Napi::Function::New(env, RemoveNamespace));
  exports.Set("Watcher", Watcher::Init(env));
  exports.Set("tryLock", Napi::Function::New(env, TryLock));
  return exports;
}

}  // namespace

NODE_API_MODULE(netplumb, Init)
