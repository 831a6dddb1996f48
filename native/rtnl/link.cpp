// Links: RTM_NEWLINK / RTM_SETLINK / RTM_DELLINK / RTM_GETLINK.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <sys/socket.h>

#include <array>

#include "names.hpp"
#include "rtnl.hpp"

namespace nl::rtnl {

namespace {

constexpr size_t kMsgBytes = 4096;

// The kind of the request whose error is being named (attr_at runs on one thread).
thread_local std::string current_kind;

const Level& link_level() {
  static Level top, info, veth_data, peer;
  static bool init = false;
  if (!init) {
    init = true;
    peer.name = ifla_name;
    peer.inner = [](uint32_t t, size_t* skip) -> const Level* {
      *skip = 0;
      return t == IFLA_LINKINFO ? &info : nullptr;
    };
    // Inside IFLA_INFO_DATA: VETH_INFO_PEER, or the attribute of the kind's table.
    veth_data.name = [](uint32_t t) { return t == VETH_INFO_PEER && current_kind == "veth" ? std::string("VETH_INFO_PEER") : info_data_attr_name(current_kind, t); };
    veth_data.inner = [](uint32_t t, size_t* skip) -> const Level* {
      *skip = align(sizeof(ifinfomsg));
      return t == VETH_INFO_PEER && current_kind == "veth" ? &peer : nullptr;
    };
    info.name = ifla_info_name;
    info.inner = [](uint32_t t, size_t* skip) -> const Level* {
      *skip = 0;
      return t == IFLA_INFO_DATA ? &veth_data : nullptr;
    };
    top.name = ifla_name;
    top.inner = peer.inner;
  }
  return top;
}

// ifi_change names the flags the request sets; ifi_flags their values (rtnetlink(7)).
void put_flags(ifinfomsg* ifi, const std::optional<bool>& up, const std::optional<bool>& promisc) {
  if (up) {
    ifi->ifi_change |= IFF_UP;
    if (*up) ifi->ifi_flags |= IFF_UP;
  }
  if (promisc) {
    ifi->ifi_change |= IFF_PROMISC;
    if (*promisc) ifi->ifi_flags |= IFF_PROMISC;
  }
}

}  // namespace

std::unique_ptr<Request> link_request(const LinkSpec& in, Error* err) {
  std::array<uint8_t, kMsgBytes> buf;
  // The request keeps its own copies of namespace fds (see Request::owned_fds).
  LinkSpec s = in;
  std::vector<int> dups;
  int dup_errno = 0;
  auto own = [&](std::optional<int>& fd) -> bool {
    if (!fd) return true;
    int d = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) {
      dup_errno = errno;
      return false;
    }
    dups.push_back(d);
    fd = d;
    return true;
  };
  if (!own(s.netns_fd) || (s.peer && !own(s.peer->netns_fd))) {
    for (int d : dups) ::close(d);
    *err = dup_fd_error(dup_errno, "the target namespace's fd");
    return nullptr;
  }
  Builder b(buf);
  auto req = std::make_unique<LinkRequest>();
  req->owned_fds = std::move(dups);
  uint16_t type = RTM_GETLINK, flags = 0;
  switch (s.op) {
    case LinkOp::New: type = RTM_NEWLINK; flags = NLM_F_CREATE | NLM_F_EXCL; break;
    case LinkOp::Set: type = RTM_SETLINK; break;
    case LinkOp::Del: type = RTM_DELLINK; break;
    case LinkOp::Get: type = RTM_GETLINK; break;
    case LinkOp::Dump: type = RTM_GETLINK; req->dump = true; break;
  }
  static const char* const names[] = {"RTM_NEWLINK", "RTM_DELLINK", "RTM_GETLINK", "RTM_SETLINK"};
  req->op = names[(type - RTM_NEWLINK) & 3];
  b.put_header(type, flags);
  auto* ifi = b.put_extra_header<ifinfomsg>();
  if (!ifi) { *err = Error::sys(EMSGSIZE, req->op, "message buffer too small"); return nullptr; }
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = s.index;

