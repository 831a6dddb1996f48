// The library's own waits under a test's fake timers (jest.useFakeTimers()
// replaces the global setTimeout, setImmediate, queueMicrotask, Date,
// performance): a wait for a cross-process lock must still end once the lock
// is free, a watcher must still deliver its snapshot, and a pile of
// completions settled in slices must all settle even when the global
// setImmediate was a fake before the library loaded.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Namespace, VethPair, Watcher, type WatchEvent } from '../../lib';
import { withLock } from '../../lib/lock';
import { inSandbox, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

afterEach(() => {
  jest.useRealTimers();
});

/** node:timers' setTimeout: the one fake timers leave alone. */
const real = jest.requireActual<typeof import('node:timers')>('node:timers');
/** Settles 'hung' after `ms` unless the race is won first; unref'd, so a won race leaves nothing to keep jest alive for 5 s. */
const realTimeout = (ms: number): Promise<'hung'> => new Promise((r) => real.setTimeout(() => r('hung'), ms).unref());

it('a wait for a busy lock ends once it is free, with fake timers installed', async () => {
  const name = uniq('fakelock');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const holder = withLock(name, 'the holder', async () => {
    entered();
    await held;
  });
  await inside;
  jest.useFakeTimers();
  const order: string[] = [];
  const waiter = withLock(name, 'the waiter', async () => {
    order.push('waiter');
  });
  // The holder lets go after the waiter's first try (real time: the clock is faked).
  await new Promise((r) => real.setTimeout(r, 50));
  release();
  await holder;
  const outcome = await Promise.race([waiter.then(() => 'done'), realTimeout(5_000)]);
  expect({ outcome, order }).toEqual({ outcome: 'done', order: ['waiter'] });
});

it("a snapshot watcher opened with fake timers installed delivers the state and 'synced'", async () => {
  const ns = await Namespace.create(uniq('fakew'));
  try {
    jest.useFakeTimers();
    const w = await Watcher.open(ns, { snapshot: true });
    const seen: string[] = [];
    const synced = new Promise<'done'>((resolve) =>
      w.on('event', (e: WatchEvent) => {
        seen.push(e.type);
        if (e.type === 'synced') resolve('done');
      }),
    );
    const outcome = await Promise.race([synced, realTimeout(5_000)]);
    w.close();
    // lo and its addresses and routes first, then 'synced'.
    expect({ outcome, last: seen.at(-1), before: seen.length > 1 }).toEqual({ outcome: 'done', last: 'synced', before: true });
  } finally {
    jest.useRealTimers();
    await ns.delete();
  }
});

it('completions settled in slices all settle when setImmediate was faked before the library loaded', async () => {
  // A child on dist/ (the compiled package): its global setImmediate is a fake
  // that never runs, installed before the first require (as sinon's fake
  // timers in a test's setup file would be). 2,000 address adds come back as
  // a pile settled 64 at a time, the rest from setImmediate (src/handle_wrap.cc
  // Drain): the addon must use node:timers' own, not the global it saw at load.
  const name = uniq('fakesi');
  const ns = await Namespace.create(name);
  try {
    await VethPair.create('fs0', { namespace: ns, peerName: 'fs0p', up: true, peerUp: true });
    const child = `
      globalThis.setImmediate = () => ({ ref() { return this; }, unref() { return this; }, hasRef: () => false });
      const np = require(${JSON.stringify(path.join(__dirname, '../../dist/lib/entry'))});
      const timers = require('node:timers');
      (async () => {
        const ns = await np.Namespace.open(${JSON.stringify(name)});
        const link = await ns.link('fs0');
        let settled = 0;
        const all = Promise.all(Array.from({ length: 2000 }, (_, i) => np.Address.add(link, '10.70.' + (i >> 8) + '.' + (i & 255) + '/32').then(() => void settled++)));
        const outcome = await Promise.race([all.then(() => 'done'), new Promise((r) => timers.setTimeout(() => r('hung'), 10000))]);
        process.stdout.write(JSON.stringify({ outcome, settled }));
        process.exit(0);
      })();`;
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ outcome: 'done', settled: 2000 });
  } finally {
    // The link and its 2,000 addresses go now, in the call (the kernel's
    // cleanup of a deleted namespace runs later and holds the RTNL lock
    // while the next test file runs).
    await (await ns.link('fs0').catch(() => undefined))?.delete();
    await ns.delete();
  }
});
