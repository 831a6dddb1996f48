#include "handle.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <new>
#include <system_error>
#include <utility>

namespace nl {

// How long an idle I/O thread keeps polling for work before it sleeps (see Pool::take).
constexpr int kSpinMicros = 250;
// The shared I/O threads: one per CPU the process may run on, at most this many.
constexpr int kMaxIoThreads = 4;
// Their stacks: they run the netlink codecs and small local tasks, nothing deep.
constexpr size_t kStackBytes = 512 * 1024;

// One round of that polling: tells the CPU this is a spin-wait (frees the
// sibling hyper-thread, saves power). Only x86 has __builtin_ia32_pause;
// arm64's equivalent is the YIELD hint; elsewhere a compiler barrier, so the
// loop still re-reads the queue.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

Error error_of_current_exception(const std::string& op) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Error::sys(ENOMEM, op, "out of memory");
  } catch (const std::system_error& e) {
    const auto& cat = e.code().category();
    bool is_errno = cat == std::generic_category() || cat == std::system_category();
    return Error::sys(is_errno && e.code().value() > 0 ? e.code().value() : EIO, op, e.what());
  } catch (const std::exception& e) {
    return Error::sys(EIO, op, std::string("internal error: ") + e.what());
  } catch (...) {
    return Error::sys(EIO, op, "internal error: unknown exception");
  }
}

namespace {
// Retries what can only fail for memory: waits for some rather than lose a
// request (its promise would never settle) or let the exception end the process.
template <class F>
void with_memory(F&& f) noexcept {
  for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 100)) {
    try {
      f();
      return;
    } catch (...) {
      struct timespec ts{0, wait_ms * 1'000'000L};
      nanosleep(&ts, nullptr);
    }
  }
}

// The network namespace the calling thread is in now.
netns::Identity thread_ns() {
  struct stat st{};
  if (stat("/proc/thread-self/ns/net", &st) < 0) return {};
  return {st.st_dev, st.st_ino};
}

bool same(const netns::Identity& a, const netns::Identity& b) { return a.ino != 0 && a.dev == b.dev && a.ino == b.ino; }
}  // namespace

namespace io {

// One shared I/O thread: sleeps on its own condition variable (so the waker
// chooses which one wakes, and on which CPUs), and remembers which network
// namespace it is in, so it enters one only when it must. It goes back to
// the process's namespace as soon as its work inside is done: a thread left
// in a namespace would keep it alive (and whatever it holds, e.g. the other
// end of a veth) after its last handle has closed and its name is deleted.
struct Worker {
  std::condition_variable cv;
  bool woken = false;
  bool narrowed = false;  // its CPUs narrowed by wake_elsewhere(), under the pool's lock
  int tid = 0;
  netns::Identity ns, home;
  int home_fd = -1;
  // Sized once: taking a pile off a queue never allocates.
  std::vector<Request*> batch;
  Handle::Batch work;

  void run();
  // Enters the namespace of h (setns) unless this thread is in it already.
  bool enter(Handle& h, Error* err);
  // Back to the namespace the thread started in.
  void leave();
};

// The handles with work, and the threads that serve them. Made on the first
// open and never destroyed: its threads live as long as the process (the
// addon is never unloaded: RTLD_NODELETE).
class Pool {
 public:
  static Pool& get() {
    static Pool* p = new Pool();
    return *p;
  }

  // Starts the threads, on the first open of the process: all of them, so
  // their number is fixed from then on. Enough if one could be started.
  bool ensure_started(Error* err) {
    std::unique_lock<std::mutex> lk(mu_);
    if (threads_ > 0) return true;
    int rc = 0;
    while (threads_ < max_ && (rc = start_locked()) == 0) {
    }
    if (threads_ > 0) return true;
    *err = Error::sys(rc, "pthread_create",
                      rc == EAGAIN ? "cannot start netplumb's I/O thread: the process is at its thread or memory limit"
                                   : "cannot start netplumb's I/O thread");
    return false;
  }

