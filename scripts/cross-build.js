#!/usr/bin/env node
'use strict';
/**
 * Compiles every source of the addon (the `sources` of binding.gyp: src/ and
 * native/) to object files for the platforms a Node user runs and this
 * machine cannot: arm64 and musl (Alpine). Nothing is linked or run; the
 * point is that no source depends on x86 or on glibc.
 *
 *   aarch64-linux-gnu   Debian's cross compiler (g++-aarch64-linux-gnu) with
 *                       its own libstdc++ and glibc for arm64.
 *   x86_64-linux-musl   clang, musl's C headers (musl-dev, from musl-tools)
 *                       instead of glibc's, libc++ in its musl configuration
 *                       (_LIBCPP_HAS_MUSL_LIBC; libc++-dev) since Debian's
 *                       libstdc++ headers are configured for glibc, and the
 *                       kernel's UAPI headers (linux-libc-dev) as Alpine's
 *                       linux-headers provides them.
 *   aarch64-linux-musl  the same for arm64: clang --target=aarch64-linux-musl,
 *                       libc++, the arm64 kernel headers of the cross
 *                       toolchain (linux-libc-dev-arm64-cross) and musl's
 *                       arm64 headers from Debian's musl-dev arm64 package.
 *                       That package is fetched (fetchMuslArm64, run by
 *                       `npm test` before it enters the sandbox, or
 *                       `node scripts/cross-build.js --fetch`) from the URL
 *                       this host's apt gives for its own musl-dev, the
 *                       architecture changed, and unpacked with dpkg-deb
 *                       into a cache directory: the host's dpkg architectures
 *                       are left alone and no package index is downloaded.
 *
 * Node-API's headers (node_api.h) come from the running node's include
 * directory or node-gyp's cache; node-addon-api's from its package.
 *
 * Usage: node scripts/cross-build.js [--json] [--target NAME]... [-jN]
 *        node scripts/cross-build.js --fetch   (musl's arm64 headers, once)
 * Prints one line per target; exits 0 if every target that has its toolchain
 * compiled everything, 1 otherwise. A target whose toolchain is missing is
 * "skipped" with the Debian package that provides it.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** The gyp file's text as data: gyp is a Python literal; ours is JSON plus # comments. */
function readBindingGyp(file = path.join(ROOT, 'binding.gyp')) {
  const text = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/,(\s*[\]}])/g, '$1');
  const gyp = JSON.parse(text);
  const target = gyp.targets.find((t) => t.target_name === 'netplumb');
  if (!target) throw new Error('binding.gyp: no target "netplumb"');
  const deps = (target.dependencies || []).join(' ');
  const defines = [...(target.defines || [])];
  // node-addon-api's node_addon_api_except target adds NAPI_CPP_EXCEPTIONS (except.gypi).
  if (/node_addon_api_except/.test(deps)) defines.push('NAPI_CPP_EXCEPTIONS');
  // Warnings and the standard as the real build has them; -O0 to keep this quick.
  const cflags = (target.cflags_cc || []).filter((f) => !/^-O/.test(f));
  return { sources: target.sources, defines, cflags };
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A directory holding node_api.h: next to the running node, else node-gyp's cache. */
function nodeApiInclude() {
  const version = process.version.slice(1);
  const candidates = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_devdir && path.join(process.env.npm_config_devdir, version, 'include', 'node'),
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'node-gyp', version, 'include', 'node'),
    path.join(os.homedir(), '.node-gyp', version, 'include', 'node'),
  ].filter(Boolean);
  return candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h'))) || null;
}

/** The kernel's UAPI headers (linux/, asm/, asm-generic/), as Debian installs them. */
const UAPI = { linux: '/usr/include/linux', 'asm-generic': '/usr/include/asm-generic', asm: '/usr/include/x86_64-linux-gnu/asm' };
/** The same for arm64, from the cross toolchain's linux-libc-dev-arm64-cross. */
const UAPI_ARM64 = {
  linux: '/usr/aarch64-linux-gnu/include/linux',
  'asm-generic': '/usr/aarch64-linux-gnu/include/asm-generic',
  asm: '/usr/aarch64-linux-gnu/include/asm',
};

/** Those headers on their own in `tmp`/NAME, as a musl system has them (Alpine's linux-headers). */
function uapiDir(tmp, uapi = UAPI, name = 'uapi') {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [sub, to] of Object.entries(uapi)) fs.symlinkSync(to, path.join(dir, sub));
  return dir;
}

