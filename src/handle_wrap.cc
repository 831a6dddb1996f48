// HandleWrap: the JS class Handle, one namespace's I/O thread. Takes requests
// (their kinds: requests.hpp), hands them to the thread a turn of JS at a
// time, and settles their promises as the thread delivers them.
#include "handle_wrap.hpp"

#include <unistd.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "bridge.hpp"
#include "errors.hpp"
#include "in_flight.hpp"
#include "namespace.hpp"
#include "requests.hpp"
#include "spinner.hpp"
#include "stager.hpp"

namespace glue {

class HandleWrap : public Napi::ObjectWrap<HandleWrap>, Stager::Client, Spinner::Due {
 public:
  static Napi::Function Init(Napi::Env env) { return Define(env, Requests{}, Stager::make(env)); }

  // new Handle(mode: 'path' | 'name' | 'create' | 'current', path: string)
  // new Handle('fd', what: string, fd: number): the namespace of fd, dup'd
  // now, synchronously: fd may be closed (and its number reused) right after.
  // new Handle('ref', what: string, ref: number): the same, for another
  // handle's ref (its socket: nl::namespace_fd), taken now, synchronously.
  HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HandleWrap>(info) {
    Napi::Env env = info.Env();
    stager_ = static_cast<Stager*>(info.Data())->shared_from_this();
    std::unique_ptr<nl::OpenRequest> open = make_open(info);

    std::unique_ptr<std::shared_ptr<Bridge>> keep;
    guard_throw(env, "open", [&] {
      spinner_ = Spinner::of(env);
      if (!spinner_) throw Napi::Error::New(env, "netplumb: no event loop to serve the handle from");
      bridge_ = std::make_shared<Bridge>();
      keep = std::make_unique<std::shared_ptr<Bridge>>(bridge_);
    });
    // The wrapper stays alive until its I/O thread has closed: the TSFN's
    // finalizer drops this reference.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    bridge_->tsfn = Tsfn::New(
        env, "netplumb-handle", 0, 1, this,
        [](Napi::Env, std::shared_ptr<Bridge>* bridge, HandleWrap* self) {
          Bridge::finalized(*bridge);
          delete bridge;
          self->self_.Reset();
        },
        keep.get());
    keep.release();  // the finalizer owns it now
    bridge_->tsfn.Unref(env);  // an idle handle does not keep the process alive
    nl::Request* opening = open.get();
    try {
      auto d = Napi::Promise::Deferred::New(env);
      ready_ = Napi::Persistent(d.Promise().As<Napi::Object>());
      track(env, opening, d, &settle_open);
      nl::Error err;
      handle_ = nl::Handle::start(std::move(open), bridge_, &err);
      if (!handle_) {
        // No I/O thread: nothing was opened or created. ready() rejects
        // (pthread_create, EAGAIN/ENOMEM), the handle is closed from the start.
        pending_.forget(opening);
        d.Reject(from_error(env, err));
        StartClosed(env);
        return;
      }
    } catch (...) {
      // Out of memory before the thread started (it never did): the same.
      pending_.forget(opening);
      nl::Error e = nl::error_of_current_exception("open");
      StartClosed(env);
      throw native_exception(env, e);
    }
    std::lock_guard<std::mutex> lk(bridge_->mu);
    bridge_->handle = handle_;
  }

  ~HandleWrap() override {
    CloseUserFd();
    stager_->forget(this);  // never due here: later_keep_ holds the wrapper while it is
  }

  // A handle whose thread never started: closed, close() resolves at once,
  // and the TSFN (nobody will call it) is released, which drops self_.
  void StartClosed(Napi::Env env) {
    closed_ = true;
    auto c = Napi::Promise::Deferred::New(env);
    c.Resolve(env.Undefined());
    close_promise_ = Napi::Persistent(c.Promise().As<Napi::Object>());
    refd_ = false;
    bridge_->tsfn.Release();
  }

