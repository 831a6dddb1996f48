// Red-team checks of pacing (lib/pace.ts, src/stager.hpp) and sliced
// settlement (src/handle_wrap.cc Drain): what the addon keeps of a copy of
// the library, fake timers, and the lifetime edges (a worker terminated, the
// process exiting) run in plain-node children (test/children/pace-edges.ts).
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import { Address, Link, Namespace, NETNS_RUN_DIR, Route, VethPair } from '../../lib';
import { oracleAddrs } from '../helpers/addr-route';
import { removeNamespacesStartingWith, runChild } from '../helpers/child';
import { inSandbox, ipj, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const NS = uniq('pacerd');
let ns: Namespace;

const ipOf = (i: number): string => `10.61.${(i >> 8) & 255}.${i & 255}`;
const countAddrs = (dev: string): number => oracleAddrs(NS, dev, 4).filter((a) => a.local.startsWith('10.61.')).length;

beforeAll(async () => {
  ns = await Namespace.create(NS);
});

afterAll(async () => {
  await ns?.delete();
});

async function veth(name: string): Promise<Link> {
  return (await VethPair.create(name, { namespace: ns, peerName: `${name}p`, up: true, peerUp: true })).link;
}

/** Loads another copy of lib/native + lib/pace (as the next test file of a jest --runInBand run does), makes it register its pacer, and drops it. */
function copyThatRegistered(register: boolean): WeakRef<object>[] {
  let refs: WeakRef<object>[] = [];
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const pace = require('../../lib/pace') as typeof import('../../lib/pace');
    const nat = require('../../lib/native') as typeof import('../../lib/native');
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (register) nat.native();
    refs = [new WeakRef(pace.catchUp), new WeakRef(pace.PACE_FLAG)];
  });
  return refs;
}

async function collect(): Promise<void> {
  // WeakRefs hold their target until the current job ends: let it end first.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
}

it('a copy of the library that is dropped is not kept alive by the addon (its pacer)', async () => {
  // Control: a copy that never called native() is collected, so the check can see a collection.
  const control = copyThatRegistered(false);
  const copies = [copyThatRegistered(true), copyThatRegistered(true), copyThatRegistered(true)];
  await collect();
  expect(control.map((r) => r.deref() === undefined)).toEqual([true, true]);
  // On 225edbc the addon held each copy's catchUp and flag for good (Stager::pacers_):
  // every test file of a jest --runInBand run kept its whole module graph.
  expect(copies.flat().filter((r) => r.deref() !== undefined).length).toBe(0);
  // The copies that are left (this file's) still pace and catch up: a link request after a held burst goes after it.
  const link = await veth('rd0');
  const adds = Array.from({ length: 2000 }, (_, i) =>
    Address.add(link, `${ipOf(i)}/32`).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    ),
  );
  const del = link.delete();
  expect((await Promise.all(adds)).filter((r) => r !== 'ok')).toEqual([]);
  await del;
});

it('fake timers (setImmediate faked, the clock real): an awaited loop of Address.add does not hang', async () => {
  const link = await veth('rd1');
  const realSetTimeout = setTimeout;
  jest.useFakeTimers({ doNotFake: ['performance', 'nextTick', 'queueMicrotask'] });
  let done = 0;
  try {
    const loop = (async () => {
      for (let i = 0; i < 200; i++) {
        await Address.add(link, `${ipOf(i)}/32`);
        done++;
      }
    })();
    // Far longer than 200 awaited adds take (a few ms each at most here).
    const outcome = await Promise.race([loop.then(() => 'done'), new Promise((r) => realSetTimeout(() => r('hung'), 10_000))]);
    // On 225edbc: the 32nd call found the turn's budget spent (the turn never ended: endTurn was
    // a faked setImmediate) and waited for a slice that the faked setImmediate never ran.
    expect({ outcome, done }).toEqual({ outcome: 'done', done: 200 });
  } finally {
    jest.runAllTimers();
    jest.useRealTimers();
  }
  expect(countAddrs('rd1')).toBe(200);
  await link.delete();
});

it('multipath routes (a kind the addon does not pace, made from inside a held job) in a held burst, deletes after them: order kept', async () => {
  const link = await veth('rd2');
  await Address.add(link, '10.64.0.1/24');
  const to = (i: number): string => `10.65.${i >> 8}.${i & 255}/32`;
  const ps: Promise<string | undefined>[] = [];
  const result = (p: Promise<void>): Promise<string | undefined> =>
    p.then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
  for (let i = 0; i < 1500; i++)
    ps.push(
      result(
        i % 3 === 0
          ? Route.add({
              namespace: ns,
              to: to(i),
              nexthops: [
                { via: '10.64.0.2', dev: link },
                { via: '10.64.0.3', dev: link },
              ],
            })
          : Route.add({ namespace: ns, to: to(i), dev: link }),
      ),
    );
  // Asked after their adds, in the same turn: a delete sent first fails with ESRCH.
  for (let i = 1500 - 30; i < 1500; i++) ps.push(result(Route.delete({ namespace: ns, to: to(i) })));
  expect(ns.handle.pending).toBeLessThan(ps.length); // part of it is held
  expect((await Promise.all(ps)).filter((r) => r !== 'ok')).toEqual([]);
  const routes = ipj(NS, '-4', 'route', 'show') as { dst: string; nexthops?: unknown[] }[];
  const ours = routes.filter((r) => r.dst.startsWith('10.65.'));
  expect(ours.length).toBe(1500 - 30);
  expect(ours.filter((r) => r.nexthops !== undefined).length).toBe(490);
  await link.delete();
});