/** Where fetched headers are kept: NETPLUMB_CROSS_CACHE, else ~/.cache/netplumb/cross. */
function cacheDir() {
  return process.env.NETPLUMB_CROSS_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'netplumb', 'cross');
}

/** musl's arm64 headers, unpacked by fetchMuslArm64: the include directory, or null. */
function muslArm64Include() {
  const dir = path.join(cacheDir(), 'musl-dev-arm64', 'usr', 'include', 'aarch64-linux-musl');
  return fs.existsSync(path.join(dir, 'bits', 'alltypes.h')) ? dir : null;
}

/**
 * Fetches Debian's musl-dev for arm64 and unpacks it into the cache: the URL
 * is the one this host's apt gives for its own musl-dev (same archive, same
 * version), with the architecture changed; the download goes through apt's
 * own transport (apt-helper, with the host's proxy settings); dpkg-deb
 * checks the package's name, architecture and version before unpacking.
 * No dpkg architecture is added and no package index is fetched, so the
 * .deb's hash is not checked against a signed index (it only supplies
 * headers to compile against; nothing built with them runs). Resolves with
 * null when the headers are there, or with why they are not.
 */
function fetchMuslArm64({ log = () => undefined } = {}) {
  if (muslArm64Include()) return null;
  if (process.arch !== 'x64') return `musl's arm64 headers are fetched on x86_64 hosts only (this is ${process.arch})`;
  const tools = ['apt-get', 'dpkg-deb', 'dpkg'];
  const helper = '/usr/lib/apt/apt-helper';
  if (!tools.every(which) || !fs.existsSync(helper)) return `needs apt-get, ${helper}, dpkg and dpkg-deb (a Debian or Ubuntu host)`;
  const hostArch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
  const uris = () => spawnSync('apt-get', ['download', '--print-uris', 'musl-dev'], { encoding: 'utf8' });
  let r = uris();
  let m = /^'([^']+\/musl-dev_([^_']+)_[^_']+\.deb)' /m.exec(r.stdout || '');
  if (!m && process.getuid && process.getuid() === 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    r = uris();
    m = /^'([^']+\/musl-dev_([^_']+)_[^_']+\.deb)' /m.exec(r.stdout || '');
  }
  if (!m) return `apt knows no musl-dev to locate the arm64 one by (apt-get download --print-uris musl-dev: ${(r.stderr || r.stdout || '').trim() || 'nothing'})`;
  const version = m[2];
  const url = m[1].replace(new RegExp(`_${hostArch}\\.deb$`), '_arm64.deb');
  if (!url.endsWith('_arm64.deb')) return `cannot derive the arm64 package's URL from ${m[1]}`;
  const cache = cacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const deb = path.join(cache, path.basename(url));
  const part = `${deb}.part`;
  log(`cross-build: fetching musl's arm64 headers for the aarch64-linux-musl build check: ${url}\n`);
  const d = spawnSync(helper, ['-o', 'APT::Sandbox::User=root', 'download-file', url, part], { encoding: 'utf8' });
  if (d.status !== 0 || !fs.existsSync(part)) {
    fs.rmSync(part, { force: true });
    return `could not download ${url} (${helper} download-file: ${(d.stderr || d.stdout || '').trim().split('\n').pop()})`;
  }
  const f = spawnSync('dpkg-deb', ['-f', part, 'Package', 'Architecture', 'Version'], { encoding: 'utf8' });
  const got = (f.stdout || '').trim().replace(/\n/g, ', ');
  if (f.status !== 0 || got !== `Package: musl-dev, Architecture: arm64, Version: ${version}`) {
    fs.rmSync(part, { force: true });
    return `${url} is not musl-dev ${version} for arm64 (${got || f.stderr.trim()})`;
  }
  fs.renameSync(part, deb);
  const dest = path.join(cache, 'musl-dev-arm64');
  const tmpDest = fs.mkdtempSync(`${dest}.`);
  const x = spawnSync('dpkg-deb', ['-x', deb, tmpDest], { encoding: 'utf8' });
  if (x.status !== 0) {
    fs.rmSync(tmpDest, { recursive: true, force: true });
    return `dpkg-deb -x ${deb} failed: ${x.stderr.trim()}`;
  }
  fs.rmSync(dest, { recursive: true, force: true });
  fs.renameSync(tmpDest, dest);
  return muslArm64Include() ? null : `${deb} holds no usr/include/aarch64-linux-musl/bits/alltypes.h`;
}

