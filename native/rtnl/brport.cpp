// Bridge ports: flags, per-port VLANs, a bridge's vlan_filtering (brport.hpp).
#include "brport.hpp"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include "names.hpp"

namespace nl::rtnl {

namespace {

std::string brport_name(uint32_t t) {
  switch (t) {
    case IFLA_BRPORT_STATE: return "IFLA_BRPORT_STATE";
    case IFLA_BRPORT_GUARD: return "IFLA_BRPORT_GUARD";
    case IFLA_BRPORT_FAST_LEAVE: return "IFLA_BRPORT_FAST_LEAVE";
    case IFLA_BRPORT_LEARNING: return "IFLA_BRPORT_LEARNING";
    case IFLA_BRPORT_UNICAST_FLOOD: return "IFLA_BRPORT_UNICAST_FLOOD";
    case IFLA_BRPORT_NEIGH_SUPPRESS: return "IFLA_BRPORT_NEIGH_SUPPRESS";
    case IFLA_BRPORT_ISOLATED: return "IFLA_BRPORT_ISOLATED";
    default: return "IFLA_BRPORT#" + std::to_string(t);
  }
}
std::string bridge_af_name(uint32_t t) {
  switch (t) {
    case IFLA_BRIDGE_FLAGS: return "IFLA_BRIDGE_FLAGS";
    case IFLA_BRIDGE_VLAN_INFO: return "IFLA_BRIDGE_VLAN_INFO";
    default: return "IFLA_BRIDGE#" + std::to_string(t);
  }
}
std::string br_name(uint32_t t) { return t == IFLA_BR_VLAN_FILTERING ? "IFLA_BR_VLAN_FILTERING" : "IFLA_BR#" + std::to_string(t); }

const Level& top_level() {
  static const Level brport{brport_name, nullptr};
  static const Level af{bridge_af_name, nullptr};
  static const Level br{br_name, nullptr};
  static const Level info{ifla_info_name, [](uint32_t t, size_t*) { return t == IFLA_INFO_DATA ? &br : nullptr; }};
  static const Level top{ifla_name, [](uint32_t t, size_t*) -> const Level* {
                           if (t == IFLA_PROTINFO) return &brport;
                           if (t == IFLA_AF_SPEC) return &af;
                           if (t == IFLA_LINKINFO) return &info;
                           return nullptr;
                         }};
  return top;
}

void put_vlans(Builder& b, const BrPortSpec& s) {
  auto spec = b.nest_begin(IFLA_AF_SPEC);
  if (s.self) b.put_u16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
  for (const BrVlan& v : s.vlans) {
    bridge_vlan_info vi{};
    vi.flags = v.flags;
    vi.vid = v.vid;
    if (v.vid_end && v.vid_end != v.vid) {
      // A range: two entries, RANGE_BEGIN and RANGE_END, both with the flags.
      vi.flags |= BRIDGE_VLAN_INFO_RANGE_BEGIN;
      b.put(IFLA_BRIDGE_VLAN_INFO, &vi, sizeof vi);
      vi.flags = v.flags | BRIDGE_VLAN_INFO_RANGE_END;
      vi.vid = v.vid_end;
    }
    b.put(IFLA_BRIDGE_VLAN_INFO, &vi, sizeof vi);
  }
  b.nest_end(spec);
}

}  // namespace

std::unique_ptr<Request> brport_request(const BrPortSpec& s, Error* err) {
  std::array<uint8_t, 16384> buf;
  Builder b(buf);
  auto req = std::make_unique<BrPortRequest>();
  auto bad = [&](const char* why) {
    *err = Error::sys(EINVAL, req->op, why);
    return nullptr;
  };
  switch (s.op) {
    case BrPortOp::SetFlags:
    case BrPortOp::VlanAdd: req->op = "RTM_SETLINK"; b.put_header(RTM_SETLINK, 0); break;
    case BrPortOp::VlanDel: req->op = "RTM_DELLINK"; b.put_header(RTM_DELLINK, 0); break;
    case BrPortOp::Dump: req->op = "RTM_GETLINK"; req->dump = true; b.put_header(RTM_GETLINK, 0); break;
    case BrPortOp::VlanFiltering: req->op = "RTM_NEWLINK"; b.put_header(RTM_NEWLINK, 0); break;
  }
  auto* ifi = b.put_extra_header<ifinfomsg>();
  if (!ifi) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  ifi->ifi_family = AF_BRIDGE;
  switch (s.op) {
    case BrPortOp::SetFlags: {
      if (s.index <= 0) return bad("a bridge port needs its ifindex");
      ifi->ifi_index = s.index;
      auto p = b.nest_begin(IFLA_PROTINFO);
      auto flag = [&](uint16_t type, const std::optional<bool>& v) {
        if (v) b.put_u8(type, *v ? 1 : 0);
      };
      flag(IFLA_BRPORT_LEARNING, s.learning);
      flag(IFLA_BRPORT_UNICAST_FLOOD, s.flood);
      flag(IFLA_BRPORT_ISOLATED, s.isolated);
      flag(IFLA_BRPORT_GUARD, s.guard);
      flag(IFLA_BRPORT_FAST_LEAVE, s.fast_leave);
      flag(IFLA_BRPORT_NEIGH_SUPPRESS, s.neigh_suppress);
      b.nest_end(p);
      break;
    }
    case BrPortOp::VlanAdd:
    case BrPortOp::VlanDel:
      if (s.index <= 0) return bad("a bridge port needs its ifindex");
      if (s.vlans.empty()) return bad("no VLAN given");
      for (const BrVlan& v : s.vlans)
        if (v.vid < 1 || v.vid > 4094 || (v.vid_end && (v.vid_end < v.vid || v.vid_end > 4094))) return bad("VLAN ids are 1-4094");
      ifi->ifi_index = s.index;
      put_vlans(b, s);
      break;
    case BrPortOp::Dump:
      // Strict checking: a bridge dump takes no index filter in the header; we filter.
      req->filter = s.index;
      b.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
      break;
    case BrPortOp::VlanFiltering: {
      if (s.index <= 0 || !s.vlan_filtering) return bad("vlan_filtering needs the bridge's ifindex and a value");
      ifi->ifi_family = AF_UNSPEC;
      ifi->ifi_index = s.index;
      auto li = b.nest_begin(IFLA_LINKINFO);
      b.put_strz(IFLA_INFO_KIND, "bridge");
      auto d = b.nest_begin(IFLA_INFO_DATA);
      b.put_u8(IFLA_BR_VLAN_FILTERING, *s.vlan_filtering ? 1 : 0);
      b.nest_end(d);
      b.nest_end(li);
      break;
    }
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "bridge port request too large"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_brport(const nlmsghdr& h, bytes payload, BrPortInfo* out) {
  AttrCheck check;
  if (h.nlmsg_type != RTM_NEWLINK) return false;
  auto ifi = extra_header<ifinfomsg>(payload);
  if (!ifi) return false;
  BrPortInfo& p = *out;
  p.index = ifi->ifi_index;
  AttrTable<IFLA_MAX> tb(after_header<ifinfomsg>(payload));
  bool ok = tb.valid;
  p.name = tb[IFLA_IFNAME].str();
  p.master = tb[IFLA_MASTER].s32();
  if (tb[IFLA_PROTINFO].present()) {
    AttrTable<IFLA_BRPORT_MAX> pt(tb[IFLA_PROTINFO].data);
    ok = ok && pt.valid;
    auto flag = [&](uint16_t type, std::optional<bool>* v) {
      if (auto x = pt[type].get<uint8_t>()) *v = *x != 0;
    };
    p.state = pt[IFLA_BRPORT_STATE].u8();
    flag(IFLA_BRPORT_LEARNING, &p.learning);
    flag(IFLA_BRPORT_UNICAST_FLOOD, &p.flood);
    flag(IFLA_BRPORT_ISOLATED, &p.isolated);
    flag(IFLA_BRPORT_GUARD, &p.guard);
    flag(IFLA_BRPORT_FAST_LEAVE, &p.fast_leave);
    flag(IFLA_BRPORT_NEIGH_SUPPRESS, &p.neigh_suppress);
  }
  if (tb[IFLA_AF_SPEC].present()) {
    ok = ok && for_each_attr(tb[IFLA_AF_SPEC].data, [&](const Attr& a) {
           if (a.type != IFLA_BRIDGE_VLAN_INFO) return;
           auto vi = a.as<bridge_vlan_info>();
           if (!vi || a.data.size() != sizeof(bridge_vlan_info)) {
             AttrCheck::record(a.type, a.data.size(), sizeof(bridge_vlan_info), a.data.data());
             return;
           }
           BrVlan v;
           v.vid = vi->vid;
           v.flags = vi->flags;
           p.vlans.push_back(v);
         });
  }
  return ok && check.ok();
}

void BrPortRequest::on_data(const nlmsghdr& h, bytes payload) {
  BrPortInfo p;
  if (!parse_brport(h, payload, &p)) {
    if (h.nlmsg_type == RTM_NEWLINK) refuse_reply(h, "RTM_NEWLINK (AF_BRIDGE) could not be decoded (a length out of bounds)");
    return;
  }
  if (!filter || p.index == filter) ports.push_back(std::move(p));
}

std::string BrPortRequest::reply_attr_at(bytes m, size_t off) const {
  return attr_path(m, align(sizeof(ifinfomsg)), off, top_level());
}
std::string BrPortRequest::attr_at(size_t off) const { return reply_attr_at(msg, off); }

}  // namespace nl::rtnl
