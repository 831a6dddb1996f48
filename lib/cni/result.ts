// The CNI result, in the shape of the configuration's cniVersion: 0.4.0 has
// `version` in each ip, 1.0.0 drops it, 1.1.0 adds the interface mtu. Also
// reads a prevResult (any of the three) back into one shape.
import type { CniVersion, DnsEntry, RouteEntry } from './config';

export interface ResultInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The namespace path, for interfaces inside the container. */
  sandbox?: string;
}

export interface ResultIp {
  /** 'a.b.c.d/len' */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface Result {
  cniVersion: CniVersion;
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: RouteEntry[];
  dns: DnsEntry;
}

/** The JSON of `r` as version `r.cniVersion` writes it. */
export function encodeResult(r: Result): Record<string, unknown> {
  const old = r.cniVersion === '0.4.0';
  const withMtu = r.cniVersion === '1.1.0';
  return {
    cniVersion: r.cniVersion,
    interfaces: r.interfaces.map((i) => ({
      name: i.name,
      ...(i.mac ? { mac: i.mac } : {}),
      ...(withMtu && i.mtu ? { mtu: i.mtu } : {}),
      ...(i.sandbox ? { sandbox: i.sandbox } : {}),
    })),
    ips: r.ips.map((ip) => ({ ...(old ? { version: '4' } : {}), address: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}), ...(ip.interface !== undefined ? { interface: ip.interface } : {}) })),
    routes: r.routes.map((rt) => ({ dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) })),
    dns: r.dns,
  };
}

/** What CHECK needs of a prevResult, leniently read (a later plugin of a chain may have added to it). */
export function decodeResult(x: Record<string, unknown>): { interfaces: ResultInterface[]; ips: ResultIp[]; routes: RouteEntry[] } {
  const list = (k: string): Record<string, unknown>[] => (Array.isArray(x[k]) ? (x[k] as unknown[]).filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : []);
  const s = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  return {
    interfaces: list('interfaces').map((i) => ({ name: s(i, 'name') ?? '', ...(s(i, 'mac') ? { mac: s(i, 'mac') } : {}), ...(s(i, 'sandbox') ? { sandbox: s(i, 'sandbox') } : {}) })),
    ips: list('ips').map((i) => ({ address: s(i, 'address') ?? '', ...(s(i, 'gateway') ? { gateway: s(i, 'gateway') } : {}), ...(typeof i.interface === 'number' ? { interface: i.interface } : {}) })),
    routes: list('routes').map((r) => ({ dst: s(r, 'dst') ?? '', ...(s(r, 'gw') ? { gw: s(r, 'gw') } : {}) })),
  };
}
