// nl::rtnl link kinds: one file per kind (veth.cpp, vlan.cpp...) describes
// the kind's IFLA_INFO_DATA as a table of fields, which link.cpp encodes
// (RTM_NEWLINK) and decodes (link dumps) with the code below. What lib/
// sends and reads back is KindData: named values, so src/ converts every
// kind with one function and knows no kind by name.
//
// Adding a kind: a file here with its Field table (and a hook for what a
// table cannot say, as veth's nested peer), plus one line in list.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../nl/attr.hpp"
#include "../../nl/builder.hpp"
#include "../../nl/error.hpp"

namespace nl::rtnl {

struct LinkSpec;

// One value of a kind's data: a number, an IP address (4 or 16 bytes), or a string.
struct KindValue {
  enum class Type : uint8_t { Num, Ip, Str };
  Type type = Type::Num;
  uint64_t num = 0;
  std::vector<uint8_t> ip;
  std::string str;
};

// A kind's IFLA_INFO_DATA as named values ("id" -> 42), in table order when decoded.
struct KindData {
  std::vector<std::pair<std::string, KindValue>> values;
  bool empty() const { return values.empty(); }
  const KindValue* find(std::string_view key) const {
    for (const auto& [k, v] : values)
      if (k == key) return &v;
    return nullptr;
  }
  void set(std::string key, KindValue v) { values.emplace_back(std::move(key), std::move(v)); }
  KindData& num(std::string key, uint64_t n) {
    KindValue v;
    v.num = n;
    set(std::move(key), std::move(v));
    return *this;
  }
  KindData& ip(std::string key, std::vector<uint8_t> a) {
    KindValue v;
    v.type = KindValue::Type::Ip;
    v.ip = std::move(a);
    set(std::move(key), std::move(v));
    return *this;
  }
  // The number under `key`, or `d` (absent, or not a number).
  uint64_t num_or(std::string_view key, uint64_t d) const {
    const KindValue* v = find(key);
    return v && v->type == KindValue::Type::Num ? v->num : d;
  }
};

// How a field sits on the wire. Be16: a u16 in network order (a port, an
// ethertype); Ip: 4 bytes in `attr`, 16 in `attr6`.
enum class FieldType : uint8_t { U8, U16, U32, Be16, Ip, Str };

struct Field {
  const char* key;     // the name lib/ uses ("id", "mode")
  uint16_t attr;       // IFLA_<KIND>_* (for Ip: the IPv4 one)
  FieldType type;
  const char* attr_name;  // for errors: "IFLA_VLAN_ID"
  uint16_t attr6 = 0;  // Ip only: the IPv6 attribute
};
#define NL_FIELD(key, attr, type) ::nl::rtnl::Field{key, attr, ::nl::rtnl::FieldType::type, #attr}
#define NL_FIELD_IP(key, attr, attr6) ::nl::rtnl::Field{key, attr, ::nl::rtnl::FieldType::Ip, #attr, attr6}

struct LinkKind {
  const char* name;  // IFLA_INFO_KIND
  std::span<const Field> fields;
  // Optional: what the table cannot say, encoded after the fields inside
  // IFLA_INFO_DATA (veth's VETH_INFO_PEER).
  void (*put_extra)(Builder&, const LinkSpec&) = nullptr;
};

// The kind registered under `name` (list.hpp), or null: a kind without data
// of its own (dummy, ifb, wireguard) needs no entry.
const LinkKind* find_kind(std::string_view name);

// IFLA_INFO_DATA for spec.data (and the kind's hook), if there is anything to
// put. False with *err set (EINVAL) for a key the kind does not have or a
// value that does not fit its field: lib/ checks first, this is the backstop.
bool put_info_data(Builder& b, const LinkSpec& s, const char* op, Error* err);

// The fields of `kind` found in an IFLA_INFO_DATA payload. Integer widths
// are checked (nl::AttrCheck): a wrong one makes the message malformed.
void parse_info_data(const LinkKind& kind, bytes data, KindData* out);

// The name of attribute `type` inside `kind`'s IFLA_INFO_DATA, for errors.
std::string info_data_attr_name(std::string_view kind, uint32_t type);

}  // namespace nl::rtnl
