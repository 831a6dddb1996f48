// The packed hand-off of address and route requests (lib/native.ts sendAddr,
// sendRoute): see wire.cc for the layout.
#pragma once

#include <napi.h>

#include "../native/rtnl/rtnl.hpp"

namespace glue {

nl::rtnl::AddrSpec to_addr(const Napi::CallbackInfo& info);
nl::rtnl::RouteSpec to_route(const Napi::CallbackInfo& info);

}  // namespace glue
