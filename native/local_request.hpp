// nl::LocalRequest — a request that is not a netlink message but runs on a
// namespace's I/O thread (handle.hpp), inside that namespace: nf_tables
// batches and dumps, conntrack, sockets, sysctls. Its own header, so that
// the codecs deriving from it (nft/, ct/) do not depend on the I/O thread.
#pragma once

#include <functional>

#include "nl/socket.hpp"
#include "nl/transact.hpp"

namespace nl {

// A request run on the handle's thread without netlink (a filesystem or
// namespace operation that must happen inside the namespace, or off the
// caller's thread). Subclasses override run().
struct LocalContext {
  // The namespace's NETLINK_NETFILTER socket, opened (inside the namespace)
  // the first time it is asked for. Null with *err set if it cannot be.
  std::function<Socket*(Error* err)> netfilter;
};

class LocalRequest : public Request {
 public:
  LocalRequest() { local = true; }
  virtual void run(LocalContext& ctx) = 0;
};

}  // namespace nl
