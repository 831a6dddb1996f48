#!/usr/bin/env bash
# npm run test:fresh -- the README's two commands on a fresh machine.
#
# Builds a minimal Debian root filesystem (mmdebstrap, variant minbase, plus
# g++, make and python3: "a compiler"), puts this host's Node.js in it, copies
# a clean checkout of HEAD to /src, and runs
#
#     cd /src && npm install && npm test
#
# in it, entered with unshare (new network, mount, PID, UTS and IPC
# namespaces) + chroot. The sandbox has no network link: the package
# registries are reached only through an HTTP proxy on a unix socket inside
# the rootfs (scripts/fresh-proxy.js), which lets through the apt sources'
# hosts and the npm registry, nothing else.
#
# Nothing about this machine is written into the repository: the Debian
# release and its apt sources (/etc/apt/sources.list{,.d}), the npm registry
# (`npm config get registry`), any proxy the host itself uses
# ($http(s)_proxy, apt's Acquire::http(s)::Proxy) and the host's extra CA
# certificates (/usr/local/share/ca-certificates) are read at run time.
#
# The base image (minbase + compiler, no Node) is cached as a tarball under
# $FRESH_CACHE (default /var/tmp/netplumb-fresh-cache), keyed by date, release
# and sources: one mmdebstrap per day. Every run unpacks it into a new
# directory, so what `npm test` installs never carries over to the next run.
# FRESH_REBUILD=1 ignores the cache; FRESH_KEEP=1 keeps the run's rootfs.
#
# Needs: root, mmdebstrap (installed with apt-get if missing), git.
# The log (and the proxy's log of every request) stay in a directory under
# ${TMPDIR:-/var/tmp} whose path is printed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "test:fresh: $*" >&2; exit 1; }
say() { echo "test:fresh: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, unshare, chroot)"
command -v unshare >/dev/null && command -v chroot >/dev/null || die "needs unshare and chroot (util-linux, coreutils)"
if ! command -v mmdebstrap >/dev/null; then
  command -v apt-get >/dev/null || die "needs mmdebstrap (a Debian or Ubuntu host)"
  say "installing mmdebstrap on the host (apt-get install mmdebstrap)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >&2
fi

START=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/netplumb-fresh.XXXXXX")
ROOT=$WORK/root
LOG=$WORK/fresh-rootfs.log
PROXY_LOG=$WORK/proxy.log
PROXY_PID=
cleanup() {
  local status=$?
  if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || :; wait "$PROXY_PID" 2>/dev/null || :; fi
  # Every mount under the rootfs lived in the sandbox's mount namespace, gone
  # with it. Refuse to delete anything if one is still visible here.
  if grep -q " $ROOT[/ ]" /proc/self/mountinfo; then
    say "something is still mounted under $ROOT: not deleting it"
  elif [ "${FRESH_KEEP:-0}" != 1 ]; then
    rm -rf --one-file-system "$ROOT"
  fi
  say "log: $LOG (proxy: $PROXY_LOG)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The host's Debian release and apt sources, read now ----------------------
. /etc/os-release
SUITE=${VERSION_CODENAME:-}
[ -n "$SUITE" ] || die "cannot tell the host's release (VERSION_CODENAME in /etc/os-release)"
# Only the distribution's own archive: entries for $SUITE, $SUITE-updates,
# $SUITE-security...; third-party repositories (whose keys a fresh machine
# would not have) are left out.
SOURCES_DIR=$WORK/sources
mkdir -p "$SOURCES_DIR"
node - "$SUITE" "$SOURCES_DIR" /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources <<'NODE'
const fs = require('fs');
const [suite, out, ...files] = process.argv.slice(2);
const ours = (s) => s === suite || s.startsWith(`${suite}-`) || s.startsWith(`${suite}/`);
const oneLine = [];
const deb822 = [];
for (const f of files) {
  let text;
  try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
  if (f.endsWith('.sources')) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = {};
      for (const line of stanza.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields[m[1].toLowerCase()] = m[2].trim();
      }
      if (!fields.types || !fields.types.split(/\s+/).includes('deb')) continue;
      if (/^(no|false)$/i.test(fields.enabled || '')) continue;
      const suites = (fields.suites || '').split(/\s+/).filter(ours);
      if (suites.length === 0) continue;
      deb822.push(stanza.split('\n').filter((l) => !l.startsWith('#'))
        .map((l) => (/^Suites:/i.test(l) ? `Suites: ${suites.join(' ')}` : l)).join('\n').trim());
    }
  } else {
    for (const line of text.split('\n')) {
      const m = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
      if (m && ours(m[3])) oneLine.push(line.trim());
    }
  }
}
if (oneLine.length) fs.writeFileSync(`${out}/host.list`, oneLine.join('\n') + '\n');
if (deb822.length) fs.writeFileSync(`${out}/host.sources`, deb822.join('\n\n') + '\n');
if (!oneLine.length && !deb822.length) { console.error(`test:fresh: no apt source for ${suite} on this host`); process.exit(1); }
NODE
SOURCES=("$SOURCES_DIR"/*)

# Hosts the proxy lets through: the apt sources' hosts and the npm registry.
REGISTRY=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
mapfile -t HOSTS < <(
  { cat "${SOURCES[@]}"; echo "$REGISTRY"; } | grep -oE '[a-z+]+://[^/[:space:]]+' |
    sed -E 's#^[a-z+]+://##; s#^[^@]*@##; s#:[0-9]+$##' | sort -u
)

# A proxy the host itself uses (environment first, then apt's and npm's
# configuration): the bridge and mmdebstrap go through it too.
apt_proxy() { apt-config dump 2>/dev/null | sed -nE "s/^Acquire::$1::Proxy \"(.+)\";$/\1/p" | head -1; }
: "${http_proxy:=${HTTP_PROXY:-$(apt_proxy http)}}"
: "${https_proxy:=${HTTPS_PROXY:-$(npm config get https-proxy 2>/dev/null | grep -v '^null$' || :)}}"
: "${https_proxy:=$(apt_proxy https)}"
: "${https_proxy:=$http_proxy}"
[ -n "$http_proxy" ] || unset http_proxy
[ -n "$https_proxy" ] || unset https_proxy
export http_proxy https_proxy 2>/dev/null || :

# --- The base image: minbase + a compiler, cached for the day -------------------
INCLUDE=g++,make,python3,ca-certificates
CACHE=${FRESH_CACHE:-/var/tmp/netplumb-fresh-cache}
KEY=$(cat "${SOURCES[@]}" <(echo "$INCLUDE") | sha256sum | cut -c1-12)
IMAGE=$CACHE/$SUITE-minbase-$(date +%Y%m%d)-$KEY.tar
mkdir -p "$CACHE"
if [ "${FRESH_REBUILD:-0}" = 1 ] || [ ! -s "$IMAGE" ]; then
  say "building $IMAGE: mmdebstrap --variant=minbase --include=$INCLUDE $SUITE (sources: $(basename -a "${SOURCES[@]}" | tr '\n' ' '))"
  APTOPT=()
  [ -n "${http_proxy:-}" ] && APTOPT+=(--aptopt="Acquire::http::Proxy \"$http_proxy\"")
  [ -n "${https_proxy:-}" ] && APTOPT+=(--aptopt="Acquire::https::Proxy \"$https_proxy\"")
  T=$(date +%s)
  mmdebstrap --quiet --mode=root --format=tar --variant=minbase --include="$INCLUDE" "${APTOPT[@]}" \
    "$SUITE" "$IMAGE.part" "${SOURCES[@]}" >>"$LOG" 2>&1 || die "mmdebstrap failed, see $LOG"
  mv "$IMAGE.part" "$IMAGE"
  find "$CACHE" -name "$SUITE-minbase-*.tar" ! -path "$IMAGE" -delete
  say "base image built in $(($(date +%s) - T))s ($(du -h "$IMAGE" | cut -f1))"
else
  say "base image: $IMAGE (cached today; FRESH_REBUILD=1 to rebuild)"
fi

# --- This run's rootfs ----------------------------------------------------------
mkdir -p "$ROOT"
tar -x -p --numeric-owner -f "$IMAGE" -C "$ROOT"

# Node.js >= 20: this host's installation (binary, headers, npm), where it is
# installed here. The fresh rootfs has no other Node.
NODE_BIN=$(readlink -f "$(command -v node)")
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")
NODE_VERSION=$(node -p 'process.versions.node')
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || die "the host's node is $NODE_VERSION; need >= 20"
[ -d "$NODE_PREFIX/lib/node_modules/npm" ] || die "no npm next to $NODE_BIN ($NODE_PREFIX/lib/node_modules/npm)"
mkdir -p "$ROOT$NODE_PREFIX/bin" "$ROOT$NODE_PREFIX/lib/node_modules" "$ROOT$NODE_PREFIX/include"
cp -a "$NODE_BIN" "$ROOT$NODE_PREFIX/bin/node"
cp -a "$NODE_PREFIX/lib/node_modules/npm" "$ROOT$NODE_PREFIX/lib/node_modules/"
[ -d "$NODE_PREFIX/include/node" ] && cp -a "$NODE_PREFIX/include/node" "$ROOT$NODE_PREFIX/include/"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT$NODE_PREFIX/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT$NODE_PREFIX/bin/npx"

# This machine's extra CA certificates (its registries are reached through a
# TLS-inspecting egress): without them TLS fails.
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
  cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >>"$LOG" 2>&1
fi

# A clean checkout: HEAD's tracked files, no node_modules, no build output.
mkdir -p "$ROOT/src"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$ROOT/src"
COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
git -C "$REPO" diff --quiet HEAD -- || say "note: uncommitted changes are NOT in the test (it tests HEAD, $COMMIT)"

# The registry bridge: host end (unix socket in the rootfs) and sandbox end.
mkdir -p "$ROOT/.fresh"
cp "$REPO/scripts/fresh-proxy.js" "$ROOT/.fresh/"
node "$REPO/scripts/fresh-proxy.js" proxy "$ROOT/.fresh/proxy.sock" "${HOSTS[@]}" >"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
for _ in $(seq 50); do [ -S "$ROOT/.fresh/proxy.sock" ] && break; sleep 0.1; done
[ -S "$ROOT/.fresh/proxy.sock" ] || die "the proxy did not start: $(cat "$PROXY_LOG")"
PROXY=http://127.0.0.1:3128
printf 'Acquire::http::Proxy "%s";\nAcquire::https::Proxy "%s";\n' "$PROXY" "$PROXY" >"$ROOT/etc/apt/apt.conf.d/00fresh-proxy"

INNER=${FRESH_COMMAND:-'cd /src && npm install && npm test'}
say "rootfs $ROOT: Debian $SUITE minbase + $INCLUDE, node $NODE_VERSION (host's, in $NODE_PREFIX); checkout of $COMMIT in /src"
say "registries through the bridge: ${HOSTS[*]}"
say "running: $INNER"

installed() { awk '/^Package:/ { p = $2 } /^Status: install ok installed/ { print p }' "$ROOT/var/lib/dpkg/status" | sort; }
installed >"$WORK/packages.before"

# --- The sandbox ------------------------------------------------------------------
# Runs in new namespaces with the host's tools, then chroots. Only the
# sandbox's own loopback is touched here (no link to anything else exists).
SETUP='
set -e
R=$1; PROXY_PORT=$2; shift 2
# The rootfs must be a mount point, as / is on any machine (unshare
# --propagation, run by `netplumb sandbox`, fails on a plain directory).
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=64m fresh-dev "$R/dev"
for d in null zero full random urandom tty; do : >"$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
# /dev/net/tun too, as any machine has it (tests make tap devices).
mkdir "$R/dev/net"; : >"$R/dev/net/tun"; mount --bind /dev/net/tun "$R/dev/net/tun"
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 fresh-shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755 fresh-run "$R/run"
mkdir -p "$R/run/netns" "$R/run/lock"
mount -t tmpfs -o mode=755 fresh-netns "$R/run/netns"
mount -t tmpfs -o mode=1777 fresh-tmp "$R/tmp"
ip link set lo up
chroot "$R" /usr/bin/env -i PATH="$PATH" "$(command -v node)" /.fresh/fresh-proxy.js relay "127.0.0.1:$PROXY_PORT" /.fresh/proxy.sock >/dev/null &
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && break; sleep 0.1; done
echo "sandbox: network namespace $(readlink /proc/self/ns/net), links: $(ls "$R/sys/class/net" | tr "\n" " ")"
chroot "$R" "$@"
'
PATH_IN=$NODE_PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
set +e
T=$SECONDS
unshare --net --mount --pid --uts --ipc --fork --propagation private -- \
  env PATH="$PATH_IN" /bin/bash -c "$SETUP" fresh "$ROOT" 3128 \
  /usr/bin/env -i PATH="$PATH_IN" HOME=/root LANG=C.UTF-8 TERM=dumb \
  http_proxy="$PROXY" https_proxy="$PROXY" HTTP_PROXY="$PROXY" HTTPS_PROXY="$PROXY" \
  no_proxy=localhost,127.0.0.1 NO_PROXY=localhost,127.0.0.1 \
  npm_config_registry="$REGISTRY" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  /bin/bash -c "$INNER" 2>&1 | tee -a "$LOG"
STATUS=${PIPESTATUS[0]}
set -e
RUN_TIME=$((SECONDS - T))
kill "$PROXY_PID" 2>/dev/null || :
wait "$PROXY_PID" 2>/dev/null || :
PROXY_PID=

# --- What happened ------------------------------------------------------------------
echo
echo "==== test:fresh: $INNER -> exit $STATUS (${RUN_TIME}s in the sandbox, $((SECONDS - START))s in all)"
echo "what the test command said about its tools:"
grep -E '^(npm test: |  - )' "$LOG" | sed 's/^/  /' || echo "  (nothing)"
installed >"$WORK/packages.after"
ADDED=$(comm -13 "$WORK/packages.before" "$WORK/packages.after")
echo "Debian packages installed in the sandbox: $(echo "$ADDED" | grep -c . || :)" | tee -a "$LOG"
echo "$ADDED" | grep . | fmt -w 78 | sed 's/^/  /' | tee -a "$LOG" || :
if [ -f "$ROOT/src/jest-results.json" ]; then
  node -e '
    const r = require(process.argv[1]);
    const n = (x) => (Number.isFinite(x) ? x : 0);
    const skipped = n(r.numPendingTests) + n(r.numTodoTests);
    console.log(`${n(r.numPassedTests)} passed, ${n(r.numFailedTests)} failed` + (skipped ? `, ${skipped} skipped` : "") +
      ` (${n(r.numPassedTestSuites)}/${n(r.numTotalTestSuites)} suites)`);
  ' "$ROOT/src/jest-results.json" | tee -a "$LOG"
fi
echo "proxy: $(tail -1 "$PROXY_LOG")"
exit "$STATUS"
