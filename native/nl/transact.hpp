// The request/reply loop: a batch of requests goes out in one sendmsg, and
// replies are routed back to their request by sequence number and port id.
#pragma once

#include <linux/netlink.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attr.hpp"
#include "error.hpp"
#include "socket.hpp"

namespace nl {

class Request {
 public:
  virtual ~Request() { release_fds(); }

  // Not a netlink message: set by a subclass its owner runs by other means.
  // transact() is never given one. (This layer knows no caller: whoever
  // needs a request's concrete type keeps it, as src/requests.hpp does.)
  bool local = false;

  std::vector<uint8_t> msg;  // the complete message; seq and pid are filled in at send
  std::string op;            // "RTM_NEWLINK", reported in errors
  bool dump = false;

  // Outcome, set by transact().
  bool done = false;
  std::optional<Error> error;

  // A data message for this request (a dump part, or the reply to a GET).
  virtual void on_data(const nlmsghdr&, bytes /*payload*/) {}
  // Forget partial results before a dump is retried.
  virtual void reset() {}
  // A data message this request could not decode: the request fails with
  // malformed_reply (EBADMSG) once its reply is complete, never a silently
  // shorter list. on_data calls it; the reply loop also calls it for an
  // integer attribute of the wrong width (nl::AttrCheck), naming it.
  void refuse_reply(const nlmsghdr& h, std::string why, std::string attribute = {});
  std::optional<Error> reply_error_;  // the first refusal
  size_t data_seen_ = 0;              // data messages so far (to say which one)
  // Names the attribute at `offset` of a reply message (header included), as
  // attr_at does for our own request; empty where the family has no names.
  virtual std::string reply_attr_at(bytes /*message*/, size_t /*offset*/) const { return {}; }
  // Names the attribute at `offset` in msg, and an attribute type reported missing.
  virtual std::string attr_at(size_t /*offset*/) const { return {}; }
  virtual std::string attr_type_name(uint32_t /*type*/) const { return {}; }

  // File descriptors this request carries (IFLA_NET_NS_FD, NETNSA_FD): dups
  // taken when the request was built, so the namespace it names cannot change
  // under it (the caller's fd may be closed and reused before the send).
  std::vector<int> owned_fds;
  // Duplicates fd for this request; -1 (errno set) on failure.
  int own_fd(int fd);

  void release_fds();

  // Bookkeeping of the reply loop.
  uint32_t seq_ = 0;
  bool interrupted_ = false;
};

// Largest number of requests and bytes sent in one sendmsg.
constexpr size_t kMaxBatch = 256;
constexpr size_t kMaxBatchBytes = 256 * 1024;
// How many times an interrupted dump (NLM_F_DUMP_INTR) is restarted before
// it fails with dump_interrupted set.
constexpr int kDumpRetries = 5;

// Sends every request in `batch` and waits until each has its ACK, error or
// NLMSG_DONE. A dump must be the only request in its batch (the kernel runs
// one dump per socket at a time). Interrupted dumps are retried here.
void transact(Socket& s, std::span<Request* const> batch);

// The error for a failed F_DUPFD_CLOEXEC of `what` (a namespace fd a request
// carries), with the dup's own errno: EBADF is a namespace fd that is not open,
// EMFILE a full fd table — not the same advice.
Error dup_fd_error(int err, const std::string& what);

// Decodes an NLMSG_ERROR (or NLMSG_DONE with an error) into an Error for `req`.
Error parse_error(int err, const nlmsghdr& h, bytes payload, size_t errhdr, const Request& req);

}  // namespace nl