  void schedule(std::shared_ptr<Handle> h) {
    std::lock_guard<std::mutex> lk(mu_);
    // Cannot fail for memory without losing the handle's requests: retry.
    with_memory([&] { ready_.push_back(std::move(h)); });
    nready_.store(ready_.size(), std::memory_order_release);
    // A thread polling for work takes it; otherwise wake a sleeping one (if
    // every thread is busy, the first to finish takes it).
    if (spinning_.load(std::memory_order_acquire) > 0 && ready_.size() == 1) return;
    if (!sleeping_.empty()) {
      Worker* w = sleeping_.back();
      sleeping_.pop_back();
      w->woken = true;
      wake_elsewhere(*w);
      w->cv.notify_one();
    }
  }

  // The next handle with work, for w: polls briefly, then sleeps.
  std::shared_ptr<Handle> take(Worker& w) {
    for (;;) {
      // An awaited request is followed by the next one a few microseconds
      // after its completion: poll briefly before sleeping, so that request
      // does not also pay for waking a thread. One thread polls at a time,
      // and every 16th round yields: on a busy machine the JS thread about
      // to submit may be waiting for this very CPU.
      if (nready_.load(std::memory_order_acquire) == 0) {
        if (spinning_.fetch_add(1, std::memory_order_acq_rel) == 0) {
          unsigned round = 0;
          for (auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
               nready_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < until; ++round) {
            if (round % 16 == 15) sched_yield();
            else cpu_relax();
          }
        }
        spinning_.fetch_sub(1, std::memory_order_acq_rel);
      }
      std::unique_lock<std::mutex> lk(mu_);
      if (!ready_.empty()) {
        auto h = std::move(ready_.front());
        ready_.pop_front();
        nready_.store(ready_.size(), std::memory_order_release);
        return h;
      }
      w.woken = false;
      sleeping_.push_back(&w);  // reserved for every thread: cannot allocate
      w.cv.wait(lk, [&] { return w.woken || !ready_.empty(); });
      if (!w.woken) sleeping_.erase(std::find(sleeping_.begin(), sleeping_.end(), &w));
      bool narrowed = std::exchange(w.narrowed, false);
      lk.unlock();
      // Woken on CPUs chosen by wake_elsewhere(): may run anywhere again.
      if (narrowed) sched_setaffinity(0, sizeof cpus_, &cpus_);
    }
  }

  // True if there is work for another thread than the caller (it then puts
  // its handle back in line instead of serving it again at once).
  bool others_waiting() const { return nready_.load(std::memory_order_acquire) > 0; }

  int threads() {
    std::lock_guard<std::mutex> lk(mu_);
    return threads_;
  }
  int max() const { return max_; }

 private:
  Pool() {
    if (sched_getaffinity(0, sizeof cpus_, &cpus_) == 0) ncpus_ = CPU_COUNT(&cpus_);
    max_ = std::clamp(ncpus_, 1, kMaxIoThreads);
    sleeping_.reserve(kMaxIoThreads);
  }

  // pthread_create rather than std::thread: at the thread limit std::thread
  // throws std::system_error, which used to escape through node-addon-api
  // and abort the process. Here it is an errno, reported like any other.
  int start_locked() {
    Worker* w = nullptr;
    try {
      w = new Worker();
      w->batch.reserve(kMaxBatch);
      w->work.reserve(kMaxBatch);
    } catch (...) {
      delete w;
      return ENOMEM;
    }
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_attr_setstacksize(&attr, kStackBytes);
      pthread_t tid;
      rc = pthread_create(
          &tid, &attr, [](void* arg) -> void* {
            static_cast<Worker*>(arg)->run();
            return nullptr;
          },
          w);
      pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
      delete w;
      return rc;
    }
    ++threads_;
    return 0;
  }

  // Waking a sleeping thread from the JS thread, Linux tends to put it on
  // the waker's own CPU ("wake affine"), even with another CPU idle; the two
  // then share one core until load balancing separates them, a few
  // milliseconds later: a burst after a pause ran at half speed (seen with
  // sched_getcpu on a 2-vCPU VM). So narrow the sleeper's CPUs to the ones
  // the caller is not on before waking it; it widens them again itself once
  // running. Nothing is done on a single CPU.
  void wake_elsewhere(Worker& w) {
    if (ncpus_ < 2 || w.tid == 0) return;
    int here = sched_getcpu();
    if (here < 0 || !CPU_ISSET(here, &cpus_)) return;
    cpu_set_t others = cpus_;
    CPU_CLR(here, &others);
    if (sched_setaffinity(w.tid, sizeof others, &others) == 0) w.narrowed = true;  // best effort
  }

