// nl::Builder — netlink messages into a caller-owned buffer, libmnl style.
//
// Every put_* checks the remaining space first. On overflow nothing is
// written, the builder is marked failed and every later call is a no-op, so
// a caller checks ok() once at the end instead of after every attribute.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace nl {

constexpr size_t align(size_t n) { return (n + NLMSG_ALIGNTO - 1) & ~size_t(NLMSG_ALIGNTO - 1); }
constexpr size_t attr_hdrlen = align(sizeof(nlattr));

class Builder {
 public:
  explicit Builder(std::span<uint8_t> buf) : buf_(buf) {}

  // Starts the message: nlmsghdr with type and flags; seq/pid are set by the socket.
  nlmsghdr* put_header(uint16_t type, uint16_t flags) {
    if (len_ != 0 || !reserve(align(sizeof(nlmsghdr)))) { failed_ = true; return nullptr; }
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    len_ = align(sizeof(nlmsghdr));
    sync();
    return h;
  }

  // The family header that follows nlmsghdr (ifinfomsg, ifaddrmsg, rtmsg...), zeroed.
  template <class T>
  T* put_extra_header() {
    size_t sz = align(sizeof(T));
    if (!reserve(sz)) return nullptr;
    auto* p = reinterpret_cast<T*>(buf_.data() + len_);
    len_ += sz;
    sync();
    return p;
  }

  bool put(uint16_t type, const void* data, size_t n) {
    size_t total = attr_hdrlen + n;
    if (n > 0xffff - attr_hdrlen || !reserve(align(total))) return false;
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + len_);
    a->nla_type = type;
    a->nla_len = static_cast<uint16_t>(total);
    if (n) std::memcpy(buf_.data() + len_ + attr_hdrlen, data, n);
    len_ += align(total);
    sync();
    return true;
  }
  bool put_u8(uint16_t t, uint8_t v) { return put(t, &v, 1); }
  bool put_u16(uint16_t t, uint16_t v) { return put(t, &v, 2); }
  bool put_u32(uint16_t t, uint32_t v) { return put(t, &v, 4); }
  bool put_s32(uint16_t t, int32_t v) { return put(t, &v, 4); }
  bool put_u64(uint16_t t, uint64_t v) { return put(t, &v, 8); }
  // NUL-terminated string attribute.
  bool put_strz(uint16_t t, std::string_view s) {
    size_t total = attr_hdrlen + s.size() + 1;
    if (s.size() + 1 > 0xffff - attr_hdrlen || !reserve(align(total))) return false;
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + len_);
    a->nla_type = t;
    a->nla_len = static_cast<uint16_t>(total);
    std::memcpy(buf_.data() + len_ + attr_hdrlen, s.data(), s.size());
    buf_[len_ + attr_hdrlen + s.size()] = 0;
    len_ += align(total);
    sync();
    return true;
  }

  // Nested attributes: nest_begin returns a token (the offset) for nest_end /
  // nest_cancel. A failed builder returns a token that both ignore.
  size_t nest_begin(uint16_t type) {
    size_t off = len_;
    if (!put(type | NLA_F_NESTED, nullptr, 0)) return npos;
    return off;
  }
  void nest_end(size_t token) {
    if (token == npos || failed_) return;
    reinterpret_cast<nlattr*>(buf_.data() + token)->nla_len = static_cast<uint16_t>(len_ - token);
  }
  void nest_cancel(size_t token) {
    if (token == npos || failed_) return;
    len_ = token;
    sync();
  }

  // Raw space inside the message (e.g. a nested ifinfomsg for a veth peer).
  template <class T>
  T* put_struct() { return put_extra_header<T>(); }

  bool ok() const { return !failed_ && len_ != 0; }
  size_t size() const { return len_; }
  std::span<const uint8_t> bytes() const { return {buf_.data(), len_}; }
  static constexpr size_t npos = static_cast<size_t>(-1);

 private:
  bool reserve(size_t n) {
    if (failed_ || n > buf_.size() - len_) { failed_ = true; return false; }
    std::memset(buf_.data() + len_, 0, n);
    return true;
  }
  void sync() {
    if (len_ >= sizeof(nlmsghdr)) reinterpret_cast<nlmsghdr*>(buf_.data())->nlmsg_len = static_cast<uint32_t>(len_);
  }
  std::span<uint8_t> buf_;
  size_t len_ = 0;
  bool failed_ = false;
};

}  // namespace nl
