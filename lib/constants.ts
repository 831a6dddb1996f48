// Names for the kernel's numbers, as ip(8) prints them.

export const SCOPES: Record<string, number> = { universe: 0, global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
/** An address or route scope by name or number (`ip addr add ... scope SCOPE`, `ip route add ... scope SCOPE`). */
export type Scope = 'universe' | 'global' | 'site' | 'link' | 'host' | 'nowhere' | number;

export const ROUTE_TYPES: Record<string, number> = {
  unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8,
  throw: 9, nat: 10,
};
/** A route type (`ip route add TYPE PREFIX`): `unicast` by default, `blackhole`, `unreachable`, `prohibit`... */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

export const PROTOCOLS: Record<string, number> = {
  unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, ra: 9, dhcp: 16, bird: 12, zebra: 11, bgp: 186, ospf: 188,
};
/** Who installed a route, by name or number (`ip route add ... proto PROTO`). */
export type Protocol = 'kernel' | 'boot' | 'static' | 'dhcp' | 'ra' | number;

export const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };
/** A routing table by name or number (`ip route add ... table TABLE`, `ip rule add ... table TABLE`). */
export type Table = 'main' | 'local' | 'default' | number;

export const ADDR_FLAGS: Record<string, number> = {
  secondary: 0x01, nodad: 0x02, optimistic: 0x04, dadfailed: 0x08, homeaddress: 0x10, deprecated: 0x20,
  tentative: 0x40, permanent: 0x80, mngtmpaddr: 0x100, noprefixroute: 0x200, autojoin: 0x400, 'stable-privacy': 0x800,
};

/** MACVLAN_MODE_* (linux/if_link.h). */
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
/** A macvlan mode (`ip link add ... type macvlan mode MODE`). */
export type MacvlanMode = keyof typeof MACVLAN_MODES;

// Reverse lookups, built once per table (these run for every listed object).
const reverse = new WeakMap<Record<string, number>, Map<number, string>>();
const entries = new WeakMap<Record<string, number>, [string, number][]>();

export function nameOf(table: Record<string, number>, n: number): string | number {
  let r = reverse.get(table);
  if (!r) {
    r = new Map();
    for (const [k, val] of Object.entries(table)) if (!r.has(val)) r.set(val, k);
    reverse.set(table, r);
  }
  return r.get(n) ?? n;
}

export function flagNames(table: Record<string, number>, n: number): string[] {
  if (n === 0) return [];
  let e = entries.get(table);
  if (!e) {
    e = Object.entries(table);
    entries.set(table, e);
  }
  const out: string[] = [];
  for (const [k, bit] of e) if ((n & bit) !== 0) out.push(k);
  return out;
}
