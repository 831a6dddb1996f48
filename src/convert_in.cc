// JS -> C++: a checked JS description into a native spec struct.
#include "convert.hpp"

namespace glue {

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

// A kind's data ({ id: 42, group: Uint8Array(4) }): numbers, addresses and
// strings by name; the kind's table (native/rtnl/kinds/) says what they mean.
nl::rtnl::KindData to_kind_data(const Napi::Object& o) {
  nl::rtnl::KindData d;
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = o.Get(k);
    nl::rtnl::KindValue x;
    if (v.IsNumber()) {
      double n = v.As<Napi::Number>().DoubleValue();
      if (!(n >= 0 && n <= 4294967295.0) || n != static_cast<double>(static_cast<uint64_t>(n)))
        throw Napi::TypeError::New(o.Env(), "native spec: data." + k + " must be an unsigned 32-bit integer");
      x.num = static_cast<uint64_t>(n);
    } else if (v.IsBoolean()) {
      x.num = v.As<Napi::Boolean>().Value() ? 1 : 0;
    } else if (v.IsTypedArray()) {
      auto a = v.As<Napi::Uint8Array>();
      x.type = nl::rtnl::KindValue::Type::Ip;
      x.ip.assign(a.Data(), a.Data() + a.ByteLength());
    } else if (v.IsString()) {
      x.type = nl::rtnl::KindValue::Type::Str;
      x.str = v.As<Napi::String>().Utf8Value();
    } else if (v.IsUndefined()) {
      continue;
    } else {
      throw Napi::TypeError::New(o.Env(), "native spec: data." + k + " must be a number, boolean, string or Uint8Array");
    }
    d.set(std::move(k), std::move(x));
  }
  return d;
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
  s.promisc = opt_bool(o, "promisc");
  s.netns_fd = opt_num<int>(o, "netnsFd");
  s.netns_pid = opt_num<uint32_t>(o, "netnsPid");
  s.group = opt_num<uint32_t>(o, "group");
  s.txqlen = opt_num<uint32_t>(o, "txqlen");
  if (o.Get("alias").IsString()) s.alias = str(o, "alias");
  s.parent = opt_num<uint32_t>(o, "parent");
  s.hairpin = opt_bool(o, "hairpin");
  Napi::Value d = o.Get("data");
  if (d.IsObject()) s.data = to_kind_data(d.As<Napi::Object>());
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

static nl::nft::Expr to_expr(const Napi::Object& o) {
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

}  // namespace glue
