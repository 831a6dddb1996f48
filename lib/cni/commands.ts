// ADD, DEL, CHECK, STATUS and GC on netplumb's Network: the bridge is the
// network (created or adopted under its cross-process lock), the endpoint's
// identity is (CNI_CONTAINERID, CNI_IFNAME), kept by the kernel in the host
// veth's alias, so DEL and GC need no state file and no prevResult.
import * as fs from 'node:fs';
import { Address } from '../address';
import { ErrorCodes as C, NetlinkError, NetplumbError } from '../errors';
import { Link } from '../link';
import { defaultNamespace, Namespace } from '../namespace';
import { Network } from '../network';
import { NAT_FAMILIES, readState } from '../nft';
import { PortMapping } from '../port-mapping';
import { Route } from '../route';
import * as v from '../validate';
import type { CniEnv, IpamRange, NetConf, RouteEntry } from './config';
import { delegate, findPlugin } from './delegate';
import { CniCode as K, CniError } from './errors';
import { decodeResult, type Result, type ResultInterface } from './result';

/** A netplumb failure as a CNI error: the spec's code where one fits, netplumb's (100+) otherwise. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof NetplumbError) {
    const detail = `${e.code}${e.argument ? ` (${e.argument})` : ''}`;
    switch (e.code) {
      case C.LOCK_TIMEOUT:
        return new CniError(K.TRY_AGAIN, e.message, detail);
      case C.SUBNET_EXHAUSTED:
      case C.ADDRESS_IN_USE:
        return new CniError(K.NO_ADDRESS, e.message, detail);
      case C.PORT_CONFLICT:
        return new CniError(K.PORT_CONFLICT, e.message, detail);
      case C.SUBNET_OVERLAP:
      case C.NOT_A_BRIDGE:
        return new CniError(K.INVALID_CONFIG, e.message, detail);
      default:
        if (e.code.startsWith('ERR_INVALID')) return new CniError(K.INVALID_CONFIG, e.message, detail);
        return new CniError(K.KERNEL, e.message, detail);
    }
  }
  if (e instanceof NetlinkError) return new CniError(K.KERNEL, e.message, `${e.code} ${e.syscall}`);
  return new CniError(K.KERNEL, e instanceof Error ? e.message : String(e));
}

const code = (e: unknown): string | undefined => (e as { code?: string }).code;

/**
 * CNI_NETNS opened (or, given as an fd by the daemon's client, taken as it
 * is): a missing path is code 3 (no container), anything but a network
 * namespace code 4.
 */
async function openNetns(env: CniEnv): Promise<Namespace> {
  const path = env.netns;
  try {
    return await (env.netnsFd !== undefined ? Namespace.fromFd(env.netnsFd, path) : Namespace.fromPath(path));
  } catch (e) {
    if (code(e) === C.NAMESPACE_NOT_FOUND) throw new CniError(K.UNKNOWN_CONTAINER, `CNI_NETNS ${path} does not exist`);
    throw new CniError(K.INVALID_ENV, `CNI_NETNS ${path} is not a network namespace: ${(e as Error).message}`, code(e) ?? '');
  }
}

/** The bridge of the configuration, if it exists in this (the host) namespace. */
async function bridgeLink(host: Namespace, name: string): Promise<Link | undefined> {
  try {
    return await Link.get(host, name);
  } catch (e) {
    if (code(e) === C.LINK_NOT_FOUND || code(e) === 'ENODEV') return undefined;
    throw e;
  }
}

