// Bridge ports: per-port flags and VLANs (`bridge link set`, `bridge vlan`),
// and a bridge's VLAN filtering. One native call per kernel transaction
// (native/rtnl/brport.cpp); everything is checked here first.
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link } from './link';
import type { BridgePortSpec, RawBridgePort } from './native';
import { Namespace } from './namespace';
import * as v from './validate';

/**
 * Flags of one bridge port (`bridge link set dev PORT learning on flood off ...`),
 * IFLA_PROTINFO / IFLA_BRPORT_*. Unset flags are left as they are.
 */
export interface BridgePortFlags {
  /** Learn source MACs on this port (`learning`). Kernel default true. */
  learning?: boolean;
  /** Flood unicast traffic with an unknown destination to this port (`flood`). Kernel default true. */
  flood?: boolean;
  /** An isolated port forwards only to ports that are not isolated (`isolated`). Kernel default false. */
  isolated?: boolean;
  /** BPDU guard: a BPDU received on this port disables it (`guard`). Kernel default false. */
  guard?: boolean;
  /** Multicast fast leave (`fastleave`). Kernel default false. */
  fastLeave?: boolean;
  /** ARP/ND suppression on this port (`neigh_suppress`). Kernel default false. */
  neighSuppress?: boolean;
}

const FLAG_KEYS: v.Keys<BridgePortFlags> = { learning: true, flood: true, isolated: true, guard: true, fastLeave: true, neighSuppress: true };

/** Options of `BridgePort.addVlan`: `bridge vlan add dev PORT vid V [pvid] [untagged]`. */
export interface BridgeVlanOptions {
  /** Untagged frames received on the port go to this VLAN (`pvid`). Default false. */
  pvid?: boolean;
  /** Frames of this VLAN leave the port untagged (`untagged`). Default false. */
  untagged?: boolean;
}

const VLAN_KEYS: v.Keys<BridgeVlanOptions> = { pvid: true, untagged: true };

/** A VLAN of a port: a vid, or a range `[first, last]` of vids (1-4094). */
export type VlanId = number | readonly [number, number];

/** One VLAN of a port as the kernel reports it (`bridge -j vlan show`). */
export interface BridgeVlan {
  vid: number;
  /** The port's PVID: untagged frames received go to this VLAN. */
  pvid: boolean;
  /** Egress untagged. */
  untagged: boolean;
}

/** A bridge port as the kernel reports it (`bridge -j -d link show`, `bridge -j vlan show`). */
export interface BridgePortInfo extends Required<BridgePortFlags> {
  index: number;
  name: string;
  /** ifindex of the bridge; undefined for the bridge device itself (its own VLANs). */
  master: number | undefined;
  /** STP state: 'disabled', 'listening', 'learning', 'forwarding' or 'blocking'. */
  state: string;
  vlans: BridgeVlan[];
}

const STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];
const BRIDGE_VLAN_INFO_PVID = 1 << 1;
const BRIDGE_VLAN_INFO_UNTAGGED = 1 << 2;

