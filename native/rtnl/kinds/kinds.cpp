// The table-driven encoding and decoding of IFLA_INFO_DATA (kind.hpp), and
// the registry of kinds (list.hpp).
#include "kind.hpp"

#include <errno.h>
#include <linux/if_link.h>

#include "../rtnl.hpp"

namespace nl::rtnl {

namespace kinds {
#define KIND(n) extern const LinkKind n;
#include "list.hpp"
#undef KIND
}  // namespace kinds

namespace {

const LinkKind* const all_kinds[] = {
#define KIND(n) &kinds::n,
#include "list.hpp"
#undef KIND
};

const Field* field_of(const LinkKind& k, std::string_view key) {
  for (const auto& f : k.fields)
    if (key == f.key) return &f;
  return nullptr;
}

bool put_field(Builder& b, const Field& f, const KindValue& v, std::string* why) {
  using T = FieldType;
  auto num = [&](uint64_t max) {
    if (v.type != KindValue::Type::Num) { *why = "must be a number"; return false; }
    if (v.num > max) { *why = "is out of range (max " + std::to_string(max) + ")"; return false; }
    return true;
  };
  switch (f.type) {
    case T::U8: if (!num(0xff)) return false; b.put_u8(f.attr, static_cast<uint8_t>(v.num)); return true;
    case T::U16: if (!num(0xffff)) return false; b.put_u16(f.attr, static_cast<uint16_t>(v.num)); return true;
    case T::U32: if (!num(0xffffffff)) return false; b.put_u32(f.attr, static_cast<uint32_t>(v.num)); return true;
    case T::Be16: {
      if (!num(0xffff)) return false;
      uint16_t be = static_cast<uint16_t>(((v.num & 0xff) << 8) | ((v.num >> 8) & 0xff));
      b.put_u16(f.attr, be);
      return true;
    }
    case T::Ip:
      if (v.type != KindValue::Type::Ip || (v.ip.size() != 4 && v.ip.size() != 16)) { *why = "must be a 4- or 16-byte address"; return false; }
      b.put(v.ip.size() == 4 ? f.attr : f.attr6, v.ip.data(), v.ip.size());
      return true;
    case T::Str:
      if (v.type != KindValue::Type::Str) { *why = "must be a string"; return false; }
      b.put_strz(f.attr, v.str);
      return true;
  }
  return false;
}

}  // namespace

const LinkKind* find_kind(std::string_view name) {
  for (const LinkKind* k : all_kinds)
    if (name == k->name) return k;
  return nullptr;
}

bool put_info_data(Builder& b, const LinkSpec& s, const char* op, Error* err) {
  const LinkKind* k = find_kind(s.kind);
  if (!k) {
    if (s.data.empty()) return true;
    *err = Error::sys(EINVAL, op, "link kind '" + s.kind + "' takes no data");
    return false;
  }
  auto data = b.nest_begin(IFLA_INFO_DATA);
  size_t empty = b.size();
  for (const auto& [key, v] : s.data.values) {
    if (!field_of(*k, key)) {
      *err = Error::sys(EINVAL, op, std::string(k->name) + " has no option '" + key + "'");
      return false;
    }
  }
  for (const auto& f : k->fields) {
    const KindValue* v = s.data.find(f.key);
    std::string why;
    if (v && !put_field(b, f, *v, &why)) {
      *err = Error::sys(EINVAL, op, std::string(k->name) + " option '" + f.key + "' " + why);
      return false;
    }
  }
  if (k->put_extra) k->put_extra(b, s);
  if (b.size() == empty) b.nest_cancel(data);
  else b.nest_end(data);
  return true;
}

void parse_info_data(const LinkKind& k, bytes data, KindData* out) {
  AttrTable<127> tb(data);  // every IFLA_<KIND>_* type is below 128
  for (const auto& f : k.fields) {
    const Attr& a = tb[f.attr];
    KindValue v;
    switch (f.type) {
      case FieldType::U8: if (!a.present()) continue; v.num = a.u8(); break;
      case FieldType::U16: if (!a.present()) continue; v.num = a.u16(); break;
      case FieldType::U32: if (!a.present()) continue; v.num = a.u32(); break;
      case FieldType::Be16: {
        if (!a.present()) continue;
        uint16_t be = a.u16();
        v.num = static_cast<uint16_t>((be >> 8) | (be << 8));
        break;
      }
      case FieldType::Ip: {
        const Attr& x = a.data.size() == 4 ? a : tb[f.attr6];
        if (x.data.size() != 4 && x.data.size() != 16) continue;
        v.type = KindValue::Type::Ip;
        v.ip.assign(x.data.begin(), x.data.end());
        break;
      }
      case FieldType::Str:
        if (!a.present()) continue;
        v.type = KindValue::Type::Str;
        v.str = a.str();
        break;
    }
    out->set(f.key, std::move(v));
  }
}

std::string info_data_attr_name(std::string_view kind, uint32_t type) {
  if (const LinkKind* k = find_kind(kind)) {
    for (const auto& f : k->fields) {
      if (f.attr == type) return f.attr_name;
      if (f.type == FieldType::Ip && f.attr6 == type) return std::string(f.attr_name) + "6";
    }
  }
  return "IFLA_INFO_DATA#" + std::to_string(type);
}

}  // namespace nl::rtnl
