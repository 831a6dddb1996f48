// W1–W4 and the event-loop / memory probes. Every timed phase is verified
// with the oracle (ip -j) before the next one; nothing is verified inside a
// timed region.
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';

import { Address, Link, Namespace, Network, Route, VethPair } from '../lib';
import {
  check, floor, gapMonitor, gc, ipBatch, ipEach, ipj, ipOf, median, netnsNames, now, range, type Results, runTimed, sleep,
} from './util';

export interface Ctx {
  R: Results;
  runs: number;
  /** The sandbox's own namespace: the "host" (ip runs here without -n; the floor too). */
  host: Namespace;
  log: (s: string) => void;
}

/** Rotates the peers each run so that none always goes first. */
function rotate<T>(xs: T[], r: number): T[] {
  const k = r % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

// ---------------------------------------------------------------------------
// W1: N veth pairs created, both ends set up, deleted.

export const W1_N = 200;
export const W1_N_FORK = 20;
const W1_GROUP = 4242;

interface IpLinkJ {
  ifname: string;
  flags: string[];
  group?: string;
}

function vethsNow(): IpLinkJ[] {
  return ipj(undefined, 'link', 'show', 'type', 'veth') as IpLinkJ[];
}

function verifyPairsUp(names: string[], peers: string[]): void {
  const ls = vethsNow();
  const byName = new Map(ls.map((l) => [l.ifname, l]));
  check(ls.length === names.length * 2, `${names.length * 2} veths expected, ip shows ${ls.length}`);
  for (const n of [...names, ...peers]) {
    const l = byName.get(n);
    check(l !== undefined, `veth ${n} missing`);
    check(l!.flags.includes('UP'), `veth ${n} not UP (${l!.flags.join(',')})`);
  }
}

function verifyNoVeths(): void {
  const n = vethsNow().length;
  check(n === 0, `0 veths expected after delete, ip shows ${n}`);
}

export async function w1(c: Ctx): Promise<void> {
  const { R, host } = c;
  const N = W1_N;
  const W = 'W1 veth x200';
  const names = (p: string, n = N) => range(n).map((i) => `${p}${i}`);

  const peers: [string, () => Promise<void>][] = [
    ['netplumb in flight', async () => {
      const a = names('na'), b = names('nb');
      const t0 = now();
      const pairs = await Promise.all(a.map((n, i) => VethPair.create(n, { namespace: host, peerName: b[i]!, up: true, peerUp: true })));
      const t1 = now();
      verifyPairsUp(a, b);
      const t2 = now();
      await Promise.all(pairs.map((p) => p.link.delete()));
      const t3 = now();
      verifyNoVeths();
      R.add(W, 'setup (add+up)', 'netplumb in flight', N, t1 - t0, 'pair');
      R.add(W, 'delete', 'netplumb in flight', N, t3 - t2, 'pair');
      R.add(W, 'total', 'netplumb in flight', N, t1 - t0 + t3 - t2, 'pair');
    }],
    ['netplumb group delete', async () => {
      const a = names('ga'), b = names('gb');
      const t0 = now();
      await Promise.all(a.map((n, i) => VethPair.create(n, { namespace: host, peerName: b[i]!, up: true, peerUp: true, group: W1_GROUP })));
      const t1 = now();
      verifyPairsUp(a, b);
      check(vethsNow().filter((l) => l.group === String(W1_GROUP)).length === N, `${N} veths in group ${W1_GROUP}`);
      const t2 = now();
      await Link.deleteGroup(host, W1_GROUP);
      const t3 = now();
      verifyNoVeths();
      R.add(W, 'setup (add+up)', 'netplumb group delete', N, t1 - t0, 'pair');
      R.add(W, 'delete', 'netplumb group delete', N, t3 - t2, 'pair');
      R.add(W, 'total', 'netplumb group delete', N, t1 - t0 + t3 - t2, 'pair');
    }],
    ['ip -batch', async () => {
      const a = names('ba'), b = names('bb');
      const s = ipBatch(undefined, [...a.map((n, i) => `link add ${n} type veth peer name ${b[i]}`), ...a.flatMap((n, i) => [`link set ${n} up`, `link set ${b[i]} up`])]);
      verifyPairsUp(a, b);
      const d = ipBatch(undefined, a.map((n) => `link del ${n}`));
      verifyNoVeths();
      R.add(W, 'setup (add+up)', 'ip -batch', N, s, 'pair');
      R.add(W, 'delete', 'ip -batch', N, d, 'pair');
      R.add(W, 'total', 'ip -batch', N, s + d, 'pair');
    }],
    ['ip -batch group delete', async () => {
      const a = names('ha'), b = names('hb');
      const s = ipBatch(undefined, [...a.map((n, i) => `link add ${n} group ${W1_GROUP} type veth peer name ${b[i]}`), ...a.flatMap((n, i) => [`link set ${n} up`, `link set ${b[i]} up`])]);
      verifyPairsUp(a, b);
      const d = ipBatch(undefined, [`link del group ${W1_GROUP}`]);
      verifyNoVeths();
      R.add(W, 'setup (add+up)', 'ip -batch group delete', N, s, 'pair');
      R.add(W, 'delete', 'ip -batch group delete', N, d, 'pair');
      R.add(W, 'total', 'ip -batch group delete', N, s + d, 'pair');
    }],
    ['ip per-op', async () => {
      const n = W1_N_FORK;
      const a = names('fa', n), b = names('fb', n);
      const s = ipEach(a.flatMap((x, i) => [['link', 'add', x, 'type', 'veth', 'peer', 'name', b[i]!], ['link', 'set', x, 'up'], ['link', 'set', b[i]!, 'up']]));
      verifyPairsUp(a, b);
      const d = ipEach(a.map((x) => ['link', 'del', x]));
      verifyNoVeths();
      const note = `N=${n}, one ip process per operation`;
      R.add(W, 'setup (add+up)', `ip per-op (N=${n})`, n, s, 'pair', note);
      R.add(W, 'delete', `ip per-op (N=${n})`, n, d, 'pair', note);
      R.add(W, 'total', `ip per-op (N=${n})`, n, s + d, 'pair', note);
    }],
    ['native floor', async () => {
      const r = await floor(['veth-batch', N], () => verifyPairsUp(names('nf'), names('nfp')));
      verifyNoVeths();
      const s = ((r.add_us as number) + (r.up_us as number)) / 1000;
      const d = (r.del_us as number) / 1000;
      R.add(W, 'setup (add+up)', 'native floor batched', N, s, 'pair');
      R.add(W, 'delete', 'native floor batched', N, d, 'pair');
      R.add(W, 'total', 'native floor batched', N, s + d, 'pair');
    }],
  ];
  verifyNoVeths();
  for (let r = 0; r < c.runs; r++) {
    for (const [name, fn] of rotate(peers, r)) {
      const t = now();
      await fn();
      c.log(`  W1 run ${r + 1}/${c.runs} ${name}: ${(now() - t).toFixed(0)} ms`);
    }
  }
}

/**
 * `ip ARGS` and JSON.parse of its output, timed (ms, to `record`): the
 * command as the bench's helper process timed it (started from a small
 * process, as a shell would), plus the parse here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ipParsed(args: string[], record: (ms: number) => void): any {
  const r = runTimed('ip', args);
  const t0 = now();
  const parsed = JSON.parse(r.out) as unknown;
  record(r.ms + (now() - t0));
  return parsed;
}

// ---------------------------------------------------------------------------
// W2: N addresses and N routes (/32, dev of a veth) added, then deleted.

export const W2_N = 1000;
export const W2_N_FORK = 100;
export type Kind = 'addr' | 'route';

function countOn(kind: Kind, dev: string, expect: Set<string>): number {
  if (kind === 'addr') {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const infos = (ipj(undefined, 'addr', 'show', 'dev', dev)[0]?.addr_info ?? []) as any[];
    const ours = infos.filter((a) => a.family === 'inet' && String(a.local).startsWith('10.'));
    check(ours.every((a) => a.prefixlen === 32 && expect.has(a.local)), `addresses on ${dev} are the expected /32s`);
    return ours.length;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const routes = ipj(undefined, 'route', 'show', 'dev', dev) as any[];
  const ours = routes.filter((r) => String(r.dst).startsWith('10.'));
  check(ours.every((r) => expect.has(r.dst)), `routes via ${dev} are the expected /32s`);
  return ours.length;
}

export function verifyCount(kind: Kind, dev: string, n: number): void {
  const expect = new Set(range(n).map(ipOf));
  const got = countOn(kind, dev, expect);
  check(got === n, `${n} ${kind === 'addr' ? 'addresses' : 'routes'} on ${dev} expected, ip shows ${got}`);
}

export async function w2(c: Ctx): Promise<{ link: Link; pair: VethPair }> {
  const { R, host } = c;
  const N = W2_N;
  const pair = await VethPair.create('w2a', { namespace: host, peerName: 'w2b', up: true, peerUp: true });
  const link = pair.link;
  const dev = link.name;
  const add = (kind: Kind, i: number): Promise<unknown> =>
    kind === 'addr' ? Address.add(link, `${ipOf(i)}/32`) : Route.add({ to: `${ipOf(i)}/32`, dev: link });
  const del = (kind: Kind, i: number): Promise<unknown> =>
    kind === 'addr' ? Address.delete(link, `${ipOf(i)}/32`) : Route.delete({ to: `${ipOf(i)}/32`, dev: link });
  const ipArgs = (kind: Kind, op: 'add' | 'del', i: number): string[] => [kind, op, `${ipOf(i)}/32`, 'dev', dev];

  for (const kind of ['addr', 'route'] as Kind[]) {
    const W = `W2 ${kind} x${N}`;
    const rec = (peer: string, n: number, a: number, d: number, note?: string) => {
      R.add(W, 'add', peer, n, a, 'op', note);
      R.add(W, 'del', peer, n, d, 'op', note);
      R.add(W, 'add+del', peer, 2 * n, a + d, 'op', note);
    };
    const peers: [string, () => Promise<void>][] = [
      ['netplumb one by one', async () => {
        let t0 = now();
        for (let i = 0; i < N; i++) await add(kind, i);
        const a = now() - t0;
        verifyCount(kind, dev, N);
        t0 = now();
        for (let i = 0; i < N; i++) await del(kind, i);
        const d = now() - t0;
        verifyCount(kind, dev, 0);
        rec('netplumb one by one', N, a, d);
      }],
      ['netplumb in flight', async () => {
        let t0 = now();
        await Promise.all(range(N).map((i) => add(kind, i)));
        const a = now() - t0;
        verifyCount(kind, dev, N);
        t0 = now();
        await Promise.all(range(N).map((i) => del(kind, i)));
        const d = now() - t0;
        verifyCount(kind, dev, 0);
        rec('netplumb in flight', N, a, d);
      }],
      // Informative, not a target: the same burst right after two untimed ones.
      // After ~100 ms of other peers the scheduler tends to wake the I/O thread on
      // the JS thread's CPU, and the two share one core for a few ms (seen with
      // sched_getcpu); back to back, each keeps its own core.
      ['netplumb in flight, warm', async () => {
        for (let w = 0; w < 2; w++) {
          await Promise.all(range(N).map((i) => add(kind, i)));
          await Promise.all(range(N).map((i) => del(kind, i)));
        }
        let t0 = now();
        await Promise.all(range(N).map((i) => add(kind, i)));
        const a = now() - t0;
        t0 = now();
        await Promise.all(range(N).map((i) => del(kind, i)));
        const d = now() - t0;
        verifyCount(kind, dev, 0);
        // Verified: every one of the N deletes succeeded (a missing route or address
        // rejects with ESRCH / EADDRNOTAVAIL), so the timed adds were all there; ip
        // counts none left.
        rec('netplumb in flight, warm', N, a, d, 'after two untimed bursts');
      }],
      ['ip -batch', async () => {
        const a = ipBatch(undefined, range(N).map((i) => ipArgs(kind, 'add', i).join(' ')));
        verifyCount(kind, dev, N);
        const d = ipBatch(undefined, range(N).map((i) => ipArgs(kind, 'del', i).join(' ')));
        verifyCount(kind, dev, 0);
        rec('ip -batch', N, a, d);
      }],
      ['ip per-op', async () => {
        const n = W2_N_FORK;
        const a = ipEach(range(n).map((i) => ipArgs(kind, 'add', i)));
        verifyCount(kind, dev, n);
        const d = ipEach(range(n).map((i) => ipArgs(kind, 'del', i)));
        verifyCount(kind, dev, 0);
        rec(`ip per-op (N=${n})`, n, a, d, `N=${n}, one ip process per operation`);
      }],
      ['native floor one', async () => {
        const r = await floor([`${kind}-one`, dev, N], () => verifyCount(kind, dev, N));
        verifyCount(kind, dev, 0);
        rec('native floor one-at-a-time', N, (r.add_us as number) / 1000, (r.del_us as number) / 1000);
      }],
      ['native floor batch', async () => {
        const r = await floor([`${kind}-batch`, dev, N], () => verifyCount(kind, dev, N));
        verifyCount(kind, dev, 0);
        rec('native floor batched', N, (r.add_us as number) / 1000, (r.del_us as number) / 1000);
      }],
    ];
    verifyCount(kind, dev, 0);
    for (let r = 0; r < c.runs; r++) {
      const t = now();
      for (const [, fn] of rotate(peers, r)) await fn();
      c.log(`  W2 ${kind} run ${r + 1}/${c.runs}: ${(now() - t).toFixed(0)} ms`);
    }
  }
  return { link, pair };
}

/** Event-loop gaps during W2 all in flight, on a separate pass (the timer would perturb the timed runs). */
export interface GapRuns {
  perRunMaxMs: number[];
  medianMaxMs: number;
  worstMs: number;
  /** Synchronous time to issue N calls (the loop that builds the Promise.all), median, per phase. */
  submitMs: Record<string, number>;
  /** From the first call until the event loop turns (setImmediate): includes submissions made from microtasks. */
  busyMs: Record<string, number>;
  gapByPhase: Record<string, number[]>;
  /** Per run: its largest gap held the synchronous loop that made the N calls (the caller's loop, netplumb's per-call work in it). */
  maxHeldCallingLoop: boolean[];
  /** Per run: V8's garbage collection inside its largest gap, ms (PerformanceObserver 'gc'). */
  gcInMaxMs: number[];
  /** Per run: the kinds of the collections inside its largest gap ('scavenge', 'full', 'incremental', 'weak callbacks'). */
  gcKindsInMax: string[][];
}

export interface GapResult extends GapRuns {
  /**
   * The same measurement after `settleRuns` more runs, unmeasured: by then V8
   * has finished compiling the callers' closures (with netplumb's calls inlined
   * into them) and the harness, and has grown its young generation; before,
   * that compilation runs on the second CPU of a 2-CPU machine beside the I/O
   * thread, and the main thread shares a CPU with one of them.
   */
  settled: GapRuns;
  settleRuns: number;
}

/** Unmeasured runs between the first measurement and the settled one. */
export const GAP_SETTLE_RUNS = 10;

export async function eventLoop(c: Ctx, link: Link): Promise<GapResult> {
  const N = W2_N;
  const dev = link.name;
  // The checks with `ip` run in the bench's helper process (startForker):
  // after a fork of this process, the next burst's first writes would each
  // take a page fault (the loop making the 1,000 calls took 3.3-3.9 ms after
  // one, 1.5-2.4 ms without).
  const KINDS: Record<number, string> = {
    [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'full',
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
  };
  const gcs: { start: number; end: number; kind: string }[] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const k = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gcs.push({ start: e.startTime, end: e.startTime + e.duration, kind: KINDS[k] ?? `kind ${k}` });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  type Gap = { max: number; from: number; to: number; loop: boolean };
  const measure = async (runs: number): Promise<GapRuns> => {
    const worsts: Gap[] = []; // each run's largest gap
    const submit: Record<string, number[]> = {};
    const busy: Record<string, number[]> = {};
    const byPhase: Record<string, number[]> = {};
    const phase = async (name: string, mk: (i: number) => Promise<unknown>, verify: () => void): Promise<Gap> => {
      // No forced collection before a burst: W2's timed runs have none
      // either, and the gap is judged as a caller would see it. A collection
      // that falls in a run's largest gap is reported beside it (gcInMaxMs,
      // gcKindsInMax).
      const mon = gapMonitor();
      await sleep(3); // the interval is ticking before the burst
      const t0 = now();
      const ps = range(N).map(mk);
      const t1 = now();
      (submit[name] ??= []).push(t1 - t0);
      // The main thread is busy until the loop turns (settlements run in
      // microtasks, held calls from setImmediate), which setImmediate shows.
      await new Promise<void>((r) => setImmediate(r));
      (busy[name] ??= []).push(now() - t0);
      await Promise.all(ps);
      await sleep(2);
      const g = mon.stop();
      (byPhase[name] ??= []).push(g.max);
      verify();
      return { ...g, loop: g.from <= t0 && g.to >= t1 };
    };
    for (let r = 0; r < runs; r++) {
      const gaps = [
        await phase('addr add', (i) => Address.add(link, `${ipOf(i)}/32`), () => verifyCount('addr', dev, N)),
        await phase('addr del', (i) => Address.delete(link, `${ipOf(i)}/32`), () => verifyCount('addr', dev, 0)),
        await phase('route add', (i) => Route.add({ to: `${ipOf(i)}/32`, dev: link }), () => verifyCount('route', dev, N)),
        await phase('route del', (i) => Route.delete({ to: `${ipOf(i)}/32`, dev: link }), () => verifyCount('route', dev, 0)),
      ];
      worsts.push(gaps.reduce((x, y) => (y.max > x.max ? y : x)));
    }
    await sleep(5); // the observer's last entries
    const perRun = worsts.map((w) => w.max);
    return {
      perRunMaxMs: perRun,
      medianMaxMs: median(perRun),
      worstMs: Math.max(...perRun),
      submitMs: Object.fromEntries(Object.entries(submit).map(([k, v]) => [k, median(v)])),
      busyMs: Object.fromEntries(Object.entries(busy).map(([k, v]) => [k, median(v)])),
      gapByPhase: byPhase,
      maxHeldCallingLoop: worsts.map((w) => w.loop),
      gcInMaxMs: worsts.map((w) => gcs.reduce((t, g) => t + Math.max(0, Math.min(g.end, w.to) - Math.max(g.start, w.from)), 0)),
      gcKindsInMax: worsts.map((w) => [...new Set(gcs.filter((g) => g.end > w.from && g.start < w.to).map((g) => g.kind))]),
    };
  };
  try {
    const first = await measure(c.runs);
    await measure(GAP_SETTLE_RUNS);
    return { ...first, settled: await measure(c.runs), settleRuns: GAP_SETTLE_RUNS };
  } finally {
    obs.disconnect();
  }
}

export interface MemResult {
  ops: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  growthMB: number;
  heapGrowthMB: number;
  /** A second 10,000 operations right after, to tell a one-time warm-up from a leak. */
  secondGrowthMB: number;
  gcExposed: boolean;
}

export async function memory(c: Ctx, link: Link): Promise<MemResult> {
  const dev = link.name;
  const N = W2_N;
  const rounds = 5;
  const pass = async (): Promise<void> => {
    for (let r = 0; r < rounds; r++) {
      await Promise.all(range(N).map((i) => Address.add(link, `${ipOf(i)}/32`)));
      await Promise.all(range(N).map((i) => Address.delete(link, `${ipOf(i)}/32`)));
    }
    verifyCount('addr', dev, 0);
  };
  const MB = 1024 * 1024;
  const snap = () => {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss / MB, heap: m.heapUsed / MB };
  };
  const s0 = snap();
  await pass();
  const s1 = snap();
  await pass();
  const s2 = snap();
  c.log(`  memory: rss ${s0.rss.toFixed(1)} -> ${s1.rss.toFixed(1)} -> ${s2.rss.toFixed(1)} MB`);
  return {
    ops: rounds * 2 * N,
    rssBeforeMB: s0.rss,
    rssAfterMB: s1.rss,
    growthMB: s1.rss - s0.rss,
    heapGrowthMB: s1.heap - s0.heap,
    secondGrowthMB: s2.rss - s1.rss,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
}

// ---------------------------------------------------------------------------
// W3: N Docker bridge-mode containers set up and torn down.

export const W3_N = 50;
const BRIDGE = 'br0';
const SUBNET = '172.18.0.0/16';
const GATEWAY = '172.18.0.1';

function bridgePorts(): number {
  return ipj(undefined, 'link', 'show', 'master', BRIDGE).length;
}

/** Bridge has N ports; every container namespace exists; 5 sampled containers have eth0 up with their address and a default route via the gateway. */
function verifyContainers(names: string[], addrOf: (i: number) => string): void {
  const ports = bridgePorts();
  check(ports === names.length, `bridge ${BRIDGE} has ${names.length} ports, ip shows ${ports}`);
  const ns = netnsNames();
  for (const n of names) check(ns.has(n), `namespace ${n} exists`);
  const k = names.length;
  for (const i of [0, Math.floor(k / 4), Math.floor(k / 2), Math.floor((3 * k) / 4), k - 1]) {
    const n = names[i]!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const eth0 = ipj(n, 'addr', 'show', 'dev', 'eth0')[0] as any;
    check(eth0 !== undefined, `${n}: eth0 exists`);
    check((eth0.flags as string[]).includes('UP'), `${n}: eth0 is up`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const a = (eth0.addr_info as any[]).find((x) => x.family === 'inet');
    check(a !== undefined && `${a.local}/${a.prefixlen}` === addrOf(i), `${n}: eth0 has ${addrOf(i)} (ip shows ${a ? `${a.local}/${a.prefixlen}` : 'none'})`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const d = ipj(n, 'route', 'show', 'default') as any[];
    check(d.length === 1 && d[0].gateway === GATEWAY && d[0].dev === 'eth0', `${n}: default via ${GATEWAY} dev eth0 (ip shows ${JSON.stringify(d)})`);
  }
}

function verifyTornDown(names: string[]): void {
  const ports = bridgePorts();
  check(ports === 0, `bridge ${BRIDGE} has 0 ports after teardown, ip shows ${ports}`);
  const ns = netnsNames();
  const left = names.filter((n) => ns.has(n));
  check(left.length === 0, `no container namespaces left (${left.length} remain)`);
  // The veths are gone too (host ends are the bridge's ports, checked above; nothing else left).
  const v = ipj(undefined, 'link', 'show', 'type', 'veth').length;
  check(v === 0, `no veths left in the host namespace (ip shows ${v})`);
}

export async function w3(c: Ctx): Promise<void> {
  const { R, host } = c;
  const N = W3_N;
  const W = `W3 containers x${N}`;
  const net = await Network.bridge({ name: BRIDGE, subnet: SUBNET, namespace: host, masquerade: false });
  const br = net.bridge;

  const recipeSetup = (names: string[], addr: (i: number) => string): { host: number; containers: number } => {
    const hostMs = ipBatch(undefined, names.flatMap((n, i) => [
      `netns add ${n}`,
      `link add hv${i} type veth peer name hc${i}`,
      `link set hv${i} master ${BRIDGE}`,
      `link set hv${i} up`,
      `link set hc${i} netns ${n}`,
    ]));
    let containers = 0;
    names.forEach((n, i) => {
      containers += ipBatch(n, [`link set hc${i} name eth0`, 'link set eth0 up', 'link set lo up', `addr add ${addr(i)} dev eth0`, `route add default via ${GATEWAY}`]);
    });
    return { host: hostMs, containers };
  };

  try {
    for (let r = 0; r < c.runs; r++) {
      const t = now();
      const order = rotate(['netplumb', 'recipe'], r);
      for (const who of order) {
        if (who === 'netplumb') {
          const names = range(N).map((i) => `np${r}c${i}`);
          const t0 = now();
          const nss = await Promise.all(names.map((n) => Namespace.create(n)));
          const t1 = now();
          const eps = await Promise.all(nss.map((ns) => net.connect(ns)));
          const t2 = now();
          verifyContainers(names, (i) => eps[i]!.address);
          const t3 = now();
          await net.disconnectAll();
          const t4 = now();
          await Promise.all(nss.map((ns) => ns.delete()));
          const t5 = now();
          verifyTornDown(names);
          R.add(W, 'setup', 'netplumb', N, t2 - t0, 'container', 'Namespace.create x50 in flight, then Network.connect x50 in flight');
          R.add(W, 'setup: namespaces', 'netplumb', N, t1 - t0, 'container');
          R.add(W, 'setup: connect', 'netplumb', N, t2 - t1, 'container');
          R.add(W, 'teardown', 'netplumb', N, t5 - t3, 'container', 'net.disconnectAll() + namespace deletes in flight');
          R.add(W, 'teardown: disconnectAll', 'netplumb', N, t4 - t3, 'container');
          R.add(W, 'teardown: ns delete', 'netplumb', N, t5 - t4, 'container');
        } else {
          const addr = (i: number) => `172.18.${100 + (i >> 8)}.${(i & 255) + 2}/16`;
          // Recipe + teardown link by link.
          let names = range(N).map((i) => `ip${r}c${i}`);
          let s = recipeSetup(names, addr);
          verifyContainers(names, addr);
          R.add(W, 'setup', 'ip -batch recipe', N, s.host + s.containers, 'container', 'one host batch + one ip -n NS -batch per container');
          R.add(W, 'setup: host batch', 'ip -batch recipe', N, s.host, 'container');
          R.add(W, 'setup: container batches', 'ip -batch recipe', N, s.containers, 'container');
          const td = ipBatch(undefined, [...range(N).map((i) => `link del hv${i}`), ...names.map((n) => `netns del ${n}`)]);
          verifyTornDown(names);
          R.add(W, 'teardown', 'ip -batch link by link', N, td, 'container', 'link del x50 then netns del x50, one batch');
          // Recipe again (a second setup sample) + teardown by deleting the namespaces only.
          names = range(N).map((i) => `iq${r}c${i}`);
          s = recipeSetup(names, addr);
          verifyContainers(names, addr);
          R.add(W, 'setup', 'ip -batch recipe', N, s.host + s.containers, 'container');
          R.add(W, 'setup: host batch', 'ip -batch recipe', N, s.host, 'container');
          R.add(W, 'setup: container batches', 'ip -batch recipe', N, s.containers, 'container');
          const t0 = now();
          ipBatch(undefined, names.map((n) => `netns del ${n}`));
          const cmd = now() - t0;
          // The veths die with their namespaces, asynchronously: wait until the bridge has no port left.
          while ((await Link.list(host, { master: br })).length > 0) {
            if (now() - t0 > 30000) throw new Error('bridge ports still there 30 s after netns del');
            await sleep(1);
          }
          const gone = now() - t0;
          verifyTornDown(names);
          R.add(W, 'teardown', 'ip -batch netns del only (ports gone)', N, gone, 'container', 'netns del x50; timed until the bridge has no port left');
          R.add(W, 'teardown: netns del cmd', 'ip -batch netns del only', N, cmd, 'container', 'the ip command alone; links still dying');
        }
      }
      c.log(`  W3 run ${r + 1}/${c.runs}: ${(now() - t).toFixed(0)} ms`);
    }
  } finally {
    await net.delete();
  }
  check(!(ipj(undefined, 'link', 'show') as IpLinkJ[]).some((l) => l.ifname === BRIDGE), `bridge ${BRIDGE} removed by net.delete()`);
}

// ---------------------------------------------------------------------------
// W4: dumps of 10,000 routes and 1,000 links.

export const W4_ROUTES = 10000;
export const W4_PAIRS = 500;

export async function w4(c: Ctx): Promise<void> {
  const { R, host } = c;
  // Routes: added with netplumb in flight (untimed), on a veth of their own.
  const pair = await VethPair.create('w4a', { namespace: host, peerName: 'w4b', up: true, peerUp: true });
  try {
    const dev = pair.link;
    await Promise.all(range(W4_ROUTES).map((i) => Route.add({ to: `${ipOf(i)}/32`, dev })));
    verifyCount('route', dev.name, W4_ROUTES);
    const WR = `W4 route dump (${W4_ROUTES})`;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let ipRoutes: any[] = [];
    let npRoutes: Awaited<ReturnType<typeof Route.list>> = [];
    let npNamed: Awaited<ReturnType<typeof Route.list>> = [];
    for (let r = 0; r < c.runs; r++) {
      const peers: [string, () => Promise<void>][] = [
        ['netplumb', async () => {
          const t0 = now();
          npRoutes = await Route.list(host, { family: 4, names: false });
          R.add(WR, 'list', 'netplumb', W4_ROUTES, now() - t0, 'route', "Route.list(ns, { family: 4, names: false })");
        }],
        ['netplumb names', async () => {
          const t0 = now();
          npNamed = await Route.list(host, { family: 4 });
          R.add(WR, 'list', 'netplumb (with dev names)', W4_ROUTES, now() - t0, 'route', 'Route.list(ns, { family: 4 }): one more link dump');
        }],
        ['ip', async () => {
          ipRoutes = ipParsed(['-j', 'route', 'show'], (ms) => R.add(WR, 'list', 'ip -j route show + JSON.parse', W4_ROUTES, ms, 'route'));
        }],
      ];
      for (const [, fn] of rotate(peers, r)) await fn();
      // Same entries.
      check(npRoutes.length === ipRoutes.length, `Route.list ${npRoutes.length} entries, ip ${ipRoutes.length}`);
      check(npNamed.length === ipRoutes.length, `Route.list (names) ${npNamed.length} entries, ip ${ipRoutes.length}`);
      const a = new Set(npRoutes.map((x) => x.to));
      const b = new Set(ipRoutes.map((x) => String(x.dst)));
      check(a.size === b.size && [...b].every((x) => a.has(x)), 'Route.list and ip show the same destinations');
      check(range(W4_ROUTES).every((i) => a.has(ipOf(i))), 'every added destination is listed');
      check(npNamed.every((x) => x.dev === 'w4a'), 'every route is via w4a (names resolved)');
    }
  } finally {
    await pair.link.delete();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  check((ipj(undefined, 'route', 'show') as any[]).length === 0, 'the routes went with their link');

  // Links: 500 veth pairs (1,000 links), created with netplumb in flight, removed with one group delete.
  const G = 4343;
  await Promise.all(range(W4_PAIRS).map((i) => VethPair.create(`la${i}`, { namespace: host, peerName: `lb${i}`, group: G })));
  try {
    const expectN = W4_PAIRS * 2;
    const ipNames = () => (ipj(undefined, 'link', 'show') as IpLinkJ[]).map((l) => l.ifname);
    check(ipNames().filter((n) => /^l[ab]\d+$/.test(n)).length === expectN, `${expectN} links present`);
    const WL = `W4 link dump (${expectN}+lo)`;
    let ipLinks: IpLinkJ[] = [];
    let npLinks: Link[] = [];
    const total = ipNames().length;
    for (let r = 0; r < c.runs; r++) {
      const peers: [string, () => Promise<void>][] = [
        ['netplumb', async () => {
          const t0 = now();
          npLinks = await Link.list(host);
          R.add(WL, 'list', 'netplumb', total, now() - t0, 'link', 'Link.list(ns)');
        }],
        ['ip', async () => {
          ipLinks = ipParsed(['-j', 'link', 'show'], (ms) => R.add(WL, 'list', 'ip -j link show + JSON.parse', total, ms, 'link'));
        }],
        ['ip -d', async () => {
          ipParsed(['-j', '-d', 'link', 'show'], (ms) => R.add(WL, 'list', 'ip -j -d link show + JSON.parse', total, ms, 'link', 'with kind details, as Link.list has'));
        }],
      ];
      for (const [, fn] of rotate(peers, r)) await fn();
      const a = npLinks.map((l) => l.name).sort();
      const b = ipLinks.map((l) => l.ifname).sort();
      check(a.length === b.length && a.every((x, i) => x === b[i]), `Link.list and ip show the same ${b.length} names`);
      check(npLinks.filter((l) => l.kind === 'veth').length === expectN, `Link.list shows ${expectN} veths`);
    }
  } finally {
    await Link.deleteGroup(host, G);
  }
  verifyNoVeths();
}
