// The library's own waits under a test's fake timers (jest.useFakeTimers()
// replaces the global setTimeout, setImmediate, queueMicrotask, Date,
// performance): a wait for a cross-process lock must still end once the lock
// is free, and a watcher must still deliver its snapshot.
import { Namespace, Watcher, type WatchEvent } from '../../lib';
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
