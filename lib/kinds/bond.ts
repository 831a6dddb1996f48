// bond: `ip link add NAME type bond mode MODE miimon MS`, then
// `ip link set DEV master NAME` for each slave
// (native/rtnl/kinds/bond.cpp: IFLA_BOND_MODE, IFLA_BOND_MIIMON).
import { ErrorCodes as C, NetplumbError } from '../errors';
import type { LinkRef } from '../link';
import type { KindData } from '../native';
import * as v from '../validate';
import { nameIn, oneOf, type KindSpec, type LinkKind } from './kind';

/** BOND_MODE_* (linux/if_bonding.h), by the names `ip` uses. */
export const BOND_MODES = {
  'balance-rr': 0,
  'active-backup': 1,
  'balance-xor': 2,
  broadcast: 3,
  '802.3ad': 4,
  'balance-tlb': 5,
  'balance-alb': 6,
} as const;
/** A bonding mode. */
export type BondMode = keyof typeof BOND_MODES;

/** Options of a bond (`Link.create(name, { kind: 'bond', mode, miimon, slaves })`). */
export interface BondOptions {
  /** Default 'balance-rr' (the kernel's). */
  mode?: BondMode;
  /** Link monitoring interval in milliseconds (0: off, the kernel's default). */
  miimon?: number;
  /** Links to enslave once the bond exists (each taken down first, as the kernel requires). */
  slaves?: LinkRef[];
}

/** A bond's read-back. */
export interface BondInfo {
  kind: 'bond';
  mode: BondMode | number;
  miimon: number;
}

/** The bond kind. */
export const bond: LinkKind<BondOptions, BondInfo> = {
  kind: 'bond',
  keys: { mode: true, miimon: true, slaves: true },
  encode(o) {
    const data: KindData = {};
    if (o.mode !== undefined) data.mode = BOND_MODES[oneOf(BOND_MODES, o.mode, 'mode', 'bond mode')];
    if (o.miimon !== undefined) data.miimon = v.uint(o.miimon, 'miimon', 0x7fffffff);
    const spec: KindSpec = { data };
    if (o.slaves !== undefined) {
      if (!Array.isArray(o.slaves)) throw new NetplumbError(C.INVALID_ARGUMENT, 'slaves must be an array of links', { value: o.slaves, argument: 'slaves' });
      spec.slaves = [...o.slaves];
    }
    return spec;
  },
  decode: (d) => ({ kind: 'bond', mode: nameIn(BOND_MODES, d.mode) as BondMode | number, miimon: Number(d.miimon ?? 0) }),
};
