import { flagNames } from './constants';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link, resolveIndex } from './link';
import type { NeighSpec, RawNeigh } from './native';
import { Namespace } from './namespace';
import * as v from './validate';

export const NUD_STATES: Record<string, number> = {
  incomplete: 0x01, reachable: 0x02, stale: 0x04, delay: 0x08, probe: 0x10, failed: 0x20, noarp: 0x40, permanent: 0x80,
};
/** A neighbour entry state (NUD_*), as `ip neigh` prints it: `ip neigh add ... nud STATE`. */
export type NeighborState = 'permanent' | 'reachable' | 'stale' | 'delay' | 'probe' | 'noarp' | 'failed' | 'incomplete';

const NTF: Record<string, number> = { use: 0x01, self: 0x02, master: 0x04, proxy: 0x08, extern_learn: 0x10, offload: 0x20, sticky: 0x40, router: 0x80 };

/** Options of `Neighbor.add` / `Neighbor.delete`: `ip neigh add|del ADDR lladdr MAC dev DEV [nud STATE] [router]`. */
export interface NeighborOptions {
  /** The link the entry is on. Its namespace is the entry's namespace. */
  dev: Link;
  /** The IP address (`ip neigh add ADDR`). */
  address: string;
  /** Link-layer address (`lladdr`): required for add/replace. */
  lladdr?: string;
  /** Default 'permanent'. */
  state?: NeighborState;
  /** IPv6 router flag. */
  router?: boolean;
}

const NEIGHBOR_KEYS: v.Keys<NeighborOptions> = { dev: true, address: true, lladdr: true, state: true, router: true };

/** One neighbour (ARP/NDP) entry as the kernel reports it (an entry of `ip -j neigh show`). */
export interface NeighborInfo {
  family: 4 | 6;
  address: string;
  lladdr?: string;
  /** ifindex of the device. */
  index: number;
  dev?: string;
  state: string[];
  flags: string[];
}

/** Options of `Fdb.add` / `Fdb.delete`: `bridge fdb add MAC dev DEV [master|self] [static|permanent|dynamic] [vlan N] [dst ADDR] [vni N]`. */
export interface FdbOptions {
  /** The port (bridge port or vxlan device) the entry points to. */
  dev: Link;
  /** MAC address of the entry. */
  lladdr: string;
  /** Add to the bridge's database ('master', default for bridge ports) or the device's own ('self', default otherwise: vxlan). */
  target?: 'master' | 'self';
  /** 'static' (default), 'permanent' (local) or 'dynamic' (ages out). */
  state?: 'static' | 'permanent' | 'dynamic';
  vlan?: number;
  /** VXLAN: the remote VTEP address (`dst`). */
  dst?: string;
  vni?: number;
}

const FDB_KEYS: v.Keys<FdbOptions> = { dev: true, lladdr: true, target: true, state: true, vlan: true, dst: true, vni: true };

/** One forwarding database entry as the kernel reports it (an entry of `bridge -j fdb show`). */
export interface FdbInfo {
  lladdr: string;
  index: number;
  dev?: string;
  master?: number;
  vlan?: number;
  vni?: number;
  dst?: string;
  state: string[];
  flags: string[];
}