function port(link: unknown, argument = 'link'): Link {
  if (!(link instanceof Link)) throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be a Link`, { value: link, argument });
  link.namespace.assertOpen();
  return link;
}

function vlanOf(id: unknown): { vid: number; vidEnd?: number } {
  const vid = (x: unknown, argument: string): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 4094)
      throw new NetplumbError(C.INVALID_VLAN, `invalid VLAN id ${v.describe(x)}: must be an integer from 1 to 4094`, { value: x, argument });
    return x;
  };
  if (Array.isArray(id)) {
    if (id.length !== 2) throw new NetplumbError(C.INVALID_VLAN, `invalid VLAN range ${v.describe(id)}: must be [first, last]`, { value: id, argument: 'vid' });
    const [a, b] = [vid(id[0], 'vid[0]'), vid(id[1], 'vid[1]')];
    if (b < a) throw new NetplumbError(C.INVALID_VLAN, `invalid VLAN range [${a}, ${b}]: first > last`, { value: id, argument: 'vid' });
    return a === b ? { vid: a } : { vid: a, vidEnd: b };
  }
  return { vid: vid(id, 'vid') };
}

function info(r: RawBridgePort): BridgePortInfo {
  return {
    index: r.index,
    name: r.name,
    // The kernel reports a bridge's own entry with IFLA_MASTER = itself.
    master: r.master === r.index ? undefined : r.master,
    state: STATES[r.state] ?? String(r.state),
    learning: r.learning ?? false,
    flood: r.flood ?? false,
    isolated: r.isolated ?? false,
    guard: r.guard ?? false,
    fastLeave: r.fastLeave ?? false,
    neighSuppress: r.neighSuppress ?? false,
    vlans: r.vlans.map((x) => ({ vid: x.vid, pvid: (x.flags & BRIDGE_VLAN_INFO_PVID) !== 0, untagged: (x.flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0 })),
  };
}

/**
 * Bridge ports: `bridge link set`, `bridge vlan add|del`, `bridge -d link show`,
 * `bridge vlan show`. A port is any Link enslaved to a bridge; the VLAN calls
 * also take the bridge itself (its own VLANs, `self`).
 */
export class BridgePort {
  private constructor() {}

  /** `bridge link set dev PORT [learning on|off] [flood on|off] [isolated ..] [guard ..] [fastleave ..] [neigh_suppress ..]`. */
  static async set(link: Link, flags: BridgePortFlags): Promise<void> {
    const l = port(link);
    const f = v.options<BridgePortFlags>(flags, FLAG_KEYS, 'BridgePort.set');
    const spec: BridgePortSpec = { op: 'flags', index: l.index };
    let any = false;
    for (const k of Object.keys(FLAG_KEYS) as (keyof BridgePortFlags)[])
      if (f[k] !== undefined) {
        spec[k] = v.bool(f[k], k);
        any = true;
      }
    if (!any) throw new NetplumbError(C.INVALID_ARGUMENT, `BridgePort.set needs at least one of ${Object.keys(FLAG_KEYS).join(', ')}`, { argument: 'flags' });
    await kernel(l.namespace.handle.brport(spec), () => `bridge port flags of ${l.describe()}`);
  }

  /** The flags and VLANs of one port (or of a bridge's own VLANs). ERR_LINK_NOT_FOUND if it is not a port. */
  static async get(link: Link): Promise<BridgePortInfo> {
    const l = port(link);
    const raws = await kernel(l.namespace.handle.brport({ op: 'dump', index: l.index }), () => `bridge port ${l.describe()}`);
    if (!raws[0]) throw new NetplumbError(C.LINK_NOT_FOUND, `${l.describe()} is not a bridge port`, { value: l.name, argument: 'link' });
    return info(raws[0]);
  }

  /** Every bridge port of a namespace, with its flags and VLANs (one AF_BRIDGE dump); bridges themselves are listed too, with `master` undefined. */
  static async list(ns: Namespace): Promise<BridgePortInfo[]> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    ns.assertOpen();
    const raws = await kernel(ns.handle.brport({ op: 'dump', index: 0 }), () => `bridge ports in namespace ${ns}`);
    return raws.map(info);
  }

  /** The VLANs of a port (`bridge vlan show dev PORT`). */
  static async vlans(link: Link): Promise<BridgeVlan[]> {
    return (await BridgePort.get(link)).vlans;
  }

  /**
   * `bridge vlan add dev PORT vid V [pvid] [untagged]` (a bridge itself: `... self`).
   * A range `[first, last]` adds each VLAN in it. Adding a VLAN the port has replaces its flags.
   */
  static async addVlan(link: Link, vid: VlanId, opts?: BridgeVlanOptions): Promise<void> {
    const l = port(link);
    const range = vlanOf(vid);
    const o = v.options<BridgeVlanOptions>(opts, VLAN_KEYS, 'BridgePort.addVlan');
    const vlan: NonNullable<BridgePortSpec['vlans']>[number] = { ...range };
    if (o.pvid !== undefined) vlan.pvid = v.bool(o.pvid, 'pvid');
    if (o.untagged !== undefined) vlan.untagged = v.bool(o.untagged, 'untagged');
    if (vlan.pvid && range.vidEnd !== undefined) throw new NetplumbError(C.INVALID_VLAN, 'a port has one PVID: not a range', { value: vid, argument: 'pvid' });
    await kernel(
      l.namespace.handle.brport({ op: 'vlanAdd', index: l.index, self: l.kind === 'bridge', vlans: [vlan] }),
      () => `VLAN ${describeVlan(vid)} on ${l.describe()}`,
    );
  }

  /** `bridge vlan del dev PORT vid V` (a bridge itself: `... self`). */
  static async deleteVlan(link: Link, vid: VlanId): Promise<void> {
    const l = port(link);
    const range = vlanOf(vid);
    await kernel(
      l.namespace.handle.brport({ op: 'vlanDel', index: l.index, self: l.kind === 'bridge', vlans: [range] }),
      () => `VLAN ${describeVlan(vid)} on ${l.describe()}`,
    );
  }

  /**
   * `ip link set BRIDGE type bridge vlan_filtering 0|1`: with filtering on,
   * the bridge forwards a frame only between ports that have its VLAN.
   */
  static async setVlanFiltering(bridge: Link, on: boolean): Promise<void> {
    const b = port(bridge, 'bridge');
    if (b.kind !== 'bridge') throw new NetplumbError(C.NOT_A_BRIDGE, `${b.describe()} is not a bridge`, { value: b.name, argument: 'bridge' });
    const value = v.bool(on, 'on');
    await kernel(b.namespace.handle.brport({ op: 'vlanFiltering', index: b.index, vlanFiltering: value }), () => `vlan_filtering of ${b.describe()}`);
  }
}

function describeVlan(vid: VlanId): string {
  return Array.isArray(vid) ? `${vid[0]}-${vid[1]}` : String(vid);
}
