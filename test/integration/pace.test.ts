// Pacing (lib/pace.ts) and sliced settlement (src/handle_wrap.cc Drain): a
// burst of address and route calls, and the pile of completions it brings
// back, are spread over turns of the event loop, and nothing is reordered.
// Checked against the kernel with `ip -j`.
import { Address, Link, Namespace, Route, VethPair } from '../../lib';
import { oracleAddrs } from '../helpers/addr-route';
import { inSandbox, ip, ipj, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const N = 2000;
const NS = uniq('pace');
let ns: Namespace;

const ipOf = (i: number): string => `10.${60 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
/** The burst's addresses (or routes) on dev, per `ip -j`. */
const count = (dev: string, what: 'addr' | 'route'): number =>
  what === 'addr'
    ? oracleAddrs(NS, dev, 4).filter((a) => a.local.startsWith('10.60.')).length
    : (ipj(NS, '-4', 'route', 'show', 'dev', dev) as { dst: string }[]).filter((r) => r.dst.startsWith('10.60.')).length;

beforeAll(async () => {
  ns = await Namespace.create(NS);
});

afterAll(async () => {
  await ns?.delete();
});

async function veth(name: string): Promise<Link> {
  return (await VethPair.create(name, { namespace: ns, peerName: `${name}p`, up: true, peerUp: true })).link;
}

it(`a burst of ${N} Address.add is handed to the addon over several turns, and all of it lands`, async () => {
  const link = await veth('pa0');
  let settled = 0;
  const ps = Array.from({ length: N }, (_, i) => Address.add(link, `${ipOf(i)}/32`).then(() => void settled++));
  // Right after the caller's loop, in the same turn: part of the burst waits in lib/pace.ts.
  const handedNow = ns.handle.pending;
  let turns = 0;
  const tick = (): void => {
    turns++;
    if (ns.handle.pending + settled < N) setImmediate(tick);
  };
  setImmediate(tick);
  await Promise.all(ps);
  console.log(`pace: ${handedNow} of ${N} handed over in the caller's turn, ${turns} turns before the rest was`);
  expect(handedNow).toBeGreaterThan(0);
  expect(handedNow).toBeLessThan(N);
  expect(count('pa0', 'addr')).toBe(N);
  await link.delete();
});

it('a request of another kind made after a held burst goes after it (link delete after 2000 address adds)', async () => {
  const link = await veth('pa1');
  const adds = Array.from({ length: N }, (_, i) =>
    Address.add(link, `${ipOf(i)}/32`).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    ),
  );
  // Asked after every add, in the same turn: were it sent first, the held adds would fail with ENODEV.
  const del = link.delete();
  // Held adds were handed over before the delete, in this same turn: all but
  // the first, which may have run on this thread during its call
  // (src/spinner.hpp Spinner::here: answered at once, never pending).
  // Without catchUp() only the ~80 handed over in the caller's turn would be.
  expect(ns.handle.pending).toBeGreaterThanOrEqual(N);
  expect(ns.handle.pending).toBeLessThanOrEqual(N + 1);
  const results = await Promise.all(adds);
  await del;
  expect(results.filter((r) => r !== 'ok')).toEqual([]);
  expect(ipj(NS, 'link', 'show').map((l: { ifname: string }) => l.ifname)).not.toContain('pa1');
});

it('close() made after a held burst lets the burst go first', async () => {
  await veth('pa3');
  const other = await Namespace.open(NS);
  const link = await Link.get(other, 'pa3');
  const adds = Array.from({ length: N }, (_, i) =>
    Route.add({ to: `${ipOf(i)}/32`, dev: link }).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    ),
  );
  const closing = other.handle.close();
  const results = await Promise.all(adds);
  await closing;
  expect(results.filter((r) => r !== 'ok')).toEqual([]);
  expect(count('pa3', 'route')).toBe(N);
  await other.close();
  await (await Link.get(ns, 'pa3')).delete();
});

/**
 * A burst of N Address.add on link, made after `before` in the same turn;
 * `afterFirst` runs right after its first call. Resolves with the most
 * completions settled between two turns of the event loop.
 */
async function mostPerTurn(link: Link, before?: () => Promise<void>, afterFirst?: () => void): Promise<number> {
  let settled = 0;
  let most = 0;
  let last = 0;
  let done = false;
  const tick = (): void => {
    most = Math.max(most, settled - last);
    last = settled;
    if (!done) setImmediate(tick);
  };
  await before?.();
  setImmediate(tick);
  // The burst's hand-off is paced too; what is measured here is the way back.
  const ps: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    ps.push(Address.add(link, `${ipOf(i)}/32`).then(() => void settled++));
    if (i === 0) afterFirst?.();
  }
  await Promise.all(ps);
  done = true;
  expect(settled).toBe(N);
  return most;
}

it(`${N} completions are settled at most 128 between two turns of the event loop`, async () => {
  const link = await veth('pa2');
  const most = await mostPerTurn(link);
  console.log(`pace: at most ${most} of ${N} completions settled between two turns`);
  // Two slices of 64 per turn at most: the thread-safe function's (poll phase) and the check phase's.
  expect(most).toBeLessThanOrEqual(128);
  expect(count('pa2', 'addr')).toBe(N);
  await link.delete();
});

it("so are they when the burst's first call ran on the JS thread and is settled in the next turn", async () => {
  // That call queues a Drain for the check phase of its own; the burst's pile
  // must not start a second one beside it (two slices from there per turn).
  // Nor may a held slice's first request run on the JS thread (and settle at
  // once) when the check phase's Drain has just settled everything before it.
  const link = await veth('pa4');
  const mosts: number[] = [];
  for (let t = 0; t < 20 && mosts.length < 6; t++) {
    let late = false;
    const before = async (): Promise<void> => {
      // A call answered at once starts this turn's 1 ms of running here
      // (src/spinner.hpp Spinner::here); a microtask later (no longer the
      // same burst) and past that 1 ms, the next call runs here and is
      // settled later: in the kernel already, and still pending.
      void Address.add(link, '10.99.0.1/32').catch(() => undefined);
      await Promise.resolve();
      for (const t0 = performance.now(); performance.now() - t0 < 1.5;);
    };
    const afterFirst = (): void => {
      late = ns.handle.pending === 1 && ip(NS, '-4', 'addr', 'show', 'dev', 'pa4').includes(`${ipOf(0)}/32`);
    };
    const most = await mostPerTurn(link, before, afterFirst);
    if (late) mosts.push(most);
    await Promise.all(Array.from({ length: N }, (_, i) => Address.delete(link, `${ipOf(i)}/32`)));
    await Address.delete(link, '10.99.0.1/32').catch(() => undefined);
    if (!late) await new Promise((r) => setTimeout(r, 300)); // running here may be off for 250 ms
  }
  console.log(`pace: with the first call settled in the next turn, at most ${mosts.join(', ')} settled between two turns`);
  expect(mosts).toHaveLength(6);
  for (const m of mosts) expect(m).toBeLessThanOrEqual(128);
  await link.delete();
});
