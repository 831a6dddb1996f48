// The netlink message trace: every datagram a namespace's sockets send or
// receive, decoded (message type, flags, seq, each attribute by name, nested;
// the ACK or error with its extended ACK; the time a request took). The native
// tap (native/nl/socket.cpp) hands raw bytes over only while tracing is on;
// everything here runs only then. Turned on by NETPLUMB_TRACE (1: to stderr; a
// path: appended to that file) or by `trace.enable()`; each message is also
// published on the diagnostics_channel 'netplumb:trace'.
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as os from 'node:os';

import { native, type RawTraceRecord } from './native';
import { NAMES } from './trace-names';

/** One attribute, by name; `attrs` when it holds attributes (nested), else `value`. */
export interface TraceAttr {
  /** 'IFLA_IFNAME', 'NFTA_RULE_EXPRESSIONS'... or 'TYPE_n' when the table has no name for it. */
  name: string;
  value?: string | number;
  attrs?: TraceAttr[];
  /** A fixed header inside the attribute (VETH_INFO_PEER's ifinfomsg, a multipath hop). */
  header?: Record<string, number | string>;
}

/** One netlink message, decoded. */
export interface TraceMessage {
  /** 'send': to the kernel; 'recv': from it. */
  direction: 'send' | 'recv';
  /** The namespace of the socket: its name under /run/netns, 'self' (this process's), or 'net:[inode]'. */
  namespace: string;
  protocol: 'route' | 'netfilter' | number;
  /** 'RTM_NEWLINK', 'NFT_MSG_NEWRULE', 'NFNL_MSG_BATCH_BEGIN', 'NLMSG_ERROR', 'NLMSG_DONE'... */
  type: string;
  flags: string[];
  seq: number;
  /** nlmsg_pid as the message carries it (0 in most requests: the kernel fills it in). */
  portid: number;
  /** The port id of the socket that sent or received it: with namespace and protocol, tells sockets (and their seq counters) apart. */
  socket: number;
  /** The family header (ifinfomsg, rtmsg, nfgenmsg...), by field. */
  header?: Record<string, number | string>;
  attrs?: TraceAttr[];
  /** NLMSG_ERROR with error 0: the ACK of request `seq`. */
  ack?: boolean;
  /** NLMSG_ERROR with an error: errno, its name, and the extended ACK. */
  error?: { errno: number; code: string; message?: string; offset?: number; missingType?: number };
  /** On the ACK, error or NLMSG_DONE that ends a request: milliseconds since it was sent. */
  ms?: number;
  /** The raw message, hex, when it could not be decoded. */
  hex?: string;
}

/** Where trace lines go when tracing is on: 'stderr', a file path, or nowhere (only the channel). */
export type TraceSink = 'stderr' | string | null;

const channel = dc.channel('netplumb:trace');

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLA_F_NESTED = 0x8000;
let errnoNames: Map<number, string> | undefined;
const errnoName = (n: number): string => {
  errnoNames ??= new Map(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));
  return errnoNames.get(n) ?? `E${n}`;
};

const names = (table: string): string[] => NAMES[table] ?? [];
const nameIn = (table: string, type: number): string => {
  const n = names(table)[type];
  return n && n !== '-' ? `${table}_${n}` : `${table}_TYPE_${type}`;
};

// -------------------------------------------------------------- value shapes

