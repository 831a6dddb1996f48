// The loader behind lib/entry.ts. In the compiled package, scripts/bundle-hot.js
// writes dist/lib/hot.bundle (the hot path's modules, their compiled sources in
// one file) and dist/lib/hot.cache (V8's code cache for each): a fresh process
// then reads two files instead of resolving, reading and compiling a dozen
// modules one by one. Each bundled module still becomes an ordinary CommonJS
// module under its own file name (require.cache, stack traces), so a later
// require('./link') from anywhere gets the same object.
//
// The bundle is used only where it is sure to match: it keeps each module's
// bytes as tsc wrote them, and a module whose .js on disk differs (tsc ran
// again, the bundle did not) is required from disk as usual. Not mtimes: npm
// writes an installed package's files in any order. A code cache V8 refuses
// (another Node, other flags) only costs the compile it would have saved.
// Without a bundle (under ts-jest, or a tree compiled by tsc alone) this is
// plain require.
import * as fs from 'node:fs';
import { Module } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/**
 * dist/lib/hot.bundle: a line of JSON, `{ "id": [start, length, rawStart, rawLength] }`
 * (byte offsets into what follows the line), then each module's source as
 * compiled (ASCII: non-ASCII characters as \u escapes), then each module's
 * bytes as tsc wrote them, to compare with the file.
 */
const BUNDLE = path.join(__dirname, 'hot.bundle');
/** dist/lib/hot.cache: a 4-byte little-endian length, a JSON `{ "id": [start, length] }`, then the code caches. */
const CACHE = path.join(__dirname, 'hot.cache');

interface Bundle {
  index: Record<string, [number, number, number, number]>;
  data: Buffer;
  cacheIndex: Record<string, [number, number]>;
  cache: Buffer | undefined;
}

type Wrapper = (exports: unknown, require: (id: string) => unknown, module: Module, filename: string, dirname: string) => void;

let bundle: Bundle | null | undefined;
/** Scripts compiled from the bundle by id: scripts/bundle-hot.js makes the code cache from them. */
const scripts = new Map<string, vm.Script>();

function readBundle(): Bundle | null {
  try {
    const all = fs.readFileSync(BUNDLE);
    const nl = all.indexOf(10);
    const index = JSON.parse(all.toString('latin1', 0, nl)) as Bundle['index'];
    let cache: Buffer | undefined;
    let cacheIndex: Bundle['cacheIndex'] = {};
    try {
      const c = fs.readFileSync(CACHE);
      const n = c.readUInt32LE(0);
      cacheIndex = JSON.parse(c.toString('utf8', 4, 4 + n)) as Bundle['cacheIndex'];
      cache = c.subarray(4 + n);
    } catch {
      cache = undefined; // no cache: compile from source
    }
    return { index, data: all.subarray(nl + 1), cacheIndex, cache };
  } catch {
    return null; // no bundle (ts-jest, tsc alone) or an unreadable one: plain require
  }
}

/** The module `id` ('address', 'kinds/bond') of lib/, from the bundle if it has a current copy, else from disk. */
function loadId(id: string): unknown {
  const filename = path.join(__dirname, `${id}.js`);
  const done = require.cache[filename];
  if (done) return done.exports;
  if (bundle === undefined) bundle = readBundle();
  const at = bundle?.index[id];
  if (bundle && at && current(filename, bundle.data.subarray(at[2], at[2] + at[3]))) return run(bundle, id, at, filename);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`./${id}`);
}

/** Is the module on disk byte for byte what was bundled? */
function current(filename: string, raw: Buffer): boolean {
  try {
    return fs.readFileSync(filename).equals(raw);
  } catch {
    return false;
  }
}

function run(b: Bundle, id: string, at: [number, number, number, number], filename: string): unknown {
  const dirname = path.dirname(filename);
  const m = new Module(filename, module);
  m.filename = filename;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname);
  const c = b.cacheIndex[id];
  const cachedData = b.cache && c ? b.cache.subarray(c[0], c[0] + c[1]) : undefined;
  // Node's own CommonJS wrapper, on the source's first line: line numbers stay true.
  const src = `(function (exports, require, module, __filename, __dirname) { ${b.data.toString('latin1', at[0], at[0] + at[1])}\n})`;
  const script = new vm.Script(src, { filename, cachedData });
  scripts.set(id, script);
  const req = (spec: string): unknown => {
    if (spec.startsWith('.')) {
      const target = path.posix.join(path.posix.dirname(id), spec);
      if (b.index[target]) return loadId(target);
    }
    return m.require(spec);
  };
  require.cache[filename] = m;
  try {
    (script.runInThisContext() as Wrapper).call(m.exports, m.exports, req, m, filename, dirname);
  } catch (e) {
    delete require.cache[filename];
    throw e;
  }
  m.loaded = true;
  return m.exports;
}

/**
 * The exports of lib/'s module `id` ('./address'), as `require(id)` from
 * lib/ would return them, from the hot-path bundle when it has a current copy.
 * @internal
 */
export function load(id: string): Record<string, unknown> {
  return loadId(id.startsWith('./') ? id.slice(2) : id) as Record<string, unknown>;
}

/**
 * The scripts compiled from the bundle so far, by id, with whether V8 took
 * their code cache: scripts/bundle-hot.js writes dist/lib/hot.cache from them.
 * @internal
 */
export function hotScripts(): Map<string, vm.Script> {
  return scripts;
}