  std::mutex mu_;
  std::deque<std::shared_ptr<Handle>> ready_;
  std::atomic<size_t> nready_{0};  // ready_.size(), readable without the lock (for the poll)
  std::atomic<int> spinning_{0};
  std::vector<Worker*> sleeping_;
  int threads_ = 0;
  int max_ = 1;
  cpu_set_t cpus_{};
  int ncpus_ = 0;
};

void Worker::run() {
  tid = static_cast<int>(gettid());
  pthread_setname_np(pthread_self(), "netplumb-io");  // for top -H, perf, /proc/PID/task/*/comm
  home = ns = thread_ns();
  home_fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  Pool& pool = Pool::get();
  for (;;) {
    std::shared_ptr<Handle> h = pool.take(*this);
    // Serve it while it has work, unless other handles are waiting: then it
    // goes back in line after each batch, so no namespace starves another.
    while (h->serve(*this)) {
      if (pool.others_waiting()) {
        pool.schedule(std::move(h));
        break;
      }
    }
  }
}

bool Worker::enter(Handle& h, Error* err) {
  if (same(ns, h.id_)) return true;
  bool owned = false;
  int fd = h.enter_fd(&owned, err);
  if (fd < 0) return false;
  bool ok = netns::enter(fd, err);
  if (owned) ::close(fd);
  if (!ok) {
    ns = thread_ns();  // unchanged, but be sure
    return false;
  }
  ns = h.id_;
  return true;
}

void Worker::leave() {
  if (same(ns, home)) return;
  Error ignored;
  // Cannot fail for the namespace we started in, short of the fd being gone:
  // then the thread stays where it is, and says so (ns).
  if (home_fd >= 0 && netns::enter(home_fd, &ignored)) ns = home;
  else ns = thread_ns();
}

}  // namespace io

std::shared_ptr<Handle> Handle::start(std::unique_ptr<OpenRequest> open, std::shared_ptr<Sink> sink, Error* err) {
  if (!io::Pool::get().ensure_started(err)) return nullptr;  // nothing was opened or created
  std::shared_ptr<Handle> h(new Handle());
  h->sink_ = std::move(sink);
  h->open_ = std::move(open);
  h->scheduled_ = true;
  io::Pool::get().schedule(h);
  return h;
}

int Handle::io_threads() { return io::Pool::get().threads(); }
int Handle::io_threads_max() { return io::Pool::get().max(); }
bool Handle::requests_out() { return out_.load(std::memory_order_acquire) > 0; }

// The sink's deliver() moves requests into a vector: it can only fail for
// memory. Then wait for some and try again rather than lose the requests (their
// promises would never settle) or let the exception end the process.
void Handle::deliver(Batch&& b) noexcept {
  with_memory([&] { sink_->deliver(std::move(b)); });
}

Handle::~Handle() = default;

void Handle::schedule() { io::Pool::get().schedule(shared_from_this()); }

void Handle::submit(std::vector<std::unique_ptr<Request>>&& rs) {
  if (rs.empty()) return;
  size_t queued = 0;
  bool closed = false, wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed = closing_;
    if (!closed) {
      // A request the queue has no memory for fails (ENOMEM) with the rest of
      // the pile; the ones queued before it still run.
      try {
        for (; queued < rs.size(); ++queued) queue_.push_back(std::move(rs[queued]));
      } catch (...) {
      }
      // Counted under the lock: a thread serving this handle cannot deliver
      // (and count out) these before they are counted in.
      out_.fetch_add(static_cast<long>(queued), std::memory_order_release);
      if (queued > 0 && !scheduled_) scheduled_ = wake = true;
    }
  }
  if (wake) schedule();
  if (queued == rs.size()) return;
  Batch b;
  b.swap(rs);  // the same storage: no allocation
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(queued));
  for (auto& r : b) {
    r->done = true;
    r->error = closed ? Error::sys(EBADF, r->op, "the namespace handle is closed")
                      : Error::sys(ENOMEM, r->op, "out of memory: the request could not be queued");
  }
  deliver(std::move(b));
}