  // Settles at most this many promises per turn of the event loop, or for
  // at most this long, when more are waiting: the rest goes in a later turn
  // (its check phase: SettleLater). Each settlement runs the awaiting code's continuation (as
  // microtasks, after this callback returns and before control goes back to
  // the loop), so a pile of completions would otherwise hold timers and I/O
  // back for its whole length. (Calling the thread-safe function again does
  // not yield: Node runs up to 1,000 of its calls in one go.)
  // From the thread-safe function (poll phase) the slice is the turn's, as
  // node-api calls it again in the same turn when the I/O thread delivers
  // meanwhile; from the check phase, one Drain is queued at a time (SettleLater).
  static constexpr size_t kSettlePerTurn = 64;
  static constexpr uint64_t kSettleBudgetNanos = 500'000;
  // Staged requests handed to the I/O thread at once, without waiting for the microtask.
  static constexpr size_t kFlushEarly = 32;

  void Drain(Napi::Env env, bool from_poll) {
    Napi::HandleScope scope(env);
    const uint64_t t0 = uv_hrtime();
    const size_t slice = from_poll && spinner_ ? spinner_->left(poll_slice_, kSettlePerTurn) : kSettlePerTurn;
    size_t settled = 0;
    std::string failure;
    bool later = false;
    bool now_closed = false;
    // `scheduled` stays set while this runs: what the thread delivers
    // meanwhile piles up in `done` and is taken by the next round.
    for (;;) {
      nl::Handle::Batch batch;
      {
        std::lock_guard<std::mutex> lk(bridge_->mu);
        batch.swap(bridge_->done);
        if (batch.empty()) {
          bridge_->scheduled = false;
          now_closed = bridge_->is_closed;
          break;
        }
      }
      size_t i = 0;
      for (; i < batch.size(); ++i, ++settled) {
        if (settled == slice || (settled % 16 == 15 && uv_hrtime() - t0 > kSettleBudgetNanos)) break;
        pending_.settle(env, *batch[i], &failure);
      }
      if (i < batch.size()) {
        // Over budget: the rest goes back in front of whatever came since,
        // for a later turn. Without memory for that, it is settled now.
        std::lock_guard<std::mutex> lk(bridge_->mu);
        try {
          bridge_->done.insert(bridge_->done.begin(), std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(i)),
                               std::make_move_iterator(batch.end()));
          later = true;
        } catch (...) {
        }
      }
      if (later) break;
      for (; i < batch.size(); ++i) pending_.settle(env, *batch[i], &failure);
    }
    if (from_poll) poll_slice_.used += settled;
    if (later) SettleLater(env);
    if (pending_.empty() && !closed_ && refd_) {
      bridge_->tsfn.Unref(env);
      refd_ = false;
    }
    if (now_closed) CloseUserFd();
    if (now_closed && close_) {
      close_->Resolve(env.Undefined());
      close_.reset();
    }
    // Where JS can still run this surfaces as an uncaught exception; in an
    // environment being torn down (a terminated worker) the throw just fails.
    if (!failure.empty()) napi_throw_error(env, nullptr, failure.c_str());
  }

 private:
  // Drain() again from the next check phase (Spinner::settle_at_check);
  // false if that cannot be queued (for Drain's own rest: nothing left to
  // settle for). One at a time (a second would settle another slice in the
  // same turn). The wrapper is held until then (the thread-safe function,
  // which otherwise keeps it, may be finalized first when the handle has closed).
  bool SettleLater(Napi::Env) {
    if (!later_keep_.IsEmpty()) return true;  // one is queued: it takes what comes meanwhile
    try {
      later_keep_ = Napi::Persistent(Value());
      spinner_->settle_at_check(this);
      return true;
    } catch (...) {
      later_keep_.Reset();
      return false;
    }
  }
  void settle_due(Napi::Env env) override {
    Napi::ObjectReference keep = std::move(later_keep_);
    Drain(env, false);
  }

  // The Handle class: ready, close, pending, and one method per request kind.
  template <class... K>
  static Napi::Function Define(Napi::Env env, KindList<K...>, Stager* stager) {
    return DefineClass(env, "Handle",
                       {InstanceMethod("ready", &HandleWrap::Ready), InstanceMethod<&HandleWrap::Call<K>>(K::name)...,
                        InstanceMethod("close", &HandleWrap::Guarded<&HandleWrap::Close>),
                        InstanceMethod("nsFd", &HandleWrap::NsFd),
                        InstanceAccessor("pending", &HandleWrap::Pending, nullptr),
                        StaticMethod("pace", &HandleWrap::Pace, napi_default, stager)},
                       stager);
  }

  // Every promise-returning method: a C++ exception rejects its promise, typed.
  template <Napi::Value (HandleWrap::*M)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return guard_promise(info.Env(), "request", [&] { return (this->*M)(info); });
  }

  // Handle.pace(flag, catchUp) -> Int32Array: see Stager::add_pacer; the
  // array's [0] changes at every turn of the event loop (Spinner::turn_counter).
  static Napi::Value Pace(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || !info[1].IsFunction())
      throw Napi::TypeError::New(info.Env(), "Handle.pace(flag: Int32Array(1), catchUp)");
    Spinner* spinner = Spinner::of(info.Env());
    if (!spinner) throw Napi::Error::New(info.Env(), "netplumb: no event loop to pace requests by");
    static_cast<Stager*>(info.Data())->add_pacer(info[0].As<Napi::Int32Array>(), info[1].As<Napi::Function>());
    return spinner->turn_counter();
  }

  // One method per request kind: make the request from the JS arguments and
  // queue it, to be settled by its kind (requests.hpp). A kind lib/pace.ts
  // does not hold back lets the requests it holds go first.
  template <class K>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return guard_promise(info.Env(), "request", [&] {
      if constexpr (!paced<K>) stager_->catch_up();
      nl::Error err;
      bool declined = false;
      auto req = make<K>(info, &err, &declined);
      if (declined) return info.Env().Null();  // a quick kind's: the caller takes the full path
      return Submit(info.Env(), std::move(req), err, &settle<K>, paced<K>);
    });
  }

  // ready(): the open's promise. Called once (Namespace.start): the reference
  // is dropped then, so an open handle does not keep its settled promise and result.
  Napi::Value Ready(const Napi::CallbackInfo& info) {
    if (ready_.IsEmpty()) throw Napi::Error::New(info.Env(), "Handle.ready() is called once");
    Napi::Value p = ready_.Value();
    ready_.Reset();
    return p;
  }

  // nsFd() -> an fd of the namespace for whoever asks for one (Namespace.fd):
  // made on the first call, kept, and closed with the handle (ns_fd_of).
  Napi::Value NsFd(const Napi::CallbackInfo& info) {
    return closed_ ? Napi::Number::New(info.Env(), -1) : ns_fd_of(info.Env(), handle_ ? handle_->ref() : -1, &user_fd_);
  }
  void CloseUserFd() {
    if (user_fd_ >= 0) ::close(user_fd_);
    user_fd_ = -1;
  }
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }

  Napi::Value Submit(Napi::Env env, std::unique_ptr<nl::Request> req, const nl::Error& err, SettleFn settle, bool here) {
    auto d = Napi::Promise::Deferred::New(env);
    if (!req) {
      d.Reject(from_error(env, err));
    } else if (closed_) {
      d.Reject(from_error(env, nl::Error::sys(EBADF, req->op, "the namespace handle is closed")));
    } else if (Spinner::Here how = here ? RunHere(env, *req) : Spinner::Here::No; how != Spinner::Here::No) {
      if (how == Spinner::Here::Now || !SettleHereLater(env, req, d, settle)) InFlight::settle(env, *req, d, settle, nullptr);
    } else {
      // Whatever can fail for memory comes first: once tracked, the request
      // is staged without allocating (a tracked request that was not staged
      // would leave a promise nobody settles).
      staged_.reserve(staged_.size() + 1);
      track(env, req.get(), d, settle);
      Stage(env, std::move(req));
    }
    return d.Promise();
  }

  // An address or route request runs on this thread when nothing of its
  // handle is out, staged or in flight (a staged request is tracked): it
  // never overtakes one asked before it (Spinner::here); and not while
  // lib/pace.ts holds a burst (its slices are bursts too).
  Spinner::Here RunHere(Napi::Env env, nl::Request& r) {
    Spinner::Here how = pending_.empty() && !stager_->burst() && !stager_->holding() ? spinner_->here() : Spinner::Here::No;
    if (how == Spinner::Here::No) return how;  // a burst's call: no clock read
    const uint64_t t0 = uv_hrtime();
    if (!handle_->run_here(r)) return Spinner::Here::No;
    spinner_->here_ran(uv_hrtime() - t0);
    stager_->ran_here(env);
    return how;
  }
  // A request that ran here, settled by Drain from the check phase (as if the
  // I/O thread had delivered it). False, nothing tracked, if that or
  // memory fails (a Drain queued for nothing is harmless).
  bool SettleHereLater(Napi::Env env, std::unique_ptr<nl::Request>& req, Napi::Promise::Deferred d, SettleFn settle) {
    if (!SettleLater(env)) return false;
    try {
      std::lock_guard<std::mutex> lk(bridge_->mu);
      bridge_->done.reserve(bridge_->done.size() + 1);
      track(env, req.get(), d, settle);
      bridge_->done.push_back(std::move(req));
    } catch (...) {
      return false;
    }
    return true;
  }

  // Requests made during one turn of JS are handed to the I/O thread together,
  // from a microtask: one lock and one wake-up for a whole Promise.all, and the
  // thread sees the pile at once (one sendmsg). An awaited single request pays
  // only for the microtask.
  void StageOrFlush(Napi::Env env, std::unique_ptr<nl::Request> req) {
    staged_.push_back(std::move(req));
    // A long burst is handed over in slices as it grows, so the I/O thread
    // and the kernel start on the first requests while JS is still making
    // the rest (two cores working instead of one after the other).
    if (staged_.size() >= kFlushEarly) Flush();
    stager_->list(env, this);
  }
  void Stage(Napi::Env env, std::unique_ptr<nl::Request> req) {
    // Staged requests must reach the I/O thread even if the microtask cannot
    // be queued (the request is tracked already): then hand them over now.
    try {
      StageOrFlush(env, std::move(req));
    } catch (...) {
      // Everything staged goes now, this handle's and any other's listed.
      Flush();
      stager_->run();
      throw;
    }
  }

  void Flush() {
    if (staged_.empty()) return;
    std::vector<std::unique_ptr<nl::Request>> out;
    out.swap(staged_);
    handle_->submit(std::move(out));
    if (spinner_) spinner_->extend();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!closed_) {
      stager_->catch_up();  // what lib/pace.ts holds was asked before close()
      auto close = std::make_unique<Napi::Promise::Deferred>(env);  // allocated before anything changes
      close_promise_ = Napi::Persistent(close->Promise().As<Napi::Object>());
      close_ = std::move(close);
      closed_ = true;
      if (!refd_) {
        bridge_->tsfn.Ref(env);  // until the thread says it has closed
        refd_ = true;
      }
      Flush();  // what was asked before close() still runs
      handle_->close();
    }
    return close_promise_.Value();
  }

  void track(Napi::Env env, nl::Request* r, Napi::Promise::Deferred d, SettleFn settle) {
    if (!refd_) {
      bridge_->tsfn.Ref(env);
      refd_ = true;
    }
    pending_.add(r, d, settle);
  }

  std::shared_ptr<Bridge> bridge_;
  std::shared_ptr<nl::Handle> handle_;
  Spinner* spinner_ = nullptr;
  Spinner::Slice poll_slice_;  // settled from the thread-safe function this turn
  InFlight pending_;  // each request in flight: its promise, and its kind's settle
  Napi::ObjectReference self_;
  Napi::ObjectReference ready_;
  Napi::ObjectReference close_promise_;
  Napi::ObjectReference later_keep_;  // this wrapper, while a SettleLater is pending
  std::unique_ptr<Napi::Promise::Deferred> close_;
  std::vector<std::unique_ptr<nl::Request>> staged_;
  std::shared_ptr<Stager> stager_;
  void flush_staged() override { Flush(); }
  bool closed_ = false;
  bool refd_ = false;
  int user_fd_ = -1;  // nsFd()'s, until the handle closes
};

void CallDrain(Napi::Env env, Napi::Function, HandleWrap* self, void*) {
  if (env == nullptr || self == nullptr) return;
  // Called from the event loop, not from JS: an exception thrown here would
  // terminate the process. The one expected is a worker being terminated
  // with requests in flight (its environment can no longer run JS): then
  // the promises have nobody left to settle for.
  try {
    self->Drain(env, true);
  } catch (...) {
    // Napi::Error as above; anything else (no memory) must not end the process either.
  }
}

Napi::Function handle_class(Napi::Env env) { return HandleWrap::Init(env); }

}  // namespace glue
