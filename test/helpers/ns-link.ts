// Helpers for the namespace / link / veth / bridge integration tests.
// Namespaces are tracked so that every test can clean up, whatever happens.
import { rejection } from './addr-route';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { Namespace } from '../../lib';
import { ip, uniq } from './oracle';

/** Namespaces (ours and iproute2's) made by one test; `cleanup()` removes all of them. */
export class NsTracker {
  private readonly ours: Namespace[] = [];
  private readonly ipMade: string[] = [];
  private readonly closers: Namespace[] = [];

  /** Namespace.create(uniq(prefix)), deleted by cleanup(). */
  async create(prefix = 'nl'): Promise<Namespace> {
    const ns = await Namespace.create(uniq(prefix));
    this.ours.push(ns);
    return ns;
  }

  /** `ip netns add NAME` (iproute2's own), deleted by cleanup(). */
  ipAdd(prefix = 'ipn'): string {
    const name = uniq(prefix);
    ip(undefined, 'netns', 'add', name);
    this.ipMade.push(name);
    return name;
  }

  /** An extra Namespace object to close in cleanup() (opened namespaces, moveTo(pid) results). */
  closeLater(ns: Namespace): Namespace {
    this.closers.push(ns);
    return ns;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((ns) => ns.close()));
    const ours = this.ours.splice(0);
    await Promise.allSettled(ours.map((ns) => ns.delete()));
    // Whatever delete() did (a closed one may keep its name), leave no name behind.
    for (const name of [...ours.map((ns) => ns.name as string), ...this.ipMade.splice(0)])
      if (fs.existsSync(`/run/netns/${name}`)) spawnSync('ip', ['netns', 'delete', name]);
  }
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return (await rejection(p)) as Error & Record<string, unknown>;
}

/** Link names of a namespace per the oracle, sorted. */
export function oracleNames(ns: string): string[] {
  return (JSON.parse(ip(ns, '-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname).sort();
}

/** Inode of a namespace file (/run/netns/NAME, /proc/PID/ns/net). */
export function nsInode(path: string): number {
  return fs.statSync(path).ino;
}

/** Starts `ip netns exec NAME sleep 30` and waits until the process is inside NAME. */
export async function sleeperIn(nsName: string): Promise<ChildProcess & { pid: number }> {
  const child = spawn('ip', ['netns', 'exec', nsName, 'sleep', '30'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not start ip netns exec');
  const want = nsInode(`/run/netns/${nsName}`);
  const deadline = Date.now() + 5000;
  for (;;) {
    let ino: number | undefined;
    try {
      ino = nsInode(`/proc/${child.pid}/ns/net`);
    } catch {
      ino = undefined;
    }
    // ip netns exec execs sleep in place: same pid, once it has entered the namespace.
    if (ino === want && fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep') break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`process ${child.pid} never entered namespace ${nsName}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child as ChildProcess & { pid: number };
}

/** Kills a child by pid and waits for it to be reaped. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** A pid with no process behind it (checked in /proc). */
export function unusedPid(): number {
  const max = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
  for (let p = max - 1; p > max - 1000; p--) if (!fs.existsSync(`/proc/${p}`)) return p;
  throw new Error('no free pid found');
}

/**
 * `ip -n NS monitor link`, started and proven to be listening (a canary link
 * must show up) before `fn` runs, and proven to have seen everything up to the
 * end of `fn` (a second canary). Returns the interface names of every link
 * event seen in between (canaries excluded).
 */
export async function linkNamesSeenDuring(nsName: string, fn: () => Promise<void>): Promise<string[]> {
  const mon = spawn('ip', ['-n', nsName, '-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  mon.stdout!.setEncoding('utf8');
  mon.stdout!.on('data', (d: string) => (out += d));
  const names = (): string[] =>
    out
      .split('\n')
      .map((l) => /^(?:Deleted\s+)?\d+:\s+([^:@\s]+)/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
  const waitFor = async (name: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!names().includes(name)) {
      if (Date.now() > deadline) throw new Error(`ip monitor in ${nsName} never showed ${name}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const canary1 = uniq('cana');
  const canary2 = uniq('canb');
  try {
    // Re-add the first canary until the monitor reports it (it may not be subscribed yet).
    const deadline = Date.now() + 5000;
    while (!names().includes(canary1)) {
      spawnSync('ip', ['-n', nsName, 'link', 'add', 'name', canary1, 'type', 'bridge']);
      spawnSync('ip', ['-n', nsName, 'link', 'del', canary1]);
      if (Date.now() > deadline) throw new Error(`ip monitor in ${nsName} never started`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const start = out.length;
    await fn();
    ip(nsName, 'link', 'add', 'name', canary2, 'type', 'bridge');
    ip(nsName, 'link', 'del', canary2);
    await waitFor(canary2);
    const seen = out
      .slice(start)
      .split('\n')
      .map((l) => /^(?:Deleted\s+)?\d+:\s+([^:@\s]+)/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined && n !== canary1 && n !== canary2);
    return [...new Set(seen)];
  } finally {
    const gone = new Promise((r) => mon.once('exit', r));
    mon.kill('SIGKILL');
    await gone;
  }
}
