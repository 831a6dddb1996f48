// C++ -> JS: a decoded kernel object into the plain object lib/native.ts types.
#include "convert.hpp"

#include "../native/format.hpp"

namespace glue {

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

// A kind's data as lib/ reads it back: numbers, addresses formatted, strings.
Napi::Object from_kind_data(Napi::Env env, const nl::rtnl::KindData& d) {
  auto o = Napi::Object::New(env);
  for (const auto& [k, v] : d.values) {
    switch (v.type) {
      case nl::rtnl::KindValue::Type::Num: o.Set(k, static_cast<double>(v.num)); break;
      case nl::rtnl::KindValue::Type::Ip: o.Set(k, nl::format_ip(v.ip)); break;
      case nl::rtnl::KindValue::Type::Str: o.Set(k, v.str); break;
    }
  }
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
  if (!l.data.empty()) o.Set("data", from_kind_data(env, l.data));
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
      if (!r.multipath[i].gateway.empty()) nh.Set("gateway", nl::format_ip(r.multipath[i].gateway));
      nh.Set("oif", r.multipath[i].oif);
      nh.Set("weight", r.multipath[i].weight);
      if (r.multipath[i].flags) nh.Set("flags", r.multipath[i].flags);
      mp.Set(i, nh);
    }
    o.Set("multipath", mp);
  }
  return o;
}

// The optional fields are left out when unset (hooknum, policy, verdict, natType).
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

Napi::Object from_nft_dump(Napi::Env env, const nl::nft::DumpRequest& dr) {
  auto res = Napi::Object::New(env);
  res.Set("exists", dr.table_exists);
  res.Set("genid", dr.genid);
  res.Set("tableUserdata", Napi::Buffer<uint8_t>::Copy(env, dr.table_userdata.data(), dr.table_userdata.size()));
  auto chains = Napi::Array::New(env, dr.chains.size());
  for (size_t i = 0; i < dr.chains.size(); ++i) {
    auto c = Napi::Object::New(env);
    c.Set("table", dr.chains[i].table);
    c.Set("name", dr.chains[i].name);
    c.Set("type", dr.chains[i].type);
    c.Set("hooknum", static_cast<double>(dr.chains[i].hooknum));
    c.Set("priority", dr.chains[i].priority);
    c.Set("policy", dr.chains[i].policy);
    chains.Set(static_cast<uint32_t>(i), c);
  }
  auto rules = Napi::Array::New(env, dr.rules.size());
  for (size_t i = 0; i < dr.rules.size(); ++i) {
    auto x = Napi::Object::New(env);
    x.Set("table", dr.rules[i].table);
    x.Set("chain", dr.rules[i].chain);
    x.Set("handle", Napi::BigInt::New(env, dr.rules[i].handle));
    x.Set("userdata", Napi::Buffer<uint8_t>::Copy(env, dr.rules[i].userdata.data(), dr.rules[i].userdata.size()));
    rules.Set(static_cast<uint32_t>(i), x);
  }
  res.Set("chains", chains);
  res.Set("rules", rules);
  return res;
}

}  // namespace glue
