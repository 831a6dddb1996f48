// InFlight: a handle's requests in flight, each with its promise and its
// kind's settle (requests.hpp), settled one by one as the I/O thread
// delivers them (handle_wrap.cc).
#pragma once

#include <napi.h>

#include <string>
#include <unordered_map>

#include "errors.hpp"
#include "requests.hpp"

namespace glue {

class InFlight {
 public:
  void add(nl::Request* r, Napi::Promise::Deferred d, SettleFn settle) { map_.emplace(r, Entry{d, settle}); }
  void forget(nl::Request* r) { map_.erase(r); }
  bool empty() const { return map_.empty(); }
  size_t size() const { return map_.size(); }

  // Settles r by its kind, on its own: one that cannot be settled must not
  // leave the others' promises (and entries) behind. The first failure to
  // settle is kept in *failure (the caller reports it once).
  void settle(Napi::Env env, nl::Request& r, std::string* failure) {
    auto it = map_.find(&r);
    if (it == map_.end()) return;
    Napi::Promise::Deferred d = it->second.d;
    SettleFn fn = it->second.settle;
    map_.erase(it);
    settle(env, r, d, fn, failure);
  }
  // Settles r, never tracked (it ran on the JS thread): as above. With no
  // `failure` to keep it in, a JS exception settling it is thrown.
  static void settle(Napi::Env env, nl::Request& r, Napi::Promise::Deferred& d, SettleFn fn, std::string* failure) {
    try {
      fn(env, r, d);
    } catch (const Napi::Error& e) {
      if (!failure) throw;
      if (failure->empty()) *failure = std::string("netplumb: settling a request failed: ") + e.what();
    } catch (...) {
      // Out of memory converting the result: the request fails, typed.
      try {
        d.Reject(from_error(env, nl::error_of_current_exception(r.op)));
      } catch (...) {
      }
    }
  }

 private:
  struct Entry {
    Napi::Promise::Deferred d;
    SettleFn settle;
  };
  std::unordered_map<nl::Request*, Entry> map_;
};

}  // namespace glue
