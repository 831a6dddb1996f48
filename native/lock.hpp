// nl::lock — an exclusive lock on a file, shared by every process on the
// machine (flock(2)): held by an open file, released by close or by the
// holder's death, SIGKILL included. Used for read-modify-writes of state that
// several processes share (a network's address leases).
#pragma once

#include <string>

#include "nl/error.hpp"

namespace nl::lock {

// Opens `path` (creating it, mode 0600) and takes an exclusive flock without
// waiting. Returns the fd, which holds the lock until it is closed; -1 if
// another open file holds the lock; -2 with *err set on any other failure.
int try_exclusive(const std::string& path, Error* err);

}  // namespace nl::lock
