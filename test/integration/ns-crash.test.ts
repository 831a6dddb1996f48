// A process killed (SIGKILL) in the middle of Namespace.create / delete can
// leave its name behind in /run/netns: as a mounted namespace (killed between
// the mount and the delete) or as the empty file a create makes before its
// mount (killed in between, or during a delete between umount and unlink).
// The next create of that name must not be a bare EEXIST: a leftover empty
// file is replaced; a real namespace is EEXIST saying so, and deletable.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace, NetlinkError } from '../../lib';
import { ROOT } from '../helpers/child';

const KILLS = Number(process.env.NS_CRASH_KILLS ?? 40);
const NAME = `crash${process.pid}`;
const P = `/run/netns/${NAME}`;

afterAll(async () => {
  if (fs.existsSync(P)) await Namespace.delete(NAME).catch(() => undefined);
});

/** Starts the loop, waits for its first cycle, lets it run `ms` more, then SIGKILLs it. */
async function killDuringLoop(ms: number): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'children', 'nsloop.js'), NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`nsloop exited (${code}) before its first cycle: ${err}`)));
  });
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await exited;
}

type Left = 'nothing' | 'namespace' | 'empty-file' | 'other';
function leftOver(): Left {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(P);
  } catch {
    return 'nothing';
  }
  if (fs.statfsSync(P).type === 0x6e736673) return 'namespace';
  return st.isFile() && st.size === 0 ? 'empty-file' : 'other';
}

it(`after ${KILLS} SIGKILLs at random points of a create/delete loop, create(name) succeeds every time`, async () => {
  const seen: Record<Left, number> = { nothing: 0, namespace: 0, 'empty-file': 0, other: 0 };
  const failures: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    await killDuringLoop(Math.random() * 25);
    const left = leftOver();
    seen[left]++;
    if (left === 'namespace') {
      // Killed while the namespace existed: a real one, not replaced.
      try {
        await Namespace.create(NAME);
        failures.push(`kill ${i}: create over a live namespace succeeded`);
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'EEXIST' && /a namespace of that name already exists/.test(e.message)))
          failures.push(`kill ${i}: create over a live namespace: ${String(e)}`);
      }
      await Namespace.delete(NAME);
    }
    try {
      const ns = await Namespace.create(NAME);
      await ns.delete();
    } catch (e) {
      failures.push(`kill ${i} (left ${left}): ${String(e)}`);
      await Namespace.delete(NAME).catch(() => undefined);
    }
  }
  console.log(`ns-crash: ${KILLS} kills left ${JSON.stringify(seen)}`);
  expect(failures).toEqual([]);
  expect(seen.other).toBe(0);
  expect(await Namespace.listBroken()).toEqual([]);
  expect(await Namespace.list()).not.toContain(NAME);
  expect(fs.existsSync(P)).toBe(false);
});
