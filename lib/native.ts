// The addon's surface, typed. Only lib/ talks to it, and only with arguments
// that lib/validate.ts has already checked.
import type { NativeErrorShape } from './errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bindings = require('bindings') as (name: string) => unknown;

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
  stp: number;
  vlanFiltering: number;
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
  multipath?: { gateway: string; oif: number; weight: number }[];
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
  netnsFd?: number;
  netnsPid?: number;
  group?: number;
  txqlen?: number;
  alias?: string;
  parent?: number;
  peer?: { name?: string; netnsFd?: number; mtu?: number; mac?: Uint8Array };
  stp?: number;
  vlanFiltering?: number;
  hairpin?: boolean;
  macvlanMode?: number;
  vxlanId?: number;
  vxlanPort?: number;
  vxlanRemote?: Uint8Array;
  vxlanLocal?: Uint8Array;
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
  chains: { table: string; name: string; type: string; hooknum: number; priority: number; policy: number }[];
  rules: { table: string; chain: string; handle: bigint; userdata: Buffer }[];
}

export interface NativeHandle {
  ready(): Promise<{ fd: number; dev: number; ino: number }>;
  link(spec: LinkSpec): Promise<RawLink[]>;
  addr(spec: AddrSpec): Promise<RawAddr[]>;
  route(spec: RouteSpec): Promise<RawRoute[]>;
  nsid(fd: number): Promise<number>;
  /** One atomic nf_tables transaction; a failure carries `index`, the failing message. */
  nftBatch(msgs: NftMsg[]): Promise<undefined>;
  nftDump(spec: { family: number; table: string }): Promise<NftDump>;
  setNsid(fd: number, id: number): Promise<number>;
  neigh(spec: NeighSpec): Promise<RawNeigh[]>;
  rule(spec: RuleSpec): Promise<RawRule[]>;
  /** A socket created inside the namespace (non-blocking, close-on-exec), optionally bound. */
  socket(spec: { domain: 4 | 6; type: 'stream' | 'dgram'; bind?: Uint8Array; port?: number }): Promise<number>;
  /** Reads (or writes) /proc/sys/net/<path> as seen from inside the namespace. */
  sysctl(spec: { path: string; write?: string }): Promise<string>;
  close(): Promise<void>;
  readonly pending: number;
}

export interface Addon {
  Handle: new (mode: 'path' | 'create' | 'current', path: string) => NativeHandle;
  removeNamespace(path: string): Promise<void>;
  attachNamespace(path: string, source: string): Promise<void>;
  /** Synchronous, on the JS thread: only around a fork. Returns the saved fd, or a native error object. */
  enterNamespace(fd: number): number | NativeErrorShape;
  restoreNamespace(saved: number): undefined | NativeErrorShape;
}

let addon: Addon | undefined;
export function native(): Addon {
  addon ??= bindings('netplumb') as Addon;
  return addon;
}
