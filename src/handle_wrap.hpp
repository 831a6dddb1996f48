// Handle(mode, path): the JS class of a namespace's I/O thread (handle_wrap.cc).
#pragma once

#include <napi.h>

namespace glue {

Napi::Function handle_class(Napi::Env env);

}  // namespace glue
