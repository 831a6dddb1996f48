// Worker threads, run by test/integration/workers.test.ts in a plain node on dist/.
//
// argv: PREFIX ROUNDS
// Main thread: ROUNDS times, a worker creates namespace PREFIX<k>w, adds 100
// routes one by one and 400 in flight, reports the count `ip` lists, deletes the
// namespace and ends; then ROUNDS workers that are terminated while 300 veth
// requests are in flight in namespace PREFIX<k>t (the main thread deletes
// those afterwards). Each worker loads its own copy of the addon's state; the
// library is unloaded with the last of them unless the main thread holds it.
// Prints one JSON line: { finished, terminated, and the threads and fds before
// and after the terminated ones }.
import { execFileSync } from 'node:child_process';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { Namespace, Route, VethPair, Watcher } from '../../lib';
import { fdCount } from '../helpers/oracle';
import { threadCount, waitFor } from '../helpers/reliability';

interface Job {
  name: string;
  mode: 'finish' | 'terminate';
  /** One Int32: how many of the worker's requests have settled (terminate mode). */
  settled: SharedArrayBuffer;
}

async function inWorker(job: Job): Promise<void> {
  const ns = await Namespace.create(job.name);
  await ns.loopback.up();
  if (job.mode === 'terminate') {
    // A watcher open too: its socket must be closed when the worker is terminated.
    const watcher = await Watcher.open(ns);
    watcher.on('event', () => undefined);
    const settled = new Int32Array(job.settled);
    // 300 veth pairs (about 0.4 ms of kernel work each): still going when terminate() lands.
    const ops = Array.from({ length: 300 }, (_, i) => VethPair.create(`t${i}`, { namespace: ns, peerName: `u${i}` }).finally(() => Atomics.add(settled, 0, 1)));
    parentPort?.postMessage({ started: ops.length });
    // Stay until terminated, even if every request settles first: the exit must be terminate()'s.
    setInterval(() => undefined, 1000);
    await Promise.allSettled(ops);
    return;
  }
  for (let i = 0; i < 100; i++) await Route.add({ namespace: ns, to: `10.1.${i}.0/24`, dev: ns.loopback });
  await Promise.all(Array.from({ length: 400 }, (_, i) => Route.add({ namespace: ns, to: `10.2.${i >> 8}.${i & 255}/32`, dev: ns.loopback })));
  // Counted by the oracle, not by the library.
  const routes = (JSON.parse(execFileSync('ip', ['-n', job.name, '-j', 'route', 'show'], { encoding: 'utf8' })) as { dst: string }[]).filter((r) =>
    r.dst.startsWith('10.'),
  ).length;
  await ns.delete();
  parentPort?.postMessage({ routes });
}

/** Runs one job in a worker; in terminate mode, terminates it on its first message and reports how many requests had settled by then. */
function run(name: string, mode: Job['mode']): Promise<{ message: unknown; code: number; settledAtTerminate?: number }> {
  return new Promise((resolve, reject) => {
    const job: Job = { name, mode, settled: new SharedArrayBuffer(4) };
    const w = new Worker(__filename, { workerData: job });
    let message: unknown;
    let settledAtTerminate: number | undefined;
    w.on('error', reject);
    w.on('message', (m: unknown) => {
      message = m;
      if (mode === 'terminate') {
        settledAtTerminate = Atomics.load(new Int32Array(job.settled), 0);
        void w.terminate();
      }
    });
    w.on('exit', (code) => resolve({ message, code, ...(settledAtTerminate !== undefined ? { settledAtTerminate } : {}) }));
  });
}

async function main(): Promise<void> {
  const [prefix, rounds] = [process.argv[2] as string, Number(process.argv[3])];
  const finished = [];
  for (let k = 0; k < rounds; k++) finished.push(await run(`${prefix}${k}w`, 'finish'));
  const base = { threads: threadCount(), fds: fdCount() };
  const terminated = [];
  for (let k = 0; k < rounds; k++) terminated.push(await run(`${prefix}${k}t`, 'terminate'));
  // A terminated worker's I/O threads close their sockets and end on their own.
  const back = await waitFor(() => threadCount() <= base.threads && fdCount() <= base.fds, 3000);
  const after = { threads: threadCount(), fds: fdCount(), back };
  // What the terminated workers left: their namespaces, removed from here.
  for (let k = 0; k < rounds; k++) await Namespace.delete(`${prefix}${k}t`);
  console.log(JSON.stringify({ finished, terminated, base, after }));
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
