// Routes: RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE.
#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "names.hpp"
#include "rtnl.hpp"

namespace nl::rtnl {

namespace {

// The payload of RTA_MULTIPATH: for each hop a struct rtnexthop (rtnh_len
// covering its own attributes), then RTA_GATEWAY, or RTA_VIA (struct rtvia)
// for an IPv6 gateway of an IPv4 route. False with *why set if a hop is wrong.
bool put_multipath(Builder& b, const RouteSpec& s, size_t alen, const char** why) {
  std::array<uint8_t, 4096> mp{};
  size_t len = 0;
  auto room = [&](size_t n) { return n <= mp.size() - len; };
  auto attr = [&](uint16_t type, const void* data, size_t n) {
    nlattr a{static_cast<uint16_t>(attr_hdrlen + n), type};
    std::memcpy(mp.data() + len, &a, sizeof a);
    std::memcpy(mp.data() + len + attr_hdrlen, data, n);
    len += align(attr_hdrlen + n);
  };
  for (const NexthopSpec& nh : s.nexthops) {
    if (nh.weight < 1 || nh.weight > 256) { *why = "nexthop weight must be 1-256"; return false; }
    size_t start = len;
    if (!room(align(sizeof(rtnexthop)) + align(attr_hdrlen + 2 + 16))) { *why = "too many nexthops"; return false; }
    len += align(sizeof(rtnexthop));
    if (nh.gateway.size() == alen) {
      attr(RTA_GATEWAY, nh.gateway.data(), alen);
    } else if (nh.gateway.size() == 16 && s.family == AF_INET) {
      uint8_t via[2 + 16];
      uint16_t fam = AF_INET6;
      std::memcpy(via, &fam, 2);
      std::memcpy(via + 2, nh.gateway.data(), 16);
      attr(RTA_VIA, via, sizeof via);
    } else if (!nh.gateway.empty()) {
      *why = "nexthop gateway family disagrees with the route";
      return false;
    }
    rtnexthop h{};
    h.rtnh_len = static_cast<unsigned short>(len - start);
    h.rtnh_flags = s.onlink ? RTNH_F_ONLINK : 0;
    h.rtnh_hops = static_cast<unsigned char>(nh.weight - 1);
    h.rtnh_ifindex = static_cast<int>(nh.oif);
    std::memcpy(mp.data() + start, &h, sizeof h);
  }
  // Not NLA_F_NESTED: the payload is a list of rtnexthop, not of attributes.
  b.put(RTA_MULTIPATH, mp.data(), len);
  return true;
}

}  // namespace

std::unique_ptr<Request> route_request(const RouteSpec& s, Error* err) {
  std::array<uint8_t, 8192> buf;
  Builder b(buf);
  auto req = std::make_unique<RouteRequest>();
  uint16_t flags = 0;
  switch (s.op) {
    case RouteOp::New:
      req->op = "RTM_NEWROUTE";
      flags = NLM_F_CREATE;
      if (s.replace) flags |= NLM_F_REPLACE;
      else if (s.append) flags |= NLM_F_APPEND;
      else if (s.excl) flags |= NLM_F_EXCL;
      b.put_header(RTM_NEWROUTE, flags);
      break;
    case RouteOp::Del: req->op = "RTM_DELROUTE"; b.put_header(RTM_DELROUTE, 0); break;
    case RouteOp::Dump: req->op = "RTM_GETROUTE"; req->dump = true; b.put_header(RTM_GETROUTE, 0); break;
    case RouteOp::Get: req->op = "RTM_GETROUTE"; b.put_header(RTM_GETROUTE, 0); break;
  }
  auto* rt = b.put_extra_header<rtmsg>();
  if (!rt) { *err = Error::sys(EMSGSIZE, req->op); return nullptr; }
  rt->rtm_family = s.family;
  if (s.op == RouteOp::Dump) {
    // Strict checking lets the kernel filter by table and output device.
    if (s.table) {
      rt->rtm_table = s.table < 256 ? static_cast<uint8_t>(s.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
      b.put_u32(RTA_TABLE, s.table);
    }
    if (s.oif) b.put_u32(RTA_OIF, s.oif);
  } else {
    if (s.family != AF_INET && s.family != AF_INET6) {
      *err = Error::sys(EINVAL, req->op, "route family must be AF_INET or AF_INET6");
      return nullptr;
    }
    size_t alen = s.family == AF_INET ? 4 : 16;
    bool del = s.op == RouteOp::Del;
    uint32_t table = s.table ? s.table : RT_TABLE_MAIN;
    rt->rtm_table = table < 256 ? static_cast<uint8_t>(table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
    rt->rtm_dst_len = s.dst_len;
    rt->rtm_src_len = s.src_len;
    // Like ip(8): a delete leaves protocol, type and scope as wildcards unless given.
    rt->rtm_protocol = s.protocol.value_or(del ? RTPROT_UNSPEC : RTPROT_BOOT);
    rt->rtm_type = s.type.value_or(del ? RTN_UNSPEC : RTN_UNICAST);
    uint8_t scope = RT_SCOPE_UNIVERSE;
    if (del) scope = RT_SCOPE_NOWHERE;
    else if (rt->rtm_type == RTN_LOCAL || rt->rtm_type == RTN_NAT) scope = RT_SCOPE_HOST;
    else if (rt->rtm_type == RTN_BROADCAST || rt->rtm_type == RTN_MULTICAST || rt->rtm_type == RTN_ANYCAST) scope = RT_SCOPE_LINK;
    else if (rt->rtm_type == RTN_UNICAST && !s.gateway && s.nexthops.empty()) scope = RT_SCOPE_LINK;
    rt->rtm_scope = s.scope.value_or(scope);
    if (s.onlink) rt->rtm_flags |= RTNH_F_ONLINK;
    if (s.op == RouteOp::Get) {
      // ip route get: the route the kernel would use, from the table it is in.
      rt->rtm_protocol = 0;
      rt->rtm_type = 0;
      rt->rtm_scope = 0;
      rt->rtm_table = 0;
      // (IPv6 refuses any flag but RTM_F_FIB_MATCH here; it reports the table anyway.)
      if (s.family == AF_INET) rt->rtm_flags |= RTM_F_LOOKUP_TABLE;
      if (s.iif) b.put_u32(RTA_IIF, s.iif);
    }
    if (s.dst_len || !s.dst.empty()) {
      if (s.dst.size() != alen) { *err = Error::sys(EINVAL, req->op, "destination length disagrees with family"); return nullptr; }
      b.put(RTA_DST, s.dst.data(), s.dst.size());
    }
    if (s.src_len && s.src.size() == alen) b.put(RTA_SRC, s.src.data(), s.src.size());
    if (s.gateway) {
      if (s.gateway->size() != alen) { *err = Error::sys(EINVAL, req->op, "gateway family disagrees with destination"); return nullptr; }
      b.put(RTA_GATEWAY, s.gateway->data(), s.gateway->size());
    }
    if (s.oif) b.put_u32(RTA_OIF, s.oif);
    if (!s.nexthops.empty()) {
      const char* why = nullptr;
      if (s.gateway || s.oif) why = "a multipath route has no gateway or device of its own";
      else if (s.op == RouteOp::Get) why = "a route lookup has no nexthops";
      if (why || !put_multipath(b, s, alen, &why)) { *err = Error::sys(EINVAL, req->op, why); return nullptr; }
    }
    if (s.priority) b.put_u32(RTA_PRIORITY, *s.priority);
    if (s.prefsrc) b.put(RTA_PREFSRC, s.prefsrc->data(), s.prefsrc->size());
    if (s.op != RouteOp::Get) b.put_u32(RTA_TABLE, table);
    if (s.mtu) {
      auto m = b.nest_begin(RTA_METRICS);
      b.put_u32(RTAX_MTU, *s.mtu);
      b.nest_end(m);
    }
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "route request too large"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_route(const nlmsghdr& h, bytes payload, RouteInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (h.nlmsg_type != RTM_NEWROUTE) return false;
  auto rt = extra_header<rtmsg>(payload);
  if (!rt) return false;
  RouteInfo& r = *out;
  r.family = rt->rtm_family;
  r.dst_len = rt->rtm_dst_len;
  r.src_len = rt->rtm_src_len;
  r.tos = rt->rtm_tos;
  r.table8 = rt->rtm_table;
  r.protocol = rt->rtm_protocol;
  r.scope = rt->rtm_scope;
  r.type = rt->rtm_type;
  r.flags = rt->rtm_flags;
  AttrTable<RTA_MAX> tb(after_header<rtmsg>(payload));
  auto raw = [](const Attr& x) { return Bytes(x.data.begin(), x.data.end()); };
  r.table = tb[RTA_TABLE].present() ? tb[RTA_TABLE].u32() : rt->rtm_table;
  r.dst = raw(tb[RTA_DST]);
  r.src = raw(tb[RTA_SRC]);
  r.gateway = raw(tb[RTA_GATEWAY]);
  r.prefsrc = raw(tb[RTA_PREFSRC]);
  r.oif = tb[RTA_OIF].u32();
  r.iif = tb[RTA_IIF].u32();
  if (tb[RTA_PRIORITY].present()) r.priority = tb[RTA_PRIORITY].u32();
  bool ok = tb.valid;
  if (tb[RTA_METRICS].present()) {
    AttrTable<RTAX_MAX> m(tb[RTA_METRICS].data);
    r.mtu = m[RTAX_MTU].u32();
    ok = ok && m.valid;
  }
  if (tb[RTA_MULTIPATH].present()) {
    bytes mp = tb[RTA_MULTIPATH].data;
    size_t off = 0;
    while (mp.size() - off >= sizeof(rtnexthop)) {
      rtnexthop nh;
      std::memcpy(&nh, mp.data() + off, sizeof nh);
      if (nh.rtnh_len < sizeof nh || nh.rtnh_len > mp.size() - off) { ok = false; break; }
      Nexthop x;
      x.oif = static_cast<uint32_t>(nh.rtnh_ifindex);
      x.weight = static_cast<uint16_t>(nh.rtnh_hops + 1);
      x.flags = nh.rtnh_flags;
      size_t hdr = std::min<size_t>(align(sizeof nh), nh.rtnh_len);
      AttrTable<RTA_MAX> ntb(mp.subspan(off + hdr, nh.rtnh_len - hdr));
      ok = ok && ntb.valid;
      x.gateway = raw(ntb[RTA_GATEWAY]);
      // RTA_VIA: struct rtvia, a family then its address (an IPv6 gateway of an IPv4 route).
      if (x.gateway.empty() && ntb[RTA_VIA].data.size() >= 2) {
        bytes via = ntb[RTA_VIA].data;
        uint16_t fam;
        std::memcpy(&fam, via.data(), 2);
        size_t want = fam == AF_INET6 ? 16 : fam == AF_INET ? 4 : 0;
        if (via.size() - 2 == want) x.gateway = Bytes(via.begin() + 2, via.end());
        else ok = false;
      }
      r.multipath.push_back(std::move(x));
      size_t step = align(nh.rtnh_len);
      if (step > mp.size() - off) break;
      off += step;
    }
  }
  return ok && check.ok();
}

void RouteRequest::on_data(const nlmsghdr& h, bytes payload) {
  RouteInfo r;
  if (parse_route(h, payload, &r)) routes.push_back(std::move(r));
  else if (h.nlmsg_type == RTM_NEWROUTE) refuse_reply(h, "RTM_NEWROUTE could not be decoded (a length out of bounds)");
}

std::string route_attr_at(bytes msg, size_t offset) {
  static const Level top{rta_name, nullptr};
  return attr_path(msg, align(sizeof(rtmsg)), offset, top);
}
std::string RouteRequest::attr_at(size_t off) const { return route_attr_at(msg, off); }
std::string RouteRequest::attr_type_name(uint32_t t) const { return rta_name(t); }

}  // namespace nl::rtnl
