// Bridge: the I/O thread's deliveries to the JS thread (handle_wrap.cc).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "../native/handle.hpp"

namespace glue {

class HandleWrap;
void CallDrain(Napi::Env env, Napi::Function, HandleWrap* self, void*);
using Tsfn = Napi::TypedThreadSafeFunction<HandleWrap, void, CallDrain>;

// Bridges the I/O thread's deliveries to the JS thread: one thread-safe call
// per pile of finished batches, however many requests they hold.
class Bridge : public nl::Handle::Sink {
 public:
  Tsfn tsfn;
  std::mutex mu;
  nl::Handle::Batch done;
  bool scheduled = false;
  bool is_closed = false;

  // Set, under mu, when the TSFN has been finalized: Node frees it when its
  // environment ends (a worker terminated) even while this handle's I/O
  // thread still holds it, so from then on nothing may call it.
  bool dead = false;
  std::weak_ptr<nl::Handle> handle;

  void deliver(nl::Handle::Batch&& b) override {
    std::lock_guard<std::mutex> lk(mu);
    done.reserve(done.size() + b.size());  // may throw (the I/O thread retries); the moves below cannot
    for (auto& r : b) done.push_back(std::move(r));
    kick();
  }
  void closed() override {
    std::lock_guard<std::mutex> lk(mu);
    is_closed = true;
    if (dead) return;
    kick();
    tsfn.Release();
  }

  // The TSFN's finalizer, on the JS thread: after a normal close, or when
  // the environment goes away with the handle still open. Then the I/O
  // thread drops what it has not sent yet and closes, and what it still
  // delivers is dropped.
  static void finalized(const std::shared_ptr<Bridge>& b) {
    std::shared_ptr<nl::Handle> h;
    {
      std::lock_guard<std::mutex> lk(b->mu);
      b->dead = true;
      h = b->handle.lock();
    }
    if (h) h->abandon();
  }

 private:
  void kick() {
    if (scheduled || dead) return;
    scheduled = true;
    tsfn.NonBlockingCall();
  }
};

}  // namespace glue
