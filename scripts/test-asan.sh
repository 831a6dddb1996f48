#!/bin/sh
# npm run test:asan [-- test files...]
#
# The N-API glue (src/addon.cc) and the native layer under AddressSanitizer and
# UndefinedBehaviorSanitizer, driven by real integration tests:
#   1. a private copy of the tree (mktemp -d; no build/, dist/, .git; node_modules
#      linked) so that the instrumented addon never lands in ./build, where
#      `bindings` would load it for every other run;
#   2. the addon built there by node-gyp from the same binding.gyp, with
#      CXXFLAGS/LDFLAGS adding -fsanitize=address,undefined (gcc);
#   3. a few integration test files (and the Watcher's fake-kernel test) run
#      there by jest inside `netplumb sandbox` (root only), with the ASan
#      runtime LD_PRELOADed into node (it is not instrumented itself) and
#      detect_leaks=0 (node's own allocations are not ours to judge). UBSan
#      halts on the first report. The tests' helper tools (ip, nft, ...) run
#      through shims that drop LD_PRELOAD: under the ASan runtime, iproute2's
#      own `ip route` trips a strncpy-overlap check (print_route) and aborts,
#      which is not ours to report.
# Fails if jest fails or any sanitizer report appears. The copy is removed when
# everything passes and kept (and named) otherwise, with its log.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "test:asan: needs root: the integration tests run in 'netplumb sandbox' (a private network namespace)" >&2
  exit 2
fi
if [ $# -gt 0 ]; then
  files="$*"
else
  # The glue's conversions both ways (links, addresses, routes, neighbours,
  # rules, nf_tables batches and dumps, errors with extended ACKs), the
  # Watcher's read loop (events, overrun), and workers terminated mid-call.
  files="test/integration/kernel-errors.test.ts test/integration/dumps.test.ts test/integration/watcher.test.ts
         test/integration/nat.test.ts test/integration/neigh-rule-route.test.ts test/integration/link.test.ts
         test/integration/workers.test.ts test/unit/watcher-fake-kernel.test.ts"
fi
libasan=$(g++ -print-file-name=libasan.so)
[ -e "$libasan" ] || { echo "test:asan: no libasan.so for g++ ($libasan)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/netplumb-asan.XXXXXX")
log="$work/asan.log"
echo "test:asan: building in $work"
tar -C "$root" --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.git \
  --exclude='./jest-results*.json' -cf - . | tar -C "$work" -xf -
ln -s "$root/node_modules" "$work/node_modules"

san="-fsanitize=address,undefined -fno-omit-frame-pointer -g"
if ! (cd "$work" && CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" \
      node node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir="${NODEDIR:-/usr}" -j 1 >"$work/build.log" 2>&1); then
  cat "$work/build.log" >&2
  echo "test:asan: the build failed; kept $work" >&2
  exit 1
fi
if ! ldd "$work/build/Release/netplumb.node" | grep -q libasan; then
  echo "test:asan: the addon is not linked with libasan (CXXFLAGS/LDFLAGS not honoured?); kept $work" >&2
  exit 1
fi

# Shims: the tools the tests run, without the ASan runtime.
mkdir -p "$work/.asan-shims"
for tool in ip nft bridge tc ss ping sysctl ethtool; do
  real=$(command -v "$tool" 2>/dev/null) || continue
  printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$real" >"$work/.asan-shims/$tool"
  chmod +x "$work/.asan-shims/$tool"
done

echo "test:asan: running $(echo $files | wc -w) test file(s) with $libasan preloaded"
set +e
# shellcheck disable=SC2086
(cd "$work" && node bin/netplumb sandbox -- env \
  PATH="$work/.asan-shims:$PATH" \
  LD_PRELOAD="$libasan" \
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:allow_user_segv_handler=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  node node_modules/jest/bin/jest.js --selectProjects integration unit --runInBand $files) >"$log" 2>&1
status=$?
set -e
reports=$(grep -c -E 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$log" || true)
grep -E '^(PASS|FAIL) |^Tests:|^Test Suites:' "$log" || true
if [ "$status" -ne 0 ] || [ "$reports" -ne 0 ]; then
  grep -E -A 30 'ERROR: AddressSanitizer|runtime error:' "$log" | head -80 >&2
  echo "test:asan: FAILED (jest exit $status, $reports sanitizer report(s)); log: $log" >&2
  exit 1
fi
echo "test:asan: passed, no sanitizer report"
rm -rf "$work"
