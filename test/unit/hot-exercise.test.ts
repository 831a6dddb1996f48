// scripts/hot-exercise.js runs a fresh process's first calls against a
// stand-in for the addon before scripts/bundle-hot.js serializes V8's code
// cache, so the cache holds those functions compiled. It must really run
// them (not stop at the guard), through the stand-in and never the addon,
// and leave a cache that a fresh process takes.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'lib');

it('exercises the hot path through the stand-in addon only, and the cache it leaves is taken', () => {
  const child = `
    const hot = require(${JSON.stringify(path.join(DIST, 'hot.js'))});
    const ids = ['errors', 'validate', 'constants', 'pace', 'native', 'namespace', 'link', 'address', 'route'];
    for (const id of ids) hot.load(id);
    require(${JSON.stringify(path.join(ROOT, 'scripts', 'hot-exercise.js'))})(hot, ${JSON.stringify(DIST)}).then((ran) => {
      const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node') && require.cache[f].exports.standIn !== true);
      const sizes = [...hot.hotScripts()].map(([id, s]) => [id, s.createCachedData().length]);
      console.log(JSON.stringify({ ran, standIn: hot.load('native').native().standIn === true, addons, sizes }));
    });`;
  const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { ran: boolean; standIn: boolean; addons: string[]; sizes: [string, number][] };
  expect({ ran: out.ran, standIn: out.standIn, addons: out.addons }).toEqual({ ran: true, standIn: true, addons: [] });

  // A fresh process takes the cache bundle-hot wrote (same V8 flags): none rejected.
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const np = require(${JSON.stringify(path.join(DIST, 'entry.js'))}); np.Address; np.Route; np.Namespace;
      const hot = require(${JSON.stringify(path.join(DIST, 'hot.js'))});
      console.log(JSON.stringify([...hot.hotScripts()].map(([id, s]) => [id, s.cachedDataRejected])));`,
    ],
    { encoding: 'utf8' },
  );
  const taken = JSON.parse(check.stdout) as [string, boolean | undefined][];
  expect(taken.length).toBeGreaterThan(0);
  expect(taken.filter(([, rejected]) => rejected !== false)).toEqual([]);
});
