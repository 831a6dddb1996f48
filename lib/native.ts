// The addon's surface, typed. Only lib/ talks to it, and only with arguments
// that lib/validate.ts has already checked.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeErrorShape } from './errors';
import { catchUp, countTurns, later, mustWait, PACE_FLAG } from './pace';

export interface RawLink {
  index: number;
  name: string;
  kind: string;
  slaveKind: string;
  flags: number;
  type: number;
  mtu: number;
  minMtu: number;
  maxMtu: number;
  mac: string;
  broadcast: string;
  operstate: number;
  master: number;
  link: number;
  linkNetnsid: number;
  group: number;
  txqlen: number;
  alias: string;
  /** IFLA_INFO_DATA of a kind with a table in native/rtnl/kinds/, by field name (lib/kinds/ types it). */
  data?: RawKindData;
}

/** A kind's data as read back: numbers, addresses as text, strings. */
export type RawKindData = Record<string, number | string>;
/** A kind's data as sent: numbers, booleans, addresses as bytes, strings. */
export type KindData = Record<string, number | boolean | string | Uint8Array>;

/** A tun/tap device made through /dev/net/tun (persistent). */
export interface TunSpec {
  name: string;
  tap?: boolean;
  multiQueue?: boolean;
  vnetHdr?: boolean;
  pi?: boolean;
  owner?: number;
  group?: number;
}

export interface RawAddr {
  family: 4 | 6;
  prefixlen: number;
  scope: number;
  flags: number;
  index: number;
  local: string;
  address: string;
  broadcast: string;
  label: string;
  validLft: number;
  preferredLft: number;
}

/** A route as the addon reports it; absent fields are left out (not '' or 0). */
export interface RawRoute {
  family: number;
  dst: string;
  dstLen: number;
  src?: string;
  srcLen?: number;
  gateway?: string;
  prefsrc?: string;
  oif?: number;
  iif?: number;
  table: number;
  priority?: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  mtu?: number;
  multipath?: { gateway?: string; oif: number; weight: number; flags?: number }[];
}

export interface LinkSpec {
  op: 'new' | 'set' | 'del' | 'get' | 'dump';
  index?: number;
  name?: string;
  kind?: string;
  mtu?: number;
  mac?: Uint8Array;
  master?: number;
  up?: boolean;
  /** IFF_PROMISC */
  promisc?: boolean;
  /** The target namespace's Namespace.ref (IFLA_NET_NS_FD: the request takes its own fd of it when built). */
  netnsFd?: number;
  netnsPid?: number;
  group?: number;
  txqlen?: number;
  alias?: string;
  parent?: number;
  peer?: { name?: string; netnsFd?: number; mtu?: number; mac?: Uint8Array };
  /** IFLA_INFO_DATA, encoded by the kind's table (native/rtnl/kinds/). */
  data?: KindData;
  hairpin?: boolean;
  filterMaster?: number;
  filterKind?: string;
}

export interface AddrSpec {
  op: 'new' | 'del' | 'dump';
  replace?: boolean;
  family?: 4 | 6;
  prefixlen?: number;
  scope?: number;
  index?: number;
  local?: Uint8Array;
  peer?: Uint8Array;
  broadcast?: Uint8Array;
  flags?: number;
  label?: string;
  validLft?: number;
  preferredLft?: number;
}

export interface RouteSpec {
  op: 'new' | 'del' | 'dump' | 'get';
  replace?: boolean;
  append?: boolean;
  family?: 4 | 6;
  dst?: Uint8Array;
  dstLen?: number;
  src?: Uint8Array;
  srcLen?: number;
  gateway?: Uint8Array;
  oif?: number;
  iif?: number;
  table?: number;
  priority?: number;
  prefsrc?: Uint8Array;
  scope?: number;
  protocol?: number;
  type?: number;
  onlink?: boolean;
  mtu?: number;
  /** ECMP hops (RTA_MULTIPATH): sent with `routeMultipath`, beside the packed spec. */
  nexthops?: { gateway?: Uint8Array; oif: number; weight: number }[];
}

/** The IFLA_BRPORT_* flags as the brport kind sends and reads them; unset = not sent / not reported. */
export interface BridgePortFlagFields {
  learning?: boolean;
  flood?: boolean;
  isolated?: boolean;
  guard?: boolean;
  fastLeave?: boolean;
  neighSuppress?: boolean;
}

