// Plain `node` children on the compiled library (dist/, compiled once per run by
// test/setup/compile.js), as a user's program runs it: for measurements that jest's own work would distort (event-loop
// gaps, memory) and for programs that must exit or die mid-way.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace, NETNS_RUN_DIR } from '../../lib';

export const ROOT = path.join(__dirname, '..', '..');
export const DIST_INDEX = path.join(ROOT, 'dist', 'lib', 'index.js');

export interface ChildRun<R> {
  /** Why the child could not be run or was killed (ETIMEDOUT at the timeout), if so. */
  error: string | undefined;
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The last line of stdout, parsed as JSON (undefined if it is not JSON). */
  report: R | undefined;
  stdout: string;
}

/**
 * Runs dist/test/children/NAME.js in a plain node (with `nodeArgs`, e.g. --expose-gc,
 * and under `ulimit` shell limits) and parses the JSON line it prints last.
 */
export function runChild<R>(
  name: string,
  args: string[],
  opts: { nodeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv; ulimit?: string } = {},
): ChildRun<R> {
  const js = path.join(ROOT, 'dist', 'test', 'children', `${name}.js`);
  const argv = [...(opts.nodeArgs ?? []), js, ...args];
  // With `ulimit` (e.g. '-v 1200000'), node runs under that shell limit: `sh -c 'ulimit …; exec node …'`.
  const [file, fileArgs] = opts.ulimit === undefined ? [process.execPath, argv] : ['sh', ['-c', `ulimit ${opts.ulimit} && exec "$0" "$@"`, process.execPath, ...argv]];
  const r = spawnSync(file, fileArgs, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
    env: opts.env ?? process.env,
    maxBuffer: 64 * 2 ** 20,
  });
  const stdout = r.stdout ?? '';
  let report: R | undefined;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as R;
  } catch {
    report = undefined;
  }
  return { error: r.error ? String(r.error) : undefined, status: r.status, signal: r.signal, stderr: r.stderr ?? '', stdout, report };
}

/** Deletes every /run/netns entry whose name starts with `prefix` (what a killed child left). */
export async function removeNamespacesStartingWith(prefix: string): Promise<void> {
  const left = fs.readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(prefix));
  await Promise.allSettled(left.map((n) => Namespace.delete(n)));
}
