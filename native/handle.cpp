#include "handle.hpp"

#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <unistd.h>

#include <pthread.h>

#include <chrono>
#include <new>
#include <system_error>
#include <utility>

namespace nl {

// How long the I/O thread keeps polling its queue after a batch (see run()).
constexpr int kSpinMicros = 60;

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
// What the new thread is handed: it keeps the handle alive until it has said closed().
struct Start {
  std::shared_ptr<Handle> self;
  std::unique_ptr<OpenRequest> open;
};
}  // namespace

// pthread_create rather than std::thread: at the thread limit std::thread
// throws std::system_error, which used to escape through node-addon-api
// and abort the process. Here it is an errno, reported like any other.
std::shared_ptr<Handle> Handle::start(std::unique_ptr<OpenRequest> open, std::shared_ptr<Sink> sink, Error* err) {
  std::shared_ptr<Handle> h(new Handle());
  h->sink_ = std::move(sink);
  auto* st = new Start{h, std::move(open)};
  pthread_attr_t attr;
  int rc = pthread_attr_init(&attr);
  if (rc == 0) {
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    rc = pthread_create(&tid, &attr, &Handle::thread_main, st);
    pthread_attr_destroy(&attr);
  }
  if (rc != 0) {
    delete st;  // nothing ran: no namespace was opened or created
    *err = Error::sys(rc, "pthread_create",
                      rc == EAGAIN ? "cannot start the namespace's I/O thread: the process is at its thread or memory limit"
                                   : "cannot start the namespace's I/O thread");
    return nullptr;
  }
  return h;
}

void* Handle::thread_main(void* arg) {
  std::unique_ptr<Start> st(static_cast<Start*>(arg));
  auto self = std::move(st->self);
  auto open = std::move(st->open);
  st.reset();
  self->run(std::move(open));
  return nullptr;
}

// The sink's deliver() moves requests into a vector: it can only fail for
// memory. Then wait for some and try again rather than lose the requests (their
// promises would never settle) or let the exception end the process.
void Handle::deliver(Batch&& b) noexcept {
  for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 100)) {
    try {
      sink_->deliver(std::move(b));
      return;
    } catch (...) {
      struct timespec ts{0, wait_ms * 1'000'000L};
      nanosleep(&ts, nullptr);
    }
  }
}

Handle::~Handle() = default;

void Handle::submit(std::vector<std::unique_ptr<Request>>&& rs) {
  if (rs.empty()) return;
  size_t queued = 0;
  bool closed = false;
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
      queued_.store(queue_.size(), std::memory_order_release);
      wake_elsewhere();
      cv_.notify_one();
      if (queued == rs.size()) return;
    }
  }
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

// Waking a sleeping I/O thread from the JS thread, Linux tends to put it on
// the waker's own CPU ("wake affine"), even with another CPU idle; the two then
// share one core until load balancing separates them, a few milliseconds
// later: a burst after a pause ran at half speed (seen with sched_getcpu on a
// 2-vCPU VM). So, only when the thread is asleep, narrow its CPUs to the ones
// the caller is not on before waking it; it widens them again itself once
// running. Nothing is done on a single CPU, or when the thread is spinning.
void Handle::wake_elsewhere() {
  int tid = tid_.load(std::memory_order_acquire);
  if (ncpus_ < 2 || tid == 0 || !sleeping_.load(std::memory_order_acquire)) return;
  int here = sched_getcpu();
  if (here < 0 || !CPU_ISSET(here, &cpus_)) return;
  cpu_set_t others = cpus_;
  CPU_CLR(here, &others);
  sched_setaffinity(tid, sizeof others, &others);  // best effort
}

void Handle::close() {
  std::lock_guard<std::mutex> lk(mu_);
  closing_ = true;
  cv_.notify_one();
}

void Handle::abandon() {
  std::deque<std::unique_ptr<Request>> dropped;
  {
    std::lock_guard<std::mutex> lk(mu_);
    closing_ = abandoned_ = true;
    dropped.swap(queue_);
    queued_.store(0, std::memory_order_release);
    cv_.notify_one();
  }
}