bool Handle::run_here(Request& r) {
  if (r.dump || r.local) return false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // Not scheduled: the open has run (start() schedules it), and no I/O
    // thread serves the handle. Claimed here, none will until released.
    if (scheduled_ || closing_ || !ok_ || !sock_ || head_ != queue_.size()) return false;
    scheduled_ = true;
  }
  try {
    Request* one[] = {&r};
    transact(*sock_, one);
  } catch (...) {
    // Out of memory: as on an I/O thread (serve), the outcome is unknown.
    // Nothing may escape here: the handle is released below, whatever happened.
    int e = ENOMEM;
    try {
      e = error_of_current_exception("transact").err;
    } catch (...) {
    }
    if (!r.done) {
      r.done = true;
      try {
        r.error = Error::sys(e, r.op, "failed on the JS thread; the request's outcome is unknown");
      } catch (...) {
        r.error.emplace();
        r.error->err = e;
      }
    }
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // Only the caller's own thread submits or closes, so nothing should have
    // come meanwhile; if it did, an I/O thread takes it from here.
    wake = head_ != queue_.size() || closing_;
    if (!wake) scheduled_ = false;
  }
  if (wake) schedule();
  return true;
}

void Handle::close() {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    closing_ = true;
    if (!scheduled_ && !finished_) scheduled_ = wake = true;
  }
  if (wake) schedule();
}

void Handle::abandon() {
  std::vector<std::unique_ptr<Request>> dropped;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    closing_ = abandoned_ = true;
    dropped.swap(queue_);
    out_.fetch_sub(static_cast<long>(dropped.size() - head_), std::memory_order_release);
    head_ = 0;
    if (!scheduled_ && !finished_) scheduled_ = wake = true;
  }
  if (wake) schedule();
}

void Handle::do_open(io::Worker& w) {
  std::unique_ptr<OpenRequest> open = std::move(open_);
  Error err;
  int ns_fd = -1;
  bool created = false;
  try {
    switch (open->mode) {
      case OpenRequest::Mode::Create:
        ns_fd = netns::create_on_this_thread(open->path, &err);
        w.ns = thread_ns();  // unshare moved this thread, even if the mount then failed
        created = ns_fd >= 0;
        break;
      case OpenRequest::Mode::Current:
      case OpenRequest::Mode::Path:
        if (open->pinned_fd >= 0) {
          ns_fd = std::exchange(open->pinned_fd, -1);
          if (!netns::check(ns_fd, open->path, &err)) {
            ::close(ns_fd);
            ns_fd = -1;
          }
        } else {
          ns_fd = netns::open_path(open->path, &err, open->nofollow);
        }
        break;
    }
    if (ns_fd >= 0 && netns::identify(ns_fd, &open->id, &err)) {
      ns_fd_ = ns_fd;
      id_ = open->id;
      // The socket is made inside the namespace; a thread already there (the
      // process's own namespace, for current()) needs no setns, which would
      // need CAP_SYS_ADMIN even for a read-only listing.
      if (w.enter(*this, &err)) sock_ = Socket::open(NETLINK_ROUTE, &err);
    }
  } catch (...) {
    // Out of memory while opening: undone below, like any other failure.
    sock_.reset();
    err = error_of_current_exception("open");
  }
  w.leave();
  ok_ = ns_fd >= 0 && sock_.has_value();
  if (!ok_ && ns_fd >= 0) {
    if (created) {
      Error ignored;
      netns::remove(open->path, &ignored, open->id);  // only if it is still the one we made
    }
    ::close(ns_fd);
    ns_fd = ns_fd_ = -1;
  }
  if (ok_) {
    // From here the socket holds the namespace. Socket::open asked the kernel
    // for the socket's namespace (SIOCGSKNS, for the trace): if it gave it,
    // and it is this one, the namespace fd is no longer needed (one fd per
    // open namespace); if it refused (no CAP_NET_ADMIN over the namespace),
    // the namespace fd stays, as the handle's way back into it.
    if (sock_->netns() != 0 && sock_->netns() == static_cast<uint64_t>(id_.ino)) {
      ::close(ns_fd_);
      ns_fd_ = -1;
    }
    open->ref = ns_fd_ >= 0 ? ns_fd_ : sock_->fd();
    ref_.store(open->ref, std::memory_order_release);
  }
  open->done = true;
  if (!ok_) {
    if (err.syscall.empty()) err.syscall = "open";
    open->error = err;
    with_memory([&] { err_ = std::make_unique<Error>(err); });
  }
  Batch b;
  with_memory([&] { b.push_back(std::move(open)); });
  deliver(std::move(b));
}

