// The message trace's glue: installs nl's trace tap and hands each datagram
// (copied, with the time it was seen) to a JS function through a thread-safe
// function. Nothing here runs while tracing is off: the tap is not installed.
#include "trace.hpp"

#include <time.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "../native/nl/socket.hpp"

namespace glue {

namespace {

struct Item {
  bool sent;
  int protocol;
  uint32_t portid;
  uint64_t netns;
  double time_ms;  // CLOCK_MONOTONIC, milliseconds
  std::vector<uint8_t> data;
};

// The thread-safe function of the last setTrace(fn), unreferenced (it never
// keeps the process alive). Each setTrace(fn) replaces it: another copy of
// the library (a second module instance, as jest loads one per test file)
// must get the records from then on, not the function enabled first. A
// finalizer clears the state only if no newer function has replaced its own
// (g_gen).
std::mutex g_mu;
Napi::ThreadSafeFunction g_tsfn;
bool g_alive = false;
uint64_t g_gen = 0;

void call_js(Napi::Env env, Napi::Function fn, Item* item) {
  if (env != nullptr && fn != nullptr) {
    auto o = Napi::Object::New(env);
    o.Set("sent", item->sent);
    o.Set("protocol", item->protocol);
    o.Set("portid", item->portid);
    o.Set("netns", static_cast<double>(item->netns));
    o.Set("time", item->time_ms);
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, item->data.data(), item->data.size()));
    fn.Call({o});
  }
  delete item;
}

void tap(const nl::TraceRecord& r) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto* item = new Item{r.sent, r.protocol, r.portid, r.netns, ts.tv_sec * 1e3 + ts.tv_nsec / 1e6, {r.data.begin(), r.data.end()}};
  std::lock_guard lock(g_mu);
  if (!g_alive || g_tsfn.NonBlockingCall(item, call_js) != napi_ok) delete item;
}

}  // namespace

Napi::Value set_trace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    nl::set_trace_tap(nullptr);
    return env.Undefined();
  }
  {
    std::lock_guard lock(g_mu);
    if (g_alive) g_tsfn.Release();  // its queued records still reach it; none after
    uint64_t gen = ++g_gen;
    g_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "netplumb-trace", 0, 1, [gen](Napi::Env) {
      std::lock_guard lock(g_mu);
      if (g_gen != gen) return;  // replaced by a newer setTrace(fn)
      nl::set_trace_tap(nullptr);
      g_alive = false;
    });
    g_tsfn.Unref(env);
    g_alive = true;
  }
  nl::set_trace_tap(&tap);
  return env.Undefined();
}

}  // namespace glue
