// nl::Handle — one network namespace's netlink socket, served by the
// process's shared I/O threads. Requests queue up; whatever piled up while
// the previous batch was in the kernel goes out together in one sendmsg, and
// completes together in one delivery to the sink.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "local_request.hpp"
#include "netns.hpp"
#include "nl/transact.hpp"

namespace nl {

// The first request of every handle: opening (or creating) its namespace.
class OpenRequest : public Request {
 public:
  enum class Mode { Path, Create, Current };
  Mode mode = Mode::Path;
  std::string path;
  // Path mode for a name under /run/netns: a symbolic link is refused, not followed.
  bool nofollow = false;
  // Instead of a path: an fd of the namespace, dup'd by the caller when it
  // asked (so the namespace is pinned from then on); the handle takes it.
  int pinned_fd = -1;
  ~OpenRequest() override {
    if (pinned_fd >= 0) ::close(pinned_fd);
  }
  // Results.
  // The fd that stands for the namespace, owned by the handle and valid until
  // it closes: its netlink socket (namespace_fd gets the namespace back from
  // it), or the namespace's own fd where the kernel will not give a socket's
  // namespace back (SIOCGSKNS needs CAP_NET_ADMIN over it).
  int ref = -1;
  netns::Identity id;
};

namespace io {
struct Worker;
}

// One namespace: its NETLINK_ROUTE socket (and NETLINK_NETFILTER, made on
// first use) and its queue. The socket holds the namespace from open to
// close (a socket keeps a reference on the namespace it was made in), so no
// fd of the namespace is kept: one fd per open namespace. Where an fd of the
// namespace is needed (setns, below), one is had from the socket for that use
// (ioctl SIOCGSKNS, nl::namespace_fd) and closed after: the namespace is never
// re-resolved by path, name or fd number. Only where the kernel refuses that
// ioctl (no CAP_NET_ADMIN over the namespace: an unprivileged current()) is
// the namespace's fd kept beside the socket, as before. No thread of its own: a small fixed set of I/O threads, shared by
// every handle of the process (handle.cpp), serves whichever handles have
// work. A netlink socket stays bound to the namespace it was created in,
// whichever thread uses it, so a thread enters a namespace (setns) only to
// create a socket there and to run the local requests that must run inside
// (sysctls, sockets). One thread at a time serves a handle: its requests run
// in the order they were submitted.
class Handle : public std::enable_shared_from_this<Handle> {
 public:
  using Batch = std::vector<std::unique_ptr<Request>>;
  struct Sink {
    virtual ~Sink() = default;
    // Called on an I/O thread with a batch of finished requests.
    virtual void deliver(Batch&& done) = 0;
    // Called on an I/O thread once, as the handle's very last action.
    virtual void closed() = 0;
  };

  // Queues the handle's opening; `open` completes first, through the sink.
  // When the shared I/O threads cannot be started (the first open of the
  // process: EAGAIN at the thread limit, ENOMEM for a stack) returns null
  // with *err set (syscall "pthread_create"): nothing was started or
  // created, and the sink is never called.
  static std::shared_ptr<Handle> start(std::unique_ptr<OpenRequest> open, std::shared_ptr<Sink> sink, Error* err);
  ~Handle();

  // Queues requests (what one turn of JS asked): one lock, at most one wake-up of an I/O thread.
  void submit(std::vector<std::unique_ptr<Request>>&& rs);
  // Runs r on the calling thread, now, when the handle is idle (open, nothing
  // queued, no thread serving it): sends it and reads its reply before
  // returning, r->done set. False, r untouched, when the handle is busy, not
  // open yet, or closing: submit it instead. Only for requests the kernel
  // answers inside sendmsg (rtnetlink's address and route requests): the
  // caller waits for the kernel's own work and nothing else.
  bool run_here(Request& r);
  // Lets queued requests finish, then closes the socket and the namespace
  // fd. Requests submitted afterwards fail with EBADF.
  void close();
  // Nobody is left to hear the answers (the JS environment has gone): drops
  // what is still queued, unsent, then closes as close() does.
  void abandon();

  // The fd that stands for the namespace (OpenRequest::ref), once the open
  // has been delivered; -1 before, or if it failed. Valid until the handle
  // closes: give it to namespace_fd for an fd of the namespace.
  int ref() const { return ref_.load(std::memory_order_acquire); }

  // The process's shared I/O threads, for tests and benchmarks: how many run now, and at most.
  static int io_threads();
  static int io_threads_max();
  // True while requests submitted by any handle of the process are not yet
  // delivered back (queued, or being run by an I/O thread).
  static bool requests_out();

 private:
  friend struct io::Worker;
  Handle() = default;
  // Runs on an I/O thread: the open (first time), then one batch. Returns
  // true when the handle has more to do (it stays scheduled).
  bool serve(io::Worker& w);
  void do_open(io::Worker& w);
  void finish();
  // Hands finished requests to the sink; never throws (see handle.cpp).
  void deliver(Batch&& b) noexcept;
  // Makes sure an I/O thread will look at this handle (call without mu_).
  void schedule();

  std::shared_ptr<Sink> sink_;
  std::mutex mu_;
  // The requests not yet taken, from queue_[head_]. A vector, not a deque
  // (whose first 512-byte block is allocated even when empty): a process may
  // hold 10,000 handles, most of them idle.
  std::vector<std::unique_ptr<Request>> queue_;
  size_t head_ = 0;
  std::unique_ptr<OpenRequest> open_;  // until an I/O thread has run it
  bool scheduled_ = false;  // in the ready list, or being served
  bool closing_ = false;
  bool abandoned_ = false;
  bool finished_ = false;
  std::atomic<int> ref_{-1};
  // Submitted and not yet delivered or dropped, over every handle (requests_out).
  static inline std::atomic<long> out_{0};

  // Touched only by the I/O thread serving the handle (one at a time).
  int ns_fd_ = -1;  // kept only where SIOCGSKNS is refused (see above); else -1
  // An fd of the namespace for setns: ns_fd_, or a new one from the socket
  // that the caller closes (*owned). -1 with *err set.
  int enter_fd(bool* owned, Error* err);
  netns::Identity id_;
  std::optional<Socket> sock_, nf_;
  bool ok_ = false;
  std::unique_ptr<Error> err_;  // why the open failed, for every request after it (allocated only then)
};

// The error for the C++ exception being handled (call only inside a catch):
// std::bad_alloc is ENOMEM, a std::system_error its own errno; `op` names
// what was being done. Nothing thrown by this library's C++ reaches Node.
Error error_of_current_exception(const std::string& op);

}  // namespace nl
