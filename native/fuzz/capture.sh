#!/bin/sh
# capture.sh CAPTURE_BINARY CORPUS_DIR — run inside `netplumb sandbox` (a fresh
# network namespace: only lo). Replaces CORPUS_DIR with what the kernel sent.
set -eu
bin=$1 dir=$2
[ "${NETPLUMB_SANDBOX:-}" = 1 ] || { echo "capture.sh: run me inside 'node bin/netplumb sandbox --'" >&2; exit 2; }
tmp=$(mktemp -d)
"$bin" "$tmp"
rm -rf "$dir"
mkdir -p "$dir"
cp -R "$tmp/." "$dir/"
rm -rf "$tmp"
echo "corpus: $(find "$dir" -type f | wc -l) files, $(cat $(find "$dir" -type f) | wc -c) bytes"
