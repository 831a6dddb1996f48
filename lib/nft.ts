// nf_tables expressions and our own tables, built from
// linux/netfilter/nf_tables.h. Everything netplumb installs lives in tables
// named `netplumb` (`ip netplumb` for NAT, `bridge netplumb` for bridge
// filtering), never in anyone else's, and every rule carries a comment (nft's
// user-data TLV) that says which object it belongs to — `nft list ruleset`
// shows it, and it is how netplumb finds its rules again.
import { kernel, NetlinkError, type NativeErrorShape } from './errors';
import type { NftExpr, NftMsg } from './native';
import type { Namespace } from './namespace';

export const NFPROTO_IPV4 = 2;
export const NFPROTO_BRIDGE = 7;
export const TABLE = 'netplumb';

const REG_1 = 1;
const REG_2 = 2;
const CMP = { eq: 0, neq: 1 } as const;
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
function prefixMask(len: number): Uint8Array {
  const m = new Uint8Array(4);
  for (let i = 0; i < 4; i++) m[i] = (0xff << (8 - Math.max(0, Math.min(8, len - i * 8)))) & 0xff;
  return m;
}

/** Expression builders: each returns the expressions of one match or action. */
export const expr = {
  l4proto: (proto: 'tcp' | 'udp'): NftExpr[] => [
    { name: 'meta', dreg: REG_1, key: META.l4proto },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: Uint8Array.from([proto === 'tcp' ? 6 : 17]) },
  ],
  dport: (port: number): NftExpr[] => [
    { name: 'payload', dreg: REG_1, base: PAYLOAD_TRANSPORT, offset: 2, len: 2 },
    { name: 'cmp', sreg: REG_1, op: CMP.eq, data: be16(port) },
  ],
  /** ip saddr / daddr ADDR[/LEN], or != with `not`. */
  addr: (which: 'saddr' | 'daddr', ip: Uint8Array, len = 32, not = false): NftExpr[] => {
    const load: NftExpr = { name: 'payload', dreg: REG_1, base: PAYLOAD_NETWORK, offset: which === 'saddr' ? 12 : 16, len: 4 };
    const cmp: NftExpr = { name: 'cmp', sreg: REG_1, op: not ? CMP.neq : CMP.eq, data: ip };
    if (len === 32) return [load, cmp];
    return [load, { name: 'bitwise', sreg: REG_1, dreg: REG_1, len: 4, mask: prefixMask(len), xor: new Uint8Array(4) }, cmp];
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
  /** dnat to ADDR:PORT */
  dnat: (ip: Uint8Array, port: number): NftExpr[] => [
    { name: 'immediate', dreg: REG_1, data: ip },
    { name: 'immediate', dreg: REG_2, data: be16(port) },
    { name: 'nat', type: NAT_DNAT, family: NFPROTO_IPV4, regAddr: REG_1, regProto: REG_2, flags: NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED },
  ],
  masquerade: (): NftExpr[] => [{ name: 'masq' }],
  drop: (): NftExpr[] => [{ name: 'immediate', verdict: NF_DROP }],
};

/** nft's comment, as NFTA_RULE_USERDATA: TLV type 0 (NFTNL_UDATA_RULE_COMMENT), NUL-terminated. */
export function comment(text: string): Uint8Array {
  const s = Buffer.from(text.slice(0, 127) + '\0', 'utf8');
  return Uint8Array.from([0, s.length, ...s]);
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

/** Messages that create our ip table and its NAT base chains; idempotent (NLM_F_CREATE without EXCL). */
export function natTableMsgs(): NftMsg[] {
  const msgs: NftMsg[] = [{ type: 'newtable', family: NFPROTO_IPV4, table: TABLE }];
  for (const [chain, c] of Object.entries(CHAINS))
    msgs.push({ type: 'newchain', family: NFPROTO_IPV4, table: TABLE, chain, ...c, policy: NF_ACCEPT });
  return msgs;
}

/** The bridge-family table with a forward chain, for inter-container filtering. */
export function bridgeTableMsgs(): NftMsg[] {
  return [
    { type: 'newtable', family: NFPROTO_BRIDGE, table: TABLE },
    { type: 'newchain', family: NFPROTO_BRIDGE, table: TABLE, chain: 'forward', hooknum: 2, priority: 0, chainType: 'filter', policy: NF_ACCEPT },
  ];
}

export function rule(family: number, chain: string, parts: NftExpr[][], text: string): NftMsg {
  return { type: 'newrule', family, table: TABLE, chain, exprs: parts.flat(), userdata: comment(text) };
}

export interface OurRule {
  family: number;
  chain: string;
  handle: bigint;
  comment: string;
}

/** Our rules in `ns` (both tables), with their comments. */
export async function ourRules(ns: Namespace): Promise<OurRule[]> {
  const dumps = await Promise.all(
    [NFPROTO_IPV4, NFPROTO_BRIDGE].map((family) =>
      kernel(ns.handle.nftDump({ family, table: TABLE }), `nf_tables table ${TABLE} in namespace ${ns}`).then((d) => ({ family, d })),
    ),
  );
  return dumps.flatMap(({ family, d }) => d.rules.map((r) => ({ family, chain: r.chain, handle: r.handle, comment: readComment(r.userdata) ?? '' })));
}

/** Removes our tables from `ns` when no rule is left in them (nothing of ours should outlive its last rule). */
export async function dropEmptyTables(ns: Namespace): Promise<void> {
  const msgs: NftMsg[] = [];
  for (const family of [NFPROTO_IPV4, NFPROTO_BRIDGE]) {
    const d = await kernel(ns.handle.nftDump({ family, table: TABLE }), `nf_tables table ${TABLE} in namespace ${ns}`);
    if (d.exists && d.rules.length === 0) msgs.push({ type: 'deltable', family, table: TABLE });
  }
  if (msgs.length) await apply(ns, msgs, `remove empty ${TABLE} tables`);
}

/**
 * Applies messages as one atomic batch. On failure, the error names the
 * message that failed (its comment, for a rule) in `object`.
 */
export async function apply(ns: Namespace, msgs: NftMsg[], what: string): Promise<void> {
  ns.assertOpen();
  try {
    await ns.handle.nftBatch(msgs);
  } catch (e) {
    const shape = e as NativeErrorShape & { index?: number };
    if (shape && shape.native === true) {
      const m = shape.index !== undefined && shape.index >= 0 ? msgs[shape.index] : undefined;
      const which = m ? ` (message ${shape.index}: ${m.type} ${m.chain ?? m.table}${m.userdata ? ` "${readComment(m.userdata)}"` : ''})` : '';
      throw new NetlinkError(shape, `${what} in namespace ${ns}${which}`);
    }
    throw e;
  }
}
