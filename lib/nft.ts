// nf_tables expressions and our own tables, built from
// linux/netfilter/nf_tables.h. Everything netplumb installs lives in tables
// named `netplumb` (`ip netplumb` for NAT, `bridge netplumb` for bridge
// filtering, `ip6 netplumb` for IPv6 NAT), never in anyone else's, and every rule carries a comment (nft's
// user-data TLV) that says which object it belongs to — `nft list ruleset`
// shows it, and it is how netplumb finds its rules again.
import { setTimeout as after } from 'node:timers';

import { ErrorCodes as C, kernel, NetlinkError, NetplumbError, type NativeErrorShape } from './errors';
import type { NftExpr, NftMsg } from './native';
import type { Namespace } from './namespace';

export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
export const NFPROTO_BRIDGE = 7;
export const TABLE = 'netplumb';

const REG_1 = 1;
const REG_2 = 2;
const CMP = { eq: 0, neq: 1, lte: 3, gte: 5 } as const;
const META = { iifname: 6, oifname: 7, l4proto: 16, iifgroup: 21, oifgroup: 22 } as const;
const PAYLOAD_NETWORK = 1;
const PAYLOAD_TRANSPORT = 2;
const FIB_RESULT_ADDRTYPE = 3;
const FIB_F_DADDR = 2;
const CT_STATUS = 2;
const IPS_DST_NAT = 0x20;
const RTN_LOCAL = 2;
const NAT_DNAT = 1;
const NF_NAT_RANGE_MAP_IPS = 1;
const NF_NAT_RANGE_PROTO_SPECIFIED = 2;
const NF_DROP = 0;
const NF_ACCEPT = 1;

const u32host = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const be16 = (n: number) => Uint8Array.from([(n >> 8) & 0xff, n & 0xff]);
const ifname16 = (name: string) => {
  const b = new Uint8Array(16);
  b.set(Buffer.from(name, 'utf8').subarray(0, 15));
  return b;
};
function prefixMask(len: number, bytes: number): Uint8Array {
  const m = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) m[i] = (0xff << (8 - Math.max(0, Math.min(8, len - i * 8)))) & 0xff;
  return m;
}

