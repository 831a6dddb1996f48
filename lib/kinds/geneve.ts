// geneve: `ip link add NAME type geneve id VNI remote ADDR [dstport PORT] [ttl N] [tos N]`
// (native/rtnl/kinds/geneve.cpp: IFLA_GENEVE_*; the remote's attribute follows its family).
import { ErrorCodes as C, NetplumbError } from '../errors';
import type { KindData } from '../native';
import * as v from '../validate';
import type { LinkKind } from './kind';

/** Options of a GENEVE tunnel device (`Link.create(name, { kind: 'geneve', id, remote })`). */
export interface GeneveOptions {
  /** The virtual network identifier (VNI), 0-16777215. */
  id: number;
  /** The unicast remote tunnel endpoint, IPv4 or IPv6. */
  remote: string;
  /** UDP destination port. Default 6081 (IANA's, and the kernel's). */
  port?: number;
  /** TTL of the outer packets, 0-255 (0: the kernel's default). */
  ttl?: number;
  /** TOS of the outer packets, 0-255. */
  tos?: number;
}

/** A GENEVE device's read-back: VNI, remote, UDP port, TTL and TOS. */
export interface GeneveInfo {
  kind: 'geneve';
  id: number;
  remote?: string;
  port: number;
  ttl: number;
  tos: number;
}

/** The geneve kind. */
export const geneve: LinkKind<GeneveOptions, GeneveInfo> = {
  kind: 'geneve',
  keys: { id: true, remote: true, port: true, ttl: true, tos: true },
  encode(o) {
    if (o.id === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "geneve needs an 'id' (the VNI)", { argument: 'id' });
    if (o.remote === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "geneve needs a 'remote' (the other tunnel endpoint)", { argument: 'remote' });
    const remote = v.ip(o.remote, 'remote');
    if (v.isMulticast(remote.bytes))
      throw new NetplumbError(C.INVALID_IP, `remote ${o.remote} is a multicast address: geneve takes a unicast remote`, {
        value: o.remote,
        argument: 'remote',
      });
    const data: KindData = { id: v.uint(o.id, 'id', 0xffffff), remote: remote.bytes, port: v.uint(o.port ?? 6081, 'port', 65535, 1) };
    if (o.ttl !== undefined) data.ttl = v.uint(o.ttl, 'ttl', 255);
    if (o.tos !== undefined) data.tos = v.uint(o.tos, 'tos', 255);
    return { data };
  },
  decode(d) {
    const out: GeneveInfo = { kind: 'geneve', id: Number(d.id ?? 0), port: Number(d.port ?? 0), ttl: Number(d.ttl ?? 0), tos: Number(d.tos ?? 0) };
    if (typeof d.remote === 'string') out.remote = d.remote;
    return out;
  },
};
