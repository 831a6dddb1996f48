import { nameOf, TABLES, type Table } from './constants';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import type { RawRule, RuleSpec } from './native';
import { Namespace, resolveNamespace } from './namespace';
import * as v from './validate';

const ACTIONS: Record<string, number> = { table: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 };

/**
 * Options of `Rule.add` / `Rule.delete`: `ip rule add [not] [from A] [to A] [iif DEV] [oif DEV] [fwmark M/MASK] [tos T] [priority N] table T|blackhole|unreachable|prohibit`.
 */
export interface RuleOptions {
  /** Default: the process's own namespace. */
  namespace?: Namespace;
  /** Address family when neither `from` nor `to` says. Default 4. */
  family?: 4 | 6;
  /** Source prefix (`from`). */
  from?: string;
  /** Destination prefix (`to`). */
  to?: string;
  /** Input interface name (`iif`). */
  iif?: string;
  /** Output interface name (`oif`). */
  oif?: string;
  /** Firewall mark, and optional mask (`fwmark M/MASK`). */
  fwmark?: number;
  fwmask?: number;
  tos?: number;
  /** Lookup table (`table`/`lookup`). Default 'main' for action 'table'. */
  table?: Table;
  /** Rule priority (`pref`): 0–4294967295. Default: chosen by the kernel. */
  priority?: number;
  /** Default 'table'. */
  action?: 'table' | 'blackhole' | 'unreachable' | 'prohibit' | 'nop';
  /** Invert the match (`not`). */
  not?: boolean;
}

const RULE_KEYS: v.Keys<RuleOptions> = { namespace: true, family: true, from: true, to: true, iif: true, oif: true, fwmark: true, fwmask: true, tos: true, table: true, priority: true, action: true, not: true };

/** One policy routing rule as the kernel reports it (an entry of `ip -j rule show`). */
export interface RuleInfo {
  family: 4 | 6;
  priority: number;
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  tos: number;
  table: string | number;
  action: string | number;
  not: boolean;
}

function prefix(s: unknown, argument: string): v.ParsedCidr {
  const c = v.cidr(s, argument, { bareOk: true });
  if (v.hostBitsSet(c.bytes, c.prefixlen)) throw new NetplumbError(C.INVALID_CIDR, `invalid ${argument} ${v.describe(s)}: host bits set`, { value: s, argument });
  return c;
}

/** @internal A rule as the kernel sent it (a dump entry or a notification), as `Rule.list` reports it. */
export function ruleInfo(r: RawRule): RuleInfo {
  const x: RuleInfo = {
    // The kernel leaves FRA_PRIORITY out when it is 0 (the local rule).
    family: r.family, priority: r.priority ?? 0, tos: r.tos, table: nameOf(TABLES, r.table), action: nameOf(ACTIONS, r.action), not: (r.flags & 2) !== 0,
  };
  if (r.srcLen) x.from = `${r.src}/${r.srcLen}`;
  if (r.dstLen) x.to = `${r.dst}/${r.dstLen}`;
  if (r.iifname) x.iif = r.iifname;
  if (r.oifname) x.oif = r.oifname;
  if (r.fwmark !== undefined) x.fwmark = r.fwmark;
  if (r.fwmask !== undefined) x.fwmask = r.fwmask;
  return x;
}

/** Policy routing rules: `ip rule add / del / show`. */
export class Rule {
  private constructor() {}

  private static async spec(opts: unknown, op: 'new' | 'del'): Promise<{ ns: Namespace; spec: RuleSpec; what: string }> {
    if (typeof opts !== 'object' || opts === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'rule options must be an object', { argument: 'options' });
    v.known(opts, RULE_KEYS, op === 'new' ? 'Rule.add' : 'Rule.delete');
    const o = opts as RuleOptions;
    const from = o.from !== undefined ? prefix(o.from, 'from') : undefined;
    const to = o.to !== undefined ? prefix(o.to, 'to') : undefined;
    if (from && to && from.family !== to.family) throw new NetplumbError(C.FAMILY_MISMATCH, 'from and to are of different families', { argument: 'to' });
    let family = from?.family ?? to?.family;
    if (o.family !== undefined) {
      if (o.family !== 4 && o.family !== 6) throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
      if (family && family !== o.family) throw new NetplumbError(C.FAMILY_MISMATCH, `rule is IPv${family}, family says ${o.family}`, { argument: 'family' });
      family = o.family;
    }
    const spec: RuleSpec = { op, family: family ?? 4 };
    if (from) Object.assign(spec, { src: v.networkOf(from.bytes, from.prefixlen), srcLen: from.prefixlen });
    if (to) Object.assign(spec, { dst: v.networkOf(to.bytes, to.prefixlen), dstLen: to.prefixlen });
    if (o.iif !== undefined) spec.iifname = v.ifname(o.iif, 'iif');
    if (o.oif !== undefined) spec.oifname = v.ifname(o.oif, 'oif');
    if (o.fwmark !== undefined) spec.fwmark = v.uint(o.fwmark, 'fwmark');
    if (o.fwmask !== undefined) spec.fwmask = v.uint(o.fwmask, 'fwmask');
    if (o.tos !== undefined) spec.tos = v.uint(o.tos, 'tos', 255);
    if (o.priority !== undefined) spec.priority = v.uint(o.priority, 'priority');
    if (o.action !== undefined) {
      if (typeof o.action !== 'string' || !Object.prototype.hasOwnProperty.call(ACTIONS, o.action) || (o.action as string) === 'goto')
        throw new NetplumbError(C.INVALID_ARGUMENT, `invalid action ${v.describe(o.action)}`, { value: o.action, argument: 'action' });
      spec.action = ACTIONS[o.action] as number;
    }
    if (o.table !== undefined) {
      if (typeof o.table === 'string' && Object.prototype.hasOwnProperty.call(TABLES, o.table)) spec.table = TABLES[o.table] as number;
      else spec.table = v.uint(o.table, 'table', 0xffffffff, 1);
    }
    if (o.not !== undefined) spec.invert = v.bool(o.not, 'not');
    const ns = await resolveNamespace(o.namespace);
    const what = `rule${o.priority !== undefined ? ` pref ${o.priority}` : ''}${o.from ? ` from ${o.from}` : ''}${o.to ? ` to ${o.to}` : ''} in namespace ${ns}`;
    return { ns, spec, what };
  }

  /** `ip rule add ...` */
  static async add(opts: RuleOptions): Promise<void> {
    const { ns, spec, what } = await Rule.spec(opts, 'new');
    await kernel(ns.handle.rule(spec), what);
  }

  /** `ip rule del ...`: unset fields match anything; ENOENT if nothing matches. */
  static async delete(opts: RuleOptions): Promise<void> {
    const { ns, spec, what } = await Rule.spec(opts, 'del');
    await kernel(ns.handle.rule(spec), what);
  }

  /** `ip rule show` (both families unless one is given). */
  static async list(ns: Namespace, opts?: { family?: 4 | 6 }): Promise<RuleInfo[]> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { argument: 'namespace' });
    ns.assertOpen();
    const o = v.options<{ family?: 4 | 6 }>(opts, { family: true }, 'Rule.list');
    if (o.family !== undefined && o.family !== 4 && o.family !== 6)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    const families: (4 | 6)[] = o.family ? [o.family] : [4, 6];
    const lists = await Promise.all(families.map((family) => kernel(ns.handle.rule({ op: 'dump', family }), `rules in namespace ${ns}`)));
    return lists.flat().map(ruleInfo);
  }
}
