// The package's runtime entry (lib/entry.ts, package.json "main") loads lib/
// lazily; lib/index.ts is the source of the types and the docs. The two must
// export the same names, bound to the same objects, and requiring the entry
// must load none of lib/'s modules (nor Node's net, http, child_process).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import * as index from '../../lib';

const ROOT = path.join(__dirname, '..', '..');

it('exports exactly what lib/index.ts exports, the same objects', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const entry = require('../../lib/entry') as Record<string, unknown>;
  const names = Object.keys(index).sort();
  expect(Object.keys(entry).sort()).toEqual(names);
  for (const n of names) expect([n, entry[n]]).toEqual([n, (index as Record<string, unknown>)[n]]);
  for (const n of names) expect(entry[n] === (index as Record<string, unknown>)[n]).toBe(true);
});

it('required in a fresh node, loads no lib/ module nor net, http, child_process, dgram, fs/promises; an export loads its module', () => {
  // On the compiled package (npm test compiles dist/ first); skipped when there is none.
  const dist = path.join(ROOT, 'dist', 'lib', 'entry.js');
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const before = new Set(Object.keys(require.cache)); const m = require(${JSON.stringify(dist)});
       const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f !== ${JSON.stringify(dist)});
       const builtins = process.moduleLoadList.filter((x) => /^NativeModule (net|http|child_process|dgram|fs\\/promises)$/.test(x));
       void m.Namespace;
       const after = Object.keys(require.cache).some((f) => f.endsWith('namespace.js'));
       console.log(JSON.stringify({ loaded, builtins, after }));`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0 && /Cannot find module/.test(r.stderr)) return; // dist/ not compiled: nothing to check
  expect(JSON.parse(r.stdout)).toEqual({ loaded: [], builtins: [], after: true });
});

it('is what scripts/gen-entry.js writes from lib/index.ts', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-entry.js'), '--check'], { encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
});
