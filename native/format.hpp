// Text forms of addresses, as the kernel's tools print them.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nl {

inline std::string format_ip(const std::vector<uint8_t>& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.size() == 4) inet_ntop(AF_INET, a.data(), buf, sizeof buf);
  else if (a.size() == 16) inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  else return {};
  return buf;
}

inline std::string format_mac(const std::vector<uint8_t>& a) {
  std::string s;
  s.reserve(a.size() * 3);
  char b[4];
  for (size_t i = 0; i < a.size(); ++i) {
    std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", a[i]);
    s += b;
  }
  return s;
}

}  // namespace nl
