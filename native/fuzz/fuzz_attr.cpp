// fuzz_attr: nl::for_each_attr and nl::AttrTable over arbitrary bytes, every
// accessor read, and nested descent: each attribute's payload is parsed as
// attributes again (also after a 4- or 16-byte struct, as VETH_INFO_PEER
// carries an ifinfomsg first), down to a bounded depth.
//
// Besides the sanitizers, every attribute handed out is checked against an
// independent walk with the kernel's nla_ok()/nla_next() rules: same count,
// same types, same payload spans, all inside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.hpp"

namespace {

using nl::Attr;
using nl::AttrTable;
using nl::bytes;

constexpr int kMaxDepth = 6;
size_t g_budget;  // attributes visited per input: bounds the descent's fan-out

struct RefAttr {
  uint16_t type;
  size_t off, len;  // payload offset and length within the buffer
};

// The kernel's walk (include/net/netlink.h nla_for_each_attr): stop when
// fewer than 4 bytes remain, or at a length below 4 or past the remainder.
// `malformed` is what the library documents: a length below the header or
// past the buffer.
std::vector<RefAttr> reference_walk(bytes buf, bool* malformed) {
  std::vector<RefAttr> out;
  *malformed = false;
  size_t off = 0;
  while (buf.size() - off >= 4) {
    uint16_t len, type;
    std::memcpy(&len, buf.data() + off, 2);
    std::memcpy(&type, buf.data() + off + 2, 2);
    if (len < 4 || len > buf.size() - off) {
      *malformed = true;
      break;
    }
    out.push_back({static_cast<uint16_t>(type & NLA_TYPE_MASK), off + 4, size_t(len) - 4});
    size_t step = (size_t(len) + 3) & ~size_t(3);
    if (step >= buf.size() - off) break;
    off += step;
  }
  return out;
}

void read_all(const Attr& a) {
  // Every accessor, with and without defaults.
  FUZZ_CHECK(a.present() || a.data.empty());
  auto u8 = a.as<uint8_t>();
  auto u16 = a.as<uint16_t>();
  auto u32 = a.as<uint32_t>();
  auto u64 = a.as<uint64_t>();
  FUZZ_CHECK(u8.has_value() == (a.data.size() >= 1));
  FUZZ_CHECK(u16.has_value() == (a.data.size() >= 2));
  FUZZ_CHECK(u32.has_value() == (a.data.size() >= 4));
  FUZZ_CHECK(u64.has_value() == (a.data.size() >= 8));
  fuzz::sink(a.u8() + a.u8(0x5a) + a.u16() + a.u16(0x5a5a) + a.u32() + a.u32(7) + uint32_t(a.s32()) +
             uint32_t(a.s32(-1)) + a.u64() + a.u64(9));
  struct Wide {
    uint8_t b[20];
  };
  if (auto w = a.as<Wide>()) fuzz::sink(w->b[19]);
  if (auto ci = a.as<ifa_cacheinfo>()) fuzz::sink(ci->ifa_valid);
  std::string s = a.str();
  FUZZ_CHECK(s.size() <= a.data.size());
  FUZZ_CHECK(s.find('\0') == std::string::npos);
  if (s.size() < a.data.size()) FUZZ_CHECK(a.data[s.size()] == 0);
  fuzz::sink(s);
}

template <size_t Max>
void table(bytes buf, const std::vector<RefAttr>& ref) {
  AttrTable<Max> tb(buf);
  // Later duplicates win; types above Max are ignored.
  std::vector<const RefAttr*> last(Max + 1, nullptr);
  for (const auto& r : ref)
    if (r.type <= Max) last[r.type] = &r;
  for (size_t t = 0; t <= Max + 2; ++t) {
    const Attr& a = tb[t];
    if (t > Max) {
      FUZZ_CHECK(!a.present());
      continue;
    }
    if (!last[t]) {
      FUZZ_CHECK(!a.present());
    } else {
      FUZZ_CHECK(a.present() && a.type == t);
      FUZZ_CHECK(a.data.data() == buf.data() + last[t]->off && a.data.size() == last[t]->len);
    }
    read_all(a);
  }
  // parse() again on the same table resets it.
  tb.parse(bytes{});
  for (size_t t = 0; t <= Max; ++t) FUZZ_CHECK(!tb[t].present());
}

void walk(bytes buf, int depth) {
  if (depth > kMaxDepth || g_budget == 0) return;
  bool malformed = false;
  auto ref = reference_walk(buf, &malformed);
  size_t i = 0;
  std::vector<bytes> payloads;
  bool valid = nl::for_each_attr(buf, [&](const Attr& a) {
    FUZZ_CHECK(i < ref.size());
    FUZZ_CHECK(a.type == ref[i].type);
    FUZZ_CHECK(a.data.data() == buf.data() + ref[i].off && a.data.size() == ref[i].len);
    FUZZ_CHECK(fuzz::within(a.data, buf));
    read_all(a);
    payloads.push_back(a.data);
    ++i;
  });
  FUZZ_CHECK(i == ref.size());
  // The contract: false exactly for a length below the header or past the
  // buffer. (An unpadded last attribute, or 1-3 trailing bytes, are well
  // formed for the kernel.)
  FUZZ_CHECK(valid == !malformed);
  fuzz::sink(valid);

  if (depth == 0) {
    table<0>(buf, ref);
    table<3>(buf, ref);
    table<IFLA_INFO_MAX>(buf, ref);
    table<IFLA_MAX>(buf, ref);
  } else if (depth <= 2) {
    table<IFLA_INFO_MAX>(buf, ref);
  }

  for (bytes p : payloads) {
    if (g_budget == 0) return;
    --g_budget;
    walk(p, depth + 1);
    // Nested attributes after a family struct (VETH_INFO_PEER: ifinfomsg; RTA_MULTIPATH: rtnexthop).
    if (p.size() > 4) walk(p.subspan(4), depth + 1);
    if (p.size() > 16) walk(p.subspan(16), depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_budget = 1024;
  // Copy into an exactly-sized heap buffer so ASan sees any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  walk(bytes(buf.data(), buf.size()), 0);
  // The same bytes at an odd address: the parsers must not assume alignment.
  std::vector<uint8_t> odd(size + 1);
  if (size) std::memcpy(odd.data() + 1, data, size);
  g_budget = 256;
  walk(bytes(odd.data() + 1, size), kMaxDepth - 1);
  return 0;
}
