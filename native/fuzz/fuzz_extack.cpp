// fuzz_extack: nl::parse_error on arbitrary NLMSG_ERROR / NLMSG_DONE payloads.
// Input byte 0 chooses the header flags and the request:
//   bit 0  NLM_F_ACK_TLVS       bit 1  NLM_F_CAPPED
//   bits 2-4  which request (veth link, vxlan link, addr, route, neigh, rule, plain)
//   bit 5  an NLMSG_DONE carrying an error (TLVs after the int), as transact() handles it
//   bit 6  the TLV offset (errhdr) taken from input byte 1 instead of derived
// The rest is the payload: struct nlmsgerr (error + the request header or the
// whole request), then the extended-ACK TLVs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& reqs = fuzz::Requests::get();
  uint8_t sel = data[0];
  size_t skip = 1;
  size_t raw_errhdr = 0;
  if ((sel & 0x40) && size >= 2) {
    raw_errhdr = data[1];
    skip = 2;
  }
  std::vector<uint8_t> buf(data + skip, data + size);  // exactly sized
  nl::bytes payload(buf.data(), buf.size());
  const nl::Request& req = reqs.pick((sel >> 2) & 7);

  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(sizeof(nlmsghdr) + payload.size());
  h.nlmsg_flags = static_cast<uint16_t>(((sel & 1) ? NLM_F_ACK_TLVS : 0) | ((sel & 2) ? NLM_F_CAPPED : 0));

  if (sel & 0x20) {
    h.nlmsg_type = NLMSG_DONE;
    int code = -1;
    if (payload.size() >= sizeof(int)) std::memcpy(&code, payload.data(), sizeof code);
    if (code >= 0) code = -code - 1;  // always an error here
    size_t errhdr = (sel & 0x40) ? raw_errhdr : sizeof(int);
    if (fuzz::known_bug(code)) return 0;
    fuzz::check_error(nl::parse_error(code, h, payload, errhdr, req), payload, req);
    return 0;
  }
  h.nlmsg_type = NLMSG_ERROR;
  auto err = nl::extra_header<nlmsgerr>(payload);
  int code = err ? err->error : -EINVAL;
  if (fuzz::known_bug(code)) return 0;
  size_t errhdr = raw_errhdr;
  if (!(sel & 0x40))
    errhdr = !err ? payload.size()
             : (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsgerr)
                                              : sizeof(int) + nl::align(err->msg.nlmsg_len);
  nl::Error e = nl::parse_error(code, h, payload, errhdr, req);
  fuzz::check_error(e, payload, req);
  if (!(h.nlmsg_flags & NLM_F_ACK_TLVS)) {
    // Without NLM_F_ACK_TLVS nothing after the header is read.
    FUZZ_CHECK(e.extack.empty() && e.offset == -1 && e.attribute.empty() && e.missing_type == -1);
  }
  // The same with every request: attr_at() and attr_type_name() of each.
  for (size_t i = 0; i < reqs.all.size(); ++i) fuzz::check_error(nl::parse_error(code, h, payload, errhdr, reqs.pick(i)), payload, reqs.pick(i));
  return 0;
}
