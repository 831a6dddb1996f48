'use strict';
/**
 * The oracles `npm test` needs, provided by the test command itself: the
 * README's `npm install && npm test` is the whole set-up. A missing tool is
 * installed with the system's package manager when we are root and have one
 * (saying what and why); otherwise the run stops with one line naming the
 * exact command.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

/** [what is checked, why the tests need it, Debian package, Alpine package, Fedora package] */
function needs(integration) {
  const fuzzArch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch] ?? process.arch;
  const list = [
    [() => has('clang++'), 'clang++: the fuzz smoke (unit tier)', 'clang', 'clang', 'clang'],
    [() => fuzzerRuntime(fuzzArch), 'the libFuzzer runtime: the fuzz smoke', 'libclang-rt-14-dev', 'compiler-rt', 'compiler-rt'],
  ];
  if (integration)
    list.push(
      [() => has('ip'), 'ip (iproute2): the oracle for links, addresses and routes', 'iproute2', 'iproute2', 'iproute'],
      [() => has('ping'), 'ping: real traffic between namespaces', 'iputils-ping', 'iputils', 'iputils'],
      [() => has('nft'), 'nft: the oracle for nf_tables', 'nftables', 'nftables', 'nftables'],
      [() => has('strace'), 'strace: proves that nothing forks', 'strace', 'strace', 'strace'],
      [() => has('conntrack'), 'conntrack: the oracle for connection tracking entries', 'conntrack', 'conntrack-tools', 'conntrack-tools'],
      [() => has('flock'), "flock (util-linux): another process holding a network's lock", 'util-linux', 'util-linux', 'util-linux'],
      [() => fs.existsSync('/usr/lib/cni/bridge'), 'the reference CNI plugins in /usr/lib/cni: netplumb-cni side by side', 'containernetworking-plugins', 'cni-plugins', 'containernetworking-plugins'],
      [() => has('sysctl'), 'sysctl (procps): the oracle of examples/sysctl.ts', 'procps', 'procps', 'procps-ng'],
    );
  return list;
}

/**
 * Wanted, not required: headless chromium (the topology test), the cross
 * toolchains of the arm64 and musl build check (test/unit/cross-build.test.ts,
 * which skips a target whose toolchain is missing). Installed along with the
 * rest when we are root with a package manager; elsewhere only named. Same columns as needs(); null: that system has no such package.
 */
function wants() {
  // Any architecture: the browser that renders the topology page (test/integration/topology.test.ts skips, saying so, without it).
  const browser = [[() => has('chromium') || has('chromium-browser'), 'chromium: renders the topology picture in a headless browser', 'chromium', 'chromium', 'chromium']];
  if (process.arch !== 'x64') return browser;
  return [
    ...browser,
    [() => has('aarch64-linux-gnu-g++'), 'aarch64-linux-gnu-g++: the arm64 build check', 'g++-aarch64-linux-gnu', null, null],
    [() => fs.existsSync('/usr/include/x86_64-linux-musl/features.h'), "musl's headers: the musl build check", 'musl-tools', null, null],
    [() => libcxx(), 'libc++ headers: the musl build check', 'libc++-dev', null, null],
  ];
}

