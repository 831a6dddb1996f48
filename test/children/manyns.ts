// Many namespaces open at once, run by test/integration/threads.test.ts and
// by `npm run bench:namespaces` (bench/namespaces.ts): the process's threads
// and memory must not grow with them, and each must still work.
//
// argv: PREFIX N
//   Creates PREFIX0 … PREFIX<N-1> (Namespace.create), adds 10.X.Y.1/32 to
//   the loopback of each (one request in each), counts this process's threads
//   (/proc/self/task) and RSS while all are open, and closes them (the names
//   stay under /run/netns: the caller checks them with `ip` and removes them).
// Prints one JSON line (ManyNsReport).
import * as fs from 'node:fs';

import { Address, Namespace } from '../../lib';

export interface ManyNsReport {
  n: number;
  cores: number;
  /** Threads of this process after loading the library, before any namespace. */
  threadsBefore: number;
  /** With all N open, each having answered a request. */
  threadsOpen: number;
  /** Peak during the run (sampled every 10 ms). */
  threadsPeak: number;
  rssBeforeMB: number;
  rssOpenMB: number;
  openMs: number;
  opMs: number;
  /** The address added in namespace i. */
  addresses: string[];
  failures: string[];
}

const threads = (): number => fs.readdirSync('/proc/self/task').length;
const rssMB = (): number => Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10;
export const addressOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 0}`;

async function main(): Promise<void> {
  const [prefix, nArg] = process.argv.slice(2) as [string, string];
  const n = Number(nArg);
  // The library and its addon loaded (and libuv's pool started), before any namespace.
  await (await Namespace.current()).close();
  const report: ManyNsReport = {
    n,
    cores: (await import('node:os')).availableParallelism(),
    threadsBefore: threads(),
    threadsOpen: 0,
    threadsPeak: 0,
    rssBeforeMB: rssMB(),
    rssOpenMB: 0,
    openMs: 0,
    opMs: 0,
    addresses: [],
    failures: [],
  };
  const sampler = setInterval(() => (report.threadsPeak = Math.max(report.threadsPeak, threads())), 10);
  const open: Namespace[] = new Array<Namespace>(n);
  const t0 = performance.now();
  // 64 creates in flight at a time: the kernel serializes them anyway.
  for (let base = 0; base < n; base += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, n - base) }, async (_, k) => {
        const i = base + k;
        open[i] = await Namespace.create(`${prefix}${i}`);
      }),
    );
  }
  const t1 = performance.now();
  // One request in each, all open at once.
  for (let base = 0; base < n; base += 256) {
    await Promise.all(
      Array.from({ length: Math.min(256, n - base) }, async (_, k) => {
        const i = base + k;
        try {
          await Address.add(open[i]!.loopback, `${addressOf(i)}/32`);
        } catch (e) {
          report.failures.push(`${prefix}${i}: ${String(e)}`);
        }
      }),
    );
  }
  report.opMs = Math.round(performance.now() - t1);
  report.openMs = Math.round(t1 - t0);
  report.threadsOpen = threads();
  report.threadsPeak = Math.max(report.threadsPeak, report.threadsOpen);
  clearInterval(sampler);
  global.gc?.();
  report.rssOpenMB = rssMB();
  report.addresses = Array.from({ length: n }, (_, i) => addressOf(i));
  await Promise.all(open.map((ns) => ns.close()));
  process.stdout.write(JSON.stringify(report) + '\n');
}

// Run as a program, not when a test imports addressOf.
if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`manyns: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
