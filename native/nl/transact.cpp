#include "transact.hpp"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

namespace nl {

int Request::own_fd(int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d >= 0) owned_fds.push_back(d);
  return d;
}

Error dup_fd_error(int err, const std::string& what) {
  if (err == EBADF) return Error::sys(EBADF, "fcntl", "F_DUPFD_CLOEXEC: " + what + " is not open");
  return Error::sys(err, "fcntl", "F_DUPFD_CLOEXEC of " + what + " failed");
}

void Request::refuse_reply(const nlmsghdr& h, std::string why, std::string attribute) {
  if (reply_error_) return;  // the first one is reported
  Error e = Error::sys(EBADMSG, op,
                       "reply message " + std::to_string(data_seen_) + " (type " + std::to_string(h.nlmsg_type) + ") malformed: " + why);
  e.attribute = std::move(attribute);
  e.malformed_reply = true;
  reply_error_ = std::move(e);
}

void Request::release_fds() {
  for (int fd : owned_fds) ::close(fd);
  owned_fds.clear();
}

Error parse_error(int err, const nlmsghdr& h, bytes payload, size_t errhdr, const Request& req) {
  Error e;
  // Kernel error codes are -1..-4095; anything else is a malformed reply
  // (and negating INT_MIN would overflow).
  int64_t code = err;
  e.err = code < 0 && code >= -4095 ? static_cast<int>(-code) : code > 0 && code <= 4095 ? static_cast<int>(code) : EPROTO;
  if (e.err == EPROTO && (code < -4095 || code > 4095)) e.detail = "malformed error code " + std::to_string(code) + " in the reply";
  e.syscall = req.op;
  if ((h.nlmsg_flags & NLM_F_ACK_TLVS) && payload.size() > errhdr) {
    for_each_attr(payload.subspan(errhdr), [&](const Attr& a) {
      switch (a.type) {
        case NLMSGERR_ATTR_MSG: e.extack = a.str(); break;
        case NLMSGERR_ATTR_OFFS:
          if (auto v = a.as<uint32_t>()) {
            e.offset = *v;
            e.attribute = req.attr_at(*v);
          }
          break;
        case NLMSGERR_ATTR_MISS_TYPE:
          if (auto v = a.as<uint32_t>()) {
            e.missing_type = static_cast<int32_t>(*v);
            e.missing = req.attr_type_name(*v);
          }
          break;
        default: break;
      }
    });
  }
  return e;
}

