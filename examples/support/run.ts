// What every example shares: timed steps, one ping through `ip netns exec`
// (the example's own check, not part of the library), the checks that failed,
// and the ending (exit code, namespaces left).
import { spawnSync } from 'node:child_process';

import { Namespace } from '../../lib';

const t0 = process.hrtime.bigint();

/** Prints `what` with the time since the start. */
export function step(what: string): void {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`[${ms.toFixed(1).padStart(7)} ms] ${what}`);
}

/** One ping from namespace `ns` to `target`, waiting `waitSec` for the answer. */
export function ping(ns: string, target: string, waitSec = 2): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', String(waitSec), target], { stdio: 'ignore' }).status === 0;
}

/** `check(ok, what)` records what failed; `report()` prints it (or that all passed) and gives the exit code. */
export function checks(): { check: (ok: boolean, what: string) => void; report: () => number } {
  const problems: string[] = [];
  return {
    check: (ok, what) => {
      if (!ok) problems.push(what);
    },
    report: () => {
      if (problems.length) console.log('\nPROBLEMS:\n' + problems.map((p) => '  - ' + p).join('\n'));
      else step('all checks passed');
      return problems.length ? 1 : 0;
    },
  };
}

/** Runs `main`; then prints the namespaces left and exits with its code (1 if it threw). */
export function run(main: () => Promise<number>): void {
  main().then(
    async (code) => {
      console.log(`namespaces left: ${JSON.stringify(await Namespace.list())}`);
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
