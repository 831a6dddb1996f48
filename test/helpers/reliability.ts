// Helpers for the reliability tests (faults, soak, concurrency, dumps,
// unprivileged, property): process resource figures, a seeded PRNG, and
// small oracles over `ip -j` output.
import * as fs from 'node:fs';
import { NetlinkError, NetplumbError } from '../../lib';
import { ipj } from './oracle';

/** Threads of this process (/proc/self/status). */
export function threadCount(): number {
  const m = /^Threads:\s+(\d+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no Threads: line in /proc/self/status');
  return Number(m[1]);
}

/** Resident set size of this process, in bytes (/proc/self/status VmRSS). */
export function rssBytes(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmRSS: line in /proc/self/status');
  return Number(m[1]) * 1024;
}

/** Open fds of this process with their targets ('7 -> socket:[1234]'). */
export function fdList(): string[] {
  return fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd} -> ?`; // the fd of readdir itself
    }
  });
}

/** Polls `pred` every 20 ms until it holds or `ms` pass; true if it held. */
export async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small, seeded, deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi] from `rnd`. */
export function randInt(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** One element of `xs`. */
export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

/** Fisher–Yates, in place. */
export function shuffle<T>(rnd: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/** Is `e` one of the library's typed errors, with a non-empty string code? */
export function isTyped(e: unknown): e is NetplumbError | NetlinkError {
  return (e instanceof NetplumbError || e instanceof NetlinkError) && typeof e.code === 'string' && e.code.length > 0;
}

/** Link names of a namespace per `ip -j link show`, sorted. */
export function linkNamesOf(ns: string | undefined): string[] {
  return (ipj(ns, 'link', 'show') as { ifname: string }[]).map((l) => l.ifname).sort();
}

/** 'dev addr/len' for every address of a namespace (both families, link-local IPv6 left out), sorted. */
export function addrSetOf(ns: string | undefined): string[] {
  const out: string[] = [];
  for (const l of ipj(ns, 'addr', 'show') as { ifname: string; addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[] }[])
    for (const a of l.addr_info ?? []) if (!(a.family === 'inet6' && a.scope === 'link')) out.push(`${l.ifname} ${a.local}/${a.prefixlen}`);
  return out.sort();
}

/** Nothing of a composite operation left: a snapshot of everything `ip -j` shows in a namespace. */
/** `ns` undefined: this process's namespace. */
export function snapshotOf(ns: string | undefined): { links: string[]; addrs: string[]; routes: string[]; neigh: string[] } {
  const routes = (ipj(ns, 'route', 'show', 'table', 'all') as Record<string, unknown>[]).map(
    (r) => `${String(r.type ?? '')} ${String(r.dst)} ${String(r.gateway ?? '')} ${String(r.dev ?? '')} ${String(r.table ?? '')}`,
  );
  const routes6 = (ipj(ns, '-6', 'route', 'show', 'table', 'all') as Record<string, unknown>[])
    .filter((r) => !String(r.dst).startsWith('fe80') && !String(r.dst).startsWith('ff00') && r.dst !== 'multicast')
    .map((r) => `${String(r.type ?? '')} ${String(r.dst)} ${String(r.gateway ?? '')} ${String(r.dev ?? '')} ${String(r.table ?? '')}`);
  const neigh = (ipj(ns, 'neigh', 'show') as Record<string, unknown>[]).map((n) => `${String(n.dst)} ${String(n.dev)} ${String(n.lladdr ?? '')}`);
  return { links: linkNamesOf(ns), addrs: addrSetOf(ns), routes: [...routes, ...routes6].sort(), neigh: neigh.sort() };
}
