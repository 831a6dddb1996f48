// make and result of each request kind (requests.hpp).
#include "requests.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

#include "convert.hpp"
#include "wire.hpp"

namespace glue {

std::unique_ptr<nl::OpenRequest> make_open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "Handle(mode, path)");
  std::string mode = info[0].As<Napi::String>();
  bool by_fd = mode == "fd" || mode == "ref";
  if (by_fd && !info[2].IsNumber()) throw Napi::TypeError::New(env, "Handle('fd' | 'ref', what, fd)");
  auto open = guard_throw(env, "open", [&] {
    auto o = std::make_unique<nl::OpenRequest>();
    o->op = "open";
    o->path = info[1].As<Napi::String>();
    return o;
  });
  if (mode == "fd") {
    open->pinned_fd = fcntl(info[2].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
    if (open->pinned_fd < 0) throw native_exception(env, nl::dup_fd_error(errno, "the namespace's fd"));
  } else if (mode == "ref") {
    nl::Error err;
    open->pinned_fd = nl::namespace_fd(info[2].As<Napi::Number>().Int32Value(), "the namespace's handle", &err);
    if (open->pinned_fd < 0) throw native_exception(env, err);
  }
  if (mode == "create") open->mode = nl::OpenRequest::Mode::Create;
  else if (mode == "current") open->mode = nl::OpenRequest::Mode::Current;
  else open->mode = nl::OpenRequest::Mode::Path;
  open->nofollow = mode == "name";  // a /run/netns entry: never follow a symbolic link
  return open;
}

void settle_open(Napi::Env env, nl::Request& r, Napi::Promise::Deferred& d) {
  if (r.error) return d.Reject(from_error(env, *r.error));
  auto& o = static_cast<nl::OpenRequest&>(r);
  auto res = Napi::Object::New(env);
  res.Set("ref", o.ref);
  res.Set("dev", static_cast<double>(o.id.dev));
  res.Set("ino", static_cast<double>(o.id.ino));
  d.Resolve(res);
}

// ---------------------------------------------------------------- rtnetlink

Made LinkReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  return nl::rtnl::link_request(from_object<nl::rtnl::LinkSpec, to_link>(info), err);
}
Napi::Value LinkReq::result(Napi::Env env, const Req& r) { return to_array(env, r.links, from_link); }

Made AddrReq::make(const Napi::CallbackInfo& info, nl::Error* err) { return nl::rtnl::addr_request(to_addr(info), err); }
Napi::Value AddrReq::result(Napi::Env env, const Req& r) { return to_array(env, r.addrs, from_addr); }

Made RouteReq::make(const Napi::CallbackInfo& info, nl::Error* err) { return nl::rtnl::route_request(to_route(info), err); }
Napi::Value RouteReq::result(Napi::Env env, const Req& r) { return to_array(env, r.routes, from_route); }

Made RouteMultipathReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  nl::rtnl::RouteSpec s = to_route(info);
  if (!info[1].IsArray()) throw Napi::TypeError::New(info.Env(), "routeMultipath(wire, nexthops[])");
  auto hops = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < hops.Length(); ++i) {
    if (!hops.Get(i).IsObject()) throw Napi::TypeError::New(info.Env(), "native spec: a nexthop must be an object");
    auto o = hops.Get(i).As<Napi::Object>();
    nl::rtnl::NexthopSpec nh;
    nh.gateway = bytes(o, "gateway");
    nh.oif = num<uint32_t>(o, "oif");
    nh.weight = num<uint16_t>(o, "weight", 1);
    s.nexthops.push_back(std::move(nh));
  }
  return nl::rtnl::route_request(s, err);
}

Made NeighReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  return nl::rtnl::neigh_request(from_object<nl::rtnl::NeighSpec, to_neigh>(info), err);
}
Napi::Value NeighReq::result(Napi::Env env, const Req& r) { return to_array(env, r.neighs, from_neigh); }

Made RuleReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  return nl::rtnl::rule_request(from_object<nl::rtnl::RuleSpec, to_rule>(info), err);
}
Napi::Value RuleReq::result(Napi::Env env, const Req& r) { return to_array(env, r.rules, from_rule); }

Made NsidReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "nsid(fd)");
  return nl::rtnl::nsid_request(info[0].As<Napi::Number>().Int32Value(), err);
}
Napi::Value NsidReq::result(Napi::Env env, const Req& r) { return Napi::Number::New(env, r.nsid); }

Made SetNsidReq::make(const Napi::CallbackInfo& info, nl::Error* err) {
  return nl::rtnl::set_nsid_request(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), err);
}

