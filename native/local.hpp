// Work that must run inside a namespace but is not netlink: opening a socket
// there (sockets belong to the namespace they were created in) and reading
// or writing its sysctls (/proc/sys/net shows the opener's namespace).
// They run on the namespace handle's own thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "local_request.hpp"

namespace nl {

class SocketRequest : public LocalRequest {
 public:
  SocketRequest() { op = "socket"; }
  // A socket nobody took (its promise could not be settled: the JS
  // environment went away) is closed with the request.
  ~SocketRequest() override;
  int domain = 0, type = 0;
  std::optional<std::vector<uint8_t>> bind_addr;  // 4 or 16 bytes; with port
  uint16_t port = 0;
  bool reuseaddr = true;
  // Instead: a NETLINK_ROUTE socket subscribed to these RTMGRP_* groups, for
  // watching the namespace's changes (non-blocking, read by the JS thread).
  std::optional<uint32_t> netlink_groups;
  // Its receive buffer in bytes (SO_RCVBUF, which the kernel doubles); 0: 4 MiB.
  uint32_t rcvbuf = 0;
  int fd = -1;  // result: owned by the caller (lib hands it to Node)
  void run(LocalContext& ctx) override;
};

class SysctlRequest : public LocalRequest {
 public:
  SysctlRequest() { op = "sysctl"; }
  std::string path;  // below /proc/sys/net, already validated
  std::optional<std::string> write;
  std::string value;  // result of a read
  void run(LocalContext& ctx) override;
};

}  // namespace nl
