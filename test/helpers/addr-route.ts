// Helpers for the Address / Route / recipe integration tests.
import { NetlinkError, NetplumbError } from '../../lib';
import { ipj } from './oracle';

/** Awaits `p`, expecting a rejection; returns the error (fails the test if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Expects a NetlinkError with this code (and syscall, if given); returns it. */
export async function expectNetlink(p: Promise<unknown>, code: string, syscall?: string): Promise<NetlinkError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(NetlinkError);
  const n = e as NetlinkError;
  expect(n.code).toBe(code);
  expect(typeof n.errno).toBe('number');
  expect(n.errno).toBeLessThan(0);
  if (syscall !== undefined) expect(n.syscall).toBe(syscall);
  return n;
}

/** Expects a NetplumbError with this code; returns it. */
export async function expectNetplumb(p: Promise<unknown>, code: string): Promise<NetplumbError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(NetplumbError);
  expect((e as NetplumbError).code).toBe(code);
  return e as NetplumbError;
}

export interface OracleAddr {
  ifindex: number;
  ifname: string;
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
  broadcast?: string;
  label?: string;
  nodad?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  valid_life_time?: number;
  preferred_life_time?: number;
  [k: string]: unknown;
}

/** Every address of a namespace (or of one device), flattened, per `ip -j addr show`. */
export function oracleAddrs(ns: string, dev?: string, family?: 4 | 6): OracleAddr[] {
  const args = [...(family ? [`-${family}`] : []), 'addr', 'show', ...(dev ? ['dev', dev] : [])];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const links: any[] = ipj(ns, ...args);
  const out: OracleAddr[] = [];
  for (const l of links) for (const a of l.addr_info ?? []) if (a.local !== undefined) out.push({ ...a, ifindex: l.ifindex, ifname: l.ifname });
  return out;
}

/** One oracle address by its local address, or undefined. */
export function oracleAddr(ns: string, dev: string, local: string): OracleAddr | undefined {
  return oracleAddrs(ns, dev).find((a) => a.local === local);
}

/** Sorted, for set comparison with toEqual. */
export function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort();
}
