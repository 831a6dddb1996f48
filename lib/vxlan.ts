import { ErrorCodes as C, NetplumbError } from './errors';
import { createOfKind, type Link } from './link';
import { vxlan, type VxlanKindOptions } from './kinds/vxlan';
import type { Namespace } from './namespace';
import * as v from './validate';

/** Options of `Vxlan.create`: `ip link add NAME type vxlan id VNI [dstport PORT] [remote|group ADDR] [local ADDR] [dev DEV]`. */
export interface VxlanOptions extends VxlanKindOptions {
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
 * The same as `Link.create(name, { kind: 'vxlan', ...opts })` (lib/kinds/vxlan.ts).
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
    return createOfKind(name, vxlan, { ...opts });
  }
}
