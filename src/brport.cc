// The brport request kind (requests.hpp): bridge port flags, per-port VLANs
// and a bridge's vlan_filtering, JS spec -> nl::rtnl::BrPortSpec, and the
// ports of an AF_BRIDGE dump back to plain objects (lib/native.ts RawBridgePort).
#include <linux/if_bridge.h>

#include "convert.hpp"
#include "requests.hpp"

namespace glue {

namespace {

nl::rtnl::BrPortSpec to_brport(const Napi::Object& o) {
  using Op = nl::rtnl::BrPortOp;
  nl::rtnl::BrPortSpec s;
  s.op = op_of<Op>(o, "bridge port", {{"flags", Op::SetFlags}, {"vlanAdd", Op::VlanAdd}, {"vlanDel", Op::VlanDel}, {"dump", Op::Dump}, {"vlanFiltering", Op::VlanFiltering}});
  s.index = num<int32_t>(o, "index");
  s.learning = opt_bool(o, "learning");
  s.flood = opt_bool(o, "flood");
  s.isolated = opt_bool(o, "isolated");
  s.guard = opt_bool(o, "guard");
  s.fast_leave = opt_bool(o, "fastLeave");
  s.neigh_suppress = opt_bool(o, "neighSuppress");
  s.self = opt_bool(o, "self").value_or(false);
  s.vlan_filtering = opt_bool(o, "vlanFiltering");
  Napi::Value vl = o.Get("vlans");
  if (vl.IsArray()) {
    auto a = vl.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsObject()) throw Napi::TypeError::New(o.Env(), "native spec: a VLAN must be an object");
      auto v = a.Get(i).As<Napi::Object>();
      nl::rtnl::BrVlan x;
      x.vid = num<uint16_t>(v, "vid");
      x.vid_end = num<uint16_t>(v, "vidEnd");
      if (opt_bool(v, "pvid").value_or(false)) x.flags |= BRIDGE_VLAN_INFO_PVID;
      if (opt_bool(v, "untagged").value_or(false)) x.flags |= BRIDGE_VLAN_INFO_UNTAGGED;
      s.vlans.push_back(x);
    }
  }
  return s;
}

Napi::Object from_brport(Napi::Env env, const nl::rtnl::BrPortInfo& p) {
  auto o = Napi::Object::New(env);
  o.Set("index", p.index);
  o.Set("name", p.name);
  if (p.master) o.Set("master", p.master);
  o.Set("state", p.state);
  auto flag = [&](const char* k, const std::optional<bool>& v) {
    if (v) o.Set(k, *v);
  };
  flag("learning", p.learning);
  flag("flood", p.flood);
  flag("isolated", p.isolated);
  flag("guard", p.guard);
  flag("fastLeave", p.fast_leave);
  flag("neighSuppress", p.neigh_suppress);
  auto vl = Napi::Array::New(env, p.vlans.size());
  for (size_t i = 0; i < p.vlans.size(); ++i) {
    auto v = Napi::Object::New(env);
    v.Set("vid", p.vlans[i].vid);
    v.Set("flags", p.vlans[i].flags);
    vl.Set(static_cast<uint32_t>(i), v);
  }
  o.Set("vlans", vl);
  return o;
}

}  // namespace

Made BrPortReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  return nl::rtnl::brport_request(from_object<nl::rtnl::BrPortSpec, to_brport>(info), err);
}
Napi::Value BrPortReq::result(Napi::Env env, const Req& r) { return to_array(env, r.ports, from_brport); }

}  // namespace glue
