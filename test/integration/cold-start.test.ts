// A fresh process (a CNI plugin, a short script) pays for every module its
// first call loads. The first Namespace.open + link lookup + Address.add +
// Route.add, run by plain node on the compiled package (dist/, as a user gets
// it), must load exactly the hot path's modules of lib/ and none of Node's
// heavy built-ins: a module that starts being loaded there again (lib/kinds/,
// network, nft, inside, child_process, crypto...) fails this test. They come
// from the hot-path bundle (lib/hot.ts, scripts/bundle-hot.js), code cache
// taken.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Namespace, VethPair } from '../../lib';
import { ip, inSandbox, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'lib');

/** lib/ modules the first address and route on a veth may load, relative to dist/lib, without .js. */
const HOT = ['address', 'constants', 'entry', 'errors', 'hot', 'link', 'namespace', 'native', 'pace', 'route', 'validate'];

const NS = uniq('cold');
let ns: Namespace;

beforeAll(async () => {
  ns = await Namespace.create(NS);
  await VethPair.create('c0', { namespace: ns, peerName: 'c1', up: true, peerUp: true });
});

afterAll(async () => {
  await ns?.delete();
});

it('the first address and route in a fresh process load only the hot path (no lib/kinds, network, nft, child_process, crypto...)', () => {
  const child = `
    const before = new Set(Object.keys(require.cache));
    const builtinsBefore = new Set(process.moduleLoadList);
    const np = require(${JSON.stringify(path.join(DIST, 'entry.js'))});
    (async () => {
      const ns = await np.Namespace.open(${JSON.stringify(NS)});
      const link = await ns.link('c0');
      await np.Address.add(link, '10.61.0.2/32');
      await np.Route.add({ to: '10.61.1.0/24', dev: link });
      await ns.close();
      const lib = Object.keys(require.cache).filter((f) => !before.has(f) && f.startsWith(${JSON.stringify(DIST + path.sep)}))
        .map((f) => f.slice(${DIST.length + 1}).replace(/\\.js$/, '')).sort();
      const builtins = process.moduleLoadList.filter((m) => !builtinsBefore.has(m) && /^NativeModule (net|http|https|child_process|dgram|crypto|zlib|worker_threads|readline)$/.test(m));
      const scripts = [...require(${JSON.stringify(path.join(DIST, 'hot.js'))}).hotScripts().values()];
      const bundle = { fromBundle: scripts.length, cacheRejected: scripts.filter((s) => s.cachedDataRejected).length };
      console.log(JSON.stringify({ lib, builtins, bundle }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
  // The calls did reach the kernel: the oracle sees both.
  expect(ip(NS, '-4', 'addr', 'show', 'dev', 'c0')).toContain('10.61.0.2/32');
  expect(ip(NS, 'route', 'show', 'dev', 'c0')).toContain('10.61.1.0/24');
  const got = JSON.parse(r.stdout) as { lib: string[]; builtins: string[]; bundle: { fromBundle: number; cacheRejected: number } };
  // They came from the bundle test/setup/compile.js made (scripts/bundle-hot.js),
  // with V8's code cache taken: a stale or broken bundle would fall back to disk.
  expect(got.bundle).toEqual({ fromBundle: got.lib.length - 2, cacheRejected: 0 }); // all but entry and hot
  expect(got.builtins).toEqual([]);
  // Every module loaded is a hot one (the bundle, when present, may leave out
  // none but need not register all of them).
  expect(got.lib.filter((m) => !HOT.includes(m))).toEqual([]);
  expect(got.lib).toEqual(expect.arrayContaining(['address', 'link', 'namespace', 'route']));
});

it('a module that differs from its bundled copy (tsc ran again, the bundle did not) loads from disk; the others from the bundle', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-hot-'));
  try {
    const lib = path.join(tmp, 'lib');
    fs.cpSync(DIST, lib, { recursive: true });
    fs.appendFileSync(path.join(lib, 'validate.js'), '\nexports.changedOnDisk = true;\n');
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const hot = require(${JSON.stringify(path.join(lib, 'hot.js'))});
         const v = hot.load('./validate'); hot.load('./address');
         console.log(JSON.stringify({ changed: v.changedOnDisk === true, bundled: [...hot.hotScripts().keys()].sort() }));`,
      ],
      { encoding: 'utf8' },
    );
    expect([r.status, r.stderr]).toEqual([0, '']);
    const got = JSON.parse(r.stdout) as { changed: boolean; bundled: string[] };
    expect(got.changed).toBe(true);
    expect(got.bundled).not.toContain('validate');
    expect(got.bundled).toEqual(expect.arrayContaining(['address', 'link', 'namespace', 'native'])); // errors came with validate, from disk
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
