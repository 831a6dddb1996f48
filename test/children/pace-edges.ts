// Lifetime edges of pacing and sliced settlement, run by
// test/integration/pace-redteam.test.ts in a plain node on dist/.
//
// argv: MODE NAME
//   forget   creates namespace NAME, fires 2000 Address.add on lo without
//            awaiting any, prints { name, held } and returns: the process must
//            stay up until every request is made (the parent counts them).
//   exit     2000 Address.add awaited, the namespace deleted, prints
//            { settled }: the process must then exit at once (exit 3 if an
//            unref'd 2 s timer finds it still up).
//   fakeimm  replaces the global setImmediate with one that never runs (as
//            fake timers installed after the library loaded do), then 2000
//            Address.add at once: prints { outcome, settled }.
//   fakemicro replaces the global queueMicrotask with one that never runs
//            (as jest.useFakeTimers() does by default) before the first
//            request, then Address.add awaited and 200 at once: prints
//            { outcome, settled }.
//   midexit  3000 Address.add; process.exit(0) from the 100th settlement's
//            continuation, with settlements sliced and requests still held.
//   workers  4 workers, each firing 3000 Address.add in its own namespace
//            NAME<k>, terminated after 0, 100, 1000 and 2000 have settled;
//            prints { terminated: [{ code, settled }] }.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { Address, Namespace } from '../../lib';

const ipOf = (i: number): string => `10.62.${(i >> 8) & 255}.${i & 255}`;

async function burst(ns: Namespace, n: number, onSettled: (k: number) => void): Promise<unknown[]> {
  await ns.loopback.up();
  const lo = ns.loopback;
  let k = 0;
  return Promise.all(Array.from({ length: n }, (_, i) => Address.add(lo, `${ipOf(i)}/32`).then(() => onSettled(++k))));
}

interface Job {
  name: string;
  after: number;
  settled: SharedArrayBuffer;
}

async function inWorker(job: Job): Promise<void> {
  const ns = await Namespace.create(job.name);
  const settled = new Int32Array(job.settled);
  const p = burst(ns, 3000, (k) => {
    Atomics.store(settled, 0, k);
    if (k === job.after) parentPort?.postMessage('now');
  });
  if (job.after === 0) {
    // Right after the caller's loop: most of the burst is held by lib/pace.ts.
    await new Promise((r) => setImmediate(r));
    parentPort?.postMessage('now');
  }
  setInterval(() => undefined, 1000); // the exit must be terminate()'s
  await p;
}

function runWorker(job: Job): Promise<{ code: number; settled: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: job });
    let settled = -1;
    w.on('error', reject);
    w.on('message', () => {
      settled = Atomics.load(new Int32Array(job.settled), 0);
      void w.terminate();
    });
    w.on('exit', (code) => resolve({ code, settled }));
  });
}

async function main(): Promise<void> {
  const [mode, name] = [process.argv[2] as string, process.argv[3] as string];
  if (mode === 'forget') {
    const ns = await Namespace.create(name);
    await ns.loopback.up();
    const lo = ns.loopback;
    for (let i = 0; i < 2000; i++) void Address.add(lo, `${ipOf(i)}/32`);
    console.log(JSON.stringify({ name, held: 2000 - ns.handle.pending }));
    return;
  }
  if (mode === 'exit') {
    const ns = await Namespace.create(name);
    let settled = 0;
    await burst(ns, 2000, () => void settled++);
    await ns.delete();
    console.log(JSON.stringify({ settled }));
    setTimeout(() => {
      console.log('still up 2 s after the last request settled');
      process.exit(3);
    }, 2000).unref();
    return;
  }
  if (mode === 'fakeimm') {
    const ns = await Namespace.create(name);
    await ns.loopback.up();
    // As fake timers installed after the library loaded do: a setImmediate that never runs its callback.
    const realSetTimeout = setTimeout;
    globalThis.setImmediate = (() => ({})) as unknown as typeof setImmediate;
    let settled = 0;
    const all = burst(ns, 2000, () => void settled++);
    const outcome = await Promise.race([all.then(() => 'done'), new Promise((r) => realSetTimeout(() => r('hung'), 10_000))]);
    console.log(JSON.stringify({ outcome, settled }));
    process.exit(0);
  }
  if (mode === 'fakemicro') {
    const realSetTimeout = setTimeout;
    globalThis.queueMicrotask = (() => undefined) as typeof queueMicrotask;
    let settled = 0;
    const run = async (): Promise<void> => {
      const ns = await Namespace.create(name);
      await ns.loopback.up();
      await Address.add(ns.loopback, '10.62.255.1/32');
      settled++;
      await burst(ns, 200, () => void settled++);
    };
    const outcome = await Promise.race([run().then(() => 'done'), new Promise((r) => realSetTimeout(() => r('hung'), 5_000))]);
    console.log(JSON.stringify({ outcome, settled }));
    process.exit(0);
  }
  if (mode === 'midexit') {
    const ns = await Namespace.create(name);
    void burst(ns, 3000, (k) => {
      if (k === 100) {
        console.log(JSON.stringify({ exitAt: k, pending: ns.handle.pending }));
        process.exit(0);
      }
    });
    return;
  }
  const terminated = [];
  const afters = [0, 100, 1000, 2000];
  for (let k = 0; k < afters.length; k++)
    terminated.push(await runWorker({ name: `${name}${k}`, after: afters[k] as number, settled: new SharedArrayBuffer(4) }));
  for (let k = 0; k < afters.length; k++) await Namespace.delete(`${name}${k}`);
  console.log(JSON.stringify({ terminated }));
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  inWorker(workerData as Job).catch((e: unknown) => {
    parentPort?.postMessage({ error: String(e) });
  });
}
