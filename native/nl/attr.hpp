// nl attribute and message parsing. Every length is checked against the
// buffer it claims to live in; a malformed buffer is reported, never read past.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <cerrno>

#include "builder.hpp"
#include "error.hpp"

namespace nl {

using bytes = std::span<const uint8_t>;

// Fixed-width reads are validated. A parser opens an AttrCheck for the
// message it decodes; an integer read (u8 ... u64) of an attribute whose
// length is not exactly the integer's width, anywhere while the check is open
// (nested tables included), returns the default and is recorded: the parser
// then reports the message as malformed (ok() false; error() says which
// attribute: EINVAL, "attribute 4 has length 1, want 4"). A check opened
// inside another (a nested parser) hands its finding to the outer one.
// Parsing is synchronous on one thread, so the open check is per thread.
class AttrCheck {
 public:
  AttrCheck() : outer_(current_) { current_ = this; }
  ~AttrCheck() {
    current_ = outer_;
    if (outer_ && bad_) outer_->note(type_, len_, want_, at_);
  }
  AttrCheck(const AttrCheck&) = delete;
  AttrCheck& operator=(const AttrCheck&) = delete;

  bool ok() const { return !bad_; }
  Error error() const {
    if (!bad_) return Error{};
    return Error::sys(EINVAL, "parse",
                      "attribute " + std::to_string(type_) + " has length " + std::to_string(len_) + ", want " + std::to_string(want_));
  }
  // A read of attribute `type` found `len` bytes where `want` were expected.
  // `at`: the attribute's payload, so that a caller holding the message can
  // say where it is (where()).
  static void record(uint16_t type, size_t len, size_t want, const uint8_t* at = nullptr) {
    if (current_) current_->note(type, len, want, at);
  }
  uint16_t type() const { return type_; }
  size_t len() const { return len_; }
  size_t want() const { return want_; }
  const uint8_t* where() const { return at_; }

 private:
  void note(uint16_t type, size_t len, size_t want, const uint8_t* at) {
    if (bad_) return;  // the first finding is the one reported
    bad_ = true;
    type_ = type;
    len_ = len;
    want_ = want;
    at_ = at;
  }
  static inline thread_local AttrCheck* current_ = nullptr;
  AttrCheck* outer_;
  bool bad_ = false;
  uint16_t type_ = 0;
  size_t len_ = 0, want_ = 0;
  const uint8_t* at_ = nullptr;
};

struct Attr {
  uint16_t type = 0;  // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
  bytes data;

  bool present() const { return data.data() != nullptr; }
  // A struct at the start of the payload (at least sizeof(T) bytes; a kernel
  // struct may grow at its end). Not for integers: use the reads below.
  template <class T>
  std::optional<T> as() const {
    if (data.size() < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, data.data(), sizeof(T));
    return v;
  }
  // An integer attribute: exactly sizeof(T) bytes. Absent: nullopt. Present
  // with another length: nullopt, recorded in the open AttrCheck (above).
  template <class T>
  std::optional<T> get() const {
    if (!present()) return std::nullopt;
    if (data.size() != sizeof(T)) {
      AttrCheck::record(type, data.size(), sizeof(T), data.data());
      return std::nullopt;
    }
    T v;
    std::memcpy(&v, data.data(), sizeof(T));
    return v;
  }
  uint8_t u8(uint8_t d = 0) const { return get<uint8_t>().value_or(d); }
  uint16_t u16(uint16_t d = 0) const { return get<uint16_t>().value_or(d); }
  uint32_t u32(uint32_t d = 0) const { return get<uint32_t>().value_or(d); }
  int32_t s32(int32_t d = 0) const { return get<int32_t>().value_or(d); }
  uint64_t u64(uint64_t d = 0) const { return get<uint64_t>().value_or(d); }
  // String up to the first NUL or the end of the payload.
  std::string str() const {
    size_t n = 0;
    while (n < data.size() && data[n] != 0) ++n;
    return std::string(reinterpret_cast<const char*>(data.data()), n);
  }
};

// Calls f(Attr) for each attribute in buf. Returns false when an attribute's
// length is below the header size or runs past the buffer (parsing stops there).
template <class F>
bool for_each_attr(bytes buf, F&& f) {
  size_t off = 0;
  while (buf.size() - off >= sizeof(nlattr)) {
    nlattr a;
    std::memcpy(&a, buf.data() + off, sizeof a);
    if (a.nla_len < sizeof(nlattr) || a.nla_len > buf.size() - off) return false;
    Attr at;
    at.type = a.nla_type & NLA_TYPE_MASK;
    at.data = buf.subspan(off + attr_hdrlen, a.nla_len - attr_hdrlen);
    f(at);
    size_t step = align(a.nla_len);
    if (step >= buf.size() - off) return true;  // the last attribute (its padding may be cut)
    off += step;
  }
  // Trailing bytes too short for an attribute header are ignored, as nla_ok() does.
  return true;
}

// Attributes indexed by type, up to Max; later duplicates win, unknown types ignored.
template <size_t Max>
struct AttrTable {
  std::array<Attr, Max + 1> tb{};
  bool valid = true;
  AttrTable() = default;
  explicit AttrTable(bytes buf) { parse(buf); }
  bool parse(bytes buf) {
    tb = {};
    valid = for_each_attr(buf, [&](const Attr& a) {
      if (a.type <= Max) tb[a.type] = a;
    });
    return valid;
  }
  const Attr& operator[](size_t t) const {
    static const Attr none{};
    return t <= Max ? tb[t] : none;
  }
};

// Calls f(const nlmsghdr&, bytes payload) for each netlink message in buf.
// Returns false if a header is truncated or claims more than the buffer holds.
template <class F>
bool for_each_msg(bytes buf, F&& f) {
  size_t off = 0;
  while (off < buf.size()) {
    if (buf.size() - off < sizeof(nlmsghdr)) return false;
    nlmsghdr h;
    std::memcpy(&h, buf.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > buf.size() - off) return false;
    size_t hdr = align(sizeof(nlmsghdr));
    bytes payload = hdr <= h.nlmsg_len ? buf.subspan(off + hdr, h.nlmsg_len - hdr) : bytes{};
    if (!f(h, payload)) return true;
    size_t step = align(h.nlmsg_len);
    if (step > buf.size() - off) break;
    off += step;
  }
  return true;
}

// Reads the family header T at the start of a payload; the rest are attributes.
template <class T>
std::optional<T> extra_header(bytes payload) {
  if (payload.size() < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, payload.data(), sizeof v);
  return v;
}
template <class T>
bytes after_header(bytes payload) {
  size_t n = align(sizeof(T));
  return payload.size() >= n ? payload.subspan(n) : bytes{};
}

}  // namespace nl
