#include "errors.hpp"

#include <cstring>

namespace glue {

Napi::Object from_error(Napi::Env env, const nl::Error& e) {
  auto o = Napi::Object::New(env);
  o.Set("errno", e.err);
  o.Set("syscall", e.syscall);
  if (!e.extack.empty()) o.Set("extack", e.extack);
  if (e.offset >= 0) o.Set("offset", static_cast<double>(e.offset));
  if (!e.attribute.empty()) o.Set("attribute", e.attribute);
  if (e.missing_type >= 0) o.Set("missingAttribute", e.missing.empty() ? std::to_string(e.missing_type) : e.missing);
  if (!e.detail.empty()) o.Set("detail", e.detail);
  if (e.dump_interrupted) o.Set("dumpInterrupted", true);
  if (e.malformed_reply) o.Set("malformedReply", true);
  o.Set("native", true);
  return o;
}

Napi::Error native_exception(Napi::Env env, const nl::Error& e) {
  auto x = Napi::Error::New(env, e.syscall + ": " + std::strerror(e.err) + (e.detail.empty() ? "" : " — " + e.detail));
  auto o = x.Value();
  auto shape = from_error(env, e);
  for (const char* k : {"errno", "syscall", "detail", "native"})
    if (shape.Has(k)) o.Set(k, shape.Get(k));
  return x;
}

Napi::Value rejected(Napi::Env env, const nl::Error& e) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(from_error(env, e));
  return d.Promise();
}

}  // namespace glue