type Shape = 'str' | 'ip' | 'mac' | 'u8' | 'u16' | 'u32' | 'be16' | 'be32' | 'be64' | 'hex';
const STR = new Set([
  'IFLA_IFNAME',
  'IFLA_QDISC',
  'IFLA_IFALIAS',
  'IFLA_ALT_IFNAME',
  'IFLA_PHYS_PORT_NAME',
  'IFLA_PARENT_DEV_NAME',
  'IFLA_PARENT_DEV_BUS_NAME',
  'IFLA_INFO_KIND',
  'IFLA_INFO_SLAVE_KIND',
  'IFA_LABEL',
  'FRA_IIFNAME',
  'FRA_OIFNAME',
  'NFTA_TABLE_NAME',
  'NFTA_CHAIN_NAME',
  'NFTA_CHAIN_TABLE',
  'NFTA_CHAIN_TYPE',
  'NFTA_RULE_TABLE',
  'NFTA_RULE_CHAIN',
  'NFTA_EXPR_NAME',
  'NFTA_VERDICT_CHAIN',
  'NFTA_SET_NAME',
  'NFTA_SET_TABLE',
  'NFTA_SET_ELEM_LIST_TABLE',
  'NFTA_SET_ELEM_LIST_SET',
  'NFTA_LOOKUP_SET',
  'NFTA_DYNSET_SET_NAME',
  'NFTA_HOOK_DEV',
  'NFTA_LOG_PREFIX',
  'NFTA_GEN_PROC_NAME',
  'NFTA_OBJ_NAME',
  'NFTA_OBJ_TABLE',
  'NLMSGERR_ATTR_MSG',
]);
const IP = new Set([
  'IFA_ADDRESS',
  'IFA_LOCAL',
  'IFA_BROADCAST',
  'IFA_ANYCAST',
  'IFA_MULTICAST',
  'RTA_DST',
  'RTA_SRC',
  'RTA_GATEWAY',
  'RTA_PREFSRC',
  'NDA_DST',
  'FRA_DST',
  'FRA_SRC',
  'IFLA_VXLAN_GROUP',
  'IFLA_VXLAN_LOCAL',
  'IFLA_VXLAN_GROUP6',
  'IFLA_VXLAN_LOCAL6',
]);
const MAC = new Set(['IFLA_ADDRESS', 'IFLA_BROADCAST', 'IFLA_PERM_ADDRESS', 'NDA_LLADDR']);
const BE16 = new Set(['IFLA_VXLAN_PORT']);

function shapeOf(name: string, len: number, nft: boolean): Shape {
  if (STR.has(name)) return 'str';
  if (IP.has(name) && (len === 4 || len === 16)) return 'ip';
  if (MAC.has(name) && len === 6) return 'mac';
  if (BE16.has(name) && len === 2) return 'be16';
  if (nft) return len === 4 ? 'be32' : len === 8 ? 'be64' : len === 2 ? 'be16' : len === 1 ? 'u8' : 'hex';
  return len === 1 ? 'u8' : len === 2 ? 'u16' : len === 4 ? 'u32' : 'hex';
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // The longest run of zero groups becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function valueOf(shape: Shape, b: Buffer): string | number {
  switch (shape) {
    case 'str':
      return b.toString('utf8').replace(/\0+$/, '');
    case 'ip':
      return ipText(b);
    case 'mac':
      return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
    case 'u8':
      return b.readUInt8(0);
    case 'u16':
      return b.readUInt16LE(0);
    case 'u32':
      return b.readUInt32LE(0);
    case 'be16':
      return b.readUInt16BE(0);
    case 'be32':
      return b.readUInt32BE(0);
    case 'be64':
      return b.readBigUInt64BE(0).toString();
    default:
      return b.toString('hex');
  }
}

// -------------------------------------------------------------- attribute tables

/** How to decode the attributes inside an attribute: its table, per parent and name (and siblings, for a kind). */
type Nest = (name: string, siblings: TraceAttr[]) => { table: string; header?: (b: Buffer) => [Record<string, number | string>, number] } | undefined;

const LINK_DATA: Record<string, string> = {
  veth: 'VETH_INFO',
  bridge: 'IFLA_BR',
  vlan: 'IFLA_VLAN',
  macvlan: 'IFLA_MACVLAN',
  macvtap: 'IFLA_MACVLAN',
  ipvlan: 'IFLA_IPVLAN',
  vxlan: 'IFLA_VXLAN',
  bond: 'IFLA_BOND',
  vrf: 'IFLA_VRF',
};
const EXPR_DATA: Record<string, string> = {
  immediate: 'NFTA_IMMEDIATE',
  bitwise: 'NFTA_BITWISE',
  byteorder: 'NFTA_BYTEORDER',
  cmp: 'NFTA_CMP',
  range: 'NFTA_RANGE',
  lookup: 'NFTA_LOOKUP',
  dynset: 'NFTA_DYNSET',
  payload: 'NFTA_PAYLOAD',
  meta: 'NFTA_META',
  ct: 'NFTA_CT',
  limit: 'NFTA_LIMIT',
  counter: 'NFTA_COUNTER',
  log: 'NFTA_LOG',
  reject: 'NFTA_REJECT',
  nat: 'NFTA_NAT',
  masq: 'NFTA_MASQ',
  redir: 'NFTA_REDIR',
  fib: 'NFTA_FIB',
};
const strOf = (attrs: TraceAttr[], name: string): string | undefined => {
  const a = attrs.find((x) => x.name === name);
  return typeof a?.value === 'string' ? a.value : undefined;
};
const NFT_DATA = new Set([
  'NFTA_IMMEDIATE_DATA',
  'NFTA_CMP_DATA',
  'NFTA_BITWISE_MASK',
  'NFTA_BITWISE_XOR',
  'NFTA_BITWISE_DATA',
  'NFTA_RANGE_FROM_DATA',
  'NFTA_RANGE_TO_DATA',
  'NFTA_SET_ELEM_KEY',
  'NFTA_SET_ELEM_KEY_END',
  'NFTA_SET_ELEM_DATA',
]);

