// ipvlan: `ip link add link DEV NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`
// (native/rtnl/kinds/ipvlan.cpp: IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS).
import type { LinkRef } from '../link';
import type * as v from '../validate';
import { nameIn, needParent, oneOf, type LinkKind } from './kind';

/** IPVLAN_MODE_* (linux/if_link.h). */
export const IPVLAN_MODES = { l2: 0, l3: 1, l3s: 2 } as const;
/** An ipvlan mode: 'l2' (switching), 'l3' (routing, the kernel's default), 'l3s' (l3 through netfilter). */
export type IpvlanMode = keyof typeof IPVLAN_MODES;
/** IPVLAN_F_* (0: bridge). */
export const IPVLAN_FLAGS = { bridge: 0, private: 1, vepa: 2 } as const;
/** How ipvlans on one parent reach each other: 'bridge' (directly, the default), 'private' (not), 'vepa' (through the switch). */
export type IpvlanFlag = keyof typeof IPVLAN_FLAGS;

/** Options of an ipvlan (`Link.create(name, { kind: 'ipvlan', parent, mode })`). */
export interface IpvlanOptions {
  /** The lower device: a Link, or a name or ifindex in `namespace`. */
  parent: LinkRef;
  /** Default 'l3' (as the kernel and `ip` default). */
  mode?: IpvlanMode;
  /** Default 'bridge'. */
  flag?: IpvlanFlag;
}

/** An ipvlan's read-back. */
export interface IpvlanInfo {
  kind: 'ipvlan';
  mode: IpvlanMode | number;
  flag: IpvlanFlag | number;
}

/** The ipvlan kind. */
export const ipvlan: LinkKind<IpvlanOptions, IpvlanInfo> = {
  kind: 'ipvlan',
  keys: { parent: true, mode: true, flag: true } satisfies v.Keys<IpvlanOptions>,
  encode(o) {
    const mode = oneOf(IPVLAN_MODES, o.mode ?? 'l3', 'mode', 'ipvlan mode');
    const flag = oneOf(IPVLAN_FLAGS, o.flag ?? 'bridge', 'flag', 'ipvlan flag');
    return { data: { mode: IPVLAN_MODES[mode], flags: IPVLAN_FLAGS[flag] }, parent: needParent(o, 'ipvlan') };
  },
  decode: (d) => ({
    kind: 'ipvlan',
    mode: nameIn(IPVLAN_MODES, d.mode) as IpvlanMode | number,
    flag: nameIn(IPVLAN_FLAGS, d.flags) as IpvlanFlag | number,
  }),
};