function libcxx() {
  const r = spawnSync('sh', ['-c', 'readlink -f "$(command -v clang++)"'], { encoding: 'utf8' });
  const bin = (r.stdout || '').trim();
  return (bin !== '' && fs.existsSync(`${bin.replace(/\/bin\/[^/]*$/, '')}/include/c++/v1/__config`)) || fs.existsSync('/usr/include/c++/v1/__config');
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function fuzzerRuntime(arch) {
  const r = spawnSync('clang++', [`-print-file-name=libclang_rt.fuzzer-${arch}.a`], { encoding: 'utf8' });
  const p = (r.stdout || '').trim();
  return r.status === 0 && p.startsWith('/') && fs.existsSync(p);
}

/** Which package manager, and its install command for `pkgs`. */
function manager() {
  if (has('apt-get')) return { idx: 2, cmd: (p) => `apt-get install -y ${p.join(' ')}`, update: ['apt-get', ['update', '-qq']], install: (p) => ['apt-get', ['install', '-y', '-qq', ...p]] };
  if (has('apk')) return { idx: 3, cmd: (p) => `apk add ${p.join(' ')}`, update: null, install: (p) => ['apk', ['add', '--no-progress', ...p]] };
  if (has('dnf')) return { idx: 4, cmd: (p) => `dnf install -y ${p.join(' ')}`, update: null, install: (p) => ['dnf', ['install', '-y', '-q', ...p]] };
  return null;
}

/** Returns true when everything is there (after installing what was missing), false after saying what to run. */
function ensureTools({ integration, root, log = (s) => process.stderr.write(s) }) {
  const ok = ensurePackages({ integration, root, log });
  // Wanted too: musl's arm64 headers, which no package of this host's
  // architecture provides (scripts/cross-build.js fetches Debian's musl-dev
  // for arm64 once); here, because the sandbox has no network.
  if (ok && root && process.arch === 'x64' && has('apt-get')) {
    const cross = require('./cross-build.js');
    const why = cross.fetchMuslArm64({ log: (l) => log(l.replace(/^cross-build: /, 'npm test: ')) });
    if (why) log(`npm test: no musl arm64 headers, the aarch64-linux-musl build check is skipped: ${why}\n`);
  }
  return ok;
}

function ensurePackages({ integration, root, log }) {
  const pm = manager();
  const missing = needs(integration).filter(([ok]) => !ok());
  const wanted = pm && root ? wants().filter((w) => w[pm.idx] && !w[0]()) : [];
  if (missing.length === 0 && wanted.length === 0) return true;
  if (missing.length === 0) {
    installWanted(pm, wanted, log);
    return true;
  }
  const pkgs = (idx) => [...new Set(missing.map((m) => m[idx]))];
  if (!pm) {
    log(`npm test: missing ${missing.map((m) => m[1]).join('; ')}; install with your package manager: ${pkgs(2).join(' ')} (Debian names)\n`);
    return false;
  }
  if (!root) {
    log(`npm test: missing ${missing.map((m) => m[1]).join('; ')}; run: sudo ${pm.cmd(pkgs(pm.idx))}\n`);
    return false;
  }
  log(`npm test: installing ${pkgs(pm.idx).join(' ')} for the tests' oracles:\n${missing.map((m) => `  - ${m[1]}\n`).join('')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (pm.update) spawnSync(pm.update[0], pm.update[1], { stdio: 'inherit', env });
  const [cmd, args] = pm.install(pkgs(pm.idx));
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  const still = needs(integration).filter(([ok]) => !ok());
  if (r.status !== 0 || still.length) {
    log(`npm test: could not install ${still.map((m) => m[1]).join('; ') || 'the packages'}; run: ${pm.cmd(pkgs(pm.idx))}\n`);
    return false;
  }
  // Apart: one that a system lacks must not stop the oracles from installing.
  if (wanted.length) installWanted(pm, wanted, log);
  return true;
}

/** Installs what is wanted (root, with a package manager); a failure only means those checks skip. */
function installWanted(pm, wanted, log) {
  const pkgs = [...new Set(wanted.map((w) => w[pm.idx]))];
  log(`npm test: installing ${pkgs.join(' ')} for the build checks:\n${wanted.map((w) => `  - ${w[1]}\n`).join('')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (pm.update) spawnSync(pm.update[0], pm.update[1], { stdio: 'inherit', env });
  const [cmd, args] = pm.install(pkgs);
  if (spawnSync(cmd, args, { stdio: 'inherit', env }).status !== 0)
    log(`npm test: could not install ${pkgs.join(' ')}; the checks that need them are skipped\n`);
}

module.exports = { ensureTools, wants };