  if (s.op == LinkOp::Dump) {
    b.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    if (s.filter_master) b.put_u32(IFLA_MASTER, *s.filter_master);
    if (!s.filter_kind.empty()) {
      auto li = b.nest_begin(IFLA_LINKINFO);
      b.put_strz(IFLA_INFO_KIND, s.filter_kind);
      b.nest_end(li);
    }
  } else if (s.op == LinkOp::Get) {
    if (!s.name.empty()) b.put_strz(IFLA_IFNAME, s.name);
    b.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  } else if (s.op == LinkOp::Del) {
    if (!s.name.empty() && !s.index) b.put_strz(IFLA_IFNAME, s.name);
    if (s.group) b.put_u32(IFLA_GROUP, *s.group);
  } else if (s.op == LinkOp::Set && s.hairpin) {
    ifi->ifi_family = AF_BRIDGE;
    auto pi = b.nest_begin(IFLA_PROTINFO);
    b.put_u8(IFLA_BRPORT_MODE, *s.hairpin ? 1 : 0);
    b.nest_end(pi);
  } else {
    put_flags(ifi, s.up, s.promisc);
    if (!s.name.empty()) b.put_strz(IFLA_IFNAME, s.name);
    if (s.mtu) b.put_u32(IFLA_MTU, *s.mtu);
    if (s.mac) b.put(IFLA_ADDRESS, s.mac->data(), s.mac->size());
    if (s.txqlen) b.put_u32(IFLA_TXQLEN, *s.txqlen);
    if (s.alias) b.put(IFLA_IFALIAS, s.alias->data(), s.alias->size());
    if (s.group) b.put_u32(IFLA_GROUP, *s.group);
    if (s.parent) b.put_u32(IFLA_LINK, *s.parent);
    if (s.netns_fd) b.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(*s.netns_fd));
    if (s.netns_pid) b.put_u32(IFLA_NET_NS_PID, *s.netns_pid);
    if (s.master) b.put_u32(IFLA_MASTER, *s.master);
    if (s.op == LinkOp::New) {
      if (s.kind.empty()) { *err = Error::sys(EINVAL, req->op, "a new link needs a kind"); return nullptr; }
      auto li = b.nest_begin(IFLA_LINKINFO);
      b.put_strz(IFLA_INFO_KIND, s.kind);
      if (!put_info_data(b, s, req->op.c_str(), err)) return nullptr;
      b.nest_end(li);
    } else if (!s.kind.empty() && !s.data.empty()) {
      auto li = b.nest_begin(IFLA_LINKINFO);
      b.put_strz(IFLA_INFO_KIND, s.kind);
      if (!put_info_data(b, s, "RTM_NEWLINK", err)) return nullptr;
      b.nest_end(li);
      // Changing kind data goes through RTM_NEWLINK without NLM_F_CREATE.
      reinterpret_cast<nlmsghdr*>(buf.data())->nlmsg_type = RTM_NEWLINK;
      req->op = "RTM_NEWLINK";
    }
  }
  if (!b.ok()) { *err = Error::sys(EMSGSIZE, req->op, "link request does not fit in " + std::to_string(kMsgBytes) + " bytes"); return nullptr; }
  req->msg.assign(b.bytes().begin(), b.bytes().end());
  return req;
}

bool parse_link(const nlmsghdr& h, bytes payload, LinkInfo* out) {
  AttrCheck check;  // a wrong-length integer attribute makes the message malformed
  if (h.nlmsg_type != RTM_NEWLINK) return false;
  auto ifi = extra_header<ifinfomsg>(payload);
  if (!ifi) return false;
  LinkInfo& l = *out;
  l.index = ifi->ifi_index;
  l.flags = ifi->ifi_flags;
  l.type = ifi->ifi_type;
  AttrTable<IFLA_MAX> tb(after_header<ifinfomsg>(payload));
  auto raw = [](const Attr& a) { return Bytes(a.data.begin(), a.data.end()); };
  l.name = tb[IFLA_IFNAME].str();
  l.mtu = tb[IFLA_MTU].u32();
  l.min_mtu = tb[IFLA_MIN_MTU].u32();
  l.max_mtu = tb[IFLA_MAX_MTU].u32();
  l.mac = raw(tb[IFLA_ADDRESS]);
  l.broadcast = raw(tb[IFLA_BROADCAST]);
  l.perm_mac = raw(tb[IFLA_PERM_ADDRESS]);
  l.operstate = tb[IFLA_OPERSTATE].u8();
  l.master = tb[IFLA_MASTER].u32();
  l.link = tb[IFLA_LINK].s32();
  l.link_netnsid = tb[IFLA_LINK_NETNSID].present() ? tb[IFLA_LINK_NETNSID].s32(-1) : -1;
  l.group = tb[IFLA_GROUP].u32();
  l.txqlen = tb[IFLA_TXQLEN].u32();
  l.alias = tb[IFLA_IFALIAS].str();
  if (tb[IFLA_LINKINFO].present()) {
    AttrTable<IFLA_INFO_MAX> info(tb[IFLA_LINKINFO].data);
    l.kind = info[IFLA_INFO_KIND].str();
    l.slave_kind = info[IFLA_INFO_SLAVE_KIND].str();
    const LinkKind* k = find_kind(l.kind);
    if (k && info[IFLA_INFO_DATA].present()) parse_info_data(*k, info[IFLA_INFO_DATA].data, &l.data);
  }
  return tb.valid && check.ok();
}

void LinkRequest::on_data(const nlmsghdr& h, bytes payload) {
  LinkInfo l;
  if (parse_link(h, payload, &l)) links.push_back(std::move(l));
}

std::string link_attr_at(bytes msg, size_t offset) {
  // The kind named in the message (IFLA_LINKINFO/IFLA_INFO_KIND) names its data's attributes.
  current_kind.clear();
  if (msg.size() >= sizeof(nlmsghdr) + align(sizeof(ifinfomsg))) {
    AttrTable<IFLA_MAX> tb(msg.subspan(sizeof(nlmsghdr) + align(sizeof(ifinfomsg))));
    if (tb[IFLA_LINKINFO].present()) current_kind = AttrTable<IFLA_INFO_MAX>(tb[IFLA_LINKINFO].data)[IFLA_INFO_KIND].str();
  }
  return attr_path(msg, align(sizeof(ifinfomsg)), offset, link_level());
}
std::string LinkRequest::attr_at(size_t off) const { return link_attr_at(msg, off); }
std::string LinkRequest::attr_type_name(uint32_t t) const { return ifla_name(t); }

}  // namespace nl::rtnl
