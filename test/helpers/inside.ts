// Helpers for the "work inside a namespace" integration tests (spawn, sockets,
// sysctl, attach): child-process bookkeeping and small oracles.
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** `readlink /proc/PID/ns/net` ('net:[4026532...]'). */
export function netnsLink(pid: number | 'self' | 'thread-self'): string {
  return fs.readlinkSync(`/proc/${pid}/ns/net`);
}

/** The inode number in a 'net:[N]' link. */
export function inodeOfLink(link: string): number {
  const m = /^net:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`not a netns link: ${link}`);
  return Number(m[1]);
}

/** `ip netns identify PID`: the names under /run/netns of PID's namespace. */
export function identify(pid: number): string[] {
  const r = spawnSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns identify ${pid}: ${r.stderr}`);
  return r.stdout.split(/\s+/).filter(Boolean).sort();
}

/** Resolves with (code, signal) when the child exits; at once if it already has. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', reject);
  });
}

/** True while a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Children spawned by a test: `reap()` kills whatever still runs and waits for it to be reaped. */
export class Children {
  private readonly all: ChildProcess[] = [];

  track<C extends ChildProcess>(c: C): C {
    this.all.push(c);
    return c;
  }

  get pids(): number[] {
    return this.all.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  async reap(): Promise<void> {
    const list = this.all.splice(0);
    await Promise.all(
      list.map(async (c) => {
        if (c.pid === undefined) return; // never started (spawn error)
        if (c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }),
    );
  }
}

/** Polls `fn` until it returns a value (not undefined) or throws past the deadline. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000, step = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Reads a whole readable stream as UTF-8. */
export function readAll(stream: NodeJS.ReadableStream | null | undefined): Promise<string> {
  if (!stream) return Promise.reject(new Error('no stream'));
  return new Promise((resolve, reject) => {
    let s = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (s += d));
    stream.on('end', () => resolve(s));
    stream.on('error', reject);
  });
}
