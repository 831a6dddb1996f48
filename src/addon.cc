// The addon's entry: registers what lib/native.ts (Addon) uses, nothing else.
// N-API glue only: no netlink logic lives in src/ (that is native/). Which
// file holds what: docs/ARCHITECTURE.md ("Map of the rooms").
//   handle_wrap.cc  Handle: a namespace's I/O thread; its request kinds in requests.hpp
//   watcher.cc      Watcher: a netlink monitor socket read on the JS thread
//   namespace.cc    removeNamespace, attachNamespace, enterNamespace, restoreNamespace, tryLock
//   trace.cc        setTrace: the netlink message trace tap, handed to JS
//   wire.cc         wireLayout: the packed address/route hand-off, described in wire.hpp
#include <dlfcn.h>
#include <napi.h>

#include "handle_wrap.hpp"
#include "namespace.hpp"
#include "trace.hpp"
#include "watcher.hpp"
#include "wire.hpp"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Node unloads an addon when the last environment that loaded it ends (a
  // worker thread exiting). Code of ours can run after that: an I/O thread
  // finishing its close, the Spinner's close callback. Keep this library
  // mapped until the process exits.
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&Init), &self) != 0 && self.dli_fname != nullptr)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  exports.Set("attachNamespace", Napi::Function::New(env, glue::AttachNamespace));
  exports.Set("enterNamespace", Napi::Function::New(env, glue::EnterNamespace));
  exports.Set("restoreNamespace", Napi::Function::New(env, glue::RestoreNamespace));
  exports.Set("Handle", glue::handle_class(env));
  exports.Set("removeNamespace", Napi::Function::New(env, glue::RemoveNamespace));
  exports.Set("Watcher", glue::watcher_class(env));
  exports.Set("setTrace", Napi::Function::New(env, glue::set_trace, "setTrace"));
  exports.Set("tryLock", Napi::Function::New(env, glue::TryLock));
  exports.Set("wireLayout", glue::wire::layout(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netplumb, Init)