/** A request of the brport kind (src/brport.cc). */
export interface BridgePortSpec extends BridgePortFlagFields {
  op: 'flags' | 'vlanAdd' | 'vlanDel' | 'dump' | 'vlanFiltering';
  index: number;
  self?: boolean;
  vlanFiltering?: boolean;
  vlans?: { vid: number; vidEnd?: number; pvid?: boolean; untagged?: boolean }[];
}

/** One port of an AF_BRIDGE dump; flags the kernel did not report are left out. */
export interface RawBridgePort extends BridgePortFlagFields {
  index: number;
  name: string;
  master?: number;
  state: number;
  vlans: { vid: number; flags: number }[];
}

export interface RawNeigh {
  family: number;
  index: number;
  state: number;
  flags: number;
  dst: string;
  lladdr: string;
  vlan?: number;
  vni?: number;
  master: number;
}

export interface NeighSpec {
  op: 'new' | 'del' | 'dump';
  replace?: boolean;
  /** 4, 6, or 7 for AF_BRIDGE (fdb). */
  family?: 4 | 6 | 7;
  index?: number;
  state?: number;
  flags?: number;
  dst?: Uint8Array;
  lladdr?: Uint8Array;
  vlan?: number;
  vni?: number;
  master?: number;
}

export interface RawRule {
  family: 4 | 6;
  dst: string;
  dstLen: number;
  src: string;
  srcLen: number;
  tos: number;
  action: number;
  flags: number;
  table: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iifname: string;
  oifname: string;
}

export interface RuleSpec {
  op: 'new' | 'del' | 'dump';
  family?: 4 | 6;
  dst?: Uint8Array;
  dstLen?: number;
  src?: Uint8Array;
  srcLen?: number;
  tos?: number;
  action?: number;
  table?: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iifname?: string;
  oifname?: string;
  invert?: boolean;
}

export interface NftExpr {
  name: string;
  dreg?: number;
  sreg?: number;
  key?: number;
  base?: number;
  offset?: number;
  len?: number;
  op?: number;
  result?: number;
  flags?: number;
  type?: number;
  family?: number;
  regAddr?: number;
  regProto?: number;
  data?: Uint8Array;
  mask?: Uint8Array;
  xor?: Uint8Array;
  verdict?: number;
}

export interface NftMsg {
  type: 'newtable' | 'deltable' | 'newchain' | 'delchain' | 'newrule' | 'delrule';
  family: number;
  table: string;
  chain?: string;
  hooknum?: number;
  priority?: number;
  chainType?: string;
  policy?: number;
  exprs?: NftExpr[];
  handle?: bigint;
  userdata?: Uint8Array;
}

export interface NftDump {
  exists: boolean;
  /** The ruleset generation read before the dump (NFT_MSG_GETGEN). */
  genid: number;
  /** NFTA_TABLE_USERDATA of the table (empty when it has none). */
  tableUserdata: Buffer;
  chains: { table: string; name: string; type: string; hooknum: number; priority: number; policy: number }[];
  rules: { table: string; chain: string; handle: bigint; userdata: Buffer }[];
}

/** One expression of a rule, summarized (see native/nft/ruleset.hpp); numeric fields are left out when 0. */
export interface NftExprSummary {
  name: string;
  /** immediate: NF_DROP 0, NF_ACCEPT 1, NFT_CONTINUE -1, NFT_BREAK -2, NFT_JUMP -3, NFT_GOTO -4, NFT_RETURN -5. */
  verdict?: number;
  /** immediate jump/goto: the target chain. */
  chain?: string;
  /** nat: NFT_NAT_SNAT 0, NFT_NAT_DNAT 1. */
  natType?: number;
  family?: number;
  base?: number;
  offset?: number;
  len?: number;
  dreg?: number;
  sreg?: number;
  op?: number;
  key?: number;
  type?: number;
  /** lookup: NFTA_LOOKUP_DREG was present (a map; dreg 0 is a verdict map). */
  hasDreg?: boolean;
  set?: string;
  data?: Buffer;
}

