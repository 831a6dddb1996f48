// Namespace functions of the addon: removing and attaching /run/netns
// entries (off the JS thread, on libuv's pool), entering a namespace around a
// fork, and the flock of lib/lock.ts.
#include "namespace.hpp"

#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "../native/lock.hpp"
#include "../native/netns.hpp"
#include "../native/nl/transact.hpp"
#include "errors.hpp"

namespace glue {

namespace {

// Namespace file operations that do not depend on the calling thread's
// namespace (umount, unlink, bind mounts), run off the JS thread on libuv's pool.
class NetnsWorker : public Napi::AsyncWorker {
 public:
  NetnsWorker(Napi::Env env, std::function<bool(nl::Error*)> fn)
      : Napi::AsyncWorker(env), fn_(std::move(fn)), d_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return d_.Promise(); }
  void Execute() override {
    try {
      ok_ = fn_(&err_);
    } catch (...) {
      ok_ = false;
      err_ = nl::error_of_current_exception("netns");
    }
  }
  void OnOK() override {
    try {
      if (ok_) d_.Resolve(Env().Undefined());
      else d_.Reject(from_error(Env(), err_));
    } catch (...) {
      // No memory to report it: the promise is rejected with what can be made.
      try {
        d_.Reject(Env().Undefined());
      } catch (...) {
      }
    }
  }
  // Execute's own exceptions are caught there; this is node-addon-api's SetError path.
  void OnError(const Napi::Error&) override { d_.Reject(from_error(Env(), nl::Error::sys(EIO, "netns", "internal error"))); }

 private:
  std::function<bool(nl::Error*)> fn_;
  Napi::Promise::Deferred d_;
  nl::Error err_;
  bool ok_ = false;
};

// Queues fn on libuv's pool; the promise settles with its outcome. Nothing
// thrown here (no memory for the worker) escapes: the promise rejects.
Napi::Value Queue(Napi::Env env, const char* op, std::function<bool(nl::Error*)> fn) {
  return guard_promise(env, op, [&]() -> Napi::Value {
    auto w = std::make_unique<NetnsWorker>(env, std::move(fn));
    auto p = w->Promise();
    w->Queue();
    w.release();  // deletes itself when done
    return p;
  });
}

}  // namespace

// removeNamespace(path, dev?, ino?): `ip netns delete`; with dev and ino, only
// if path is still that namespace.
Napi::Value RemoveNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "removeNamespace(path, dev?, ino?)");
  return guard_promise(info.Env(), "umount2", [&] {
    std::string path = info[0].As<Napi::String>();
    nl::netns::Identity expect;
    if (info[1].IsNumber() && info[2].IsNumber()) {
      expect.dev = static_cast<dev_t>(info[1].As<Napi::Number>().Int64Value());
      expect.ino = static_cast<ino_t>(info[2].As<Napi::Number>().Int64Value());
    }
    return Queue(info.Env(), "umount2", [path, expect](nl::Error* e) { return nl::netns::remove(path, e, expect); });
  });
}

Napi::Value ns_fd_of(Napi::Env env, int ref, int* user_fd) {
  if (*user_fd < 0) {
    if (ref < 0) return from_error(env, nl::Error::sys(EBADF, "ioctl", "the namespace is not open"));
    nl::Error err;
    *user_fd = nl::namespace_fd(ref, "the namespace's netlink socket", &err);
    if (*user_fd < 0) return from_error(env, err);
  }
  return Napi::Number::New(env, *user_fd);
}

// attachNamespace(path, ref): `ip netns attach`, of the namespace a handle's
// ref stands for (nl::namespace_fd). Its fd is taken now, synchronously, and
// the name is mounted from that fd (/proc/self/fd/N) on libuv's pool.
Napi::Value AttachNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsString() || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "attachNamespace(path, ref)");
  return guard_promise(info.Env(), "mount", [&] {
    std::string path = info[0].As<Napi::String>();
    nl::Error err;
    int fd = nl::namespace_fd(info[1].As<Napi::Number>().Int32Value(), "the namespace's handle", &err);
    if (fd < 0) {
      auto d = Napi::Promise::Deferred::New(info.Env());
      d.Reject(from_error(info.Env(), err));
      return Napi::Value(d.Promise());
    }
    // Closed when the last copy of the task goes, run or not.
    std::shared_ptr<int> held(new int(fd), [](int* p) {
      ::close(*p);
      delete p;
    });
    return Queue(info.Env(), "mount", [path, held](nl::Error* e) {
      return nl::netns::attach(path, "/proc/self/fd/" + std::to_string(*held), e);
    });
  });
}

// enterNamespace(ref) -> saved fd, on the calling (JS) thread: only for the
// instant around a fork in ns.spawn(). `ref` is a handle's (nl::namespace_fd
// gives the namespace's fd, closed once entered). Failure returns an error object.
Napi::Value EnterNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "enterNamespace(ref)");
  nl::Error err;
  int saved = -1;
  try {
    int fd = nl::namespace_fd(info[0].As<Napi::Number>().Int32Value(), "the namespace's handle", &err);
    if (fd >= 0) {
      saved = nl::netns::enter_saving(fd, &err);
      ::close(fd);
    }
  } catch (...) {
    err = nl::error_of_current_exception("setns");
  }
  if (saved < 0) return from_error(info.Env(), err);
  return Napi::Number::New(info.Env(), saved);
}

Napi::Value RestoreNamespace(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "restoreNamespace(fd)");
  nl::Error err;
  bool ok = false;
  try {
    ok = nl::netns::restore(info[0].As<Napi::Number>().Int32Value(), &err);
  } catch (...) {
    err = nl::error_of_current_exception("setns");
  }
  if (!ok) return from_error(info.Env(), err);
  return info.Env().Undefined();
}

// tryLock(path) -> fd holding an exclusive flock on path, -1 if another open
// file holds it, or an error object. Never waits (LOCK_NB): lib/lock.ts polls.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "tryLock(path)");
  nl::Error err;
  int fd = -2;
  try {
    fd = nl::lock::try_exclusive(info[0].As<Napi::String>(), &err);
  } catch (...) {
    err = nl::error_of_current_exception("flock");
  }
  if (fd == -2) return from_error(info.Env(), err);
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace glue
