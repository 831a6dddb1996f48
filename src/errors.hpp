// Errors crossing into JS: the plain object lib/ turns into a NetlinkError
// (errors.ts, fromNative), and the guards every entry point runs its body in.
#pragma once

#include <napi.h>

#include "../native/handle.hpp"
#include "../native/nl/error.hpp"

namespace glue {

// The plain object lib/ turns into a NetlinkError in the caller's frame.
Napi::Object from_error(Napi::Env env, const nl::Error& e);

// The same shape as a JS Error, for what is thrown synchronously (a
// constructor): lib turns it into a NetlinkError (errors.ts, fromNative).
Napi::Error native_exception(Napi::Env env, const nl::Error& e);

// A promise already rejected with `e` (the plain shape lib's kernel() types).
Napi::Value rejected(Napi::Env env, const nl::Error& e);

// Every entry point runs its body through one of these. A Napi::Error (a
// TypeError of the glue, a failing N-API call) is JS's already; any other C++
// exception — std::bad_alloc, a std::system_error — would pass through
// node-addon-api (which only catches its own) and abort the process: it
// becomes a typed error instead.
//   guard_promise: the entry point returns a promise; it is rejected.
//   guard_throw:   thrown as an Error carrying errno/syscall (lib types it).
template <class F>
Napi::Value guard_promise(Napi::Env env, const char* op, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    nl::Error e = nl::error_of_current_exception(op);
    return rejected(env, e);
  }
}
template <class F>
auto guard_throw(Napi::Env env, const char* op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    nl::Error e = nl::error_of_current_exception(op);
    throw native_exception(env, e);
  }
}

}  // namespace glue
