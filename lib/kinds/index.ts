// The link kinds `Link.create` knows: one entry per kind, each in its own
// file here (options, their encoding, the typed read-back). veth is
// lib/veth-pair.ts (a pair, not one link).
import type { LinkKind } from './kind';
import { bond } from './bond';
import { bridge } from './bridge';
import { dummy } from './dummy';
import { ifb } from './ifb';
import { ipvlan } from './ipvlan';
import { macvlan, macvtap } from './macvlan';
import { tun } from './tun';
import { vlan } from './vlan';
import { vxlan } from './vxlan';
import { wireguard } from './wireguard';

/** Every kind by IFLA_INFO_DATA name. */
export const KINDS = { bond, bridge, dummy, ifb, ipvlan, macvlan, macvtap, tun, vlan, vxlan, wireguard } as const;

/** A kind `Link.create` makes. */
export type KindName = keyof typeof KINDS;
/** The options kind K adds. */
export type KindOptions<K extends KindName> = (typeof KINDS)[K] extends LinkKind<infer O, unknown> ? O : never;
/** What kind K reads back. */
export type KindInfo<K extends KindName> = ReturnType<(typeof KINDS)[K]['decode']>;

/** The codec of a kind by name, if `Link.create` knows it. */
export function kindOf(name: string): LinkKind<object, unknown> | undefined {
  return Object.prototype.hasOwnProperty.call(KINDS, name) ? (KINDS[name as KindName] as unknown as LinkKind<object, unknown>) : undefined;
}

export type { LinkKind, KindSpec } from './kind';
