// The native tests' one assertion: CHECK counts, reports a failure with its
// file and line, and goes on; check_summary() prints the count and gives the
// exit status.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

static int failures = 0, checks = 0;
#define CHECK(cond)                                                                 \
  do {                                                                              \
    ++checks;                                                                       \
    if (!(cond)) {                                                                  \
      ++failures;                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                               \
  } while (0)

using Bytes = std::vector<uint8_t>;

static inline int check_summary() {
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
