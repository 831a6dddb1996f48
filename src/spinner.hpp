// Spinner: keeps the event loop polling, not sleeping, for a moment after
// requests are handed to an I/O thread.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>

#include "../native/handle.hpp"

namespace glue {

// After requests are handed to an I/O thread, keeps the event loop from
// going to sleep in epoll_wait while their answers are due (an active idle
// handle makes its poll timeout 0), so an answer is picked up at once instead
// of paying for waking this thread. On a VM a sleeping thread's wake-up can
// take half a millisecond (the idle vCPU halts in the hypervisor), and an
// awaited loop in which either side slept paid that on every call (measured in
// docs/ARCHITECTURE.md). The loop keeps running timers and I/O meanwhile; the handle is
// unref'd (it never keeps the process alive) and stops once nothing is out
// (Handle::requests_out) or kSpinNanos after the last hand-over. One per Node
// environment (main thread or worker).
class Spinner {
 public:
  static constexpr uint64_t kSpinNanos = 1'000'000;

  static Spinner* of(Napi::Env env) {
    if (auto* s = env.GetInstanceData<Spinner>()) return s;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return nullptr;
    auto* s = new Spinner();
    uv_idle_init(loop, &s->idle_);
    s->idle_.data = s;
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->idle_));
    s->env_ = env;
    env.SetInstanceData<Spinner, &Spinner::forget>(s);
    // When the environment goes away (process exit, a worker ending), the
    // handle is closed while its loop still runs, and the close frees the Spinner.
    napi_add_env_cleanup_hook(env, &Spinner::cleanup, s);
    return s;
  }

  void extend() {
    deadline_ = uv_hrtime() + kSpinNanos;
    if (!active_) {
      uv_idle_start(&idle_, &Spinner::tick);
      active_ = true;
    }
  }

 private:
  static void tick(uv_idle_t* h) {
    auto* s = static_cast<Spinner*>(h->data);
    if (uv_hrtime() >= s->deadline_ || !nl::Handle::requests_out()) {
      uv_idle_stop(h);
      s->active_ = false;
      return;
    }
    // When this CPU is shared (the I/O thread, V8's GC helpers, the kernel's
    // own work on a busy machine), let whoever else is runnable go first.
    sched_yield();
  }
  static void cleanup(void* arg) {
    auto* s = static_cast<Spinner*>(arg);
    napi_set_instance_data(s->env_, nullptr, nullptr, nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->idle_), [](uv_handle_t* h) { delete static_cast<Spinner*>(h->data); });
  }
  static void forget(Napi::Env, Spinner*) {}  // freed by cleanup()

  napi_env env_ = nullptr;
  uv_idle_t idle_{};
  uint64_t deadline_ = 0;
  bool active_ = false;
};

}  // namespace glue