void Handle::run(std::unique_ptr<OpenRequest> open) {
  Error err;
  int ns_fd = -1;
  std::optional<Socket> sock;
  try {
    switch (open->mode) {
      case OpenRequest::Mode::Create: ns_fd = netns::create_on_this_thread(open->path, &err); break;
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
        // This thread already lives in the process's namespace (threads start in
        // their creator's, and the JS thread never moves): no setns, which would
        // need CAP_SYS_ADMIN even for a read-only listing.
        if (ns_fd >= 0 && open->mode == OpenRequest::Mode::Path && !netns::enter(ns_fd, &err)) {
          ::close(ns_fd);
          ns_fd = -1;
        }
        break;
    }
    if (ns_fd >= 0 && netns::identify(ns_fd, &open->id, &err)) sock = Socket::open(NETLINK_ROUTE, &err);
  } catch (...) {
    // Out of memory while opening: undone below, like any other failure.
    sock.reset();
    err = error_of_current_exception("open");
  }
  bool ok = ns_fd >= 0 && sock.has_value();
  if (!ok && ns_fd >= 0) {
    if (open->mode == OpenRequest::Mode::Create) {
      Error ignored;
      netns::remove(open->path, &ignored, open->id);  // only if it is still the one we made
    }
    ::close(ns_fd);
    ns_fd = -1;
  }
  open->ns_fd = ns_fd;
  open->done = true;
  if (!ok) {
    if (err.syscall.empty()) err.syscall = "open";
    open->error = err;
  }
  {
    Batch b;
    for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 100)) {
      try {
        b.push_back(std::move(open));
        break;
      } catch (...) {
        struct timespec ts{0, wait_ms * 1'000'000L};
        nanosleep(&ts, nullptr);
      }
    }
    deliver(std::move(b));
  }

  std::optional<Socket> nf;
  LocalContext ctx;
  ctx.ns_fd = ns_fd;
  ctx.netfilter = [&](Error* e) -> Socket* {
    if (!nf) nf = Socket::open(NETLINK_NETFILTER, e);
    return nf ? &*nf : nullptr;
  };

  tid_.store(static_cast<int>(gettid()), std::memory_order_release);
  if (sched_getaffinity(0, sizeof cpus_, &cpus_) == 0) ncpus_ = CPU_COUNT(&cpus_);

  // Sized once: taking a pile off the queue never allocates.
  std::vector<Request*> batch;
  Batch work;
  for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 100)) {
    try {
      batch.reserve(kMaxBatch);
      work.reserve(kMaxBatch);
      break;
    } catch (...) {
      struct timespec ts{0, wait_ms * 1'000'000L};
      nanosleep(&ts, nullptr);
    }
  }
  for (;;) {
    work.clear();
    // A caller awaiting one request at a time submits the next one a few
    // microseconds after the last completion: spin briefly before sleeping,
    // so that request does not also pay for waking this thread.
    // Every 16th round yields: on a busy machine the JS thread that is about
    // to submit may be waiting for this very CPU.
    unsigned round = 0;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
         queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < until; ++round) {
      if (round % 16 == 15) sched_yield();
      else cpu_relax();
    }
    {
      std::unique_lock<std::mutex> lk(mu_);
      if (!closing_ && queue_.empty()) {
        sleeping_.store(true, std::memory_order_release);
        cv_.wait(lk, [&] { return closing_ || !queue_.empty(); });
        sleeping_.store(false, std::memory_order_release);
        // Woken on a CPU chosen by wake_elsewhere(): may run anywhere again.
        if (ncpus_ >= 2) sched_setaffinity(0, sizeof cpus_, &cpus_);
      }
      if ((queue_.empty() && closing_) || abandoned_) break;
      // Take what piled up: a run of plain requests, or one dump, or one local task.
      size_t bytes = 0;
      while (!queue_.empty() && work.size() < kMaxBatch) {
        Request* r = queue_.front().get();
        bool alone = r->dump || r->local;
        if (alone && !work.empty()) break;
        if (!work.empty() && bytes + r->msg.size() > kMaxBatchBytes) break;
        bytes += r->msg.size();
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (alone) break;
      }
      queued_.store(queue_.size(), std::memory_order_release);
    }
    try {
      if (!ok) {
        for (auto& r : work) {
          r->done = true;
          r->error = err;
        }
      } else if (work.front()->local) {
        auto* local = static_cast<LocalRequest*>(work.front().get());
        local->run(ctx);
        local->done = true;
      } else {
        batch.clear();
        for (auto& r : work) batch.push_back(r.get());
        transact(*sock, batch);
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
    deliver(std::move(work));
  }
  sock.reset();
  nf.reset();
  if (ns_fd >= 0) ::close(ns_fd);
  sink_->closed();  // no allocation (see Bridge::closed)
}

}  // namespace nl
