// Watcher: reads a namespace's netlink monitor socket on the JS thread.
#include "watcher.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "convert.hpp"
#include "errors.hpp"

namespace glue {

// Watcher(fd, callback): reads a netlink monitor socket (socket({ netlinkGroups }))
// on the JS thread whenever libuv says it is readable: non-blocking reads of
// what the kernel already queued, never a wait. Each readable turn calls
// callback(events) once, events being [{ type: 'link' | 'address' | 'route' |
// 'neighbor' | 'rule', action: 'new' | 'del', raw }] and { type: 'overrun' }
// when the kernel dropped notifications (ENOBUFS). pause() stops reading (the
// kernel queues, then drops: an overrun), resume() reads again, drain() drops
// what is queued. close() stops it and closes the fd.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod("close", &Watcher::Close), InstanceMethod("ref", &Watcher::Ref),
                        InstanceMethod("unref", &Watcher::Unref), InstanceMethod("pause", &Watcher::Pause),
                        InstanceMethod("resume", &Watcher::Resume), InstanceMethod("drain", &Watcher::Drain)});
  }

  Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "Watcher(fd, callback)");
    // What can fail (memory, N-API) comes before the poll handle exists; a
    // failure is thrown typed and the caller closes the fd.
    guard_throw(env, "uv_poll_init", [&] {
      callback_ = Napi::Persistent(info[1].As<Napi::Function>());
      context_ = std::make_unique<Napi::AsyncContext>(env, "netplumb-watcher");
      buf_.resize(128 * 1024);
      auto poll = std::make_unique<uv_poll_t>();
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
        throw native_exception(env, nl::Error::sys(EINVAL, "uv_poll_init", "no event loop"));
      self_ = Napi::Persistent(info.This().As<Napi::Object>());  // alive while open
      int fd = info[0].As<Napi::Number>().Int32Value();
      if (int rc = uv_poll_init(loop, poll.get(), fd); rc != 0) {
        self_.Reset();
        throw native_exception(env, nl::Error::sys(-rc, "uv_poll_init", "cannot watch the monitor socket"));
      }
      fd_ = fd;
      poll_ = poll.release();
      poll_->data = this;
      uv_poll_start(poll_, UV_READABLE, &Watcher::OnReadable);
      env_ = env;
      napi_add_env_cleanup_hook(env, &Watcher::Cleanup, this);
    });
  }

  ~Watcher() override { Stop(); }

 private:
  static void OnReadable(uv_poll_t* h, int status, int) {
    auto* w = static_cast<Watcher*>(h->data);
    if (w == nullptr) return;
    // Called from the event loop, not from JS: an exception must not escape.
    // One is expected when a worker is being terminated (its environment can
    // no longer run JS): then there is nobody left to tell.
    try {
      w->Read(status);
    } catch (...) {
      // Napi::Error as above. Out of memory: these events are lost; the
      // socket stays watched and the next ones come (an overrun, in effect).
    }
  }

  void Read(int status) {
    Napi::Env env = env_;
    Napi::HandleScope scope(env);
    auto events = Napi::Array::New(env);
    uint32_t n = 0;
    auto push = [&](const char* type, const char* action, Napi::Value raw) {
      auto e = Napi::Object::New(env);
      e.Set("type", type);
      if (action) e.Set("action", action);
      if (!raw.IsEmpty()) e.Set("raw", raw);
      events.Set(n++, e);
    };
    bool overrun = false;
    for (int i = 0; i < 256; ++i) {  // at most this many datagrams per turn: let the loop breathe
      sockaddr_nl from{};
      socklen_t fromlen = sizeof from;
      ssize_t got = ::recvfrom(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // reading it clears the socket's error
          if (!overrun) push("overrun", nullptr, Napi::Value());
          overrun = true;
          continue;
        }
        break;  // EAGAIN: all read
      }
      if (from.nl_pid != 0) continue;  // only the kernel speaks on these groups
      std::vector<nl::rtnl::Event> evs;
      nl::rtnl::parse_events(nl::bytes(buf_.data(), static_cast<size_t>(got)), &evs);
      for (const auto& e : evs) {
        const char* action = e.added ? "new" : "del";
        if (e.type == nl::rtnl::Event::Type::Link) push("link", action, from_link(env, e.link));
        else if (e.type == nl::rtnl::Event::Type::Addr) push("address", action, from_addr(env, e.addr));
        else if (e.type == nl::rtnl::Event::Type::Route) push("route", action, from_route(env, e.route));
        else if (e.type == nl::rtnl::Event::Type::Neigh) push("neighbor", action, from_neigh(env, e.neigh));
        else push("rule", action, from_rule(env, e.rule));
      }
    }
    // A socket error (the kernel's ENOBUFS) made libuv stop the poll handle
    // before calling us: the error is read now, so watch again.
    if (status < 0 && poll_ && fd_ >= 0 && !paused_) uv_poll_start(poll_, UV_READABLE, &Watcher::OnReadable);
    if (n == 0) return;
    // The C call, not node-addon-api's: in a worker being terminated the call
    // fails with an exception that cannot be fetched, and node-addon-api
    // would abort the process over it.
    napi_value recv = self_.IsEmpty() ? env.Undefined() : self_.Value();
    napi_value argv[] = {events};
    napi_value result;
    if (napi_make_callback(env, *context_, recv, callback_.Value(), 1, argv, &result) == napi_pending_exception) {
      // A listener threw: an uncaught exception, as Node reports one from a
      // socket's 'data' handler (nothing to fetch when JS can no longer run).
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }

  // Stops polling and closes the fd; true if they were open (safe to call twice).
  bool Release() {
    bool open = poll_ != nullptr;
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return open;
  }
  void Stop() {
    if (Release()) napi_remove_env_cleanup_hook(env_, &Watcher::Cleanup, this);
  }
  // The environment is going away (its hooks are being run: nothing to remove).
  static void Cleanup(void* arg) { static_cast<Watcher*>(arg)->Release(); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    self_.Reset();
    return info.Env().Undefined();
  }
  // Back-pressure: while paused nothing is read; the kernel's queue fills.
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (poll_ && !paused_) uv_poll_stop(poll_);
    paused_ = true;
    return info.Env().Undefined();
  }
  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (poll_ && paused_) uv_poll_start(poll_, UV_READABLE, &Watcher::OnReadable);
    paused_ = false;
    return info.Env().Undefined();
  }
  // Reads and drops what the socket holds now (after an overrun, before the
  // state is read again: all of it is older than that read). Returns how many.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    uint32_t n = 0;
    for (int i = 0; fd_ >= 0 && i < 1 << 20; ++i) {
      ssize_t got = ::recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (got >= 0) ++n;
      else if (errno != EINTR && errno != ENOBUFS) break;  // EAGAIN: empty
    }
    return Napi::Number::New(info.Env(), n);
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  int fd_ = -1;
  bool paused_ = false;
  uv_poll_t* poll_ = nullptr;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> buf_;
};

Napi::Function watcher_class(Napi::Env env) { return Watcher::Init(env); }

}  // namespace glue
