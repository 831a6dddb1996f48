// The addon's functions outside a Handle: namespace files and the lock.
#pragma once

#include <napi.h>

namespace glue {

// removeNamespace(path, dev?, ino?): `ip netns delete`; with dev and ino, only
// if path is still that namespace.
Napi::Value RemoveNamespace(const Napi::CallbackInfo& info);
// attachNamespace(path, source): `ip netns attach`.
Napi::Value AttachNamespace(const Napi::CallbackInfo& info);
// enterNamespace(fd) -> saved fd; restoreNamespace(saved). On the JS thread,
// only for the instant around a fork in ns.spawn().
Napi::Value EnterNamespace(const Napi::CallbackInfo& info);
Napi::Value RestoreNamespace(const Napi::CallbackInfo& info);
// tryLock(path) -> fd holding an exclusive flock, -1 if held elsewhere, or an error object.
Napi::Value TryLock(const Napi::CallbackInfo& info);
// Handle.nsFd(): *user_fd, made from the handle's ref (nl::namespace_fd) while
// still -1; an error object if it cannot be had.
Napi::Value ns_fd_of(Napi::Env env, int ref, int* user_fd);

}  // namespace glue
