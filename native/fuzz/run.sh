#!/bin/sh
# run.sh MODE OUT SECONDS FLAGS TARGET...
#   smoke: each target for SECONDS on a fresh copy of its seed corpus
#   run:   each target for SECONDS on OUT/corpus/<target>, seeded from corpus/ and kept between runs
# First, every input under native/test/fuzz-regressions/<target>/ (past findings) is replayed.
# Exits non-zero if any target finds a crash, a leak, a timeout or a sanitizer report.
set -u
mode=$1 out=$2 secs=$3 flags=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
regress="$here/../test/fuzz-regressions"
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS
findings='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|deadly signal|invariant violated|ERROR: libFuzzer'
status=0
total=0
mkdir -p "$out/artifacts" "$out/logs"
for t in "$@"; do
  name=${t#fuzz_}
  rm -f "$out/artifacts/$t-"*
  log="$out/logs/$t.log"

  # Past findings, replayed one by one.
  if [ -d "$regress/$name" ] && [ -n "$(ls -A "$regress/$name")" ]; then
    for f in "$regress/$name"/*; do
      if ! "$out/$t" "$f" >"$log.regress" 2>&1 || grep -q -E "$findings" "$log.regress"; then
        status=1
        echo "$t: FAILED on regression input $(basename "$f") (native/test/fuzz-regressions/$name)"
        grep -E -A 12 "$findings" "$log.regress" | head -30
      fi
    done
  fi

  seeds="$here/corpus/$name"
  if [ "$mode" = smoke ]; then
    work="$out/smoke/$name"
    rm -rf "$work"
  else
    work="$out/corpus/$name"
  fi
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -R "$seeds/." "$work/"
  # shellcheck disable=SC2086
  "$out/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/$t-" $flags "$work" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  total=$((total + execs))
  if [ "$rc" -ne 0 ] || grep -q -E "$findings" "$log"; then
    status=1
    echo "$t: FAILED (exit $rc) after $execs executions; log: $log"
    grep -E -A 30 "$findings" "$log" | head -60
    ls -1 "$out/artifacts/$t-"* 2>/dev/null | sed 's/^/  artifact: /'
  else
    echo "$t: $execs executions in ${secs}s, no findings"
  fi
done
echo "total: $total executions"
exit $status
