// Cross-process locks for state that several processes change (a network's
// address leases): an exclusive flock(2) on a file under /run/netplumb, which
// the kernel releases when the holder closes it or dies (SIGKILL included),
// so a crashed holder never leaves it taken. Taken without blocking the event
// loop: the native call never waits (LOCK_NB) and this module polls.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as after } from 'node:timers';

import { ErrorCodes as C, NetlinkError, NetplumbError } from './errors';
import { native } from './native';

// The clock and the timer of node:perf_hooks and node:timers, not the
// globals: a test's fake timers replace those (Date, performance, setTimeout),
// and a faked timer that never fired would leave the wait for a lock, freed
// since, waiting for good (a faked clock, its timeout never reached).
const clock = (): number => performance.now();

/** netplumb's runtime state: a tmpfs, gone at reboot like the kernel objects it guards. */
export const RUN_DIR = '/run/netplumb';
let madeRunDir = false;

/**
 * Runs `fn` holding the lock `name` (file RUN_DIR/NAME.lock), shared with every
 * process of the machine (every mount namespace that shares /run). Waits for
 * it at most `timeoutMs`: then ERR_LOCK_TIMEOUT. A held lock always has a live
 * holder (the kernel drops a dead one's), so the wait is for work in progress:
 * 200 connects queued on one network on a loaded 2-core machine took over 30 s
 * (the old limit), hence 2 minutes.
 */
export async function withLock<T>(name: string, what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  if (!madeRunDir) {
    try {
      fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o700 });
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      throw new NetlinkError({ native: true, errno: x.errno ?? -1, syscall: 'mkdir', detail: x.message }, `the directory of netplumb's lock files, ${RUN_DIR}, for ${what}`);
    }
    madeRunDir = true;
  }
  const path = `${RUN_DIR}/${name}.lock`;
  const deadline = clock() + timeoutMs;
  let fd: number;
  for (let wait = 0.5; ; wait = Math.min(wait * 2, 16)) {
    const r = native().tryLock(path);
    if (typeof r !== 'number') throw new NetlinkError(r, `lock ${path} for ${what}`);
    if (r >= 0) {
      fd = r;
      break;
    }
    if (clock() >= deadline)
      throw new NetplumbError(C.LOCK_TIMEOUT, `${what}: the lock ${path} was still held by another process after ${timeoutMs} ms`, { value: path });
    await new Promise((resolve) => after(resolve, wait * (0.5 + Math.random())));
  }
  try {
    return await fn();
  } finally {
    fs.closeSync(fd);
  }
}