/** libc++'s headers for the installed clang (…/llvm-N/include/c++/v1), or null. */
function libcxxInclude(clang) {
  const real = fs.realpathSync(clang);
  const dirs = [path.resolve(path.dirname(real), '..', 'include', 'c++', 'v1'), '/usr/include/c++/v1'];
  return dirs.find((d) => fs.existsSync(path.join(d, '__config'))) || null;
}

/**
 * The targets: for each, either { cxx, flags(tmp) } or { missing: why }.
 * `probe` is a source that must compile for the target to be what it claims.
 */
function targets() {
  const list = [];

  const gxx = which('aarch64-linux-gnu-g++');
  list.push(
    gxx
      ? { name: 'aarch64-linux-gnu', cxx: gxx, flags: () => [], probe: '#ifndef __aarch64__\n#error not aarch64\n#endif\n' }
      : { name: 'aarch64-linux-gnu', missing: 'no aarch64-linux-gnu-g++ (Debian: apt-get install g++-aarch64-linux-gnu)' },
  );

  const clang = which('clang++');
  const muslInc = '/usr/include/x86_64-linux-musl';
  const libcxx = clang && libcxxInclude(clang);
  let why = null;
  if (process.arch !== 'x64') why = `musl headers are looked up for x86_64 only (this is ${process.arch})`;
  else if (!clang) why = 'no clang++ (Debian: apt-get install clang)';
  else if (!fs.existsSync(path.join(muslInc, 'features.h'))) why = `no musl headers in ${muslInc} (Debian: apt-get install musl-tools)`;
  else if (!libcxx) why = 'no libc++ headers (Debian: apt-get install libc++-dev)';
  else if (!Object.values(UAPI).every((p) => fs.existsSync(p))) why = 'no kernel UAPI headers (Debian: apt-get install linux-libc-dev)';
  if (why) list.push({ name: 'x86_64-linux-musl', missing: why });
  else {
    const resource = spawnSync(clang, ['-print-resource-dir'], { encoding: 'utf8' }).stdout.trim();
    list.push({
      name: 'x86_64-linux-musl',
      cxx: clang,
      flags: (tmp) => [
        '--target=x86_64-linux-musl',
        // Only musl, libc++ and the kernel's headers: nothing of glibc's.
        '-nostdinc',
        '-nostdinc++',
        '-isystem', libcxx,
        '-isystem', path.join(resource, 'include'),
        '-isystem', muslInc,
        '-idirafter', uapiDir(tmp),
        '-D_LIBCPP_HAS_MUSL_LIBC',
      ],
      // musl defines no __GLIBC__; a glibc header reached by mistake would.
      probe: '#include <features.h>\n#include <string>\n#ifdef __GLIBC__\n#error glibc headers\n#endif\n',
    });
  }

  const muslArm64 = muslArm64Include();
  why = null;
  if (process.arch !== 'x64') why = `musl headers are looked up for x86_64 hosts only (this is ${process.arch})`;
  else if (!clang) why = 'no clang++ (Debian: apt-get install clang)';
  else if (!muslArm64)
    why = `no musl arm64 headers in ${path.join(cacheDir(), 'musl-dev-arm64')} (Debian's musl-dev arm64 package: node scripts/cross-build.js --fetch; npm test fetches it as root)`;
  else if (!libcxx) why = 'no libc++ headers (Debian: apt-get install libc++-dev)';
  else if (!Object.values(UAPI_ARM64).every((p) => fs.existsSync(p)))
    why = 'no arm64 kernel UAPI headers in /usr/aarch64-linux-gnu/include (Debian: apt-get install linux-libc-dev-arm64-cross)';
  if (why) list.push({ name: 'aarch64-linux-musl', missing: why });
  else {
    const resource = spawnSync(clang, ['-print-resource-dir'], { encoding: 'utf8' }).stdout.trim();
    list.push({
      name: 'aarch64-linux-musl',
      cxx: clang,
      flags: (tmp) => [
        '--target=aarch64-linux-musl',
        '-nostdinc',
        '-nostdinc++',
        '-isystem', libcxx,
        '-isystem', path.join(resource, 'include'),
        '-isystem', muslArm64,
        '-idirafter', uapiDir(tmp, UAPI_ARM64, 'uapi-arm64'),
        '-D_LIBCPP_HAS_MUSL_LIBC',
      ],
      probe: '#ifndef __aarch64__\n#error not aarch64\n#endif\n#include <features.h>\n#include <string>\n#ifdef __GLIBC__\n#error glibc headers\n#endif\n',
    });
  }
  return list;
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ status: 127, out: String(e) }));
    child.on('close', (status) => resolve({ status, out }));
  });
}

