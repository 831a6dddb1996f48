// The socket side of `netplumb cni-daemon` (a Node addon of its own, loaded
// only by the daemon): listens on a unix socket, and for each connection, on a
// thread of its own, checks the peer (SO_PEERCRED: uid 0, else refused before
// anything is read), reads the whole request with the descriptors it carries
// (SCM_RIGHTS), acknowledges it, and hands it to JavaScript, which owns the
// connection from then on (it writes the reply). The wire format is
// native/cni-client/protocol.h.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <napi.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "../cni-client/protocol.h"
}

namespace {

// What one connection gave: a request, a refused peer, or a failure.
struct Event {
  enum Kind { Request, Refused, Failed } kind = Failed;
  int conn = -1;
  int pid = 0;
  unsigned uid = 0;
  std::vector<int> fds;
  std::string env;
  std::string input;
  std::string error;
};

bool write_all(int fd, const void* p, size_t len) {
  auto c = static_cast<const char*>(p);
  while (len) {
    ssize_t w = send(fd, c, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    len -= static_cast<size_t>(w);
  }
  return true;
}

// 1: read; 0: EOF; -1: error (errno).
int read_exact(int fd, void* p, size_t len) {
  auto c = static_cast<char*>(p);
  while (len) {
    ssize_t r = read(fd, c, len);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += r;
    len -= static_cast<size_t>(r);
  }
  return 1;
}

void reply(int conn, char first, uint32_t kind, int32_t status, const std::string& body) {
  npc_reply_header h{};
  std::memcpy(h.magic, NPC_REPLY_MAGIC, 4);
  h.kind = kind;
  h.status = status;
  h.len = static_cast<uint32_t>(body.size());
  // first: the byte before the reply ('R' for a refusal); 0 when the acknowledgement went already.
  if (first && !write_all(conn, &first, 1)) return;
  write_all(conn, &h, sizeof h) && write_all(conn, body.data(), body.size());
}

// Reads one request from `conn`; fills ev (kind Request) or says why not.
void serve(int conn, Event* ev) {
  ucred cred{};
  socklen_t cl = sizeof cred;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
    ev->error = std::string("SO_PEERCRED: ") + std::strerror(errno);
    return;
  }
  ev->pid = cred.pid;
  ev->uid = cred.uid;
  if (cred.uid != 0) {
    // Nothing of the request is read: an unprivileged process gets no root's work done.
    ev->kind = Event::Refused;
    reply(conn, NPC_REFUSE, NPC_REFUSED, 1, "uid " + std::to_string(cred.uid) + " is not root (only uid 0 is served)");
    return;
  }
  // A client that stalls holds only its own thread, and not for long.
  timeval tv{10, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  npc_request_header h{};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * (NPC_MAX_FDS + 2))];
  iovec iov{&h, sizeof h};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  ssize_t r;
  do r = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    ev->error = r == 0 ? "the client closed the connection before its request" : std::string("recvmsg: ") + std::strerror(errno);
    return;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      ev->fds.push_back(fd);
    }
  }
  if (m.msg_flags & MSG_CTRUNC) {
    ev->error = "the request carried more descriptors than the protocol allows";
    return;
  }
  if (static_cast<size_t>(r) < sizeof h && read_exact(conn, reinterpret_cast<char*>(&h) + r, sizeof h - static_cast<size_t>(r)) <= 0) {
    ev->error = "the request's header was cut short";
    return;
  }
  if (std::memcmp(h.magic, NPC_REQUEST_MAGIC, 4) != 0 || h.version != NPC_VERSION) {
    ev->error = "not a netplumb-cni-client request (magic or version)";
    return;
  }
  if (h.nfds != ev->fds.size() || h.nfds < 1 || h.nfds > NPC_MAX_FDS) {
    ev->error = "the request announced " + std::to_string(h.nfds) + " descriptors and carried " + std::to_string(ev->fds.size());
    return;
  }
  if (h.env_len > NPC_MAX_ENV || h.stdin_len > NPC_MAX_STDIN) {
    ev->error = "the request is too large";
    return;
  }
  ev->env.resize(h.env_len);
  ev->input.resize(h.stdin_len);
  if ((h.env_len && read_exact(conn, ev->env.data(), h.env_len) <= 0) || (h.stdin_len && read_exact(conn, ev->input.data(), h.stdin_len) <= 0)) {
    ev->error = "the request was cut short";
    return;
  }
  // The whole request is here: from now on the client must not run it again (ADD).
  char ack = NPC_ACK;
  if (!write_all(conn, &ack, 1)) {
    ev->error = std::string("the client went away before the acknowledgement: ") + std::strerror(errno);
    return;
  }
  ev->kind = Event::Request;
}