// ---------------------------------------------------------------- local (on the namespace's thread)

Made SocketReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  auto o = info[0].As<Napi::Object>();
  auto req = std::make_unique<nl::SocketRequest>();
  // socket({ netlinkGroups }): a monitor socket (read with Watcher).
  if (auto groups = opt_num<uint32_t>(o, "netlinkGroups")) {
    req->netlink_groups = *groups;
    req->rcvbuf = opt_num<uint32_t>(o, "rcvbuf").value_or(0);
    return req;
  }
  req->domain = num<int>(o, "domain") == 6 ? AF_INET6 : AF_INET;
  req->type = str(o, "type") == "dgram" ? SOCK_DGRAM : SOCK_STREAM;
  req->bind_addr = opt_bytes(o, "bind");
  req->port = num<uint16_t>(o, "port");
  // SO_REUSEADDR lets a TCP listener rebind over TIME_WAIT; on UDP it would
  // let a second socket silently share (and steal from) a bound port.
  req->reuseaddr = req->type == SOCK_STREAM;
  return req;
}
Napi::Value SocketReq::result(Napi::Env env, Req& r) {
  auto fd = Napi::Number::New(env, r.fd);
  r.fd = -1;  // JS owns it now
  return fd;
}

Made SysctlReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  auto o = info[0].As<Napi::Object>();
  auto req = std::make_unique<nl::SysctlRequest>();
  req->path = str(o, "path");
  Napi::Value w = o.Get("write");
  if (w.IsString()) req->write = w.As<Napi::String>().Utf8Value();
  return req;
}
Napi::Value SysctlReq::result(Napi::Env env, const Req& r) { return Napi::String::New(env, r.value); }

Made TunReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "native spec must be an object");
  auto o = info[0].As<Napi::Object>();
  nl::rtnl::TunSpec s;
  s.name = str(o, "name");
  s.tap = opt_bool(o, "tap").value_or(false);
  s.multi_queue = opt_bool(o, "multiQueue").value_or(false);
  s.vnet_hdr = opt_bool(o, "vnetHdr").value_or(false);
  s.pi = opt_bool(o, "pi").value_or(false);
  s.owner = opt_num<uint32_t>(o, "owner");
  s.group = opt_num<uint32_t>(o, "group");
  return std::make_unique<nl::rtnl::TunRequest>(std::move(s));
}

Made CtFlushReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  auto o = info[0].As<Napi::Object>();
  auto req = std::make_unique<nl::ct::FlushRequest>();
  req->proto = num<uint8_t>(o, "proto", 17);
  req->dport_min = num<uint16_t>(o, "dportMin", 0);
  req->dport_max = num<uint16_t>(o, "dportMax", 65535);
  req->family = num<uint8_t>(o, "family", AF_INET);  // the library checks it: AF_INET or AF_INET6
  auto to = bytes(o, "to");
  if (to.size() == 4 || to.size() == 16) {
    nl::ct::Addr a{};
    std::copy(to.begin(), to.end(), a.begin());
    req->to = a;
  }
  return req;
}
Napi::Value CtFlushReq::result(Napi::Env env, const Req& r) { return Napi::Number::New(env, r.deleted); }

// ---------------------------------------------------------------- nf_tables

Made NftBatchReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "nftBatch(messages[])");
  auto a = info[0].As<Napi::Array>();
  auto req = std::make_unique<nl::nft::BatchRequest>();
  for (uint32_t i = 0; i < a.Length(); ++i) req->msgs.push_back(to_nft_msg(a.Get(i).As<Napi::Object>()));
  if (info[1].IsNumber()) req->genid = info[1].As<Napi::Number>().Uint32Value();
  return req;
}
void NftBatchReq::reject(Napi::Object& error, const Req& r) { error.Set("index", r.failed_index); }

Made NftDumpReq::make(const Napi::CallbackInfo& info, nl::Error*) {
  auto o = info[0].As<Napi::Object>();
  auto req = std::make_unique<nl::nft::DumpRequest>();
  req->family = num<uint8_t>(o, "family", 2);
  req->table = str(o, "table");
  return req;
}
Napi::Value NftDumpReq::result(Napi::Env env, const Req& r) { return from_nft_dump(env, r); }

Made NftRulesetReq::make(const Napi::CallbackInfo& info, nl::Error*) {
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
  return req;
}
Napi::Value NftRulesetReq::result(Napi::Env env, const Req& r) { return from_ruleset(env, r); }

}  // namespace glue