const nest: Nest = (name, siblings) => {
  switch (name) {
    case 'IFLA_LINKINFO':
      return { table: 'IFLA_INFO' };
    case 'IFLA_PROP_LIST':
      return { table: 'IFLA' };
    case 'IFLA_XDP':
      return { table: 'IFLA_XDP' };
    case 'IFLA_AF_SPEC':
      return { table: 'AF' };
    case 'AF_INET':
      return { table: 'IFLA_INET' };
    case 'AF_INET6':
      return { table: 'IFLA_INET6' };
    case 'IFLA_INFO_DATA': {
      const t = LINK_DATA[strOf(siblings, 'IFLA_INFO_KIND') ?? ''];
      return t ? { table: t } : undefined;
    }
    case 'IFLA_INFO_SLAVE_DATA':
      return strOf(siblings, 'IFLA_INFO_SLAVE_KIND') === 'bridge' ? { table: 'IFLA_BRPORT' } : undefined;
    case 'VETH_INFO_PEER':
      return { table: 'IFLA', header: ifinfomsg };
    case 'RTA_METRICS':
      return { table: 'RTAX' };
    case 'NFTA_CHAIN_HOOK':
      return { table: 'NFTA_HOOK' };
    case 'NFTA_RULE_EXPRESSIONS':
      return { table: 'NFTA_LIST' };
    case 'NFTA_SET_ELEM_LIST_ELEMENTS':
      return { table: 'NFTA_LIST' };
    case 'NFTA_DATA_VERDICT':
      return { table: 'NFTA_VERDICT' };
    case 'NFTA_EXPR_DATA': {
      const t = EXPR_DATA[strOf(siblings, 'NFTA_EXPR_NAME') ?? ''];
      return t ? { table: t } : undefined;
    }
    default:
      return NFT_DATA.has(name) ? { table: 'NFTA_DATA' } : undefined;
  }
};

/** Decodes the attributes in b[off..]; `listOf`: the table of NFTA_LIST_ELEM's content. */
function attrsOf(b: Buffer, off: number, table: string, nft: boolean, listOf?: string, depth = 0): TraceAttr[] {
  const out: TraceAttr[] = [];
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    const rawType = b.readUInt16LE(off + 2);
    if (len < 4 || off + len > b.length) {
      out.push({ name: 'TRUNCATED', value: b.subarray(off).toString('hex') });
      break;
    }
    const type = rawType & 0x3fff;
    const data = b.subarray(off + 4, off + len);
    let name: string;
    if (table === 'AF') name = type === 2 ? 'AF_INET' : type === 10 ? 'AF_INET6' : `AF_${type}`;
    else if (table === 'NFTA_LIST') name = type === 1 ? 'NFTA_LIST_ELEM' : `NFTA_LIST_TYPE_${type}`;
    else if (table === 'IFLA' && depth > 0 && type === 53) name = 'IFLA_ALT_IFNAME';
    else name = nameIn(table, type);
    const a: TraceAttr = { name };
    if (name === 'NFTA_LIST_ELEM') a.attrs = attrsOf(data, 0, listOf ?? 'NFTA_EXPR', nft, undefined, depth + 1);
    else if (name === 'RTA_MULTIPATH') a.attrs = hops(data);
    else {
      const n = depth < 8 ? nest(name, out) : undefined;
      if (n) {
        let start = 0;
        if (n.header) [a.header, start] = n.header(data);
        const inner = name === 'NFTA_RULE_EXPRESSIONS' ? 'NFTA_EXPR' : name === 'NFTA_SET_ELEM_LIST_ELEMENTS' ? 'NFTA_SET_ELEM' : undefined;
        a.attrs = attrsOf(data, start, n.table, nft, inner, depth + 1);
      } else if (rawType & NLA_F_NESTED) a.attrs = attrsOf(data, 0, `${name}`, nft, undefined, depth + 1);
      else if (data.length > 0) a.value = valueOf(shapeOf(name, data.length, nft), data);
    }
    out.push(a);
    off += (len + 3) & ~3;
  }
  return out;
}

