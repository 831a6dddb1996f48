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

#include "builder.hpp"

namespace nl {

using bytes = std::span<const uint8_t>;

struct Attr {
  uint16_t type = 0;  // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
  bytes data;

  bool present() const { return data.data() != nullptr; }
  template <class T>
  std::optional<T> as() const {
    if (data.size() < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, data.data(), sizeof(T));
    return v;
  }
  uint8_t u8(uint8_t d = 0) const { return as<uint8_t>().value_or(d); }
  uint16_t u16(uint16_t d = 0) const { return as<uint16_t>().value_or(d); }
  uint32_t u32(uint32_t d = 0) const { return as<uint32_t>().value_or(d); }
  int32_t s32(int32_t d = 0) const { return as<int32_t>().value_or(d); }
  uint64_t u64(uint64_t d = 0) const { return as<uint64_t>().value_or(d); }
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