/** A namespace's whole nf_tables ruleset, every family (nftRuleset). */
export interface NftRuleset {
  /** The ruleset generation (NFT_MSG_GETGEN) this is a snapshot of. */
  gen: number;
  /** False when the generation kept changing while the ruleset was read (a few retries). */
  consistent: boolean;
  tables: { family: number; name: string; flags: number; handle: bigint }[];
  chains: { family: number; table: string; name: string; handle: bigint; type: string; hooknum?: number; priority: number; policy?: number; dev?: string; flags: number }[];
  rules: { family: number; table: string; chain: string; handle: bigint; userdata: Buffer; exprs: NftExprSummary[] }[];
}

export interface NativeHandle {
  /** `ref`: the fd standing for the namespace, owned by the handle (see Namespace.ref). */
  ready(): Promise<{ ref: number; dev: number; ino: number }>;
  /** Synchronous: an fd of the namespace, made from `ref` on the first call and closed with the handle; -1 once closed, or the error. */
  nsFd(): number | NativeErrorShape;
  link(spec: LinkSpec): Promise<RawLink[]>;
  /** A persistent tun/tap device, made through /dev/net/tun on the namespace's thread. */
  tun(spec: TunSpec): Promise<undefined>;
  /** An AddrSpec packed by sendAddr; the label, when present, as the second argument. */
  addr(wire: Uint8Array, label?: string): Promise<RawAddr[]>;
  /** A RouteSpec packed by sendRoute. */
  route(wire: Uint8Array): Promise<RawRoute[]>;
  /**
   * The quick hand-off (src/quick.cc): a route `{ to, dev }` with an IPv4
   * destination as the caller's text; null, nothing sent, when the addon does
   * not take the text (the full path then checks the call and says why).
   */
  routeText(del: number, replace: number, oif: number, to: string): Promise<RawRoute[]> | null;
  /** The same for an address with no options (a bare address only for a delete). */
  addrText(del: number, index: number, cidr: string): Promise<RawAddr[]> | null;
  /** Bridge port flags, VLANs, vlan_filtering; `dump` lists the ports (AF_BRIDGE). */
  brport(spec: BridgePortSpec): Promise<RawBridgePort[]>;
  /** A RouteSpec packed by sendRoute, with its ECMP hops beside it. */
  routeMultipath(wire: Uint8Array, nexthops: { gateway?: Uint8Array; oif: number; weight: number }[]): Promise<RawRoute[]>;
  /** `ref`: the other namespace's Namespace.ref (its fd is taken synchronously). */
  nsid(ref: number): Promise<number>;
  /** One atomic nf_tables transaction; a failure carries `index`, the failing message. */
  nftBatch(msgs: NftMsg[], genid?: number): Promise<undefined>;
  nftDump(spec: { family: number; table: string }): Promise<NftDump>;
  /** Deletes the conntrack entries of family (AF_INET, default, or AF_INET6) and proto with an original destination port in range (and a reply from `to`); resolves with how many. */
  ctFlush(spec: { family?: number; proto: number; dportMin: number; dportMax: number; to?: Uint8Array }): Promise<number>;
  /** Every table, chain and rule of every family (read only); genOnly: only `gen`; skipRules: tables whose rules are not read. */
  nftRuleset(spec?: { genOnly?: boolean; skipRules?: { family: number; table: string }[] }): Promise<NftRuleset>;
  setNsid(ref: number, id: number): Promise<number>;
  neigh(spec: NeighSpec): Promise<RawNeigh[]>;
  rule(spec: RuleSpec): Promise<RawRule[]>;
  /** A socket created inside the namespace (non-blocking, close-on-exec), optionally bound. */
  socket(spec: { domain: 4 | 6; type: 'stream' | 'dgram'; bind?: Uint8Array; port?: number }): Promise<number>;
  /** A non-blocking NETLINK_ROUTE socket in the namespace, subscribed to these RTMGRP_* groups (read with Watcher). */
  socket(spec: { netlinkGroups: number; rcvbuf?: number }): Promise<number>;
  /** Reads (or writes) /proc/sys/net/<path> as seen from inside the namespace. */
  sysctl(spec: { path: string; write?: string }): Promise<string>;
  close(): Promise<void>;
  readonly pending: number;
}