/** Subnet and gateway of a delegated IPAM: its config ('subnet' or the first range), else prevResult, else the bridge. */
async function delegatedSubnet(conf: NetConf, bridge: Link | undefined): Promise<{ subnet: string; gateway?: string } | undefined> {
  const ipam = conf.raw.ipam as Record<string, unknown>;
  const first = Array.isArray(ipam.ranges) && Array.isArray(ipam.ranges[0]) ? (ipam.ranges[0][0] as Record<string, unknown> | undefined) : undefined;
  const src = typeof ipam.subnet === 'string' ? ipam : first && typeof first.subnet === 'string' ? first : undefined;
  if (src) return { subnet: src.subnet as string, ...(typeof src.gateway === 'string' ? { gateway: src.gateway } : {}) };
  const ip = conf.prevResult ? decodeResult(conf.prevResult).ips.find((i) => !i.address.includes(':')) : undefined;
  if (ip) return cidrToSubnet(ip.address, ip.gateway);
  if (bridge) {
    const a = (await Address.list(bridge, { family: 4 }))[0];
    if (a) return cidrToSubnet(`${a.address}/${a.prefixlen}`, a.address);
  }
  return undefined;
}

function cidrToSubnet(address: string, gateway?: string): { subnet: string; gateway?: string } {
  const c = v.cidr(address, 'address', { family: 4 });
  return { subnet: `${v.formatIp(v.networkOf(c.bytes, c.prefixlen))}/${c.prefixlen}`, ...(gateway ? { gateway } : {}) };
}

/** The Network of the configuration (created or adopted). */
function network(conf: NetConf, subnet: string, gateway: string | undefined): Promise<Network> {
  // Own IPAM with a range per family: a dual-stack network.
  const dual = !conf.ipam.delegated && conf.ipam.ranges && conf.ipam.ranges.length > 1 ? conf.ipam.ranges : undefined;
  if (dual) {
    const each = <T>(f: (r: IpamRange) => T | undefined) => (dual.every((r) => f(r) !== undefined) ? { v: dual.map((r) => f(r) as T) } : undefined);
    const [starts, ends] = [each((r) => r.rangeStart), each((r) => r.rangeEnd)];
    if ((!starts && dual.some((r) => r.rangeStart)) || (!ends && dual.some((r) => r.rangeEnd)))
      // Network.bridge takes bounds for every family or none: the missing ones are the subnet's own.
      throw new CniError(K.UNSUPPORTED_FIELD, 'ipam.ranges: give rangeStart/rangeEnd for every range set or for none');
    return Network.bridge({
      name: conf.bridge, subnet: dual.map((r) => r.subnet), gateway: dual.map((r) => r.gateway),
      ...(starts ? { rangeStart: starts.v } : {}), ...(ends ? { rangeEnd: ends.v } : {}),
      ...(conf.mtu ? { mtu: conf.mtu } : {}), masquerade: conf.ipMasq, icc: true, gatewayAddress: conf.isGateway,
    });
  }
  return Network.bridge({
    name: conf.bridge,
    subnet,
    ...(gateway ? { gateway } : {}),
    ...(conf.ipam.rangeStart ? { rangeStart: conf.ipam.rangeStart } : {}),
    ...(conf.ipam.rangeEnd ? { rangeEnd: conf.ipam.rangeEnd } : {}),
    ...(conf.mtu ? { mtu: conf.mtu } : {}),
    masquerade: conf.ipMasq,
    icc: true,
    gatewayAddress: conf.isGateway,
  });
}

/** Is 0.0.0.0/0 or ::/0 (with this gateway, or none) among the routes? */
const isDefault = (r: RouteEntry, gw: string): boolean => (r.dst === '0.0.0.0/0' || r.dst === '::/0') && r.dst.includes(':') === gw.includes(':') && (r.gw === undefined || r.gw === gw);