function assertLink(dev: unknown, argument = 'dev'): Link {
  if (!(dev instanceof Link)) throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be a Link`, { value: dev, argument });
  dev.namespace.assertOpen();
  return dev;
}

/** The link-layer address of a neighbour: a MAC (or any 1–32 bytes hex, colon separated). */
function lladdr(s: unknown, argument = 'lladdr'): Uint8Array {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){0,31}$/.test(s))
    throw new NetplumbError(C.INVALID_LLADDR, `invalid link-layer address ${v.describe(s)}: hex octets separated by ':'`, { value: s, argument });
  return Uint8Array.from(s.split(/[:-]/).map((x) => parseInt(x, 16)));
}

function stateOf(s: unknown, table: Record<string, number>, dflt: number): number {
  if (s === undefined) return dflt;
  if (typeof s === 'string' && Object.prototype.hasOwnProperty.call(table, s)) return table[s] as number;
  throw new NetplumbError(C.INVALID_ARGUMENT, `invalid state ${v.describe(s)}: one of ${Object.keys(table).join(', ')}`, { value: s, argument: 'state' });
}

/** @internal A neighbour entry as the kernel sent it (a dump entry or a notification), as `Neighbor.list` reports it. */
export function neighInfo(r: RawNeigh, names?: Map<number, string>): NeighborInfo {
  const n: NeighborInfo = {
    family: r.family as 4 | 6, address: r.dst, index: r.index, state: flagNames(NUD_STATES, r.state), flags: flagNames(NTF, r.flags),
  };
  if (r.lladdr) n.lladdr = r.lladdr;
  const dev = names?.get(r.index);
  if (dev) n.dev = dev;
  return n;
}

/** ARP / NDP entries: `ip neigh add / replace / del / show`. */
export class Neighbor {
  private constructor() {}

  private static spec(o: NeighborOptions, op: 'new' | 'del', replace: boolean): NeighSpec {
    if (typeof o !== 'object' || o === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'options must be an object', { argument: 'options' });
    v.known(o, NEIGHBOR_KEYS, op === 'new' ? 'Neighbor.add' : 'Neighbor.delete');
    const dev = assertLink(o.dev);
    const ip = v.ip(o.address, 'address');
    const spec: NeighSpec = { op, family: ip.family, index: dev.index, dst: ip.bytes, replace };
    if (op === 'new') {
      if (o.lladdr === undefined && o.state !== 'failed' && o.state !== 'incomplete')
        throw new NetplumbError(C.INVALID_LLADDR, 'a neighbour entry needs lladdr', { argument: 'lladdr' });
      if (o.lladdr !== undefined) spec.lladdr = lladdr(o.lladdr);
      spec.state = stateOf(o.state, NUD_STATES, NUD_STATES.permanent as number);
      if (o.router !== undefined && v.bool(o.router, 'router')) spec.flags = NTF.router as number;
    }
    return spec;
  }

  /** `ip neigh add ADDR lladdr MAC dev DEV nud permanent`: EEXIST if an entry exists. */
  static async add(o: NeighborOptions): Promise<void> {
    const spec = Neighbor.spec(o, 'new', false);
    await kernel(o.dev.namespace.handle.neigh(spec), () => `neighbour ${o.address} on ${o.dev.describe()}`);
  }

  /** `ip neigh replace ...`: adds or overwrites. */
  static async replace(o: NeighborOptions): Promise<void> {
    const spec = Neighbor.spec(o, 'new', true);
    await kernel(o.dev.namespace.handle.neigh(spec), () => `neighbour ${o.address} on ${o.dev.describe()}`);
  }

  /** `ip neigh del ADDR dev DEV`: ENOENT if absent. */
  static async delete(o: Pick<NeighborOptions, 'dev' | 'address'>): Promise<void> {
    const spec = Neighbor.spec(o as NeighborOptions, 'del', false);
    await kernel(o.dev.namespace.handle.neigh(spec), () => `neighbour ${o.address} on ${o.dev.describe()}`);
  }

  /** `ip neigh show [dev DEV]` (filtered by the kernel). */
  static async list(target: Namespace | Link, opts?: { family?: 4 | 6 }): Promise<NeighborInfo[]> {
    const o = v.options<{ family?: 4 | 6 }>(opts, { family: true }, 'Neighbor.list');
    if (o.family !== undefined && o.family !== 4 && o.family !== 6)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    const ns = target instanceof Namespace ? target.assertOpen() : assertLink(target, 'target').namespace;
    const index = target instanceof Link ? target.index : 0;
    const families: (4 | 6)[] = o.family ? [o.family] : [4, 6];
    const [links, ...lists] = await Promise.all([
      Link.list(ns),
      ...families.map((family) => kernel(ns.handle.neigh({ op: 'dump', family, index }), `neighbours in namespace ${ns}`)),
    ]);
    const names = new Map((links as Link[]).map((l) => [l.index, l.name]));
    return (lists as RawNeigh[][]).flat().map((r) => neighInfo(r, names));
  }
}

/** Forwarding database entries of bridges and VXLAN devices: `bridge fdb add / del / show`. */
export class Fdb {
  private constructor() {}

  private static spec(o: FdbOptions, op: 'new' | 'del'): NeighSpec {
    if (typeof o !== 'object' || o === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'options must be an object', { argument: 'options' });
    v.known(o, FDB_KEYS, op === 'new' ? 'Fdb.add' : 'Fdb.delete');
    const dev = assertLink(o.dev);
    // A unicast MAC; all zeros is allowed too (vxlan's default destination entry).
    const mac = typeof o.lladdr === 'string' && /^0{2}([:-]0{2}){5}$/.test(o.lladdr) ? new Uint8Array(6) : v.mac(o.lladdr, 'lladdr');
    const target = o.target ?? (dev.slaveKind === 'bridge' ? 'master' : 'self');
    if (target !== 'master' && target !== 'self') throw new NetplumbError(C.INVALID_ARGUMENT, "target must be 'master' or 'self'", { value: o.target, argument: 'target' });
    const spec: NeighSpec = {
      op, family: 7, index: dev.index, lladdr: mac, flags: target === 'master' ? (NTF.master as number) : (NTF.self as number),
      // As bridge(8): static = NUD_NOARP|NUD_REACHABLE (vxlan refuses NOARP alone).
      state: stateOf(o.state, { static: 0x42, permanent: 0x80, dynamic: 0x02 }, 0x42),
    };
    if (o.vlan !== undefined) spec.vlan = v.uint(o.vlan, 'vlan', 4094, 1);
    if (o.vni !== undefined) spec.vni = v.uint(o.vni, 'vni', 0xffffff);
    if (o.dst !== undefined) spec.dst = v.ip(o.dst, 'dst').bytes;
    return spec;
  }

  /** `bridge fdb add MAC dev DEV [master|self] [static|permanent|dynamic] [vlan N] [dst IP] [vni N]` */
  static async add(o: FdbOptions): Promise<void> {
    const spec = Fdb.spec(o, 'new');
    await kernel(o.dev.namespace.handle.neigh(spec), () => `fdb entry ${o.lladdr} on ${o.dev.describe()}`);
  }

  /** `bridge fdb del MAC dev DEV ...` */
  static async delete(o: FdbOptions): Promise<void> {
    const spec = Fdb.spec(o, 'del');
    await kernel(o.dev.namespace.handle.neigh(spec), () => `fdb entry ${o.lladdr} on ${o.dev.describe()}`);
  }

  /** `bridge fdb show [br BRIDGE | dev DEV]`. */
  static async list(target: Namespace | Link, opts?: { bridge?: Link | string | number }): Promise<FdbInfo[]> {
    const o = v.options<{ bridge?: Link | string | number }>(opts, { bridge: true }, 'Fdb.list');
    const ns = target instanceof Namespace ? target.assertOpen() : assertLink(target, 'target').namespace;
    const spec: NeighSpec = { op: 'dump', family: 7 };
    if (target instanceof Link) spec.index = target.index;
    if (o.bridge !== undefined) spec.master = await resolveIndex(ns, o.bridge, 'bridge');
    const [links, raws] = await Promise.all([Link.list(ns), kernel(ns.handle.neigh(spec), `fdb in namespace ${ns}`)]);
    const names = new Map(links.map((l) => [l.index, l.name]));
    return raws.map((r) => {
      const f: FdbInfo = { lladdr: r.lladdr, index: r.index, state: flagNames({ ...NUD_STATES, static: 0x40 }, r.state).filter((x) => x !== 'noarp'), flags: flagNames(NTF, r.flags) };
      const dev = names.get(r.index);
      if (dev) f.dev = dev;
      if (r.master) f.master = r.master;
      if (r.vlan !== undefined) f.vlan = r.vlan;
      if (r.vni !== undefined) f.vni = r.vni;
      if (r.dst) f.dst = r.dst;
      return f;
    });
  }
}