export interface RawEvent {
  type: 'link' | 'address' | 'route' | 'neighbor' | 'rule' | 'overrun';
  action?: 'new' | 'del';
  raw?: RawLink | RawAddr | RawRoute | RawNeigh | RawRule;
}

export interface NativeWatcher {
  close(): void;
  ref(): NativeWatcher;
  unref(): NativeWatcher;
  /** Stops reading the socket (back-pressure: the kernel queues, then drops and reports an overrun). */
  pause(): void;
  /** Reads again after pause(). */
  resume(): void;
  /** Reads and drops whatever the socket holds now; returns how many datagrams. */
  drain(): number;
}

/** One datagram a netlink socket sent or received, handed over by the trace tap (setTrace). */
export interface RawTraceRecord {
  sent: boolean;
  protocol: number;
  portid: number;
  /** Inode of the socket's network namespace (0: unknown). */
  netns: number;
  /** CLOCK_MONOTONIC, ms. */
  time: number;
  data: Buffer;
}

export interface Addon {
  /**
   * A namespace's I/O thread. 'name' is a /run/netns entry (a symbolic link is
   * refused, not followed). Throws (synchronously) only a native error shape
   * (out of memory); a thread that cannot be started rejects ready() with
   * syscall 'pthread_create'.
   */
  Handle: {
    new (mode: 'path' | 'name' | 'create' | 'current', path: string): NativeHandle;
    /**
     * 'fd': the namespace of `fd`, dup'd synchronously by the constructor (pinned: fd may be closed right after);
     * 'ref': the namespace another handle's ref stands for (Namespace.ref), its fd taken the same way.
     * `what` names it in errors.
     */
    new (mode: 'fd' | 'ref', what: string, fd: number): NativeHandle;
    /**
     * While flag[0] is not 0, every request but an address or route first
     * calls catchUp() (lib/pace.ts). Returns the addon's turn counter: its [0]
     * changes at every turn of the event loop (its check phase).
     */
    pace(flag: Int32Array, catchUp: () => void): Int32Array;
  };
  /** Reads a monitor socket on the JS thread when it is readable; owns (and closes) the fd. */
  Watcher: new (fd: number, onEvents: (events: RawEvent[]) => void) => NativeWatcher;
  /** Installs the netlink message trace tap (every datagram of every handle's sockets goes to fn), or removes it (null). */
  setTrace(fn: ((r: RawTraceRecord) => void) | null): void;
  /** `ip netns delete`; with dev and ino, only if path still is that namespace (else ENOENT). Never follows a symbolic link. */
  removeNamespace(path: string, dev?: number, ino?: number): Promise<void>;
  /** `ip netns attach`: names the namespace a handle's `ref` stands for (its fd taken synchronously) under path. */
  attachNamespace(path: string, ref: number): Promise<void>;
  /** Synchronous, on the JS thread: only around a fork. Enters the namespace `ref` stands for; returns the saved fd, or a native error object. */
  enterNamespace(ref: number): number | NativeErrorShape;
  restoreNamespace(saved: number): undefined | NativeErrorShape;
  /** An exclusive flock on path without waiting: the fd holding it, -1 if held elsewhere, or the error. */
  tryLock(path: string): number | NativeErrorShape;
  /** The packed hand-off's layout (src/wire.hpp), frozen: must equal WIRE_LAYOUT. */
  readonly wireLayout: unknown;
}

