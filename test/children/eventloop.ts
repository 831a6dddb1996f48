// The burst of test/integration/eventloop.test.ts, in a plain `node` on dist/
// as a user's program runs it (under jest, ts-jest's module wrapping and the
// runner's own work would be measured too).
//
// argv: PREFIX ROUNDS PAIRS ADDRS4 ADDRS6
// Each round creates namespace PREFIX<round> with a bridge br0, warms the paths
// up, then issues PAIRS veth pairs + ADDRS4 + ADDRS6 addresses on br0 in one
// synchronous loop and awaits them all, while a 1 ms interval timer records
// the gaps between its ticks. The namespaces are closed, not deleted: the
// parent checks them with `ip` and deletes them.
//
// Two windows per round:
//   issuing    the caller's own synchronous loop of calls (validation, staging);
//              no timer can fire inside it, whatever the library does later
//   in flight  from the end of that loop until the last promise settled: here
//              the kernel works on the namespace's I/O thread and completions
//              are settled at most 64 (or 0.5 ms) per turn; the gaps are the library's
// Before each burst, the same timer runs IDLE_MS with nothing to do: the
// machine's own noise floor.
// Prints one JSON line: per round { issueMs, totalMs, inflight: { maxGap, ticks,
// pendingAtFirstTick }, idleMaxGap, failures }.
import { performance } from 'node:perf_hooks';

import { Bridge, Namespace, VethPair } from '../../lib';

const [prefix, ROUNDS, PAIRS, ADDRS4, ADDRS6] = [process.argv[2] as string, ...process.argv.slice(3).map(Number)] as [string, number, number, number, number];

export interface Round {
  ns: string;
  issueMs: number;
  totalMs: number;
  inflight: { maxGap: number; ticks: number; pendingAtFirstTick: number };
  /** The largest gap of the same timer over IDLE_MS with nothing to do: what the machine alone costs. */
  idleMaxGap: number;
  failures: string[];
}

const IDLE_MS = 60;

async function round(name: string): Promise<Round> {
  const ns = await Namespace.create(name);
  try {
    const br = await Bridge.create('br0', { namespace: ns });
    // Warm up the same paths in a smaller burst: measure the steady state, not the JIT.
    const warm = await Promise.all(Array.from({ length: 10 }, (_, i) => VethPair.create(`wa${i}`, { namespace: ns, peerName: `wb${i}` })));
    await Promise.all(Array.from({ length: 20 }, (_, i) => br.addAddress(`10.200.0.${i + 1}/32`)));
    await Promise.all(warm.map((p) => p.delete()));
    await Promise.all(Array.from({ length: 20 }, (_, i) => br.removeAddress(`10.200.0.${i + 1}/32`)));

    let pending = 0;
    let measuring = false;
    let maxGap = 0;
    let ticks = 0;
    let pendingAtFirstTick = -1;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (measuring) {
        maxGap = Math.max(maxGap, now - last);
        ticks++;
        if (pendingAtFirstTick < 0) pendingAtFirstTick = pending;
      }
      last = now;
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    // The noise floor: the same timer, nothing else to do.
    measuring = true;
    last = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    measuring = false;
    const idleMaxGap = maxGap;
    maxGap = 0;
    ticks = 0;
    pendingAtFirstTick = -1;

    const t0 = performance.now();
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < PAIRS; i++) ops.push(VethPair.create(`va${i}`, { namespace: ns, peerName: `vb${i}` }));
    for (let i = 0; i < ADDRS4; i++) ops.push(br.addAddress(`10.77.${i >> 8}.${(i & 255) + 1}/16`));
    for (let i = 0; i < ADDRS6; i++) ops.push(br.addAddress(`fd00:77::${(i + 1).toString(16)}/64`, { nodad: true }));
    pending = ops.length;
    const tracked = ops.map((p) => p.finally(() => pending--));
    const t1 = performance.now();
    measuring = true;
    last = t1;
    const results = await Promise.allSettled(tracked);
    const t2 = performance.now();
    maxGap = Math.max(maxGap, t2 - last);
    measuring = false;
    clearInterval(timer);
    return {
      ns: name,
      issueMs: t1 - t0,
      totalMs: t2 - t0,
      inflight: { maxGap, ticks, pendingAtFirstTick },
      idleMaxGap,
      failures: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason)),
    };
  } finally {
    await ns.close();
  }
}

async function main(): Promise<void> {
  const rounds: Round[] = [];
  for (let k = 0; k < ROUNDS; k++) rounds.push(await round(`${prefix}${k}`));
  console.log(JSON.stringify({ rounds }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
