/**
 * netplumb/testing: helpers for your own root tests of code that uses
 * netplumb. Run the test command under `netplumb sandbox -- <cmd>`, so that
 * everything happens in a private network and mount namespace.
 *
 * @packageDocumentation
 * @module netplumb/testing
 */
import { spawnSync } from 'node:child_process';

import { Namespace } from '../namespace';
import { isolation, type Isolation } from './isolation';

export { isolation, type Isolation };

const SANDBOX_NEEDED = 'needs root inside `netplumb sandbox -- <command>` (a private network and mount namespace)';

/**
 * True as root in a sandbox, as the kernel shows it: a network namespace other
 * than the host's and a tmpfs of its own on /run/netns (see {@link isolation}).
 * The NETPLUMB_SANDBOX variable is not trusted.
 */
export function inSandbox(): boolean {
  return process.getuid?.() === 0 && isolation().isolated;
}

/** Throws, saying why, unless running as root inside the sandbox. Touches nothing. */
export function requireSandbox(): void {
  if (process.getuid?.() !== 0) throw new Error(`this test ${SANDBOX_NEEDED}: not root`);
  const where = isolation();
  if (!where.isolated) throw new Error(`this test ${SANDBOX_NEEDED}: ${where.reason}`);
}

let n = 0;
/** A name unique in this process, short enough for an interface name (at most 15 bytes; the prefix is cut, never the suffix). */
export function uniqueName(prefix: string): string {
  n += 1;
  const suffix = `${process.pid % 10000}x${n}`;
  return `${prefix.slice(0, Math.max(0, 15 - suffix.length))}${suffix}`;
}

/**
 * Creates `count` named namespaces for one test and deletes them afterwards,
 * whatever happens. Refuses outside the sandbox.
 *
 * ```ts
 * await withNamespaces(2, async (a, b) => { ... })
 * ```
 */
export async function withNamespaces<T>(count: number, fn: (...ns: Namespace[]) => Promise<T>): Promise<T> {
  requireSandbox();
  const made: Namespace[] = [];
  try {
    for (let i = 0; i < count; i++) made.push(await Namespace.create(uniqueName('t')));
    return await fn(...made);
  } finally {
    await Promise.allSettled(made.map((ns) => ns.delete()));
  }
}

/** Where `ip` should look: `-n NAME` for a named namespace, else nsenter into its path. */
function ipArgv(ns: Namespace | string | undefined, args: readonly string[]): [string, string[]] {
  if (ns === undefined) return ['ip', [...args]];
  if (typeof ns === 'string') return ['ip', ['-n', ns, ...args]];
  if (ns.name !== undefined) return ['ip', ['-n', ns.name, ...args]];
  return ['nsenter', [`--net=${ns.path}`, '--', 'ip', ...args]];
}

/**
 * `ip -j -d ARGS...` in `ns`, parsed: iproute2 as an oracle independent of
 * netplumb, in its own process. `ns` is a {@link Namespace}, the name of one
 * under /run/netns, or undefined for this process's namespace. Throws with
 * ip's message if it fails; `[]` when ip prints nothing.
 *
 * ```ts
 * const [eth0] = ipJson(c1, 'link', 'show', 'dev', 'eth0')   // ip -n c1 -j -d link show dev eth0
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ipJson(ns: Namespace | string | undefined, ...args: string[]): any {
  const [cmd, argv] = ipArgv(ns, ['-j', '-d', ...args]);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message} (iproute2 installed?)`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

/**
 * Why this kernel will not make a link of `kind`, in its own words (as ip
 * prints them); undefined if it does. Probed in a throwaway namespace, with
 * what the kind needs: a lower device for macvlan, macvtap, ipvlan and vlan,
 * a VNI for vxlan; `args` are added to `ip link add NAME type KIND`.
 * Refuses outside the sandbox. For jest:
 *
 * ```ts
 * const why = skipUnlessKind('vxlan')
 * ;(why ? it.skip : it)(`vxlan${why ? ` (skipped: ${why})` : ''}`, async () => { ... })
 * ```
 */
export function skipUnlessKind(kind: string, ...args: string[]): string | undefined {
  requireSandbox();
  const name = uniqueName('kp');
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.error) return `cannot run ip: ${add.error.message} (install iproute2)`;
  if (add.status !== 0) throw new Error(`ip netns add ${name}: ${add.stderr.trim()}`);
  const ip = (...a: string[]) => spawnSync('ip', ['-n', name, ...a], { encoding: 'utf8' });
  try {
    const lower: string[] = [];
    const rest = [...args];
    if (['macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vlan'].includes(kind)) {
      const veth = ip('link', 'add', 'low0', 'type', 'veth', 'peer', 'name', 'low1');
      if (veth.status !== 0) return `no veth to put a ${kind} on: ${veth.stderr.trim()}`;
      lower.push('link', 'low0');
      if (kind === 'vlan' && !rest.includes('id')) rest.push('id', '2');
    }
    if (kind === 'vxlan' && !rest.includes('id')) rest.push('id', '42', 'dstport', '4789');
    const r = ip('link', 'add', ...lower, 'name', 'probe0', 'type', kind, ...rest);
    if (r.status !== 0) return r.stderr.trim() || `ip exited ${r.status}`;
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'delete', name]);
  }
}
