// Watcher(fd, callback): the JS class reading a netlink monitor socket (watcher.cc).
#pragma once

#include <napi.h>

namespace glue {

Napi::Function watcher_class(Napi::Env env);

}  // namespace glue
