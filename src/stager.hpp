// Stager: per JS environment, the handles with requests staged this turn of
// JS, handed to their I/O threads by one microtask (handle_wrap.cc); and the
// pacers of lib/pace.ts, whose waiting requests go before any other.
#pragma once

#include <napi.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace glue {

// One flush function and one queueMicrotask reference for every handle of
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
          (*h)->queue_microtask_.Reset();
          (*h)->pacers_.clear();
          delete h;
        },
        holder);
    return holder->get();
  }

  // Lists c for the microtask (queued once per turn). May throw (no memory,
  // or queueMicrotask failing): the caller then flushes at once.
  void list(Napi::Env env, Client* c) {
    if (c->listed) return;
    clients_.push_back(c);
    c->listed = true;
    if (scheduled_) return;
    if (flush_.IsEmpty()) {
      flush_ = Napi::Persistent(Napi::Function::New(
          env, [](const Napi::CallbackInfo& i) { static_cast<Stager*>(i.Data())->run(); }, "flush", this));
      queue_microtask_ = Napi::Persistent(env.Global().Get("queueMicrotask").As<Napi::Function>());
    }
    scheduled_ = true;
    queue_microtask_.Call({flush_.Value()});
  }
  // A client going away.
  void forget(Client* c) {
    if (c->listed) std::erase(clients_, c);
    c->listed = false;
  }
  // Handle.pace(flag: Int32Array, catchUp: () => void), once per copy of
  // lib/pace.ts: while flag[0] is not 0 that copy holds address and route
  // requests for a later turn of the event loop, and catchUp() makes them now.
  void add_pacer(Napi::Int32Array flag, Napi::Function catch_up) {
    if (flag.ElementLength() < 1) throw Napi::TypeError::New(flag.Env(), "Handle.pace(flag: Int32Array(1), catchUp)");
    pacers_.push_back(Pacer{flag.Data(), Napi::Persistent(flag), Napi::Persistent(catch_up)});
  }
  // Before any request but a paced one (an address or route, which lib/pace.ts
  // queues behind the ones it holds): the held requests go first, so a handle
  // still sends everything in the order it was asked.
  void catch_up() {
    for (auto& p : pacers_)
      if (*p.flag != 0) p.catch_up.Call({});
  }
  // Flushes every listed client (the microtask; also called directly when it could not be queued).
  void run() {
    scheduled_ = false;
    taking_.swap(clients_);  // both keep their capacity: no allocation per turn
    for (Client* c : taking_) {
      c->listed = false;
      c->flush_staged();
    }
    taking_.clear();
  }

 private:
  struct Pacer {
    const int32_t* flag;  // the typed array's own memory, kept alive by the reference beside it
    Napi::Reference<Napi::Int32Array> keep;
    Napi::FunctionReference catch_up;
  };
  Napi::FunctionReference flush_, queue_microtask_;
  std::vector<Pacer> pacers_;
  std::vector<Client*> clients_, taking_;
  bool scheduled_ = false;
};

}  // namespace glue
