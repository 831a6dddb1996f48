// macvlan and macvtap: `ip link add NAME link DEV type macvlan|macvtap mode MODE`
// (native/rtnl/kinds/macvlan.cpp: IFLA_MACVLAN_MODE).
import { MACVLAN_MODES, type MacvlanMode } from '../constants';
import type { LinkRef } from '../link';
import type * as v from '../validate';
import { needParent, nameIn, oneOf, type LinkKind } from './kind';

/** Options of a macvlan or macvtap (`Link.create(name, { kind: 'macvlan', parent, mode })`). */
export interface MacvlanKindOptions {
  /** The lower device: a Link, or a name or ifindex in `namespace`. */
  parent: LinkRef;
  /**
   * 'bridge' (the default, as Docker's macvlan driver): macvlans on one parent
   * reach each other directly. 'private': they cannot. 'vepa': through the
   * external switch. 'passthru': one macvlan takes over the parent. 'source':
   * only frames from allowed source MACs.
   */
  mode?: MacvlanMode;
}

/** A macvlan's or macvtap's read-back (`ip -d link show`: `macvlan mode bridge`). */
export interface MacvlanInfo {
  kind: 'macvlan' | 'macvtap';
  mode: MacvlanMode | number;
}

const KEYS: v.Keys<MacvlanKindOptions> = { parent: true, mode: true };

function macvlanLike<K extends 'macvlan' | 'macvtap'>(kind: K): LinkKind<MacvlanKindOptions, MacvlanInfo & { kind: K }> {
  return {
    kind,
    keys: KEYS,
    encode(o) {
      const mode = oneOf(MACVLAN_MODES, o.mode ?? 'bridge', 'mode', `${kind} mode`);
      return { data: { mode: MACVLAN_MODES[mode] }, parent: needParent(o, kind) };
    },
    decode: (d) => ({ kind, mode: nameIn(MACVLAN_MODES, d.mode) as MacvlanMode | number }),
  };
}

/** The macvlan kind. */
export const macvlan = macvlanLike('macvlan');
/** The macvtap kind: a macvlan with a character device (/dev/tapN) for a VM's NIC. */
export const macvtap = macvlanLike('macvtap');