/** Runs `jobs` thunks at most `n` at a time, in order of the list. */
async function pool(jobs, n) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}

/** Builds every source for every target; resolves with one report per target. */
async function crossBuild({ only = [], jobs = 2 } = {}) {
  const gyp = readBindingGyp();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-cross-'));
  try {
    const nodeInc = nodeApiInclude();
    const common = [
      '-c',
      '-O0',
      ...gyp.cflags,
      '-fexceptions',
      ...gyp.defines.map((d) => `-D${d}`),
      `-I${require('node-addon-api').include.replace(/^"|"$/g, '')}`,
      ...(nodeInc ? [`-I${nodeInc}`] : []),
    ];
    const reports = [];
    for (const t of targets().filter((x) => only.length === 0 || only.includes(x.name))) {
      if (t.missing) {
        reports.push({ target: t.name, skipped: t.missing });
        continue;
      }
      if (!nodeInc) {
        reports.push({ target: t.name, skipped: 'no Node-API headers (node_api.h) next to node nor in node-gyp\'s cache' });
        continue;
      }
      const dir = path.join(tmp, t.name);
      fs.mkdirSync(dir);
      const flags = t.flags(tmp);
      const probe = path.join(dir, 'probe.cpp');
      fs.writeFileSync(probe, t.probe);
      const p = await run(t.cxx, [...flags, ...common, probe, '-o', path.join(dir, 'probe.o')]);
      if (p.status !== 0) {
        reports.push({ target: t.name, failed: [{ source: '(toolchain probe)', output: p.out }], objects: [] });
        continue;
      }
      const results = await pool(
        gyp.sources.map((src) => async () => {
          const obj = path.join(dir, src.replace(/[/.]/g, '_') + '.o');
          const r = await run(t.cxx, [...flags, ...common, path.join(ROOT, src), '-o', obj]);
          return { source: src, status: r.status, output: r.out, obj };
        }),
        jobs,
      );
      const failed = results.filter((r) => r.status !== 0).map((r) => ({ source: r.source, output: r.output }));
      const objects = results
        .filter((r) => r.status === 0 && fs.existsSync(r.obj))
        .map((r) => ({ source: r.source, machine: elfMachine(r.obj), warnings: r.output.trim() }));
      reports.push({ target: t.name, compiler: t.cxx, sources: gyp.sources.length, objects, failed });
    }
    return reports;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** e_machine of an ELF object: 62 x86-64, 183 AArch64. */
function elfMachine(file) {
  const b = fs.readFileSync(file);
  if (b.length < 20 || b.readUInt32BE(0) !== 0x7f454c46) return null;
  return b[5] === 1 ? b.readUInt16LE(18) : b.readUInt16BE(18);
}

async function main(argv) {
  const only = [];
  let jobs = 2;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--target') only.push(argv[++i]);
    else if (/^-j\d+$/.test(argv[i])) jobs = Number(argv[i].slice(2));
    else if (argv[i] === '--fetch') {
      const why = fetchMuslArm64({ log: (l) => process.stderr.write(l) });
      process.stdout.write(why ? `cross-build: musl's arm64 headers: ${why}\n` : `cross-build: musl's arm64 headers in ${muslArm64Include()}\n`);
      return why ? 1 : 0;
    }
    else {
      process.stderr.write(`cross-build: unknown argument '${argv[i]}'\n`);
      return 2;
    }
  }
  const reports = await crossBuild({ only, jobs });
  if (json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  else
    for (const r of reports) {
      if (r.skipped) process.stdout.write(`${r.target}: skipped: ${r.skipped}\n`);
      else {
        for (const f of r.failed) process.stdout.write(`${r.target}: ${f.source} FAILED\n${f.output}\n`);
        process.stdout.write(`${r.target}: ${r.objects.length}/${r.sources} sources compiled (${r.compiler})\n`);
      }
    }
  return reports.some((r) => r.failed && r.failed.length) ? 1 : 0;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`cross-build: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );

module.exports = { crossBuild, targets, readBindingGyp, elfMachine, fetchMuslArm64 };