class Server : public Napi::ObjectWrap<Server> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Server", {InstanceMethod("close", &Server::Close), InstanceAccessor("fd", &Server::Fd, nullptr)});
  }

  // new Server(path, onEvent): bound, mode 0600, listening, serving.
  explicit Server(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Server>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "Server(path, onEvent)");
    std::string path = info[0].As<Napi::String>();
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) throw Napi::Error::New(env, "socket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw sys(env, "socket", path);
    // The directory is root's alone (0700); the socket is narrowed right after bind, before listen.
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      int e = errno;
      ::close(fd);
      throw sys(env, "bind", path, e);
    }
    if (chmod(path.c_str(), 0600) < 0 || listen(fd, 512) < 0) {
      int e = errno;
      ::close(fd);
      unlink(path.c_str());
      throw sys(env, "listen", path, e);
    }
    listen_fd_ = fd;
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "netplumb-cni-daemon", 0, 1);
    accept_ = std::thread([this, fd] { AcceptLoop(fd); });
  }

  ~Server() override { Stop(); }

 private:
  static Napi::Error sys(Napi::Env env, const char* call, const std::string& path, int e = errno) {
    auto err = Napi::Error::New(env, std::string(call) + " " + path + ": " + std::strerror(e));
    err.Set("errno", Napi::Number::New(env, e));
    err.Set("syscall", Napi::String::New(env, call));
    return err;
  }

  void AcceptLoop(int fd) {
    for (;;) {
      int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          if (errno != EINTR && errno != ECONNABORTED) usleep(10000);
          if (!stopping_.load()) continue;
        }
        break;  // shut down (EINVAL) or closed
      }
      if (tsfn_.Acquire() != napi_ok) {
        ::close(conn);
        break;
      }
      std::thread([this, conn] {
        auto ev = std::make_unique<Event>();
        serve(conn, ev.get());
        if (ev->kind == Event::Request) {
          ev->conn = conn;
        } else {
          for (int x : ev->fds) ::close(x);
          ev->fds.clear();
          ::close(conn);
        }
        Event* raw = ev.release();
        if (tsfn_.BlockingCall(raw, Deliver) != napi_ok) {
          if (raw->conn >= 0) ::close(raw->conn);
          for (int x : raw->fds) ::close(x);
          delete raw;
        }
        tsfn_.Release();
      }).detach();
    }
    tsfn_.Release();
  }

  static void Deliver(Napi::Env env, Napi::Function cb, Event* raw) {
    std::unique_ptr<Event> ev(raw);
    if (!env || !cb) {
      if (ev->conn >= 0) ::close(ev->conn);
      for (int x : ev->fds) ::close(x);
      return;
    }
    auto o = Napi::Object::New(env);
    o.Set("kind", Napi::String::New(env, ev->kind == Event::Request ? "request" : ev->kind == Event::Refused ? "refused" : "failed"));
    o.Set("pid", Napi::Number::New(env, ev->pid));
    o.Set("uid", Napi::Number::New(env, ev->uid));
    if (ev->kind == Event::Request) {
      o.Set("conn", Napi::Number::New(env, ev->conn));
      auto fds = Napi::Array::New(env, ev->fds.size());
      for (uint32_t i = 0; i < ev->fds.size(); ++i) fds.Set(i, Napi::Number::New(env, ev->fds[i]));
      o.Set("fds", fds);
      o.Set("env", Napi::Buffer<char>::Copy(env, ev->env.data(), ev->env.size()));
      o.Set("input", Napi::Buffer<char>::Copy(env, ev->input.data(), ev->input.size()));
    } else if (!ev->error.empty()) {
      o.Set("error", Napi::String::New(env, ev->error));
    }
    // JavaScript owns conn and fds now (it closes them).
    ev->conn = -1;
    ev->fds.clear();
    cb.Call({o});
  }

  void Stop() {
    if (listen_fd_ < 0) return;
    stopping_.store(true);
    shutdown(listen_fd_, SHUT_RDWR);  // accept() returns EINVAL
    if (accept_.joinable()) accept_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), listen_fd_); }

  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_;
  Napi::ThreadSafeFunction tsfn_;
};

// The reply, written by the JavaScript thread: small, to a peer that waits for it.
Napi::Value Reply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsBuffer())
    throw Napi::TypeError::New(env, "reply(conn, kind, status, body)");
  int conn = info[0].As<Napi::Number>().Int32Value();
  auto body = info[3].As<Napi::Buffer<char>>();
  // A peer that does not read gets two seconds, never the daemon's event loop.
  timeval tv{2, 0};
  setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  reply(conn, 0, info[1].As<Napi::Number>().Uint32Value(), info[2].As<Napi::Number>().Int32Value(), std::string(body.Data(), body.Length()));
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Server", Server::Init(env));
  exports.Set("reply", Napi::Function::New(env, Reply));
  return exports;
}

}  // namespace

NODE_API_MODULE(netplumb_cni_daemon, Init)
