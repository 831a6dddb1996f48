// Independent oracles for integration tests: iproute2 and nftables, run as
// separate processes (by the tests only; the library never forks).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Runs a command and returns stdout; throws with stderr on failure. */
export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 2 ** 20 });
}

/** `ip [-n NS] -j -d ARGS...` parsed. `ns` is a name under /run/netns; undefined = this process's namespace. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ipj(ns: string | undefined, ...args: string[]): any {
  const out = run('ip', [...(ns ? ['-n', ns] : []), '-j', '-d', ...args]);
  return out.trim() ? JSON.parse(out) : [];
}

/** `ip [-n NS] ARGS...` for setting things up the iproute2 way in a test. */
export function ip(ns: string | undefined, ...args: string[]): string {
  return run('ip', [...(ns ? ['-n', ns] : []), ...args]);
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_data?: Record<string, unknown> };
}

export const oracle = {
  links: (ns?: string): IpLink[] => ipj(ns, 'link', 'show'),
  link: (ns: string | undefined, dev: string): IpLink | undefined => {
    const r = spawnSync('ip', [...(ns ? ['-n', ns] : []), '-j', '-d', 'link', 'show', 'dev', dev], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    return (JSON.parse(r.stdout) as IpLink[])[0];
  },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addrs: (ns?: string, dev?: string): any[] => ipj(ns, 'addr', 'show', ...(dev ? ['dev', dev] : [])),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes: (ns?: string, ...args: string[]): any[] => ipj(ns, 'route', 'show', ...args),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes6: (ns?: string, ...args: string[]): any[] => ipj(ns, '-6', 'route', 'show', ...args),
  netns: (): string[] => {
    const out = run('ip', ['netns', 'list']);
    return out.split('\n').filter(Boolean).map((l) => l.split(' ')[0] as string);
  },
};

/** One ICMP echo from namespace `ns` to `target`; true if answered. */
export function ping(ns: string, target: string, timeoutSec = 2): boolean {
  const six = target.includes(':');
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', ...(six ? ['-6'] : []), '-c', '1', '-W', String(timeoutSec), target], {
    encoding: 'utf8',
  });
  return r.status === 0;
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

let counter = 0;
/** A name unique in this test process, short enough for an interface (<= 15 bytes). */
export function uniq(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid % 1000}${counter}`.slice(0, 15);
}

/** Named namespaces made with `ip netns add` (not with the library under test), deleted in one call. */
export class IpNetns {
  readonly #made: string[] = [];
  /** `ip netns add` of a unique name starting with `prefix`; returns the name. */
  add(prefix: string): string {
    const n = uniq(prefix);
    ip(undefined, 'netns', 'add', n);
    this.#made.push(n);
    return n;
  }
  /** `ip netns delete` of one of them, now. */
  remove(n: string): void {
    ip(undefined, 'netns', 'delete', n);
    this.#made.splice(this.#made.indexOf(n), 1);
  }
  /** `ip netns delete` of every one still there. */
  deleteAll(): void {
    for (const n of this.#made.splice(0)) ip(undefined, 'netns', 'delete', n);
  }
}

/** True if running inside `netplumb sandbox` as root (as the kernel shows it, not the environment). */
export { inSandbox } from './sandbox';

/**
 * Why this kernel cannot make a link of `kind`, in iproute2's (the kernel's)
 * words; undefined if it can (netplumb/testing's skipUnlessKind).
 */
export { skipUnlessKind as kernelLacks } from '../../lib/testing';
