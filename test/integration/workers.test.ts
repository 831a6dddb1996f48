// The library in worker threads (test/children/workers.ts, a plain node on
// dist/): workers that finish and workers terminated with 300 veth pairs in
// flight and a Watcher open. Node unloads an addon when the last environment that loaded it ends;
// before the addon pinned itself in memory, the event-loop handle's close
// callback ran from unmapped code and the process died with SIGSEGV.
import * as fs from 'node:fs';

import { NETNS_RUN_DIR } from '../../lib';
import { removeNamespacesStartingWith, runChild } from '../helpers/child';
import { uniq } from '../helpers/oracle';

const ROUNDS = 3;

const prefix = uniq('wk');

// A child that crashed (what this test guards against) cannot clean up after itself.
afterAll(() => removeNamespacesStartingWith(prefix));

it(`${ROUNDS} workers create, configure and delete a namespace; ${ROUNDS} more are terminated mid-flight: no threads or fds left, the process exits cleanly`, () => {
  const before = fs.readdirSync(NETNS_RUN_DIR).sort();
  type Run = { message: unknown; code: number; settledAtTerminate?: number };
  type Figures = { threads: number; fds: number };
  const r = runChild<{ finished: Run[]; terminated: Run[]; base: Figures; after: Figures & { back: boolean } }>('workers', [prefix, String(ROUNDS)], { timeoutMs: 60_000 });
  if (r.status !== 0) console.log(`workers child: status ${r.status}, signal ${r.signal}\n${r.stdout}\n${r.stderr}`);
  expect({ status: r.status, signal: r.signal, error: r.error, stderr: r.stderr }).toEqual({ status: 0, signal: null, error: undefined, stderr: '' });
  const m = r.report!;
  // 100 /24 routes one by one and 400 /32 routes in flight, listed back by each worker.
  expect(m.finished).toEqual(Array.from({ length: ROUNDS }, () => ({ message: { routes: 500 }, code: 0 })));
  // Terminated: they had started 300 veth pairs; terminate() ends a worker with code 1.
  expect(m.terminated.map((x) => ({ message: x.message, code: x.code }))).toEqual(Array.from({ length: ROUNDS }, () => ({ message: { started: 300 }, code: 1 })));
  // And at least once, requests were still in flight when it was terminated.
  const settled = m.terminated.map((x) => x.settledAtTerminate as number);
  expect(Math.min(...settled)).toBeLessThan(300);
  // Their I/O threads ended and closed their sockets and namespace fds.
  console.log(`workers: threads ${m.base.threads} -> ${m.after.threads}, fds ${m.base.fds} -> ${m.after.fds} around ${ROUNDS} terminated workers; requests settled when each was terminated: ${settled.join(', ')} of 300`);
  expect(m.after.back).toBe(true);
  expect(fs.readdirSync(NETNS_RUN_DIR).sort()).toEqual(before);
});
