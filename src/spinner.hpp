// Spinner: keeps the event loop polling, not sleeping, for a moment after
// requests are handed to an I/O thread.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

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
    // What can throw comes first: the counter and the async context are
    // JS objects, made before any handle is started.
    Napi::Int32Array turns = Napi::Int32Array::New(env, 1);
    napi_async_context async = nullptr;
    Napi::Object resource = Napi::Object::New(env);
    if (napi_async_init(env, resource, Napi::String::New(env, "netplumb"), &async) != napi_ok) return nullptr;
    auto* s = new Spinner();
    s->turns_array_ = Napi::Persistent(turns);
    s->turns_data_ = turns.Data();
    s->resource_ = Napi::Persistent(resource);
    s->async_ = async;
    uv_idle_init(loop, &s->idle_);
    uv_prepare_init(loop, &s->turn_);
    uv_check_init(loop, &s->phase_);
    s->idle_.data = s->turn_.data = s->phase_.data = s;
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->idle_));
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->turn_));
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->phase_));
    // Started after Node's own check handle, it runs before the setImmediate
    // callbacks of every turn (libuv runs the last started first).
    uv_check_start(&s->phase_, &Spinner::checked);
    const char* here = getenv("NETPLUMB_HERE");
    s->here_off_ = here && std::string_view(here) == "0";
    s->env_ = env;
    env.SetInstanceData<Spinner, &Spinner::forget>(s);
    // When the environment goes away (process exit, a worker ending), the
    // handle is closed while its loop still runs, and the close frees the Spinner.
    napi_add_env_cleanup_hook(env, &Spinner::cleanup, s);
    return s;
  }

  // The number of this window (below), as lib/pace.ts reads it: [0] changes
  // at every check phase. The same array for every caller.
  Napi::Int32Array turn_counter() const { return turns_array_.Value(); }

  // Something settled from the next check phase (HandleWrap: a request run
  // here, or the rest of a Drain over its budget), as if from setImmediate
  // but without one: no JS object per turn, no async_hooks, and no fake
  // timers to stop it. The poll does not block meanwhile.
  struct Due {
    virtual void settle_due(Napi::Env env) = 0;
    bool due = false;
  };
  // May throw (no memory): then nothing is queued.
  void settle_at_check(Due* d) {
    if (d->due) return;
    due_.push_back(d);
    d->due = true;
    if (!active_) {
      uv_idle_start(&idle_, &Spinner::tick);
      active_ = true;
    }
  }

  // Whether an address or route request runs on the JS thread now
  // (HandleWrap::RunHere), its reply read before the call returns: an awaited
  // call then costs the kernel's work and no hand-off to an I/O thread and
  // back. Settled at once for kHereBudgetNanos from the first one of a
  // window (one turn of the event loop, counted from its check phase:
  // window()); one more runs here and is settled from the check phase
  // (settle_at_check: an awaited loop whose calls settle at once would
  // otherwise never let timers and I/O run), and none after it in that
  // window, whatever the namespace: they go to an I/O thread. The loop's next
  // call, made from that settlement, starts the next window. None for 250 ms after one that
  // took over kHereSlowNanos (the kernel waited, e.g. for the RTNL lock
  // another process held: that call held the event loop as long), twice as
  // long after each further slow one, up to 30 s; each fast one halves it
  // again. NETPLUMB_HERE=0 in the process's environment turns it off.
  enum class Here { No, Now, Later };
  static constexpr uint64_t kHereBudgetNanos = 1'000'000;
  static constexpr uint64_t kHereSlowNanos = 5'000'000;
  static constexpr uint64_t kHereOffNanos = 250'000'000, kHereOffMaxNanos = 30'000'000'000;
  Here here() {
    if (here_off_) return Here::No;
    const uint64_t now = uv_hrtime();
    if (off_until_ != 0 && now < off_until_) return Here::No;
    if (const uint64_t w = window(); w != here_window_) {  // the first of this window
      here_window_ = w;
      window_start_ = now;
      later_given_ = false;
    }
    if (now - window_start_ < kHereBudgetNanos) return Here::Now;
    if (later_given_) return Here::No;
    later_given_ = true;
    return Here::Later;
  }
  // After a request ran here for `nanos`.
  void here_ran(uint64_t nanos) {
    if (nanos <= kHereSlowNanos) {
      off_until_ = 0;
      off_for_ = off_for_ / 2 < kHereOffNanos ? kHereOffNanos : off_for_ / 2;
      return;
    }
    off_until_ = uv_hrtime() + off_for_;
    off_for_ = off_for_ * 2 > kHereOffMaxNanos ? kHereOffMaxNanos : off_for_ * 2;
  }

  // What a handle settled in one turn of the event loop (HandleWrap::Drain):
  // left() is what remains of per_turn, counted afresh in each turn.
  struct Slice {
    uint64_t turn = ~uint64_t{0};
    size_t used = 0;
  };
  size_t left(Slice& s, size_t per_turn) {
    if (const uint64_t t = turn(); t != s.turn) {
      s.turn = t;
      s.used = 0;
    }
    return s.used < per_turn ? per_turn - s.used : 0;
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
    if (s->due_.empty() && (uv_hrtime() >= s->deadline_ || !nl::Handle::requests_out())) {
      uv_idle_stop(h);
      s->active_ = false;
      return;
    }
    // When this CPU is shared (the I/O thread, V8's GC helpers, the kernel's
    // own work on a busy machine), let whoever else is runnable go first.
    sched_yield();
  }
  // This turn's number. The prepare handle, started when a turn's number is
  // first asked for, counts the turn's end: the loop is about to poll for
  // I/O (a setImmediate queued in the turn runs after this, in a new one).
  uint64_t turn() {
    if (!turn_watched_) {
      uv_prepare_start(&turn_, &Spinner::turned);
      turn_watched_ = true;
    }
    return turns_;
  }
  // This window's number: a window is one turn of the event loop, from one
  // check phase to the next, through timers and the poll phase. A call made
  // from a settlement of the check phase (settle_due) starts a new window,
  // while a turn still has one window's budget (a prepare-to-prepare window
  // made that call go to an I/O thread whenever the loop ran in the poll
  // phase; a window per phase let a turn hold the loop twice as long).
  uint64_t window() const { return checks_; }
  static void checked(uv_check_t* h) {
    auto* s = static_cast<Spinner*>(h->data);
    s->checks_++;
    *s->turns_data_ = static_cast<int32_t>(s->checks_);
    if (!s->due_.empty()) s->settle_due();
  }
  // Settles what is due in one callback scope: the settled promises'
  // continuations run when it closes, as after a setImmediate callback. An
  // exception is the process's uncaught one, as it would be there.
  void settle_due() {
    Napi::Env env(env_);
    Napi::HandleScope hs(env);
    napi_callback_scope scope = nullptr;
    if (napi_open_callback_scope(env_, resource_.Value(), async_, &scope) != napi_ok) return;  // no JS can run: nobody to settle for
    taking_.swap(due_);  // both keep their capacity
    for (Due* d : taking_) {
      d->due = false;
      try {
        d->settle_due(env);
      } catch (const Napi::Error& e) {
        napi_fatal_exception(env_, e.Value());
      } catch (...) {
      }
      bool pending = false;
      napi_value e = nullptr;
      if (napi_is_exception_pending(env_, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env_, &e) == napi_ok)
        napi_fatal_exception(env_, e);
    }
    taking_.clear();
    napi_close_callback_scope(env_, scope);
  }
  static void turned(uv_prepare_t* h) {
    uv_prepare_stop(h);
    auto* s = static_cast<Spinner*>(h->data);
    s->turn_watched_ = false;
    s->turns_++;
  }
  static void cleanup(void* arg) {
    auto* s = static_cast<Spinner*>(arg);
    napi_set_instance_data(s->env_, nullptr, nullptr, nullptr);
    napi_async_destroy(s->env_, s->async_);
    s->resource_.Reset();
    s->turns_array_.Reset();
    // Freed once all three handles are closed.
    auto closed = [](uv_handle_t* h) {
      auto* sp = static_cast<Spinner*>(h->data);
      if (++sp->closed_ == 3) delete sp;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&s->idle_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->turn_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->phase_), closed);
  }
  static void forget(Napi::Env, Spinner*) {}  // freed by cleanup()

  napi_env env_ = nullptr;
  uv_idle_t idle_{};
  uv_prepare_t turn_{};
  uv_check_t phase_{};
  uint64_t deadline_ = 0;
  bool active_ = false;
  int closed_ = 0;
  bool here_off_ = false;      // NETPLUMB_HERE=0
  bool turn_watched_ = false;   // turn_ is started: turns_ counts this turn's end
  bool later_given_ = false;    // this window's one Here::Later has been given
  uint64_t turns_ = 0, checks_ = 0, here_window_ = ~uint64_t{0};  // the last window here() ran in
  uint64_t window_start_ = 0, off_until_ = 0, off_for_ = kHereOffNanos;
  Napi::Reference<Napi::Int32Array> turns_array_;  // checks_, for lib/pace.ts
  int32_t* turns_data_ = nullptr;            // its memory (off the JS heap: it does not move)
  Napi::ObjectReference resource_;           // the callback scope's resource
  napi_async_context async_ = nullptr;
  std::vector<Due*> due_, taking_;  // to settle at the next check phase; being settled
};

}  // namespace glue
