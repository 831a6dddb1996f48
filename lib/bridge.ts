import { Address } from './address';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link, resolveIndex, type LinkRef } from './link';
import { bridge as bridgeKind } from './kinds/bridge';
import type { LinkSpec, RawLink } from './native';
import { Namespace, resolveNamespace } from './namespace';
import { PortMapping, type PublishOptions } from './port-mapping';
import * as v from './validate';

/** Options of `Bridge.create`: `ip link add NAME type bridge [mtu N] [address MAC]`. */
export interface BridgeOptions {
  /** Default: the process's own namespace. */
  namespace?: Namespace;
  /** Address(es) of the bridge, e.g. '172.17.0.1/16' (the containers' gateway). */
  address?: string | string[];
  /** Bring the bridge up. Default false. */
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Spanning tree protocol. Default false (the kernel's default). */
  stp?: boolean;
  /** VLAN filtering. Default false. */
  vlanFiltering?: boolean;
}

const BRIDGE_KEYS: v.Keys<BridgeOptions> = { namespace: true, address: true, up: true, mtu: true, mac: true, stp: true, vlanFiltering: true };

/** A Linux bridge (docker0): `ip link add NAME type bridge`, `brctl addif`. */
export class Bridge extends Link {
  /** STP on? (from the kernel's bridge attributes) */
  stp: boolean;

  /** @internal */
  protected constructor(ns: Namespace, raw: RawLink) {
    super(ns, raw);
    this.stp = this.info?.kind === 'bridge' && this.info.stp;
  }

  /** @internal */
  static override fromRaw(ns: Namespace, raw: RawLink): Bridge {
    if (raw.kind !== 'bridge') throw new NetplumbError(C.NOT_A_BRIDGE, `link ${raw.name} is a ${raw.kind || 'device'} link, not a bridge`, { value: raw.name });
    return new Bridge(ns, raw);
  }

  /** Creates a bridge, optionally with addresses and up; on any failure nothing is left. */
  static async create(name: string, opts?: BridgeOptions): Promise<Bridge> {
    v.ifname(name);
    const o = v.options<BridgeOptions>(opts, BRIDGE_KEYS, 'Bridge.create');
    const spec: LinkSpec = { op: 'new', kind: 'bridge', name };
    if (o.mtu !== undefined) spec.mtu = v.mtu(o.mtu);
    if (o.mac !== undefined) spec.mac = v.mac(o.mac);
    if (o.up !== undefined) spec.up = v.bool(o.up, 'up');
    const { data } = bridgeKind.encode({ stp: o.stp, vlanFiltering: o.vlanFiltering });
    if (data && Object.keys(data).length) spec.data = data;
    const addresses = o.address === undefined ? [] : Array.isArray(o.address) ? o.address : [o.address];
    for (const a of addresses) v.cidr(a, 'address');
    const ns = await resolveNamespace(o.namespace);
    await kernel(ns.handle.link(spec), `bridge ${name} in namespace ${ns}`);
    try {
      const br = await Bridge.get(ns, name);
      await Promise.all(addresses.map((a) => Address.add(br, a)));
      return br;
    } catch (e) {
      await ns.handle.link({ op: 'del', name }).catch(() => undefined);
      throw e;
    }
  }

  /** An existing bridge by name or index; ERR_NOT_A_BRIDGE if the link is something else. */
  static override async get(ns: Namespace, ref: string | number): Promise<Bridge> {
    return Bridge.fromRaw(ns, await Link.fetch(ns, ref));
  }

  /** Bridges of a namespace. */
  static async listBridges(ns: Namespace): Promise<Bridge[]> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    const raws = await kernel(ns.assertOpen().handle.link({ op: 'dump', filterKind: 'bridge' }), `bridges in namespace ${ns}`);
    return raws.map((r) => Bridge.fromRaw(ns, r));
  }

  /** `brctl addif BR PORT` / `ip link set PORT master BR`. */
  async addPort(port: LinkRef): Promise<void> {
    const index = await resolveIndex(this.namespace, port, 'port');
    await kernel(this.namespace.handle.link({ op: 'set', index, master: this.index }), () => `add port #${index} to ${this.describe()}`);
    if (port instanceof Link) port.master = this.index;
  }

  /** `brctl delif BR PORT` / `ip link set PORT nomaster`. */
  async removePort(port: LinkRef): Promise<void> {
    const index = await resolveIndex(this.namespace, port, 'port');
    const l = port instanceof Link ? port : await Link.get(this.namespace, index);
    await l.refresh();
    if (l.master !== this.index) throw new NetplumbError(C.INVALID_ARGUMENT, `${l.name} is not a port of ${this.name}`, { argument: 'port' });
    await kernel(this.namespace.handle.link({ op: 'set', index, master: 0 }), () => `remove port ${l.name} from ${this.describe()}`);
    l.master = undefined;
  }

  /** `brctl show BR`: the links attached to this bridge. */
  ports(): Promise<Link[]> {
    return Link.list(this.namespace, { master: this.index });
  }

  /**
   * Publishes a port of a container on this bridge (`docker run -p`): DNAT in
   * this bridge's namespace, with hairpin NAT for containers on the bridge.
   */
  publish(opts: Omit<PublishOptions, 'bridge' | 'namespace'>): Promise<PortMapping> {
    return PortMapping.publish({ ...opts, bridge: this, namespace: this.namespace });
  }

  /** Turns STP on or off. */
  async setStp(on: boolean): Promise<this> {
    v.bool(on, 'stp');
    await kernel(this.namespace.assertOpen().handle.link({ op: 'set', index: this.index, kind: 'bridge', data: bridgeKind.encode({ stp: on }).data }), () => `set stp for ${this.describe()}`);
    this.stp = on;
    return this;
  }
}
