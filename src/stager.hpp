// Stager: per JS environment, the handles with requests staged this turn of
// JS, handed to their I/O threads by one microtask (handle_wrap.cc); and the
// pacers of lib/pace.ts, whose waiting requests go before any other.
#pragma once

#include <napi.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <vector>

namespace glue {

// One flush function and one microtask queueing for every handle of
// an environment, not a function and two references per handle: a process
// may hold 10,000 handles.
class Stager : public std::enable_shared_from_this<Stager> {
 public:
  struct Client {
    virtual ~Client() = default;
    // Hands this client's staged requests over (no JS runs).
    virtual void flush_staged() = 0;
    bool listed = false;  // in the stager's list
  };

  // The environment's stager, made once (the Handle class's data): owned by
  // the environment until it ends (its references are dropped then) and by
  // every client still alive.
  static Stager* make(Napi::Env env) {
    auto* holder = new std::shared_ptr<Stager>(std::make_shared<Stager>());
    napi_add_env_cleanup_hook(
        env,
        [](void* arg) {
          auto* h = static_cast<std::shared_ptr<Stager>*>(arg);
          (*h)->flush_.Reset();
          (*h)->then_.Reset();
          (*h)->resolved_.Reset();
          (*h)->pacers_.clear();
          delete h;
        },
        holder);
    return holder->get();
  }

  // Lists c for the microtask (queued once per turn). May throw (no memory,
  // or then() failing): the caller then flushes at once.
  void list(Napi::Env env, Client* c) {
    if (c->listed) return;
    clients_.push_back(c);
    c->listed = true;
    queue(env);
  }
  // A request ran on the JS thread (HandleWrap::RunHere) since the last
  // microtask: a call made now is part of a burst (a loop building a
  // Promise.all), and is staged, for one sendmsg with the rest. An awaited
  // loop's next call comes after the microtask.
  bool burst() const { return burst_; }
  // After a request ran here. If the microtask cannot be queued, none runs
  // here until one has run (the next list() queues it).
  void ran_here(Napi::Env env) noexcept {
    burst_ = true;
    try {
      queue(env);
    } catch (...) {
    }
  }

 private:
  // Queues run() as a microtask, once per turn of JS.
  void queue(Napi::Env env) {
    if (scheduled_) return;
    if (flush_.IsEmpty()) {
      flush_ = Napi::Persistent(Napi::Function::New(
          env, [](const Napi::CallbackInfo& i) { static_cast<Stager*>(i.Data())->run(); }, "flush", this));
      // A resolved promise's then(), not the global queueMicrotask: fake
      // timers (jest.useFakeTimers() by default) replace that one, and a
      // request staged behind a fake that never runs never went out. It is
      // also cheaper: Node's queueMicrotask makes an AsyncResource per call.
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(env.Undefined());
      resolved_ = Napi::Persistent(d.Promise().As<Napi::Object>());
      then_ = Napi::Persistent(resolved_.Value().Get("then").As<Napi::Function>());
    }
    then_.Call(resolved_.Value(), {flush_.Value()});
    scheduled_ = true;  // only once queued: after a failed then() the next call tries again
  }

 public:
  // A client going away.
  void forget(Client* c) {
    if (c->listed) std::erase(clients_, c);
    c->listed = false;
  }
  // Handle.pace(flag: Int32Array, catchUp: () => void), once per copy of
  // lib/pace.ts: while flag[0] is not 0 that copy holds address and route
  // requests for a later turn of the event loop, and catchUp() makes them now.
  // Both are held weakly: a copy nobody uses any more (the previous test file
  // of a jest --runInBand run, a jest.isolateModules copy) is collected, and
  // its entry dropped at the next registration. A copy that holds requests is
  // alive: its setImmediate holds it.
  void add_pacer(Napi::Int32Array flag, Napi::Function catch_up) {
    if (flag.ElementLength() < 1) throw Napi::TypeError::New(flag.Env(), "Handle.pace(flag: Int32Array(1), catchUp)");
    std::erase_if(pacers_, [](const Pacer& p) { return !alive(p.keep) || !alive(p.catch_up); });
    pacers_.push_back(Pacer{flag.Data(), Napi::Weak(flag), Napi::Weak(catch_up)});
  }
  // Whether some copy of lib/pace.ts holds requests: a request made then is
  // part of a held burst (or one of its slices), and does not run on the JS
  // thread (HandleWrap::RunHere) beside it.
  bool holding() const {
    for (const Pacer& p : pacers_)
      if (alive(p.keep) && *p.flag != 0) return true;
    return false;
  }
  // Before any request but a paced one (an address or route, which lib/pace.ts
  // queues behind the ones it holds): the held requests go first, so a handle
  // still sends everything in the order it was asked. By index: a catchUp()
  // may (in theory) register another copy.
  void catch_up() {
    for (size_t i = 0; i < pacers_.size(); ++i) {
      // The flag's memory is read only while its array is alive (held here by the handle scope).
      if (!alive(pacers_[i].keep) || *pacers_[i].flag == 0) continue;
      Napi::Function fn = pacers_[i].catch_up.Value();
      if (!fn.IsEmpty()) fn.Call({});
    }
  }
  // Flushes every listed client (the microtask; also called directly when it could not be queued).
  void run() {
    scheduled_ = false;
    burst_ = false;
    taking_.swap(clients_);  // both keep their capacity: no allocation per turn
    // Every client is flushed and unlisted even if one throws (a client left
    // listed would never be queued again: its requests would stay staged).
    std::exception_ptr first;
    for (Client* c : taking_) {
      c->listed = false;
      try {
        c->flush_staged();
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    taking_.clear();
    if (first) std::rethrow_exception(first);
  }

 private:
  // A weak reference's target is still there (and now held by the current handle scope).
  template <class R>
  static bool alive(const R& r) {
    napi_value v = nullptr;
    return napi_get_reference_value(r.Env(), r, &v) == napi_ok && v != nullptr;
  }
  struct Pacer {
    const int32_t* flag;  // the typed array's own memory, valid while `keep` still has it
    Napi::Reference<Napi::Int32Array> keep;  // weak
    Napi::FunctionReference catch_up;        // weak
  };
  Napi::FunctionReference flush_, then_;
  Napi::ObjectReference resolved_;
  std::vector<Pacer> pacers_;
  std::vector<Client*> clients_, taking_;
  bool scheduled_ = false;
  bool burst_ = false;
};

}  // namespace glue
