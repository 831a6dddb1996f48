// Every examples/*.ts, compiled to dist/ as a user gets it, runs to completion:
// exit code 0 (each example exits non-zero when its own check fails), and it
// leaves no namespace in /run/netns and no link in this process's namespace.
// Already inside the sandbox: the examples run as plain `node dist/examples/X.js`.
//
// The leftover check compares /run/netns before and after each run, so it
// assumes no other suite creates namespaces meanwhile: `npm test` runs jest
// in band. (In a parallel run, a concurrent suite's namespace could show up
// here as a false leftover; this file never deletes names it did not find in
// the example's own source.)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ROOT } from '../helpers/child';
import { kernelLacks, run } from '../helpers/oracle';

const RUN_TIMEOUT_MS = 45_000;

/** The examples, by name (examples/NAME.ts), found when the file is loaded. */
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

/** `ls /run/netns`, sorted; [] when the directory does not exist. */
function netns(): string[] {
  try {
    return fs.readdirSync('/run/netns').sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The namespace names an example creates or attaches, read from its source: Namespace.create('NAME'). */
function namesIn(name: string): string[] {
  const src = fs.readFileSync(path.join(ROOT, 'examples', `${name}.ts`), 'utf8');
  return [...src.matchAll(/Namespace\.(?:create|attach)\('([^']+)'/g)].map((m) => m[1] as string);
}

/** Links of this process's own namespace (`ip -j link show`), by name. */
function ownLinks(): string[] {
  return (JSON.parse(run('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
}

it('finds the examples', () => {
  expect(EXAMPLES).toEqual(
    expect.arrayContaining([
      'none-to-bridge',
      'spawn-and-exec',
      'http-across-namespaces',
      'sysctl',
      'neighbors-and-fdb',
      'policy-routing',
      'attach-and-nsid',
    ]),
  );
});

/** Link kinds an example needs: on a kernel without one, the example is skipped with the kernel's words. */
const NEEDS: Record<string, string[]> = { 'macvlan-and-vxlan': ['macvlan', 'vxlan'] };
const missing = (name: string): string | undefined =>
  (NEEDS[name] ?? []).map((k) => [k, kernelLacks(k)] as const).filter(([, why]) => why).map(([k, why]) => `no ${k}: ${why}`)[0];

describe.each(EXAMPLES)('examples/%s.ts', (name) => {
  const lacks = missing(name);
  (lacks ? it.skip : it)(`exits 0 and leaves no namespace and no link behind${lacks ? ` (skipped: ${lacks})` : ''}`, () => {
    const js = path.join(ROOT, 'dist', 'examples', `${name}.js`);
    expect(fs.existsSync(js)).toBe(true);
    const own = namesIn(name);
    expect(own.length).toBeGreaterThan(0);
    const nsBefore = netns();
    expect(nsBefore.filter((n) => own.includes(n))).toEqual([]); // else the example would fail with EEXIST
    const linksBefore = ownLinks();

    const t0 = Date.now();
    const res = spawnSync(process.execPath, [js], { cwd: ROOT, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    const ms = Date.now() - t0;

    const leftover = netns().filter((n) => !nsBefore.includes(n));
    // Whatever happened, the next example must not trip over this one's names.
    for (const n of leftover.filter((x) => own.includes(x))) spawnSync('ip', ['netns', 'del', n]);

    if (res.status !== 0 || res.stderr.trim() !== '' || leftover.length > 0)
      console.log(`examples/${name}: status ${res.status}, signal ${res.signal}, ${ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
    expect(res.error).toBeUndefined(); // e.g. ETIMEDOUT
    expect({ status: res.status, signal: res.signal }).toEqual({ status: 0, signal: null });
    expect(res.stdout).toMatch(/^\[\s*[\d.]+ ms\] /m); // it did print its steps
    expect(res.stderr).toBe('');
    expect(leftover).toEqual([]);
    expect(ownLinks()).toEqual(linksBefore);
  });
});