export async function add(env: CniEnv, conf: NetConf): Promise<Result> {
  let ip = env.args.get('IP');
  if (ip !== undefined) {
    try {
      ip = v.ip(ip, 'IP', 4).text;
    } catch (e) {
      throw new CniError(K.INVALID_ENV, `CNI_ARGS IP=${ip}: ${(e as Error).message}`);
    }
  }
  const ns = await openNetns(env);
  try {
    let subnet = conf.ipam.subnet;
    let gateway = conf.ipam.gateway;
    let routes = conf.ipam.routes;
    let dns = conf.dns;
    if (conf.ipam.delegated) {
      const r = (await delegate(conf.ipam.type, 'ADD', conf.raw, env.path, env.environ)) ?? {};
      const got = decodeResult(r);
      const first = got.ips.find((i) => !i.address.includes(':'));
      if (!first) throw new CniError(K.DELEGATE, `IPAM plugin ${conf.ipam.type} returned no IPv4 address`, JSON.stringify(r));
      ({ subnet, gateway } = cidrToSubnet(first.address, first.gateway));
      ip = first.address.split('/')[0];
      routes = got.routes;
      if (!dns && r.dns && typeof r.dns === 'object' && Object.keys(r.dns).length) dns = r.dns as NetConf['dns'];
    }
    try {
      const net = await network(conf, subnet as string, gateway);
      gateway = net.gateway;
      // promiscMode, as the reference bridge plugin: the bridge receives every frame.
      if (conf.promiscMode && !net.bridge.isPromisc) await net.bridge.setPromisc(true);
      if (conf.portMappings.length) {
        // A host port taken already is refused before the container is connected (the publish batch checks again, atomically).
        const taken = await PortMapping.list(net.namespace);
        for (const m of conf.portMappings) PortMapping.assertFree(taken, net.namespace, m.protocol, m.hostPort, m.hostPort, m.hostIP ?? '*', 'runtimeConfig.portMappings');
      }
      const ep = await net.connect(ns, { id: env.containerId, ifname: env.ifname, ...(ip ? { ip } : {}) });
      try {
        // The gateway of a route's family: IPv4's, or (dual stack) IPv6's.
        const gwFor = (dst: string): string => (dst.includes(':') ? (ep.gateway6 ?? (gateway as string)) : (gateway as string));
        const want: RouteEntry[] = [...routes];
        if (conf.isDefaultGateway)
          for (const dflt of ep.addresses.map((a) => (a.includes(':') ? '::/0' : '0.0.0.0/0')))
            if (!want.some((r) => isDefault(r, gwFor(dflt)))) want.unshift({ dst: dflt, gw: gwFor(dflt) });
        // connect() gives the container a default route per family via its gateway: keep each only if wanted.
        for (const gw of net.gateways)
          if (!want.some((r) => isDefault(r, gw)))
            await Route.delete({ namespace: ns, to: 'default', via: gw, dev: ep.link }).catch((e: unknown) => {
              if (code(e) !== 'ESRCH') throw e;
            });
        for (const r of want) {
          if (isDefault(r, gwFor(r.dst))) continue;
          await Route.add({ namespace: ns, to: r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst, via: r.gw ?? gwFor(r.dst), dev: ep.link }).catch((e: unknown) => {
            if (code(e) !== 'EEXIST') throw e;
          });
        }
        if (!conf.hairpinMode) await ep.hostLink.setHairpin(false);
        // Port mappings as the portmap plugin makes them: any host address (of each family the
        // container has), and the host's 127.0.0.1 too (IPv4 only: see PortMapping's localhost).
        for (const m of conf.portMappings)
          for (const a of ep.addresses.map((x) => x.split('/')[0] as string)) {
            const six = a.includes(':');
            if (m.hostIP && m.hostIP.includes(':') !== six) continue;
            await net.bridge.publish({
              protocol: m.protocol, hostPort: m.hostPort, to: six ? `[${a}]:${m.containerPort}` : `${a}:${m.containerPort}`,
              ...(m.hostIP ? { hostAddress: m.hostIP } : {}),
              localhost: !six && (!m.hostIP || m.hostIP.startsWith('127.')),
            });
          }
        const interfaces: ResultInterface[] = [
          { name: net.bridge.name, mac: net.bridge.mac },
          { name: ep.hostLink.name, mac: ep.hostLink.mac },
          { name: ep.link.name, mac: ep.link.mac, mtu: ep.link.mtu, sandbox: env.netns },
        ];
        return {
          cniVersion: conf.cniVersion,
          interfaces,
          // One entry per family (CNI 1.0: ips[] with address, gateway, interface).
          ips: ep.addresses.map((address, i) => ({ address, gateway: net.gateways[i] as string, interface: 2 })),
          routes: want.map((r) => ({ dst: r.dst, gw: r.gw ?? gwFor(r.dst) })),
          dns: dns ?? {},
        };
      } catch (e) {
        await net.disconnect(env.containerId, env.ifname).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      if (conf.ipam.delegated) await delegate(conf.ipam.type, 'DEL', conf.raw, env.path, env.environ).catch(() => undefined);
      throw e;
    }
  } finally {
    await ns.close().catch(() => undefined);
  }
}

/** The configuration's network if its bridge exists (DEL, CHECK, GC, STATUS create nothing). */
async function existing(conf: NetConf): Promise<Network | undefined> {
  // The process's own namespace, opened once (a resident daemon must not open one per request).
  const host = await defaultNamespace();
  const br = await bridgeLink(host, conf.bridge);
  if (!br) return undefined;
  if (!conf.ipam.delegated) return network(conf, conf.ipam.subnet as string, conf.ipam.gateway);
  const s = await delegatedSubnet(conf, br);
  return s ? network(conf, s.subnet, s.gateway) : undefined;
}

/**
 * DEL: the endpoint (CNI_CONTAINERID, CNI_IFNAME) found by its lease, its port
 * mappings, conntrack entries and veth pair removed, the address released. A
 * missing namespace, bridge or endpoint is success; prevResult is not needed.
 */
export async function del(env: CniEnv, conf: NetConf): Promise<void> {
  const net = await existing(conf);
  if (net) {
    const had = await net.endpoint(env.containerId, env.ifname);
    await net.disconnect(env.containerId, env.ifname);
    // What a killed ADD may have left without a lease (a veth, rules to a released address).
    if (!had) await net.prune();
  }
  if (conf.ipam.delegated) await delegate(conf.ipam.type, 'DEL', conf.raw, env.path, env.environ);
}

/** CHECK: the live state against prevResult and the configuration; every difference is listed. */
export async function check(env: CniEnv, conf: NetConf): Promise<void> {
  const prev = decodeResult(conf.prevResult as Record<string, unknown>);
  const diffs: string[] = [];
  const net = await existing(conf);
  if (!net) throw new CniError(K.CHECK_FAILED, `CHECK: bridge ${conf.bridge} does not exist`);
  const ep = await net.endpoint(env.containerId, env.ifname);
  if (!ep) throw new CniError(K.CHECK_FAILED, `CHECK: no endpoint of container ${env.containerId} as ${env.ifname} on bridge ${conf.bridge} (no lease)`);
  const ns = await openNetns(env);
  try {
    const inner = prev.interfaces.findIndex((i) => i.name === env.ifname && i.sandbox);
    if (inner < 0) diffs.push(`prevResult lists no interface ${env.ifname} with a sandbox`);
    let link: Link | undefined;
    try {
      link = await Link.get(ns, env.ifname);
    } catch {
      diffs.push(`interface ${env.ifname} is missing in ${env.netns}`);
    }
    const want = prev.interfaces[inner];
    if (link && want) {
      if (want.sandbox !== env.netns) diffs.push(`prevResult's ${env.ifname} is in sandbox ${want.sandbox}, not CNI_NETNS ${env.netns}`);
      if (want.mac && want.mac.toLowerCase() !== link.mac) diffs.push(`${env.ifname} has MAC ${link.mac}, prevResult says ${want.mac}`);
      if (!link.isUp) diffs.push(`${env.ifname} is down`);
    }
    const host = await Link.get(net.namespace, ep.hostIfname).catch(() => undefined);
    if (!host) diffs.push(`host veth ${ep.hostIfname} is missing`);
    else {
      if (host.master !== net.bridge.index) diffs.push(`host veth ${ep.hostIfname} is not a port of ${conf.bridge}`);
      if (!prev.interfaces.some((i) => i.name === ep.hostIfname && !i.sandbox)) diffs.push(`prevResult does not list host veth ${ep.hostIfname}`);
    }
    if (link) {
      const addrs = (await Address.list(link)).map((a) => `${a.address}/${a.prefixlen}`);
      for (const ip of prev.ips) {
        if (ip.interface !== undefined && ip.interface !== inner) continue;
        if (!addrs.includes(ip.address)) diffs.push(`${env.ifname} lacks address ${ip.address} (has ${addrs.join(', ') || 'none'})`);
        if (!ep.addresses.includes(ip.address)) diffs.push(`the lease of ${env.containerId} is ${ep.addresses.join(', ')}, prevResult says ${ip.address}`);
      }
      const routes = [...(await Route.list(ns, { family: 4 })), ...(await Route.list(ns, { family: 6 }))];
      for (const r of prev.routes) {
        const to = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst;
        if (!routes.some((x) => x.to === to && (r.gw === undefined || x.via === r.gw))) diffs.push(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing in ${env.netns}`);
      }
    }
    for (const m of conf.portMappings) {
      const host = m.hostIP ?? '*';
      if (!ep.mappings.some((x) => x.protocol === m.protocol && x.hostPort === m.hostPort && x.port === m.containerPort && x.hostAddress === host))
        diffs.push(`port mapping ${m.protocol} ${host}:${m.hostPort} -> ${ep.ip}:${m.containerPort} is missing`);
    }
    if (conf.ipMasq) {
      const rules = (await readState(net.namespace, NAT_FAMILIES)).rules;
      for (const subnet of net.subnets)
        if (!rules.some((r) => r.comment === `netplumb masquerade ${net.name} ${subnet}`)) diffs.push(`the masquerade rule for ${subnet} is missing`);
    }
  } finally {
    await ns.close().catch(() => undefined);
  }
  if (conf.ipam.delegated) await delegate(conf.ipam.type, 'CHECK', conf.raw, env.path, env.environ);
  if (diffs.length) throw new CniError(K.CHECK_FAILED, `CHECK: ${diffs[0]}${diffs.length > 1 ? ` (and ${diffs.length - 1} more)` : ''}`, diffs.join('; '));
}

/** GC: every endpoint of the network not in cni.dev/valid-attachments is removed, then what nobody leases. */
export async function gc(env: CniEnv, conf: NetConf): Promise<void> {
  const net = await existing(conf);
  if (!net) return;
  const keep = new Set((conf.validAttachments ?? []).map((a) => `${a.containerID}\n${a.ifname}`));
  for (const ep of await net.endpoints()) {
    if (keep.has(`${ep.id}\n${ep.ifname}`)) continue;
    await net.disconnect(ep.id, ep.ifname);
    if (conf.ipam.delegated)
      await delegate(conf.ipam.type, 'DEL', conf.raw, env.path, { ...env.environ, CNI_CONTAINERID: ep.id, CNI_IFNAME: ep.ifname, CNI_NETNS: '' }).catch(() => undefined);
  }
  await net.prune();
}

/** CAP_NET_ADMIN in the effective set (capability 12), from /proc/self/status. */
function hasNetAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return !!m && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
}

/** STATUS: can an ADD succeed now? Code 50 with the reason when not. */
export async function status(env: CniEnv, conf: NetConf): Promise<void> {
  const no = (why: string) => new CniError(K.NOT_AVAILABLE, `not available: ${why}`);
  if (!hasNetAdmin()) throw no('netplumb-cni runs without CAP_NET_ADMIN');
  try {
    fs.mkdirSync('/run/netplumb', { recursive: true, mode: 0o700 });
    fs.accessSync('/run/netplumb', fs.constants.W_OK);
  } catch (e) {
    throw no(`the lock directory /run/netplumb is not writable: ${(e as Error).message}`);
  }
  if (conf.ipam.delegated) {
    try {
      findPlugin(conf.ipam.type, env.path);
    } catch (e) {
      throw no((e as Error).message);
    }
  }
  let net: Network | undefined;
  try {
    net = await existing(conf);
    if (net) await readState(net.namespace);
  } catch (e) {
    throw no(toCniError(e).message);
  }
  if (net && !conf.ipam.delegated) {
    // The network's own count, per family (as of the leases existing() read): an ADD needs one of each.
    for (const f of net.free()) if (f.free <= 0n) throw no(`no free address left in ${f.range} on bridge ${conf.bridge} (${f.leased} leased)`);
  }
}
