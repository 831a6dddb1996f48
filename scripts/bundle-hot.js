#!/usr/bin/env node
'use strict';
// After `tsc -p tsconfig.build.json`: writes dist/lib/hot.bundle (the compiled
// sources of the modules a fresh process's first calls load, in one file) and
// dist/lib/hot.cache (V8's code cache for each, made by loading them once in a
// child node), which lib/hot.ts loads instead of a dozen separate files. Run by
// the package's build scripts and test/setup/compile.js; a tree compiled by tsc
// alone loads from disk as before (lib/hot.ts compares each module's bytes).
//   node scripts/bundle-hot.js [DIST_LIB]
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const DIST = path.resolve(process.argv[2] || path.join(__dirname, '..', 'dist', 'lib'));

// The first Namespace.open/current + link lookup + Address.add/Route.add
// (test/integration/cold-start.test.ts lists what they load), and what a CNI
// ADD adds to them: a veth pair, a bridge, the link kinds.
const HOT = ['errors', 'validate', 'constants', 'pace', 'native', 'namespace', 'link', 'address', 'route', 'veth-pair', 'bridge'];
const kinds = fs.existsSync(path.join(DIST, 'kinds')) ? fs.readdirSync(path.join(DIST, 'kinds')).filter((f) => f.endsWith('.js')) : [];
const ids = [...HOT, ...kinds.map((f) => `kinds/${f.slice(0, -3)}`)];

function main() {
  const bundle = path.join(DIST, 'hot.bundle');
  const cache = path.join(DIST, 'hot.cache');
  fs.rmSync(cache, { force: true });
  const index = {};
  const texts = [];
  const raws = [];
  let at = 0;
  for (const id of ids) {
    const file = path.join(DIST, `${id}.js`);
    if (!fs.existsSync(file)) throw new Error(`bundle-hot: no ${file}: run tsc -p tsconfig.build.json first`);
    const raw = fs.readFileSync(file);
    // Non-ASCII characters (in comments and messages) as \uXXXX escapes: the
    // same program, and ASCII decodes ten times faster than UTF-8.
    const text = Buffer.from(
      raw.toString('utf8').replace(/[^ -~\t\n\r]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      'latin1',
    );
    index[id] = [at, text.length];
    texts.push(text);
    at += text.length;
    raws.push([id, raw]);
  }
  // Then the bytes as tsc wrote them: lib/hot.ts compares them with the file.
  for (const [id, raw] of raws) {
    index[id].push(at, raw.length);
    at += raw.length;
  }
  fs.writeFileSync(bundle, Buffer.concat([Buffer.from(`${JSON.stringify(index)}\n`), ...texts, ...raws.map((r) => r[1])]));

  // The code cache: load every bundled module (their bodies run) in a child
  // with default flags, as a user's process would, run the first calls'
  // path against a stand-in addon that never reaches the kernel
  // (scripts/hot-exercise.js), then serialize each script with the
  // functions compiled so far: a fresh process then does not compile them
  // lazily on its first calls.
  const child = `
    const hot = require(${JSON.stringify(path.join(DIST, 'hot.js'))});
    for (const id of ${JSON.stringify(ids)}) hot.load(id);
    require(${JSON.stringify(path.join(__dirname, 'hot-exercise.js'))})(hot, ${JSON.stringify(DIST)}).then((ran) => {
    if (!ran) console.error('bundle-hot: the hot path was not exercised (the cache holds what loading compiled)');
    const parts = []; const index = {}; let at = 0;
    for (const [id, s] of hot.hotScripts()) { const d = s.createCachedData(); index[id] = [at, d.length]; parts.push(d); at += d.length; }
    const head = Buffer.from(JSON.stringify(index));
    const len = Buffer.alloc(4); len.writeUInt32LE(head.length, 0);
    require('fs').writeFileSync(${JSON.stringify(cache)}, Buffer.concat([len, head, ...parts]));
    if (Object.keys(index).length !== ${ids.length}) { console.error('bundle-hot: only ' + Object.keys(index).join(', ') + ' came from the bundle'); process.exit(1); }
    });`;
  const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(cache, { force: true });
    throw new Error(`bundle-hot: making the code cache failed: ${r.stderr.trim()}`);
  }
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