/** RTA_MULTIPATH: rtnexthop { len u16, flags u8, hops u8, ifindex s32 } each followed by RTA_* attributes. */
function hops(b: Buffer): TraceAttr[] {
  const out: TraceAttr[] = [];
  let off = 0;
  while (off + 8 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 8 || off + len > b.length) break;
    out.push({
      name: 'rtnexthop',
      header: { flags: b.readUInt8(off + 2), weight: b.readUInt8(off + 3) + 1, ifindex: b.readInt32LE(off + 4) },
      attrs: attrsOf(b.subarray(off + 8, off + len), 0, 'RTA', false),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

// -------------------------------------------------------------- family headers

function ifinfomsg(b: Buffer): [Record<string, number>, number] {
  if (b.length < 16) return [{}, b.length];
  return [{ family: b.readUInt8(0), type: b.readUInt16LE(2), index: b.readInt32LE(4), flags: b.readUInt32LE(8), change: b.readUInt32LE(12) }, 16];
}
function ifaddrmsg(b: Buffer): [Record<string, number>, number] {
  if (b.length < 8) return [{}, b.length];
  return [{ family: b.readUInt8(0), prefixlen: b.readUInt8(1), flags: b.readUInt8(2), scope: b.readUInt8(3), index: b.readUInt32LE(4) }, 8];
}
// rtmsg and fib_rule_hdr share one shape: eight u8 fields, then a u32 of flags.
function eightBytesThenFlags(f: readonly string[]): (b: Buffer) => [Record<string, number>, number] {
  return (b) => {
    if (b.length < 12) return [{}, b.length];
    const h: Record<string, number> = {};
    f.forEach((k, i) => (h[k] = b.readUInt8(i)));
    h.flags = b.readUInt32LE(8);
    return [h, 12];
  };
}
const rtmsg = eightBytesThenFlags(['family', 'dst_len', 'src_len', 'tos', 'table', 'protocol', 'scope', 'type']);
function ndmsg(b: Buffer): [Record<string, number>, number] {
  if (b.length < 12) return [{}, b.length];
  return [{ family: b.readUInt8(0), index: b.readInt32LE(4), state: b.readUInt16LE(8), flags: b.readUInt8(10), type: b.readUInt8(11) }, 12];
}
const fibRuleHdr = eightBytesThenFlags(['family', 'dst_len', 'src_len', 'tos', 'table', 'res1', 'res2', 'action']);
function genmsg(b: Buffer): [Record<string, number>, number] {
  return b.length < 1 ? [{}, b.length] : [{ family: b.readUInt8(0) }, 4];
}
function nfgenmsg(b: Buffer): [Record<string, number>, number] {
  if (b.length < 4) return [{}, b.length];
  return [{ family: b.readUInt8(0), version: b.readUInt8(1), res_id: b.readUInt16BE(2) }, 4];
}

/** The header and attribute table of an rtnetlink message, by its object (RTM_NEWLINK -> LINK). */
const RTNL: Record<string, [(b: Buffer) => [Record<string, number>, number], string]> = {
  LINK: [ifinfomsg, 'IFLA'],
  ADDR: [ifaddrmsg, 'IFA'],
  ROUTE: [rtmsg, 'RTA'],
  NEIGH: [ndmsg, 'NDA'],
  RULE: [fibRuleHdr, 'FRA'],
  NSID: [genmsg, 'NETNSA'],
};
const NFT_TABLES: Record<string, string> = {
  TABLE: 'NFTA_TABLE',
  CHAIN: 'NFTA_CHAIN',
  RULE: 'NFTA_RULE',
  SET: 'NFTA_SET',
  SETELEM: 'NFTA_SET_ELEM_LIST',
  GEN: 'NFTA_GEN',
  OBJ: 'NFTA_OBJ',
  FLOWTABLE: '',
};

/** The flags every message shares (linux/netlink.h). */
function flagNames(flags: number): string[] {
  const base: [number, string][] = [
    [0x1, 'REQUEST'],
    [0x2, 'MULTI'],
    [0x4, 'ACK'],
    [0x8, 'ECHO'],
    [0x10, 'DUMP_INTR'],
    [0x20, 'DUMP_FILTERED'],
  ];
  return base.filter(([bit]) => flags & bit).map(([, n]) => n);
}

/** The high flags mean different things for errors, gets, news and dels. */
function highFlags(typeName: string, flags: number): string[] {
  const out: string[] = [];
  let table: [number, string][];
  if (typeName === 'NLMSG_ERROR')
    table = [
      [0x100, 'CAPPED'],
      [0x200, 'ACK_TLVS'],
    ];
  else if (/_GET/.test(typeName))
    table = [
      [0x100, 'ROOT'],
      [0x200, 'MATCH'],
      [0x400, 'ATOMIC'],
    ];
  else if (/_DEL/.test(typeName))
    table = [
      [0x100, 'NONREC'],
      [0x200, 'BULK'],
    ];
  else
    table = [
      [0x100, 'REPLACE'],
      [0x200, 'EXCL'],
      [0x400, 'CREATE'],
      [0x800, 'APPEND'],
    ];
  let rest = flags & ~0x3f;
  for (const [bit, n] of table)
    if (flags & bit) {
      out.push(n);
      rest &= ~bit;
    }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

// -------------------------------------------------------------- messages

/** Decodes one datagram (several messages) of a socket of `protocol` (0 NETLINK_ROUTE, 12 NETLINK_NETFILTER). */
export function decodeDatagram(data: Buffer, protocol: number, direction: 'send' | 'recv', namespace: string, socket = 0): TraceMessage[] {
  const out: TraceMessage[] = [];
  let off = 0;
  while (off + 16 <= data.length) {
    const len = data.readUInt32LE(off);
    if (len < 16 || off + len > data.length) break;
    out.push(decodeMessage(data.subarray(off, off + len), protocol, direction, namespace, socket));
    off += (len + 3) & ~3;
  }
  return out;
}

function decodeMessage(m: Buffer, protocol: number, direction: 'send' | 'recv', namespace: string, socket: number): TraceMessage {
  const type = m.readUInt16LE(4);
  const flags = m.readUInt16LE(6);
  const body = m.subarray(16);
  const nft = protocol === 12;
  let typeName: string;
  if (type === 1) typeName = 'NLMSG_NOOP';
  else if (type === NLMSG_ERROR) typeName = 'NLMSG_ERROR';
  else if (type === NLMSG_DONE) typeName = 'NLMSG_DONE';
  else if (type === 4) typeName = 'NLMSG_OVERRUN';
  else if (nft && type === 0x10) typeName = 'NFNL_MSG_BATCH_BEGIN';
  else if (nft && type === 0x11) typeName = 'NFNL_MSG_BATCH_END';
  else if (nft && type >> 8 === 10) typeName = nameIn('NFT_MSG', type & 0xff);
  else if (nft) typeName = `NFNL_SUBSYS_${type >> 8}_MSG_${type & 0xff}`;
  else typeName = nameIn('RTM', type);
  const msg: TraceMessage = {
    direction,
    namespace,
    protocol: protocol === 0 ? 'route' : nft ? 'netfilter' : protocol,
    type: typeName,
    flags: [...flagNames(flags), ...highFlags(typeName, flags)],
    seq: m.readUInt32LE(8),
    portid: m.readUInt32LE(12),
    socket,
  };
  try {
    if (type === NLMSG_ERROR) decodeError(msg, body, flags);
    else if (type === NLMSG_DONE) {
      // With NETLINK_EXT_ACK a failed dump ends in DONE with an error too.
      if (body.length >= 4 && body.readInt32LE(0) !== 0) decodeError(msg, body, flags);
    } else if (type < 16) {
      if (body.length) msg.hex = body.toString('hex');
    } else if (nft) {
      const [h, start] = nfgenmsg(body);
      msg.header = h;
      const object = typeName.replace(/^NFT_MSG_(NEW|GET|DEL|DESTROY)/, '').replace(/_RESET$/, '');
      const table = typeName.startsWith('NFNL_MSG_BATCH') ? 'NFNL_BATCH' : NFT_TABLES[object];
      if (table === 'NFNL_BATCH')
        msg.attrs = attrsOf(body, start, 'NFNL_BATCH', true).map((a) => (a.name === 'NFNL_BATCH_TYPE_1' ? { ...a, name: 'NFNL_BATCH_GENID' } : a));
      else if (table) msg.attrs = attrsOf(body, start, table, true);
      else if (body.length > start) msg.hex = body.subarray(start).toString('hex');
    } else {
      const object = typeName.replace(/^RTM_(NEW|DEL|GET|SET)/, '');
      const codec = RTNL[object];
      if (codec) {
        const [h, start] = codec[0](body);
        msg.header = h;
        msg.attrs = attrsOf(body, (start + 3) & ~3, codec[1], false);
      } else msg.hex = body.toString('hex');
    }
  } catch {
    msg.hex = body.toString('hex');
  }
  return msg;
}

function decodeError(msg: TraceMessage, body: Buffer, flags: number): void {
  const err = body.readInt32LE(0);
  if (err === 0) {
    msg.ack = true;
    if (msg.type === 'NLMSG_ERROR') msg.type = 'ACK';
  } else msg.error = { errno: -err, code: errnoName(-err) };
  if (msg.type !== 'NLMSG_ERROR' && msg.type !== 'ACK') return;
  // The request's header follows (capped: no payload), then the extended ACK's TLVs.
  if (body.length >= 20) {
    const reqType = body.readUInt16LE(8);
    msg.header = { request_type: reqType, request_seq: body.readUInt32LE(12) };
  }
  if (!(flags & 0x200)) return;
  const reqLen = flags & 0x100 ? 16 : body.length >= 8 ? body.readUInt32LE(4) : 16;
  const tlvs = attrsOf(body, 4 + ((reqLen + 3) & ~3), 'NLMSGERR_ATTR', false);
  const e = (msg.error ??= { errno: 0, code: 'OK' });
  for (const a of tlvs) {
    if (a.name === 'NLMSGERR_ATTR_MSG') e.message = String(a.value);
    else if (a.name === 'NLMSGERR_ATTR_OFFS') e.offset = Number(a.value);
    else if (a.name === 'NLMSGERR_ATTR_MISS_TYPE') e.missingType = Number(a.value);
  }
  if (msg.ack && e.errno === 0 && e.message === undefined) delete msg.error; // a warning-free ACK
}

// -------------------------------------------------------------- formatting

function attrText(a: TraceAttr): string {
  const h = a.header
    ? `{${Object.entries(a.header)
        .map(([k, v]) => `${k} ${v}`)
        .join(' ')}} `
    : '';
  if (a.attrs) return `${a.name} ${h}{ ${a.attrs.map(attrText).join(' ')} }`;
  if (a.value === undefined) return `${a.name}${h ? ` ${h.trim()}` : ''}`;
  return `${a.name} ${typeof a.value === 'string' && !/^[\w.:/-]+$/.test(a.value) ? JSON.stringify(a.value) : a.value}`;
}

/** One message as a line of text, in the spirit of `ip monitor`: `[ns] -> RTM_NEWLINK seq 3 flags REQUEST,ACK ... attrs`. */
export function formatTrace(m: TraceMessage): string {
  const parts = [`netplumb [${m.namespace}] ${m.direction === 'send' ? '->' : '<-'} ${m.type}`, `seq ${m.seq}`];
  if (m.flags.length) parts.push(`flags ${m.flags.join(',')}`);
  if (m.error) {
    parts.push(`${m.error.code} (${-m.error.errno})`);
    if (m.error.message) parts.push(JSON.stringify(m.error.message));
    if (m.error.offset !== undefined) parts.push(`at offset ${m.error.offset}`);
  }
  if (m.header && !m.ack && !m.error)
    parts.push(
      `{${Object.entries(m.header)
        .map(([k, v]) => `${k} ${v}`)
        .join(' ')}}`,
    );
  if (m.attrs?.length) parts.push(m.attrs.map(attrText).join(' '));
  if (m.hex) parts.push(`hex ${m.hex}`);
  if (m.ms !== undefined) parts.push(`(${m.ms.toFixed(3)} ms)`);
  return parts.join(' ');
}

// -------------------------------------------------------------- the tap

const inflight = new Map<string, number>();
const nsNames = new Map<number, string>();

/**
 * The namespace of an inode: its /run/netns name, 'self', or 'net:[inode]'
 * (looked up only while tracing). A name found is kept while it still names
 * that inode (one stat): a namespace's name can be removed, or given to
 * another, and a freed inode number taken by a new namespace.
 */
function namespaceOf(ino: number): string {
  const known = nsNames.get(ino);
  if (known === 'self') return known; // this process's own: held, its inode cannot be reused
  if (known) {
    try {
      if (fs.statSync(`/run/netns/${known}`).ino === ino) return known;
    } catch {
      // the name is gone
    }
    nsNames.delete(ino);
  }
  let name = `net:[${ino}]`;
  try {
    if (fs.statSync('/proc/self/ns/net').ino === ino) name = 'self';
    else
      for (const n of fs.readdirSync('/run/netns'))
        if (fs.statSync(`/run/netns/${n}`).ino === ino) {
          name = n;
          break;
        }
  } catch {
    // no /run/netns: the inode it is
  }
  if (!name.startsWith('net:')) nsNames.set(ino, name);
  return name;
}

let sink: TraceSink = null;
let sinkFd: number | undefined;
let on = false;

function record(r: RawTraceRecord): void {
  if (!on) return; // queued by the tap before disable(): dropped
  const direction = r.sent ? 'send' : 'recv';
  const msgs = decodeDatagram(r.data, r.protocol, direction, namespaceOf(r.netns), r.portid);
  for (const m of msgs) {
    // Port ids are per namespace and protocol: both are part of a socket's identity.
    const key = `${r.netns}:${r.protocol}:${r.portid}:${m.seq}`;
    if (r.sent) {
      if (inflight.size > 65536) inflight.clear();
      inflight.set(key, r.time);
    } else if (m.ack || m.error || m.type === 'NLMSG_DONE') {
      const t0 = inflight.get(key);
      if (t0 !== undefined) {
        m.ms = Math.round((r.time - t0) * 1000) / 1000;
        inflight.delete(key);
      }
    }
    if (channel.hasSubscribers) channel.publish(m);
    if (sink !== null) {
      const line = formatTrace(m) + '\n';
      if (sink === 'stderr') process.stderr.write(line);
      else {
        sinkFd ??= fs.openSync(sink, 'a');
        fs.writeSync(sinkFd, line);
      }
    }
  }
}

/**
 * The netlink message trace. `enable()` hands every message any namespace's
 * sockets send or receive to the diagnostics_channel 'netplumb:trace' (as a
 * TraceMessage) and, with a sink, prints it; `disable()` removes the tap (then
 * it costs one relaxed atomic load per datagram). `NETPLUMB_TRACE=1` (stderr)
 * or `NETPLUMB_TRACE=/path/file` enables it when netplumb loads.
 */
export const trace = {
  /** Starts tracing; `to`: 'stderr', a file path (appended), or null for the channel only (default). */
  enable(to: TraceSink = null): void {
    if (to !== sink && sinkFd !== undefined) {
      fs.closeSync(sinkFd);
      sinkFd = undefined;
    }
    sink = to;
    on = true;
    native().setTrace(record);
  },
  /** Stops tracing. */
  disable(): void {
    on = false;
    native().setTrace(null);
    if (sinkFd !== undefined) fs.closeSync(sinkFd);
    sinkFd = undefined;
    sink = null;
    inflight.clear();
  },
  /** True while tracing. */
  get enabled(): boolean {
    return on;
  },
  /** The diagnostics_channel messages are published on. */
  channel: 'netplumb:trace',
};

const env = process.env.NETPLUMB_TRACE;
if (env && env !== '0') trace.enable(env === '1' || env === 'stderr' ? 'stderr' : env);