// Address and route requests are the hot path (many in flight at once): they
// reach the addon packed in one reused buffer, read synchronously during the
// call, instead of as objects (~20 named-property reads through N-API cost
// about 1.9 us per call). The layout is described once, in src/wire.hpp: the
// addon exports it (wireLayout) and native() refuses an addon whose layout is
// not this WIRE_LAYOUT (test/unit/wire-layout.test.ts checks it too).
// 16 host-order uint32 words (named per kind), then four 16-byte address
// slots; word `op` is the op's index, `flags` flag bits, `present` the optional
// fields that are set.
export const WIRE_LAYOUT = {
  size: 128,
  words: 16,
  slotSize: 16,
  addr: {
    ops: { new: 0, del: 1, dump: 2 },
    words: { op: 0, flags: 1, present: 2, family: 3, prefixlen: 4, scope: 5, index: 6, ifaFlags: 7, validLft: 8, preferredLft: 9 },
    flags: { replace: 1 },
    present: { peer: 1, broadcast: 2, validLft: 4, preferredLft: 8, label: 16 },
    slots: { local: 64, peer: 80, broadcast: 96 },
  },
  route: {
    ops: { new: 0, del: 1, dump: 2, get: 3 },
    words: { op: 0, flags: 1, present: 2, family: 3, dstLen: 4, srcLen: 5, oif: 6, iif: 7, table: 8, priority: 9, scope: 10, protocol: 11, type: 12, mtu: 13 },
    flags: { replace: 1, append: 2, onlink: 4 },
    present: { dst: 1, src: 2, gateway: 4, prefsrc: 8, priority: 16, scope: 32, protocol: 64, type: 128, mtu: 256 },
    slots: { dst: 64, src: 80, gateway: 96, prefsrc: 112 },
  },
} as const;

/** Where `a` (the addon's layout) and `b` (WIRE_LAYOUT) differ, as a path ('route.slots.prefsrc: 116 vs 112'), or null. */
export function layoutDifference(a: unknown, b: unknown, at = ''): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b) ? null : `${at || '(root)'}: ${String(a)} vs ${String(b)}`;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    const d = layoutDifference(ra[k], rb[k], at ? `${at}.${k}` : k);
    if (d !== null) return d;
  }
  return null;
}

const WIRE = new Uint8Array(WIRE_LAYOUT.size);
const W32 = new Uint32Array(WIRE.buffer, 0, WIRE_LAYOUT.words);
const A = WIRE_LAYOUT.addr;
const R = WIRE_LAYOUT.route;

/** Clears the whole buffer (no address of an earlier request can leak into this one) and sets op and flags. */
function pack(words: { op: number; flags: number }, op: number | undefined, flags: number): void {
  if (op === undefined) throw new TypeError('native spec: unknown op');
  WIRE.fill(0);
  W32[words.op] = op;
  W32[words.flags] = flags;
}

/**
 * `h.addr()` with `spec` packed: now, or in a later turn when a burst has
 * spent this one's budget (lib/pace.ts). `held`: pace's answer for this call
 * when a quick hand-off asked already (a call asks once).
 */
export function sendAddr(h: NativeHandle, spec: AddrSpec, held = mustWait(h)): Promise<RawAddr[]> {
  return held ? later(h, addrNow, spec) : addrNow(h, spec);
}

/**
 * The quick hand-off of an IPv4 address with no options (h.addrText): its
 * promise; else whether pace holds the call (true: it goes later, the full
 * way) or the addon declined the text (false: the full path checks it).
 */
export function quickAddr(h: NativeHandle, del: boolean, index: number, cidr: string): Promise<RawAddr[]> | boolean {
  return mustWait(h) || (h.addrText(del ? 1 : 0, index, cidr) ?? false);
}

/** The quick hand-off of a route `{ to, dev }` (h.routeText), as quickAddr. */
export function quickRoute(h: NativeHandle, del: boolean, replace: boolean, oif: number, to: string): Promise<RawRoute[]> | boolean {
  return mustWait(h) || (h.routeText(del ? 1 : 0, replace ? 1 : 0, oif, to) ?? false);
}

function addrNow(h: NativeHandle, spec: AddrSpec): Promise<RawAddr[]> {
  const w = A.words;
  const p = A.present;
  pack(w, A.ops[spec.op], spec.replace ? A.flags.replace : 0);
  let present = 0;
  W32[w.family] = spec.family ?? 0;
  W32[w.prefixlen] = spec.prefixlen ?? 0;
  W32[w.scope] = spec.scope ?? 0;
  W32[w.index] = spec.index ?? 0;
  W32[w.ifaFlags] = spec.flags ?? 0;
  if (spec.local) WIRE.set(spec.local, A.slots.local);
  if (spec.peer) {
    present |= p.peer;
    WIRE.set(spec.peer, A.slots.peer);
  }
  if (spec.broadcast) {
    present |= p.broadcast;
    WIRE.set(spec.broadcast, A.slots.broadcast);
  }
  if (spec.validLft != null) {
    present |= p.validLft;
    W32[w.validLft] = spec.validLft;
  }
  if (spec.preferredLft != null) {
    present |= p.preferredLft;
    W32[w.preferredLft] = spec.preferredLft;
  }
  if (spec.label != null) present |= p.label;
  W32[w.present] = present;
  return spec.label != null ? h.addr(WIRE, spec.label) : h.addr(WIRE);
}

