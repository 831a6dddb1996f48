// vxlan: `ip link add NAME type vxlan id VNI [dstport PORT] [remote|group ADDR] [local ADDR] [dev DEV]`
// (native/rtnl/kinds/vxlan.cpp: IFLA_VXLAN_*; the underlay device is IFLA_VXLAN_LINK).
import { ErrorCodes as C, NetplumbError } from '../errors';
import type { LinkRef } from '../link';
import type { KindData } from '../native';
import * as v from '../validate';
import type { KindSpec, LinkKind } from './kind';

/** Options of a VXLAN device (`Vxlan.create`, or `Link.create(name, { kind: 'vxlan', ... })`). */
export interface VxlanKindOptions {
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
}

/** A VXLAN device's read-back: VNI, UDP port, remote (unicast) or group (multicast), local address, underlay ifindex. */
export interface VxlanInfo {
  kind: 'vxlan';
  id: number;
  port: number;
  remote?: string;
  group?: string;
  local?: string;
  dev?: number;
}

/** The vxlan kind. */
export const vxlan: LinkKind<VxlanKindOptions, VxlanInfo> = {
  kind: 'vxlan',
  keys: { id: true, port: true, remote: true, group: true, local: true, dev: true },
  encode(o) {
    if (o.id === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "vxlan needs an 'id' (the VNI)", { argument: 'id' });
    const data: KindData = { id: v.uint(o.id, 'id', 0xffffff), port: v.uint(o.port ?? 4789, 'port', 65535, 1) };
    if (o.remote !== undefined && o.group !== undefined)
      throw new NetplumbError(C.INVALID_ARGUMENT, "vxlan takes 'remote' or 'group', not both", { argument: 'group' });
    let family: 4 | 6 | undefined;
    if (o.remote !== undefined) {
      const r = v.ip(o.remote, 'remote');
      if (v.isMulticast(r.bytes))
        throw new NetplumbError(C.INVALID_IP, `remote ${o.remote} is a multicast address: use 'group'`, { value: o.remote, argument: 'remote' });
      data.group = r.bytes; // the kernel's IFLA_VXLAN_GROUP holds a unicast remote too
      family = r.family;
    }
    if (o.group !== undefined) {
      const g = v.ip(o.group, 'group');
      if (!v.isMulticast(g.bytes)) throw new NetplumbError(C.INVALID_IP, `group ${o.group} is not a multicast address`, { value: o.group, argument: 'group' });
      if (o.dev === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "a multicast group needs 'dev', the device to join it on", { argument: 'dev' });
      data.group = g.bytes;
      family = g.family;
    }
    if (o.local !== undefined) data.local = v.ip(o.local, 'local', family).bytes;
    const spec: KindSpec = { data };
    if (o.dev !== undefined) spec.parent = { ref: o.dev, argument: 'dev', dataKey: 'link' };
    return spec;
  },
  decode(d) {
    const out: VxlanInfo = { kind: 'vxlan', id: Number(d.id ?? 0), port: Number(d.port ?? 0) };
    if (typeof d.group === 'string') {
      if (v.isMulticast(v.ip(d.group, 'group').bytes)) out.group = d.group;
      else out.remote = d.group;
    }
    if (typeof d.local === 'string') out.local = d.local;
    if (d.link) out.dev = Number(d.link);
    return out;
  },
};