namespace {

void fail_all(std::span<Request* const> batch, const Error& e) {
  for (Request* r : batch)
    if (!r->done) {
      r->done = true;
      r->error = e;
    }
}

// One round: send the batch, wait for every reply. An interrupted dump ends
// done, without error, with interrupted_ set.
void round_trip(Socket& s, std::span<Request* const> batch) {
  if (batch.empty()) return;
  std::unordered_map<uint32_t, Request*> by_seq;
  std::vector<iovec> iov;
  iov.reserve(batch.size());
  size_t pending = 0;
  for (Request* r : batch) {
    r->done = false;
    r->error.reset();
    r->reply_error_.reset();
    r->data_seen_ = 0;
    r->interrupted_ = false;
    if (r->msg.size() < sizeof(nlmsghdr)) {
      r->done = true;
      r->error = Error::sys(EINVAL, r->op, "empty request");
      continue;
    }
    r->seq_ = s.next_seq();
    auto* h = reinterpret_cast<nlmsghdr*>(r->msg.data());
    h->nlmsg_seq = r->seq_;
    h->nlmsg_pid = 0;
    h->nlmsg_flags |= NLM_F_REQUEST | (r->dump ? NLM_F_DUMP : NLM_F_ACK);
    by_seq[r->seq_] = r;
    iov.push_back({r->msg.data(), r->msg.size()});
    ++pending;
  }
  if (!pending) return;

  if (int e = s.send(iov)) {
    fail_all(batch, Error::sys(e, "sendmsg", "sending " + std::to_string(iov.size()) + " netlink request(s)"));
    return;
  }

  while (pending) {
    int rerr = 0;
    auto dg = s.recv(&rerr);
    if (!dg) {
      fail_all(batch, Error::sys(rerr, "recvmsg",
                                 rerr == ENOBUFS ? "the kernel dropped replies (receive buffer overrun); "
                                                   "the outcome of the pending requests is unknown"
                                                 : ""));
      return;
    }
    bool well_formed = for_each_msg(*dg, [&](const nlmsghdr& h, bytes payload) {
      if (h.nlmsg_pid != s.portid()) return true;
      auto it = by_seq.find(h.nlmsg_seq);
      if (it == by_seq.end()) return true;  // a stale reply from an earlier, failed batch
      Request* r = it->second;
      if (r->done) return true;
      if (h.nlmsg_flags & NLM_F_DUMP_INTR) r->interrupted_ = true;
      auto finish = [&](std::optional<Error> e) {
        // The kernel's own error first; else a reply message we refused.
        if (!e && r->reply_error_) e = std::move(r->reply_error_);
        r->done = true;
        r->error = std::move(e);
        by_seq.erase(it);
        --pending;
      };
      if (h.nlmsg_type == NLMSG_ERROR) {
        auto err = extra_header<nlmsgerr>(payload);
        if (!err) {
          finish(Error::sys(EBADMSG, r->op, "truncated NLMSG_ERROR"));
        } else if (err->error == 0) {
          finish(std::nullopt);
        } else {
          size_t errhdr = (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsgerr)
                                                         : sizeof(int) + align(err->msg.nlmsg_len);
          finish(parse_error(err->error, h, payload, errhdr, *r));
        }
      } else if (h.nlmsg_type == NLMSG_DONE) {
        int code = 0;
        if (payload.size() >= sizeof(int)) std::memcpy(&code, payload.data(), sizeof code);
        if (code < 0) {
          finish(parse_error(code, h, payload, sizeof(int), *r));
        } else {
          finish(std::nullopt);
        }
      } else if (h.nlmsg_type >= NLMSG_MIN_TYPE) {
        // An integer attribute of the wrong width anywhere in the decode is
        // recorded here (nested checks hand theirs out) and fails the request.
        AttrCheck check;
        bool refused = r->reply_error_.has_value();
        ++r->data_seen_;
        r->on_data(h, payload);
        if (!check.ok() && !refused) {
          std::string name;
          size_t hdr = align(sizeof(nlmsghdr));
          const uint8_t* msg = payload.data() - hdr;
          if (check.where() && check.where() >= payload.data() + attr_hdrlen && check.where() <= payload.data() + payload.size())
            name = r->reply_attr_at(bytes(msg, hdr + payload.size()), static_cast<size_t>(check.where() - attr_hdrlen - msg));
          std::string what = "attribute " + (name.empty() ? "type " + std::to_string(check.type()) : name + " (type " + std::to_string(check.type()) + ")");
          r->reply_error_.reset();  // on_data's own refusal of this message says less
          r->refuse_reply(h, what + " has length " + std::to_string(check.len()) + ", want " + std::to_string(check.want()),
                          name.empty() ? std::to_string(check.type()) : name);
        }
      }
      return true;
    });
    if (!well_formed) {
      fail_all(batch, Error::sys(EBADMSG, "recvmsg", "malformed netlink reply"));
      return;
    }
  }

}

}  // namespace

void transact(Socket& s, std::span<Request* const> batch) {
  round_trip(s, batch);
  // Interrupted dumps: the kernel's view changed while it was dumping, so the
  // result may be inconsistent. Start again, a bounded number of times.
  for (Request* r : batch) {
    if (!r->dump || r->error || !r->interrupted_) continue;
    for (int i = 0; i < kDumpRetries && !r->error && r->interrupted_; ++i) {
      r->reset();
      Request* one[] = {r};
      round_trip(s, one);
    }
    if (!r->error && r->interrupted_) {
      r->reset();
      Error e = Error::sys(EINTR, r->op,
                           "dump interrupted by concurrent changes " + std::to_string(kDumpRetries + 1) +
                               " times in a row");
      e.dump_interrupted = true;
      r->error = e;
    }
  }
}

}  // namespace nl