/** Expression builders: each returns the expressions of one match or action. */
export const expr = {
  l4proto: (proto: 'tcp' | 'udp'): NftExpr[] => [
    { name: 'meta', dreg: REG_1, key: META.l4proto },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: Uint8Array.from([proto === 'tcp' ? 6 : 17]) },
  ],
  /** th dport PORT, or th dport FIRST-LAST (compared in network byte order, as nft does). */
  dport: (port: number, last = port): NftExpr[] => [
    { name: 'payload', dreg: REG_1, base: PAYLOAD_TRANSPORT, offset: 2, len: 2 },
    ...(last === port
      ? [{ name: 'cmp', sreg: REG_1, op: CMP.eq, data: be16(port) }]
      : [{ name: 'cmp', sreg: REG_1, op: CMP.gte, data: be16(port) }, { name: 'cmp', sreg: REG_1, op: CMP.lte, data: be16(last) }]),
  ],
  /**
   * ip saddr / daddr ADDR[/LEN] (ip6 saddr / daddr for a 16-byte address), or
   * != with `not`. The family is the address's: the IPv4 header has the
   * addresses at offsets 12 and 16 (4 bytes), the IPv6 header at 8 and 24
   * (16 bytes). The rule must sit in a table of the same family.
   */
  addr: (which: 'saddr' | 'daddr', ip: Uint8Array, len = ip.length * 8, not = false): NftExpr[] => {
    const n = ip.length;
    if (n !== 4 && n !== 16) throw new RangeError(`an address is 4 or 16 bytes, not ${n}`);
    const offset = n === 4 ? (which === 'saddr' ? 12 : 16) : which === 'saddr' ? 8 : 24;
    const load: NftExpr = { name: 'payload', dreg: REG_1, base: PAYLOAD_NETWORK, offset, len: n };
    const cmp: NftExpr = { name: 'cmp', sreg: REG_1, op: not ? CMP.neq : CMP.eq, data: ip };
    if (len === n * 8) return [load, cmp];
    return [load, { name: 'bitwise', sreg: REG_1, dreg: REG_1, len: n, mask: prefixMask(len, n), xor: new Uint8Array(n) }, cmp];
  },
  iifname: (name: string, not = false): NftExpr[] => [
    { name: 'meta', dreg: REG_1, key: META.iifname },
    { name: 'cmp', sreg: REG_1, op: not ? CMP.neq : CMP.eq, data: ifname16(name) },
  ],
  oifname: (name: string, not = false): NftExpr[] => [
    { name: 'meta', dreg: REG_1, key: META.oifname },
    { name: 'cmp', sreg: REG_1, op: not ? CMP.neq : CMP.eq, data: ifname16(name) },
  ],
  /** meta iifgroup G meta oifgroup G: both the input and the output device are in link group G. */
  groups: (group: number): NftExpr[] => [
    { name: 'meta', dreg: REG_1, key: META.iifgroup },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: u32host(group) },
    { name: 'meta', dreg: REG_1, key: META.oifgroup },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: u32host(group) },
  ],
  /** fib daddr type local: addressed to this host. */
  daddrLocal: (): NftExpr[] => [
    { name: 'fib', dreg: REG_1, result: FIB_RESULT_ADDRTYPE, flags: FIB_F_DADDR },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: u32host(RTN_LOCAL) },
  ],
  /** ct status dnat: the connection was destination-NATed. */
  ctDnat: (): NftExpr[] => [
    { name: 'ct', dreg: REG_1, key: CT_STATUS },
    { name: 'bitwise', sreg: REG_1, dreg: REG_1, len: 4, mask: u32host(IPS_DST_NAT), xor: new Uint8Array(4) },
    { name: 'cmp', sreg: REG_1, op: CMP.neq, data: new Uint8Array(4) },
  ],
  counter: (): NftExpr[] => [{ name: 'counter' }],
  /**
   * dnat to ADDR:PORT, or dnat to ADDR (the destination port kept) without a
   * port; `ip6 ... dnat to [ADDR]:PORT` for a 16-byte address (a 16-byte
   * register holds it whole: NFT_REG_1 is 128 bits).
   */
  dnat: (ip: Uint8Array, port?: number): NftExpr[] => {
    const family = ip.length === 16 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    return port === undefined
      ? [
          { name: 'immediate', dreg: REG_1, data: ip },
          { name: 'nat', type: NAT_DNAT, family, regAddr: REG_1, flags: NF_NAT_RANGE_MAP_IPS },
        ]
      : [
          { name: 'immediate', dreg: REG_1, data: ip },
          { name: 'immediate', dreg: REG_2, data: be16(port) },
          { name: 'nat', type: NAT_DNAT, family, regAddr: REG_1, regProto: REG_2, flags: NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED },
        ];
  },
  masquerade: (): NftExpr[] => [{ name: 'masq' }],
  drop: (): NftExpr[] => [{ name: 'immediate', verdict: NF_DROP }],
};

/**
 * nft's comment, as NFTA_RULE_USERDATA / NFTA_TABLE_USERDATA: TLV type 0
 * (NFTNL_UDATA_*_COMMENT), NUL-terminated, at most 128 bytes with the NUL as
 * nft allows: a longer text is cut at the last whole UTF-8 character that fits.
 */
export function comment(text: string): Uint8Array {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 127) {
    let end = 127;
    while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--; // not inside a character
    bytes = bytes.subarray(0, end);
  }
  return Uint8Array.from([0, bytes.length + 1, ...bytes, 0]);
}

export function readComment(userdata: Uint8Array): string | undefined {
  for (let i = 0; i + 2 <= userdata.length; ) {
    const type = userdata[i] as number;
    const len = userdata[i + 1] as number;
    if (i + 2 + len > userdata.length) return undefined;
    if (type === 0) return Buffer.from(userdata.subarray(i + 2, i + 2 + len)).toString('utf8').replace(/\0+$/, '');
    i += 2 + len;
  }
  return undefined;
}

/** Hook numbers and priorities as `nft` names them. */
const CHAINS = {
  prerouting: { hooknum: 0, priority: -100, chainType: 'nat' }, // dstnat
  output: { hooknum: 3, priority: -100, chainType: 'nat' },
  postrouting: { hooknum: 4, priority: 100, chainType: 'nat' }, // srcnat
} as const;
export type NatChain = keyof typeof CHAINS;

/**
 * The mark on every table netplumb creates: its comment (NFTA_TABLE_USERDATA,
 * `nft list ruleset` shows it). A table of our name without it is someone
 * else's, and netplumb never adds to, empties or deletes it.
 */
