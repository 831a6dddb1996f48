// What one file per link kind (lib/kinds/<kind>.ts) provides: its options,
// checked and encoded into IFLA_INFO_DATA values before any syscall, and the
// typed read-back of what the kernel reports. `Link.create` (lib/link.ts)
// does the rest the same way for every kind.
import { ErrorCodes as C, NetplumbError } from '../errors';
import type { LinkRef } from '../link';
import type { KindData, RawKindData, TunSpec } from '../native';
import * as v from '../validate';

/** What a kind's options become: checked values, nothing asked of the kernel yet. */
export interface KindSpec {
  /** IFLA_INFO_DATA values, by the field names of native/rtnl/kinds/<kind>.cpp. */
  data?: KindData;
  /**
   * The lower device, resolved in the link's namespace: sent as IFLA_LINK, or
   * as `data[dataKey]` when the kind has its own attribute for it (vxlan).
   */
  parent?: { ref: LinkRef; argument: string; dataKey?: string };
  /** Links enslaved (IFLA_MASTER on each) once the link exists (bond). */
  slaves?: LinkRef[];
  /** Made through /dev/net/tun instead of RTM_NEWLINK (tun, tap). */
  tun?: Omit<TunSpec, 'name'>;
}

/** One link kind: its options' keys, their encoding, and the typed read-back. */
export interface LinkKind<O extends object, I> {
  /** IFLA_INFO_KIND. */
  readonly kind: string;
  /** The options this kind adds to the common ones (ERR_UNKNOWN_OPTION for others). */
  readonly keys: v.Keys<O>;
  /** Checks the options (typed errors, no syscall) and encodes them. */
  encode(o: Partial<O>): KindSpec;
  /** What the kernel reports in IFLA_INFO_DATA, typed. */
  decode(data: RawKindData): I;
}

/** A kind with no options and nothing to read back (dummy, ifb, wireguard). */
export function plainKind<K extends string>(kind: K): LinkKind<NoOptions, { kind: K }> {
  return { kind, keys: {}, encode: () => ({}), decode: () => ({ kind }) };
}

/** The options of a kind that has none of its own. */
export type NoOptions = Record<never, never>;

/** `value` as a key of `table` (a mode name), else ERR_INVALID_ARGUMENT listing the valid ones. */
export function oneOf<T extends Record<string, number>>(table: T, value: unknown, argument: string, what: string): keyof T & string {
  if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(table, value))
    throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${what} ${v.describe(value)}: one of ${Object.keys(table).join(', ')}`, { value, argument });
  return value;
}

/** The name of `n` in `table`, or the number itself when the kernel reports one we do not name. */
export function nameIn<T extends Record<string, number>>(table: T, n: number | string | undefined): keyof T | number {
  for (const [k, val] of Object.entries(table)) if (val === n) return k;
  return Number(n ?? 0);
}

/** A required lower device. */
export function needParent(o: { parent?: LinkRef }, kind: string): { ref: LinkRef; argument: string } {
  if (o.parent === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, `${kind} needs a 'parent' link`, { argument: 'parent' });
  return { ref: o.parent, argument: 'parent' };
}
