// setTrace(fn | null): the netlink message trace, handed to JS (trace.cc).
#pragma once

#include <napi.h>

namespace glue {

Napi::Value set_trace(const Napi::CallbackInfo& info);

}  // namespace glue
