// vlan: `ip link add link DEV NAME type vlan id ID [protocol 802.1Q|802.1ad]`
// (native/rtnl/kinds/vlan.cpp: IFLA_VLAN_ID, IFLA_VLAN_PROTOCOL).
import { ErrorCodes as C, NetplumbError } from '../errors';
import type { LinkRef } from '../link';
import * as v from '../validate';
import { nameIn, needParent, oneOf, type LinkKind } from './kind';

/** The VLAN protocols by name, as ethertypes (ETH_P_8021Q, ETH_P_8021AD). */
export const VLAN_PROTOCOLS = { '802.1Q': 0x8100, '802.1ad': 0x88a8 } as const;
/** A VLAN tag protocol: '802.1Q' (a customer tag) or '802.1ad' (a service tag, QinQ). */
export type VlanProtocol = keyof typeof VLAN_PROTOCOLS;

/** Options of a VLAN device (`Link.create(name, { kind: 'vlan', parent, id })`). */
export interface VlanOptions {
  /** The lower device the tagged frames go out on: a Link, or a name or ifindex in `namespace`. */
  parent: LinkRef;
  /** The VLAN id, 1-4094. */
  id: number;
  /** Default '802.1Q'. */
  protocol?: VlanProtocol;
}

/** A VLAN device's read-back. */
export interface VlanInfo {
  kind: 'vlan';
  id: number;
  protocol: VlanProtocol | number;
}

/** The vlan kind. */
export const vlan: LinkKind<VlanOptions, VlanInfo> = {
  kind: 'vlan',
  keys: { parent: true, id: true, protocol: true },
  encode(o) {
    if (o.id === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "vlan needs an 'id' (1-4094)", { argument: 'id' });
    const id = v.uint(o.id, 'id', 4094, 1);
    const protocol = oneOf(VLAN_PROTOCOLS, o.protocol ?? '802.1Q', 'protocol', 'vlan protocol');
    return { data: { id, protocol: VLAN_PROTOCOLS[protocol] }, parent: needParent(o, 'vlan') };
  },
  decode: (d) => ({ kind: 'vlan', id: Number(d.id ?? 0), protocol: nameIn(VLAN_PROTOCOLS, d.protocol) as VlanProtocol | number }),
};
