import { ErrorCodes as C, NetplumbError } from './errors';
import { createLink, Link, resolveIndex, type LinkRef } from './link';
import type { LinkSpec } from './native';
import { type Namespace, resolveNamespace } from './namespace';
import * as v from './validate';

/** Options of `Vxlan.create`: `ip link add NAME type vxlan id VNI [dstport PORT] [remote|group ADDR] [local ADDR] [dev DEV]`. */
export interface VxlanOptions {
  /** The VXLAN network identifier (VNI), 0-16777215. */
  id: number;
  /** UDP destination port. Default 4789 (IANA's; the kernel alone would pick 8472). */
  port?: number;
  /** A unicast remote endpoint: every frame with no fdb entry goes there. */
  remote?: string;
  /** A multicast group instead of `remote` (needs `dev`). */
  group?: string;
  /** The local (source) address of the tunnel. */
  local?: string;
  /** The underlay device: a Link, or a name or ifindex in `namespace`. */
  dev?: LinkRef;
  /** Default: `dev`'s namespace if it is a Link, else the process's own. */
  namespace?: Namespace;
  mtu?: number;
  mac?: string;
  /** Bring it up. Default false. */
  up?: boolean;
}

const VXLAN_KEYS: v.Keys<VxlanOptions> = { id: true, port: true, remote: true, group: true, local: true, dev: true, namespace: true, mtu: true, mac: true, up: true };

/**
 * VXLAN: layer 2 over UDP (`ip link add NAME type vxlan id VNI dstport 4789
 * remote|group ADDR local ADDR dev DEV`), the overlay under multi-host
 * container networks. Entries for more remotes go in its fdb (`Fdb.add`).
 */
export class Vxlan {
  private constructor() {}

  /**
   * Creates a VXLAN device: `ip link add NAME type vxlan id VNI dstport 4789 remote|group ADDR local ADDR dev DEV`.
   * @throws NetplumbError ERR_INVALID_IFNAME, ERR_INVALID_ARGUMENT (no `id`, both `remote` and `group`, a group without `dev`), ERR_UNKNOWN_OPTION, ERR_INVALID_IP (a multicast `remote`, a unicast `group`), ERR_FAMILY_MISMATCH, ERR_INVALID_MTU, ERR_INVALID_MAC, ERR_NAMESPACE_CLOSED, ERR_LINK_NOT_FOUND, ERR_WRONG_NAMESPACE (`dev`)
   * @throws NetlinkError EEXIST (the name is taken), or another errno the kernel returns (EINVAL, EADDRINUSE...)
   */
  static async create(name: string, opts: VxlanOptions): Promise<Link> {
    v.ifname(name);
    if (typeof opts !== 'object' || opts === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'vxlan options must be an object', { value: opts, argument: 'options' });
    v.known(opts, VXLAN_KEYS, 'Vxlan.create');
    const o = opts as Partial<VxlanOptions>;
    if (o.id === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "vxlan needs an 'id' (the VNI)", { argument: 'id' });
    const spec: LinkSpec = { op: 'new', kind: 'vxlan', name, vxlanId: v.uint(o.id, 'id', 0xffffff), vxlanPort: v.uint(o.port ?? 4789, 'port', 65535, 1) };
    if (o.remote !== undefined && o.group !== undefined)
      throw new NetplumbError(C.INVALID_ARGUMENT, "vxlan takes 'remote' or 'group', not both", { argument: 'group' });
    let family: 4 | 6 | undefined;
    if (o.remote !== undefined) {
      const r = v.ip(o.remote, 'remote');
      if (v.isMulticast(r.bytes)) throw new NetplumbError(C.INVALID_IP, `remote ${o.remote} is a multicast address: use 'group'`, { value: o.remote, argument: 'remote' });
      spec.vxlanRemote = r.bytes;
      family = r.family;
    }
    if (o.group !== undefined) {
      const g = v.ip(o.group, 'group');
      if (!v.isMulticast(g.bytes)) throw new NetplumbError(C.INVALID_IP, `group ${o.group} is not a multicast address`, { value: o.group, argument: 'group' });
      if (o.dev === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "a multicast group needs 'dev', the device to join it on", { argument: 'dev' });
      spec.vxlanRemote = g.bytes;
      family = g.family;
    }
    if (o.local !== undefined) spec.vxlanLocal = v.ip(o.local, 'local', family).bytes;
    if (o.mtu !== undefined) spec.mtu = v.mtu(o.mtu);
    if (o.mac !== undefined) spec.mac = v.mac(o.mac);
    if (o.up !== undefined) spec.up = v.bool(o.up, 'up');
    const ns = await resolveNamespace(o.namespace ?? (o.dev instanceof Link ? o.dev.namespace : undefined));
    if (o.dev !== undefined) spec.parent = await resolveIndex(ns, o.dev, 'dev');
    return createLink(ns, spec, `vxlan ${name} (id ${spec.vxlanId}) in namespace ${ns}`);
  }
}