int Handle::enter_fd(bool* owned, Error* err) {
  *owned = false;
  if (ns_fd_ >= 0) return ns_fd_;
  if (!sock_) {
    *err = Error::sys(EBADF, "setns", "the namespace handle has no socket");
    return -1;
  }
  int fd = namespace_fd(sock_->fd(), "the namespace's netlink socket", err);
  *owned = fd >= 0;
  return fd;
}

void Handle::finish() {
  sock_.reset();
  nf_.reset();
  if (ns_fd_ >= 0) ::close(ns_fd_);
  ns_fd_ = -1;
  sink_->closed();  // no allocation (see Bridge::closed)
}

bool Handle::serve(io::Worker& w) {
  if (open_) do_open(w);
  Batch& work = w.work;
  work.clear();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (abandoned_) {
      queue_.clear();
      head_ = 0;
    }
    if (head_ == queue_.size()) {
      // All taken: start again at the front. A queue that grew long in a
      // burst gives its memory back (most handles sit idle most of the time).
      if (queue_.capacity() > 64) std::vector<std::unique_ptr<Request>>().swap(queue_);
      else queue_.clear();
      head_ = 0;
      if (closing_ && !finished_) {
        finished_ = true;
      } else {
        scheduled_ = false;
        return false;
      }
    } else {
      // Take what piled up: a run of plain requests, or one dump, or one local task.
      size_t bytes = 0;
      while (head_ < queue_.size() && work.size() < kMaxBatch) {
        Request* r = queue_[head_].get();
        bool alone = r->dump || r->local;
        if (alone && !work.empty()) break;
        if (!work.empty() && bytes + r->msg.size() > kMaxBatchBytes) break;
        bytes += r->msg.size();
        work.push_back(std::move(queue_[head_]));
        ++head_;
        if (alone) break;
      }
      // Requests keep coming while others are taken: drop the taken ones
      // from the front now and then, so the vector does not grow without end.
      if (head_ >= 64 && head_ * 2 >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
  }
  if (work.empty()) {  // closing, nothing left: the handle's last act
    finish();
    return false;
  }
  try {
    if (!ok_) {
      for (auto& r : work) {
        r->done = true;
        r->error = *err_;
      }
    } else if (work.front()->local) {
      // Local tasks run inside the namespace (a sysctl shows the opener's,
      // a socket belongs to its creator's, the netfilter socket is made there).
      auto* local = static_cast<LocalRequest*>(work.front().get());
      Error e;
      if (w.enter(*this, &e)) {
        LocalContext ctx;
        ctx.netfilter = [this](Error* err) -> Socket* {
          if (!nf_) nf_ = Socket::open(NETLINK_NETFILTER, err);
          return nf_ ? &*nf_ : nullptr;
        };
        try {
          local->run(ctx);
        } catch (...) {
          w.leave();
          throw;
        }
        w.leave();
      } else {
        e.syscall = "setns";
        local->error = e;
      }
      local->done = true;
    } else {
      w.batch.clear();
      for (auto& r : work) w.batch.push_back(r.get());
      transact(*sock_, w.batch);
    }
  } catch (...) {
    // Out of memory in the middle of a batch: what was not answered yet
    // fails; what was sent may have been applied by the kernel.
    int e = error_of_current_exception("transact").err;
    for (auto& r : work) {
      if (r->done) continue;
      r->done = true;
      try {
        r->error = Error::sys(e, r->op, "failed on the I/O thread; the request's outcome is unknown");
      } catch (...) {
        r->error.emplace();
        r->error->err = e;
      }
    }
  }
  // Counted out only once delivered: the event loop's Spinner, which stops
  // polling when nothing is out, then finds the delivery's wake-up already posted.
  const long n = static_cast<long>(work.size());
  deliver(std::move(work));
  out_.fetch_sub(n, std::memory_order_release);
  return true;  // look again: more may have come, or a close
}

}  // namespace nl