export const OWNER_MARK = 'managed by netplumb';
const OWNER_USERDATA = comment(OWNER_MARK);

/** The NAT table's family for an address family: `ip` (NFPROTO_IPV4) or `ip6` (NFPROTO_IPV6). */
export function natFamily(family: 4 | 6): number {
  return family === 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/**
 * Messages that create our ip (or ip6) table and its NAT base chains;
 * idempotent (NLM_F_CREATE without EXCL). One table per family rather than
 * one `inet` table: inet NAT chains need Linux 5.2, ip and ip6 ones work on
 * every kernel with nf_tables NAT, and each family's rules stay apart.
 */
export function natTableMsgs(family: number = NFPROTO_IPV4): NftMsg[] {
  const msgs: NftMsg[] = [{ type: 'newtable', family, table: TABLE, userdata: OWNER_USERDATA }];
  for (const [chain, c] of Object.entries(CHAINS)) msgs.push({ type: 'newchain', family, table: TABLE, chain, ...c, policy: NF_ACCEPT });
  return msgs;
}

/** The bridge-family table with a forward chain, for inter-container filtering. */
export function bridgeTableMsgs(): NftMsg[] {
  return [
    { type: 'newtable', family: NFPROTO_BRIDGE, table: TABLE, userdata: OWNER_USERDATA },
    { type: 'newchain', family: NFPROTO_BRIDGE, table: TABLE, chain: 'forward', hooknum: 2, priority: 0, chainType: 'filter', policy: NF_ACCEPT },
  ];
}

export function rule(family: number, chain: string, parts: NftExpr[][], text: string): NftMsg {
  return { type: 'newrule', family, table: TABLE, chain, exprs: parts.flat(), userdata: comment(text) };
}

export function delRule(r: OurRule): NftMsg {
  return { type: 'delrule', family: r.family, table: TABLE, chain: r.chain, handle: r.handle };
}

export interface OurRule {
  family: number;
  chain: string;
  handle: bigint;
  comment: string;
}

const FAMILIES = [NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_BRIDGE] as const;
/** The NAT tables' families: ip and ip6 (what port mappings live in). */
export const NAT_FAMILIES: readonly number[] = [NFPROTO_IPV4, NFPROTO_IPV6];
const familyName = (f: number) => (f === NFPROTO_BRIDGE ? 'bridge' : f === NFPROTO_IPV6 ? 'ip6' : 'ip');

/** What our tables in a namespace hold, at one ruleset generation. */
export interface NftState {
  /** The generation the state was read at: a batch sent with it applies only if nothing changed since. */
  genid: number;
  /** Per family: whether a table of our name exists, and whether it carries our mark. */
  tables: Map<number, { exists: boolean; ours: boolean }>;
  /** The rules of our (marked) tables. */
  rules: OurRule[];
}

/**
 * Reads our tables in `ns` and the generation they were read at: of every
 * family, or only of `families` (each dump is two to four requests; an IPv4
 * operation need not read the ip6 table, nor a NAT one the bridge table).
 */
export async function readState(ns: Namespace, families: readonly number[] = FAMILIES): Promise<NftState> {
  const dumps = await Promise.all(
    families.map((family) =>
      kernel(ns.handle.nftDump({ family, table: TABLE }), `nf_tables table ${familyName(family)} ${TABLE} in namespace ${ns}`).then((d) => ({ family, d })),
    ),
  );
  const tables = new Map<number, { exists: boolean; ours: boolean }>();
  const rules: OurRule[] = [];
  let genid = Infinity;
  for (const { family, d } of dumps) {
    // The earliest generation: if anything changed after it, a batch carrying it is refused.
    genid = Math.min(genid, d.genid);
    const ours = d.exists && readComment(d.tableUserdata) === OWNER_MARK;
    tables.set(family, { exists: d.exists, ours });
    if (ours) for (const r of d.rules) rules.push({ family, chain: r.chain, handle: r.handle, comment: readComment(r.userdata) ?? '' });
  }
  return { genid, tables, rules };
}

/** Our rules in `ns` (every table), with their comments. A same-named table without our mark is not ours: its rules are not listed. */
export async function ourRules(ns: Namespace): Promise<OurRule[]> {
  return (await readState(ns)).rules;
}

/** How many times a transaction is retried when another writer changed the ruleset under it. */
const MAX_ATTEMPTS = 200;

/**
 * One read-modify-write of our tables, safe against any number of processes
 * doing the same: read the state and its generation, let `plan` decide the
 * messages from it (it may throw, e.g. a port conflict; it may read more,
 * which is then at least as recent as the state), and send them as one
 * batch that the kernel applies only if the ruleset is still at that
 * generation (NFNL_BATCH_GENID); otherwise read again and re-plan.
 *
 * The same batch deletes any of our tables it leaves without a rule, so no
 * empty table survives an operation and no kill can split "remove the last
 * rule" from "remove the table". A table of our name that is not ours is
 * ERR_FOREIGN_TABLE, before anything is sent.
 *
 * `families`: the tables the operation reads and writes (default: all). An
 * IPv4-only operation names only `ip`, so it does no more kernel work than
 * before the ip6 table existed; the generation still covers every table.
 */
export function transact(ns: Namespace, what: string, plan: (state: NftState) => NftMsg[] | Promise<NftMsg[]>, families: readonly number[] = FAMILIES): Promise<void> {
  // Within one process, one transaction at a time per namespace: they would only make each other retry.
  const key = `${ns.dev}:${ns.inode}`;
  const run = (queues.get(key) ?? Promise.resolve()).then(() => transactOnce(ns, what, plan, families));
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}
const queues = new Map<string, Promise<unknown>>();

async function transactOnce(ns: Namespace, what: string, plan: (state: NftState) => NftMsg[] | Promise<NftMsg[]>, families: readonly number[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    // Only the families the operation concerns: the batch's generation check covers the
    // whole ruleset, so a change to a table not read still makes the batch retry.
    const state = await readState(ns, families);
    const msgs = await plan(state);
    const count = new Map<number, number>();
    for (const r of state.rules) count.set(r.family, (count.get(r.family) ?? 0) + 1);
    for (const m of msgs) {
      // A table not read could be someone else's: the caller must name every family it writes.
      if (!state.tables.has(m.family)) throw new Error(`netplumb bug: ${what} writes table ${familyName(m.family)} ${TABLE} without reading it`);
      const t = state.tables.get(m.family);
      if (t?.exists && !t.ours)
        throw new NetplumbError(
          C.FOREIGN_TABLE,
          `table ${familyName(m.family)} ${TABLE} in namespace ${ns} was not created by netplumb (it lacks the comment "${OWNER_MARK}"); netplumb never changes a table it did not create: rename or remove it`,
          { value: `${familyName(m.family)} ${TABLE}` },
        );
      if (m.type === 'newrule') count.set(m.family, (count.get(m.family) ?? 0) + 1);
      if (m.type === 'delrule') count.set(m.family, (count.get(m.family) ?? 0) - 1);
    }
    // Our tables left without a rule go in the same batch (also one left empty by an older version).
    for (const family of families) {
      if ((count.get(family) ?? 0) > 0) continue;
      const creates = msgs.some((m) => m.family === family && m.type === 'newtable');
      if (state.tables.get(family)?.ours || creates) msgs.push({ type: 'deltable', family, table: TABLE });
    }
    if (msgs.length === 0) return;
    try {
      await apply(ns, msgs, what, state.genid);
      return;
    } catch (e) {
      if (!(e instanceof NetlinkError) || e.code !== 'ERESTART' || attempt >= MAX_ATTEMPTS) throw e;
      // Another writer committed between our read and our batch: back off a little, at random, and re-plan.
      await new Promise((r) => after(r, Math.random() * Math.min(attempt, 10))); // node:timers': fake timers do not stall it
    }
  }
}

/**
 * Applies messages as one atomic batch. On failure, the error names the
 * message that failed (its comment, for a rule) in `object`.
 */
export async function apply(ns: Namespace, msgs: NftMsg[], what: string, genid?: number): Promise<void> {
  ns.assertOpen();
  try {
    await ns.handle.nftBatch(msgs, genid);
  } catch (e) {
    const shape = e as NativeErrorShape & { index?: number };
    if (shape && shape.native === true) {
      const m = shape.index !== undefined && shape.index >= 0 ? msgs[shape.index] : undefined;
      if (shape.index === -1) shape.syscall = 'NFNL_MSG_BATCH_BEGIN';
      const which = m ? ` (message ${shape.index}: ${m.type} ${m.chain ?? m.table}${m.userdata ? ` "${readComment(m.userdata)}"` : ''})` : '';
      throw new NetlinkError(shape, `${what} in namespace ${ns}${which}`);
    }
    throw e;
  }
}
