// Spinner: keeps the event loop polling, not sleeping, for a moment after
// requests are handed to an I/O thread.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

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
    uv_prepare_init(loop, &s->turn_);
    uv_check_init(loop, &s->phase_);
    s->idle_.data = s->turn_.data = s->phase_.data = s;
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->idle_));
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->turn_));
    uv_unref(reinterpret_cast<uv_handle_t*>(&s->phase_));
    const char* here = getenv("NETPLUMB_HERE");
    s->here_off_ = here && std::string_view(here) == "0";
    s->env_ = env;
    env.SetInstanceData<Spinner, &Spinner::forget>(s);
    // When the environment goes away (process exit, a worker ending), the
    // handle is closed while its loop still runs, and the close frees the Spinner.
    napi_add_env_cleanup_hook(env, &Spinner::cleanup, s);
    return s;
  }

  // Whether an address or route request runs on the JS thread now
  // (HandleWrap::RunHere), its reply read before the call returns: an awaited
  // call then costs the kernel's work and no hand-off to an I/O thread and
  // back. Settled at once for kHereBudgetNanos from the first one of a
  // window (one turn of the event loop, counted from its check phase:
  // window()); one more runs here and is settled from setImmediate (an
  // awaited loop whose calls settle at once would otherwise never let timers
  // and I/O run), and none after it in that window, whatever the namespace:
  // they go to an I/O thread. The loop's next call, made from that
  // setImmediate, starts the next window. None for 250 ms after one that
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
    if (uv_hrtime() >= s->deadline_ || !nl::Handle::requests_out()) {
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
  // check phase (setImmediate callbacks) to the next, through timers and the
  // poll phase. The check handle, started after Node's own, runs before the
  // setImmediate callbacks (libuv runs the last started first), so a call
  // made from the setImmediate that settles a call run here starts a new
  // window, while a turn still has one window's budget (a prepare-to-prepare
  // window made that call go to an I/O thread whenever the loop ran in the
  // poll phase; a window per phase let a turn hold the loop twice as long).
  uint64_t window() {
    if (!phase_watched_) {
      uv_check_start(&phase_, &Spinner::checked);
      phase_watched_ = true;
    }
    return checks_;
  }
  static void checked(uv_check_t* h) {
    uv_check_stop(h);
    auto* s = static_cast<Spinner*>(h->data);
    s->phase_watched_ = false;
    s->checks_++;
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
  bool phase_watched_ = false;  // phase_ is started: checks_ counts this window's end
  bool later_given_ = false;    // this window's one Here::Later has been given
  uint64_t turns_ = 0, checks_ = 0, here_window_ = ~uint64_t{0};  // the last window here() ran in
  uint64_t window_start_ = 0, off_until_ = 0, off_for_ = kHereOffNanos;
};

}  // namespace glue
