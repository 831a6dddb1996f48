// Notifications read from a monitor socket (RTMGRP_* groups): the same
// RTM_NEW*/RTM_DEL* messages a dump returns, decoded with the same parsers.
#include <linux/rtnetlink.h>

#include "rtnl.hpp"

namespace nl::rtnl {

namespace {

// Decodes one message of a kind into `field` of a new event. The parsers take
// the RTM_NEW* shape; RTM_DEL* messages have the same layout.
template <class Info>
void decode(const nlmsghdr& h, bytes payload, uint16_t new_type, Event::Type type, bool (*parse)(const nlmsghdr&, bytes, Info*),
            Info Event::*field, std::vector<Event>* out) {
  nlmsghdr as_new = h;
  as_new.nlmsg_type = new_type;
  Event e;
  e.type = type;
  e.added = h.nlmsg_type == new_type;
  if (parse(as_new, payload, &(e.*field))) out->push_back(std::move(e));
}

}  // namespace

bool parse_events(bytes datagram, std::vector<Event>* out) {
  return for_each_msg(datagram, [&](const nlmsghdr& h, bytes payload) {
    switch (h.nlmsg_type) {
      case RTM_NEWLINK:
      case RTM_DELLINK: decode(h, payload, RTM_NEWLINK, Event::Type::Link, parse_link, &Event::link, out); break;
      case RTM_NEWADDR:
      case RTM_DELADDR: decode(h, payload, RTM_NEWADDR, Event::Type::Addr, parse_addr, &Event::addr, out); break;
      case RTM_NEWROUTE:
      case RTM_DELROUTE: decode(h, payload, RTM_NEWROUTE, Event::Type::Route, parse_route, &Event::route, out); break;
      case RTM_NEWNEIGH:
      case RTM_DELNEIGH: decode(h, payload, RTM_NEWNEIGH, Event::Type::Neigh, parse_neigh, &Event::neigh, out); break;
      case RTM_NEWRULE:
      case RTM_DELRULE: decode(h, payload, RTM_NEWRULE, Event::Type::Rule, parse_rule, &Event::rule, out); break;
      default: break;
    }
    return true;
  });
}

}  // namespace nl::rtnl
