// nl::Handle — one network namespace's netlink socket, owned by an I/O
// thread that lives in that namespace. Requests queue up; whatever piled up
// while the previous batch was in the kernel goes out together in one
// sendmsg, and completes together in one delivery to the sink.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
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
  int ns_fd = -1;  // owned by the handle; valid until it closes
  netns::Identity id;
};

class Handle : public std::enable_shared_from_this<Handle> {
 public:
  using Batch = std::vector<std::unique_ptr<Request>>;
  struct Sink {
    virtual ~Sink() = default;
    // Called on the I/O thread with a batch of finished requests.
    virtual void deliver(Batch&& done) = 0;
    // Called on the I/O thread once, as its very last action.
    virtual void closed() = 0;
  };

  // Starts the I/O thread; `open` completes first, through the sink. When no
  // thread can be made (EAGAIN at the thread limit, ENOMEM for its stack)
  // returns null with *err set (syscall "pthread_create"): nothing was
  // started or created, and the sink is never called.
  static std::shared_ptr<Handle> start(std::unique_ptr<OpenRequest> open, std::shared_ptr<Sink> sink, Error* err);
  ~Handle();

  // Queues requests (what one turn of JS asked): one lock, one wake-up of the I/O thread.
  void submit(std::vector<std::unique_ptr<Request>>&& rs);
  // Lets queued requests finish, then ends the thread and closes the socket
  // and the namespace fd. Requests submitted afterwards fail with EBADF.
  void close();
  // Nobody is left to hear the answers (the JS environment has gone): drops
  // what is still queued, unsent, then closes as close() does.
  void abandon();

 private:
  Handle() = default;
  static void* thread_main(void* arg);
  void run(std::unique_ptr<OpenRequest> open);
  // Hands finished requests to the sink; never throws (see handle.cpp).
  void deliver(Batch&& b) noexcept;

  std::shared_ptr<Sink> sink_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Request>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the lock (for the short spin)
  // True while the I/O thread sleeps on cv_ (not while it spins); its tid and
  // the CPUs it may run on, for wake_elsewhere().
  std::atomic<bool> sleeping_{false};
  std::atomic<int> tid_{0};
  cpu_set_t cpus_{};
  int ncpus_ = 0;
  void wake_elsewhere();
  bool closing_ = false;
  bool abandoned_ = false;
};

// The error for the C++ exception being handled (call only inside a catch):
// std::bad_alloc is ENOMEM, a std::system_error its own errno; `op` names
// what was being done. Nothing thrown by this library's C++ reaches Node.
Error error_of_current_exception(const std::string& op);

}  // namespace nl