it('close() while settlement is sliced (its next slice pending), with gc: every promise settles, close after all of them', async () => {
  await veth('rd3');
  const other = await Namespace.open(NS);
  const link = await Link.get(other, 'rd3');
  let settled = 0;
  let closing: Promise<number> | undefined;
  const adds = Array.from({ length: 2000 }, (_, i) =>
    Address.add(link, `${ipOf(i)}/32`).then(() => {
      if (++settled === 100) {
        closing = other.close().then(() => settled);
        gc();
      }
    }),
  );
  await Promise.all(adds);
  expect(await closing).toBe(2000);
  expect(countAddrs('rd3')).toBe(2000);
  await (await Link.get(ns, 'rd3')).delete();
});

it("an awaited call in another namespace does not wait behind one namespace's held burst", async () => {
  const other = await Namespace.create(`${NS}b`);
  try {
    const la = await veth('rd4');
    const lb = (await VethPair.create('rd5', { namespace: other, peerName: 'rd5p', up: true })).link;
    const burst = Array.from({ length: 5000 }, (_, i) => Address.add(la, `10.66.${i >> 8}.${i & 255}/32`));
    await new Promise((r) => setImmediate(r));
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const p = Address.add(lb, '10.67.0.1/32');
    // Handed to the addon at once (in flight), or answered during the call
    // (src/spinner.hpp Spinner::here: in the kernel already, nothing pending).
    const handedNow = other.handle.pending === 1 || oracleAddrs(`${NS}b`, 'rd5', 4).some((a) => a.local === '10.67.0.1');
    await p;
    done = true;
    console.log(`pace: the other namespace's add handed at once: ${handedNow}, settled after ${turns} turns`);
    // On 225edbc: false (held behind the whole burst: 48 turns, 155 ms for one awaited add here).
    expect(handedNow).toBe(true);
    await Promise.all(burst);
    await la.delete();
  } finally {
    await other.delete();
  }
});

it('ns.delete() asked right after a held burst in that namespace: every add is acked first, then the name goes', async () => {
  const name = `${NS}d`;
  const x = await Namespace.create(name);
  await x.loopback.up();
  const lo = x.loopback;
  const adds = Array.from({ length: 2000 }, (_, i) =>
    Address.add(lo, `${ipOf(i)}/32`).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    ),
  );
  const held = 2000 - x.handle.pending;
  const del = x.delete();
  expect(held).toBeGreaterThan(0);
  expect((await Promise.all(adds)).filter((r) => r !== 'ok')).toEqual([]);
  await del;
  expect(fs.existsSync(`${NETNS_RUN_DIR}/${name}`)).toBe(false);
});

describe('lifetime edges, in plain-node children', () => {
  const prefix = uniq('pe');
  afterAll(() => removeNamespacesStartingWith(prefix));

  type Report = Record<string, unknown>;
  const child = (mode: string): ReturnType<typeof runChild<Report>> => {
    const r = runChild<Report>('pace-edges', [mode, `${prefix}${mode.slice(0, 5)}`], { timeoutMs: 60_000 });
    if (r.status !== 0 || r.stderr) console.log(`pace-edges ${mode}: status ${r.status}, signal ${r.signal}\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  it('a fire-and-forget burst (nothing awaited, nothing else keeps the process up): every request is made before the process exits', () => {
    const r = child('forget');
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    // Counted by `ip` after the child has exited: the namespace outlives it by its name.
    const name = r.report!.name as string;
    const n = oracleAddrs(name, 'lo', 4).filter((a) => a.local.startsWith('10.62.')).length;
    expect({ held: (r.report!.held as number) > 0, n }).toEqual({ held: true, n: 2000 });
  });

  it('a process whose burst has settled exits at once (no timer, slice or settlement keeps it up)', () => {
    const r = child('exit');
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.report).toMatchObject({ settled: 2000 });
  });

  it('a global setImmediate replaced after the library loaded (fake timers): a sliced settlement still completes', () => {
    const r = child('fakeimm');
    // On 225edbc: { outcome: 'hung', settled: 64 }: Drain's next slice was handed to the fake.
    expect(r.report).toEqual({ outcome: 'done', settled: 2000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });

  it('a global queueMicrotask faked before the first request (jest.useFakeTimers() fakes it): requests still go', () => {
    const r = child('fakemicro');
    expect(r.report).toEqual({ outcome: 'done', settled: 201 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });

  it('process.exit() in the middle of a sliced settlement, with requests still held: a clean exit', () => {
    const r = child('midexit');
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });

  it('workers terminated with requests held and settlements sliced: no crash, the process exits cleanly', () => {
    const r = child('workers');
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const m = r.report as { terminated: { code: number; settled: number }[] };
    expect(m.terminated.map((t) => t.code)).toEqual([1, 1, 1, 1]);
    // Terminated mid-way at least once (some settled, not all).
    expect(m.terminated.some((t) => t.settled > 0 && t.settled < 3000)).toBe(true);
  });
});
