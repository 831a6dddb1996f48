// nl::Error — what went wrong, in the kernel's own words where it gave any.
#pragma once

#include <cstdint>
#include <string>

namespace nl {

struct Error {
  int err = 0;               // positive errno (EEXIST, ENODEV...)
  std::string syscall;       // the operation: "RTM_NEWLINK", or "sendmsg", "setns"...
  std::string extack;        // NLMSGERR_ATTR_MSG: the kernel's extended-ACK text
  int64_t offset = -1;       // NLMSGERR_ATTR_OFFS: byte offset into our request
  std::string attribute;     // that offset resolved to an attribute name ("IFLA_IFNAME")
  int32_t missing_type = -1; // NLMSGERR_ATTR_MISS_TYPE
  std::string missing;       // ... resolved to a name
  std::string detail;        // our own explanation when errno alone says too little
  bool dump_interrupted = false;
  bool malformed_reply = false;  // a reply message we could not decode (EBADMSG; attribute, detail say where)

  static Error sys(int e, std::string call, std::string detail = {}) {
    Error x;
    x.err = e;
    x.syscall = std::move(call);
    x.detail = std::move(detail);
    return x;
  }
};

}  // namespace nl
