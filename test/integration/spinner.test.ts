// The event loop's Spinner (src/spinner.hpp): while an answer is due, the
// event loop polls instead of sleeping in epoll_wait, up to 1 ms after the
// hand-over; once every answer is in, it stops. Sleeping costs a wake-up,
// which on a 2-vCPU VM can take half a millisecond (the idle vCPU halts in
// the hypervisor): an awaited loop paid it on every call.
//
// Whether the JS thread slept is read from the kernel: its
// voluntary_ctxt_switches in /proc (a sched_yield while polling is not one).
import * as fs from 'node:fs';
import { Namespace, Route, VethPair, type Link } from '../../lib';
import { inSandbox, uniq } from '../helpers/oracle';
import { quietKernel } from '../helpers/quiet';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const NS = uniq('spin');
let ns: Namespace;
let link: Link;

/** Times the JS thread (the main thread: tid = pid) has slept so far. */
function sleeps(): number {
  const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8'));
  if (!m) throw new Error('no voluntary_ctxt_switches in /proc/self/task/PID/status');
  return Number(m[1]);
}

const now = (): number => performance.now();
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
const ipOf = (i: number): string => `10.${70 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

beforeAll(async () => {
  ns = await Namespace.create(NS);
  link = (await VethPair.create('sp0', { namespace: ns, peerName: 'sp0p', up: true, peerUp: true })).link;
  // What the previous test files left for the kernel to clean up would show here as sleeps.
  const { waitedMs } = await quietKernel(link);
  if (waitedMs > 100) console.log(`spinner: waited ${waitedMs.toFixed(0)} ms for a quiet kernel`);
});

afterAll(async () => {
  await ns?.delete();
});

it('while a dump is out, the JS thread does not sleep', async () => {
  // A dump of 200 routes: its answer takes the I/O thread a few hundred
  // microseconds, longer than the old 50 µs of polling, shorter than 1 ms.
  await Promise.all(Array.from({ length: 200 }, (_, i) => Route.add({ to: ipOf(i), dev: link })));
  const slept: number[] = [];
  const tookUs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = sleeps();
    const t = now();
    await Route.list(ns);
    tookUs.push(Math.round((now() - t) * 1000));
    slept.push(sleeps() - s);
  }
  console.log(`spinner: a 200-route dump, µs per try ${tookUs.join(', ')} (settling included); slept ${slept.join(', ')}`);
  // Not every try: the machine's other threads may still make this one wait on a lock now and then.
  expect(Math.min(...slept)).toBe(0);
});

it('once every answer is in, the event loop stops polling', async () => {
  // Time the event loop was not waiting in epoll_wait (ELU's "active") over a
  // 30 ms timer right after an awaited call, against the same wait after no
  // call: polling on to the 1 ms cap would add about 1 ms.
  const active = async (): Promise<number> => {
    const a = performance.eventLoopUtilization().active;
    await new Promise((r) => setTimeout(r, 30));
    return performance.eventLoopUtilization().active - a;
  };
  const extra: number[] = [];
  for (let i = 0; i < 9; i++) {
    const idle = await active();
    // A link request: an address or route would be answered on this thread
    // (src/spinner.hpp Spinner::here), with no hand-over to poll after.
    await link.refresh();
    extra.push((await active()) - idle);
  }
  console.log(`spinner: event loop active after an awaited call, minus after none, ms: ${extra.map((x) => x.toFixed(2)).join(', ')}`);
  expect(median(extra)).toBeLessThan(0.35);
});