/** `h.route()` with `spec` packed: now, or in a later turn (as sendAddr). */
export function sendRoute(h: NativeHandle, spec: RouteSpec, held = mustWait(h)): Promise<RawRoute[]> {
  return held ? later(h, routeNow, spec) : routeNow(h, spec);
}

function routeNow(h: NativeHandle, spec: RouteSpec): Promise<RawRoute[]> {
  const w = R.words;
  const p = R.present;
  const f = R.flags;
  pack(w, R.ops[spec.op], (spec.replace ? f.replace : 0) | (spec.append ? f.append : 0) | (spec.onlink ? f.onlink : 0));
  let present = 0;
  W32[w.family] = spec.family ?? 0;
  W32[w.dstLen] = spec.dstLen ?? 0;
  W32[w.srcLen] = spec.srcLen ?? 0;
  W32[w.oif] = spec.oif ?? 0;
  W32[w.iif] = spec.iif ?? 0;
  W32[w.table] = spec.table ?? 0;
  if (spec.dst) {
    present |= p.dst;
    WIRE.set(spec.dst, R.slots.dst);
  }
  if (spec.src) {
    present |= p.src;
    WIRE.set(spec.src, R.slots.src);
  }
  if (spec.gateway) {
    present |= p.gateway;
    WIRE.set(spec.gateway, R.slots.gateway);
  }
  if (spec.prefsrc) {
    present |= p.prefsrc;
    WIRE.set(spec.prefsrc, R.slots.prefsrc);
  }
  if (spec.priority != null) {
    present |= p.priority;
    W32[w.priority] = spec.priority;
  }
  if (spec.scope != null) {
    present |= p.scope;
    W32[w.scope] = spec.scope;
  }
  if (spec.protocol != null) {
    present |= p.protocol;
    W32[w.protocol] = spec.protocol;
  }
  if (spec.type != null) {
    present |= p.type;
    W32[w.type] = spec.type;
  }
  if (spec.mtu != null) {
    present |= p.mtu;
    W32[w.mtu] = spec.mtu;
  }
  W32[w.present] = present;
  return spec.nexthops ? h.routeMultipath(WIRE, spec.nexthops) : h.route(WIRE);
}

let addon: Addon | undefined;
// The addon where node-gyp builds it (from dist/lib or from lib/ under ts-jest),
// else wherever the `bindings` package finds it: its search (a stack trace to
// find the package root, then a dozen candidate paths) cost more than the rest
// of loading the addon.
function loadAddon(): Addon {
  for (const up of ['../..', '..']) {
    const file = path.join(__dirname, up, 'build', 'Release', 'netplumb.node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (fs.existsSync(file)) return require(file) as Addon;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('bindings') as (name: string) => unknown)('netplumb') as Addon;
}

export function native(): Addon {
  if (addon === undefined) {
    const a = loadAddon();
    // An addon built from other sources than this file would misread every
    // address and route request: refuse it here, where it is plain why.
    const d = layoutDifference(a.wireLayout, WIRE_LAYOUT);
    if (d !== null) throw new Error(`netplumb: the addon's packed layout (src/wire.hpp) differs from lib/native.ts WIRE_LAYOUT at ${d}: rebuild the addon, or change both`);
    addon = a;
    // Requests this copy of the library holds for a later turn go before any other request.
    countTurns(a.Handle.pace(PACE_FLAG, catchUp));
    // Namespace create/delete run on libuv's threadpool (a Napi::AsyncWorker), which libuv
    // starts on first use and, if it cannot make a thread then, ends the process with a bare
    // abort() (deps/uv/src/threadpool.c). Start it now, while threads can still be made: at
    // the thread limit later (ulimit -v), the worker's own failure is then a NetlinkError.
    // Seen: 3 of 15 runs of test/children/limits.ts aborted without this, 0 of 15 with it.
    fs.stat('/', () => undefined);
  }
  return addon;
}
