// Attribute names for error messages, and the walk that maps an extended-ACK
// offset back to the attribute of our own request that it points into.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "../nl/attr.hpp"

namespace nl::rtnl {

std::string ifla_name(uint32_t type);
std::string ifla_info_name(uint32_t type);
std::string ifa_name(uint32_t type);
std::string rta_name(uint32_t type);

// Level describes one nesting level: how to name an attribute type there,
// and for nested ones, the level inside (nullptr: stop descending).
struct Level {
  std::function<std::string(uint32_t)> name;
  std::function<const Level*(uint32_t type, size_t* skip)> inner;  // skip: bytes of struct before attrs
};

// Names the attribute (path joined by '/') containing byte `offset` of the
// message, starting after `hdr` bytes of family header.
std::string attr_path(bytes msg, size_t hdr, size_t offset, const Level& top);

}  // namespace nl::rtnl
