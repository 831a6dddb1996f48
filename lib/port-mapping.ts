import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Address } from './address';
import { Link } from './link';
import { Namespace, resolveNamespace } from './namespace';
import { afterPublish, diagnose, type Finding } from './doctor';
import { delRule, expr, NAT_FAMILIES, natFamily, natTableMsgs, type OurRule, readState, rule, transact } from './nft';
import type { NftMsg } from './native';
import * as v from './validate';

/**
 * Options of `PortMapping.publish`: one `docker run -p [HOSTADDR:]HOSTPORT:PORT[/PROTO]`, as nf_tables DNAT rules (`nft add rule ip netplumb ... dnat to ADDR:PORT`).
 */
export interface PublishOptions {
  /** The host namespace (where the NAT happens). Default: the bridge's namespace, else the process's own. */
  namespace?: Namespace;
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp';
  /**
   * The host port:
   * - a port;
   * - an inclusive range [first, last] mapped one to one onto the container's
   *   ports: any size when the container ports are the same numbers, at most
   *   1,024 ports when they are shifted;
   * - `{ anyOf: [first, last] }`: the first port of the range that no mapping
   *   holds (`docker run -p 8080-8090:80`);
   * - 0: the first free port of the namespace's ephemeral range
   *   (net.ipv4.ip_local_port_range, as `docker run -p 80`).
   * The port is chosen inside the atomic batch, so two processes never get
   * the same one; `mapping.hostPort` says which.
   */
  hostPort: number | [number, number] | { anyOf: [number, number] };
  /**
   * Only traffic to this host address, of the target's family (else
   * ERR_FAMILY_MISMATCH). Default, or '0.0.0.0' / '::': any address of the
   * host (`fib daddr type local`).
   */
  hostAddress?: string;
  /**
   * The container's 'ADDRESS:PORT' (for a range: the first port): '172.17.0.2:80',
   * or '[fd00::2]:80' for IPv6 (the rules then go to the `ip6 netplumb` table).
   */
  to: string;
  /** The bridge the container sits on: enables hairpin NAT (a container reaching a published port through the host's address). */
  bridge?: Link;
  /**
   * Also publish on the host's 127.0.0.1 (sets route_localnet on the bridge,
   * without which the kernel drops a routed packet from 127/8, and
   * masquerades). Needs `bridge`. IPv4 only: for an IPv6 target it is
   * ERR_INVALID_ARGUMENT, as is hostAddress '::1' (see README, "IPv6 and dual stack": the kernel
   * routes no packet to ::1 that came in on another interface, and has no
   * sysctl to allow it). Default false.
   */
  localhost?: boolean;
}

const PUBLISH_KEYS: v.Keys<PublishOptions> = { namespace: true, protocol: true, hostPort: true, hostAddress: true, to: true, bridge: true, localhost: true };

/**
 * A range whose host and container ports are equal (8000-8010 -> 8000-8010)
 * is one rule per chain (a port range match, the port kept), whatever its
 * size. A shifted range (8080-8090 -> 80-90) needs a rule per port and chain,
 * so it is limited.
 */
export const MAX_SHIFTED_RANGE = 1024;

/** A mapping's identity, as each of its rules' comments records it. */
export interface MappingIdentity {
  /** 8 hex digits. */
  id: string;
  protocol: 'tcp' | 'udp';
  /** '*' for any address of the target's family. */
  hostAddress: string;
  hostPort: number;
  hostPortEnd: number;
  /** The target, IPv4 or IPv6 (canonical text). */
  address: string;
  port: number;
  localhost: boolean;
}

/** Comments are at most 127 bytes (nft's limit); an identity that does not fit is refused, never cut. */
const MAX_COMMENT = 127;

/** 'ADDR:PORT', '[ADDR]:PORT' for IPv6, '*:PORT'. */
function endpointText(addr: string, ports: string): string {
  return addr.includes(':') ? `[${addr}]:${ports}` : `${addr}:${ports}`;
}

/** Splits 'ADDR:PORT' / '[V6ADDR]:PORT' / '*:PORT' at the colon that ends the address; undefined if malformed. */
export function splitEndpoint(text: string): { addr: string; port: string } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return undefined;
    const addr = text.slice(1, close);
    return net.isIPv6(addr) ? { addr, port: text.slice(close + 2) } : undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return undefined; // an IPv6 address must be bracketed
  const addr = text.slice(0, colon);
  return addr === '*' || net.isIPv4(addr) ? { addr, port: text.slice(colon + 1) } : undefined;
}

/**
 * The one codec of a mapping's identity:
 * 'netplumb publish ID PROTO HOST:PORT[-END] -> TARGET:PORT[ lo]', where an
 * IPv6 host address or target is bracketed ('[fd00::2]:80'), so its colons
 * never mix with the port's. IPv4 comments are what earlier versions wrote.
 */
export function encodeMapping(m: MappingIdentity): string {
  const ports = `${m.hostPort}${m.hostPortEnd !== m.hostPort ? `-${m.hostPortEnd}` : ''}`;
  return `netplumb publish ${m.id} ${m.protocol} ${endpointText(m.hostAddress, ports)} -> ${endpointText(m.address, String(m.port))}${m.localhost ? ' lo' : ''}`;
}

/** The identity a comment records, or undefined if it is not (exactly) one encodeMapping writes. */
export function decodeMapping(text: string): MappingIdentity | undefined {
  const t = text.split(' ');
  if (t.length < 7 || t.length > 8 || t[0] !== 'netplumb' || t[1] !== 'publish' || t[5] !== '->' || (t.length === 8 && t[7] !== 'lo')) return undefined;
  const [id, protocol] = [t[2] as string, t[3] as string];
  if (!/^[0-9a-f]{8}$/.test(id) || (protocol !== 'tcp' && protocol !== 'udp')) return undefined;
  const host = splitEndpoint(t[4] as string);
  const target = splitEndpoint(t[6] as string);
  if (!host || !target || target.addr === '*') return undefined;
  const hp = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(host.port);
  if (!hp || !/^\d{1,5}$/.test(target.port)) return undefined;
  if (host.addr !== '*' && net.isIP(host.addr) !== net.isIP(target.addr)) return undefined;
  // One spelling per address (what publish writes): 'FD00::2' or '::ffff:0:1' written by hand is not ours.
  const canonical = (a: string) => a === '*' || v.formatIp(v.ipBytes(a, net.isIP(a) as 4 | 6)) === a;
  if (!canonical(host.addr) || !canonical(target.addr)) return undefined;
  const m: MappingIdentity = {
    id, protocol, hostAddress: host.addr, hostPort: Number(hp[1]), hostPortEnd: Number(hp[2] ?? hp[1]), address: target.addr, port: Number(target.port), localhost: t.length === 8,
  };
  // Only the canonical text: what round-trips is what we wrote.
  return encodeMapping(m) === text ? m : undefined;
}

/** The container address a publish comment sends to, or undefined. */
export function targetOfComment(comment: string): string | undefined {
  return comment.startsWith('netplumb publish ') ? decodeMapping(comment)?.address : undefined;
}

/**
 * Why ::1 is refused: NAT from the host's IPv6 loopback to a container cannot
 * work. The container's answer, un-NATed back to ::1, arrives on the bridge,
 * and the kernel routes no packet to ::1 that came in on an interface other
 * than lo (RFC 4291 2.5.3; it counts Ip6InNoRoutes); IPv6 has no
 * route_localnet to allow it. Docker answers [::1] with its userland proxy.
 */
export function loopback6(argument: string): NetplumbError {
  return new NetplumbError(
    C.INVALID_ARGUMENT,
    "IPv6 loopback (::1) cannot be published by NAT: the kernel never routes an answer to ::1 that arrives on another interface than lo, and IPv6 has no route_localnet; publish on [::] or a host address, or proxy ::1 in userspace",
    { value: '::1', argument },
  );
}

/** Address family of a mapping's target. */
const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);
/** The socket address families (linux/socket.h), as ctnetlink's nfgen_family takes them. */
const AF_INET = 2;
const AF_INET6 = 10;

/**
 * A published port: DNAT from a host port to a container's port, like
 * `docker run -p 8080:80`, installed as one atomic nf_tables batch in the
 * host namespace's `ip netplumb` table:
 *   prerouting:  fib daddr type local tcp dport 8080 dnat to 172.17.0.2:80   (from outside)
 *   output:      the same, for the host's own connections to its addresses
 *   postrouting: hairpin masquerade, when the bridge is known
 */
export class PortMapping {
  readonly id: string;
  readonly namespace: Namespace;
  /** The address family of the target (and of the `ip` or `ip6` table the rules are in). */
  readonly family: 4 | 6;
  readonly protocol: 'tcp' | 'udp';
  readonly hostPort: number;
  readonly hostPortEnd: number;
  /** '*' for any host address. */
  readonly hostAddress: string;
  readonly address: string;
  readonly port: number;
  readonly localhost: boolean;
  #removed = false;

  private constructor(ns: Namespace, f: MappingIdentity) {
    this.namespace = ns;
    this.family = familyOf(f.address);
    this.id = f.id;
    this.protocol = f.protocol;
    this.hostPort = f.hostPort;
    this.hostPortEnd = f.hostPortEnd;
    this.hostAddress = f.hostAddress;
    this.address = f.address;
    this.port = f.port;
    this.localhost = f.localhost;
  }

  /** Publishes a port. A host port already published (same protocol, overlapping address) is ERR_PORT_CONFLICT. */
  static async publish(opts: PublishOptions): Promise<PortMapping> {
    const o = v.options<PublishOptions>(opts, PUBLISH_KEYS, 'publish');
    const protocol = o.protocol ?? 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp')
      throw new NetplumbError(C.INVALID_ARGUMENT, `invalid protocol ${v.describe(protocol)}: 'tcp' or 'udp'`, { value: protocol, argument: 'protocol' });
    // first..last: the ports mapped; with `pick`, a candidate range of which one port is mapped.
    let first: number, last: number, pick: 'ephemeral' | 'anyOf' | undefined;
    if (Array.isArray(o.hostPort)) {
      first = v.uint(o.hostPort[0], 'hostPort[0]', 65535, 1);
      last = v.uint(o.hostPort[1], 'hostPort[1]', 65535, 1);
      if (last < first) throw new NetplumbError(C.INVALID_ARGUMENT, `hostPort range ${first}-${last} is empty`, { argument: 'hostPort' });
    } else if (typeof o.hostPort === 'object' && o.hostPort !== null && Array.isArray((o.hostPort as { anyOf?: unknown }).anyOf)) {
      const r = (o.hostPort as { anyOf: unknown[] }).anyOf;
      first = v.uint(r[0], 'hostPort.anyOf[0]', 65535, 1);
      last = v.uint(r[1], 'hostPort.anyOf[1]', 65535, 1);
      if (last < first) throw new NetplumbError(C.INVALID_ARGUMENT, `hostPort range ${first}-${last} is empty`, { argument: 'hostPort' });
      pick = 'anyOf';
    } else if (o.hostPort === 0) {
      [first, last, pick] = [0, 0, 'ephemeral'];
    } else {
      first = last = v.uint(o.hostPort, 'hostPort', 65535, 1);
    }
    const to = typeof o.to === 'string' ? splitEndpoint(o.to) : undefined;
    if (!to || to.addr === '*')
      throw new NetplumbError(C.INVALID_ARGUMENT, `to must be 'ADDRESS:PORT' or '[IPV6ADDRESS]:PORT', not ${v.describe(o.to)}`, { value: o.to, argument: 'to' });
    const parsedTarget = v.ip(to.addr, 'to');
    // Canonical text: the identity in the comments must be one spelling of the address.
    const target = { ...parsedTarget, text: v.formatIp(parsedTarget.bytes) };
    const family = target.family as 4 | 6;
    const port = v.uint(/^\d+$/.test(to.port) ? Number(to.port) : -1, 'to port', 65535, 1);
    if (!pick && port + (last - first) > 65535) throw new NetplumbError(C.INVALID_ARGUMENT, 'the container port range runs past 65535', { argument: 'to' });
    if (!pick && port !== first && last - first + 1 > MAX_SHIFTED_RANGE)
      throw new NetplumbError(
        C.INVALID_ARGUMENT,
        `a host port range mapped onto other container ports is limited to ${MAX_SHIFTED_RANGE} ports (${first}-${last} -> ${port}-${port + last - first}); a range onto the same port numbers has no limit`,
        { argument: 'hostPort' },
      );
    // A host address of the other family than the target: a v4 address on a v6 mapping, or the reverse.
    const parsedHost = o.hostAddress !== undefined ? v.ip(o.hostAddress, 'hostAddress', family) : undefined;
    // 0.0.0.0 and :: (Docker's "every address of this family") are any address: no daddr match.
    const hostAddress = parsedHost && parsedHost.bytes.some((b) => b !== 0) ? { ...parsedHost, text: v.formatIp(parsedHost.bytes) } : undefined;
    let bridge: Link | undefined;
    if (o.bridge !== undefined) {
      if (!(o.bridge instanceof Link)) throw new NetplumbError(C.INVALID_ARGUMENT, 'bridge must be a Link', { argument: 'bridge' });
      bridge = o.bridge;
    }
    const localhost = o.localhost !== undefined ? v.bool(o.localhost, 'localhost') : false;
    if (family === 6 && (localhost || hostAddress?.text === '::1')) throw loopback6(localhost ? 'localhost' : 'hostAddress');
    if (localhost && !bridge) throw new NetplumbError(C.INVALID_ARGUMENT, 'localhost publishing needs the bridge', { argument: 'localhost' });
    const ns = await resolveNamespace(o.namespace ?? bridge?.namespace);
    if (bridge && !bridge.namespace.equals(ns))
      throw new NetplumbError(C.WRONG_NAMESPACE, `bridge ${bridge.name} is not in namespace ${ns}`, { argument: 'bridge' });

    const id = crypto.randomBytes(4).toString('hex');
    const host = hostAddress?.text ?? '*';
    const identity = (first: number, last: number): MappingIdentity => ({ id, protocol, hostAddress: host, hostPort: first, hostPortEnd: last, address: target.text, port, localhost });
    if (encodeMapping(identity(65535, 65535)).length > MAX_COMMENT)
      throw new NetplumbError(C.INVALID_ARGUMENT, `the mapping ${host} -> ${target.text} does not fit the 127 bytes of an nf_tables comment: use a shorter host address`, { argument: 'hostAddress' });
    // IPv4 only: the kernel drops a routed packet from or to 127/8 unless route_localnet is on.
    // IPv6 has no such sysctl, and ::1 cannot be published at all (loopback6 above).
    if (localhost && bridge && family === 4) await ns.sysctl.set(`net/ipv4/conf/${bridge.name}/route_localnet`, 1);
    // The bridge's subnets of the target's family (not link-local): the sources that hairpin NAT applies to.
    const bridgeName = bridge?.name ?? '';
    const subnets = bridge
      ? (await Address.list(bridge, { family }))
          .filter((a) => !(family === 6 && a.address.toLowerCase().startsWith('fe80:')))
          .map((a) => ({ bytes: v.networkOf(v.ipBytes(a.address, family), a.prefixlen), prefixlen: a.prefixlen }))
      : [];
    const loopback = family === 4 ? { bytes: Uint8Array.from([127, 0, 0, 0]), len: 8 } : { bytes: v.ipBytes('::1', 6), len: 128 };
    const dst = hostAddress ? expr.addr('daddr', hostAddress.bytes) : expr.daddrLocal();
    // The host's own connections to its addresses; loopback (127.0.0.0/8, ::1) only when asked for.
    const notLoopback = localhost || hostAddress ? [] : [expr.addr('daddr', loopback.bytes, loopback.len, true)];
    const text = (first: number, last: number) => encodeMapping(identity(first, last));
    const nfproto = natFamily(family);
    // The rules for host ports first..last: one rule set per (host ports, container ports, dnat),
    // the whole range at once when the ports are the same numbers.
    const build = (first: number, last: number): NftMsg[] => {
      const pieces: [number, number, number, number | undefined][] =
        port === first ? [[first, last, port, undefined]] : Array.from({ length: last - first + 1 }, (_, i) => [first + i, first + i, port + i, port + i]);
      const rules: NftMsg[] = [];
      for (const [h0, h1, c0, to] of pieces) {
        const c1 = c0 + (h1 - h0);
        const match = [dst, expr.l4proto(protocol), expr.dport(h0, h1)];
        rules.push(rule(nfproto, 'prerouting', [...match, expr.counter(), expr.dnat(target.bytes, to)], text(first, last)));
        rules.push(rule(nfproto, 'output', [...notLoopback, ...match, expr.counter(), expr.dnat(target.bytes, to)], text(first, last)));
        for (const subnet of subnets) {
          // Hairpin: a container on the bridge reaching a published port through the host's
          // address. Matched by source subnet and output bridge, so it holds whether the
          // packet was routed or (with br_netfilter) bridged; the port needs hairpin mode
          // for a container reaching its own port (Network.connect sets it).
          rules.push(rule(nfproto, 'postrouting', [expr.oifname(bridgeName), expr.addr('saddr', subnet.bytes, subnet.prefixlen), expr.addr('daddr', target.bytes), expr.l4proto(protocol), expr.dport(c0, c1), expr.ctDnat(), expr.counter(), expr.masquerade()], text(first, last)));
        }
        if (localhost)
          rules.push(rule(nfproto, 'postrouting', [expr.oifname(bridgeName), expr.addr('saddr', loopback.bytes, loopback.len), expr.addr('daddr', target.bytes), expr.l4proto(protocol), expr.dport(c0, c1), expr.masquerade()], text(first, last)));
      }
      return rules;
    };
    if (pick === 'ephemeral') {
      const range = /^\s*(\d+)\s+(\d+)\s*$/.exec(await ns.sysctl.get('net.ipv4.ip_local_port_range'));
      [first, last] = range ? [Math.max(1, Number(range[1])), Number(range[2])] : [32768, 60999];
    }
    const what = pick ? `a free ${protocol} port of ${first}-${last}` : `${protocol} ${endpointText(host, `${first}${last !== first ? `-${last}` : ''}`)}`;
    let chosen: [number, number] = [first, last];
    // One batch, applied only if no other process changed the ruleset since the conflict check
    // (and the choice of a free port) read it.
    await transact(ns, `publish ${what} -> ${endpointText(target.text, String(port))}`, (state) => {
      // Host ports are per family: an IPv4 and an IPv6 mapping of one port do not conflict.
      const mappings = PortMapping.fromRules(ns, state.rules).filter((m) => m.family === family);
      if (pick) {
        const p = PortMapping.firstFree(mappings, protocol, first, last, host);
        if (p === undefined)
          throw new NetplumbError(C.PORT_CONFLICT, `no ${protocol} port of ${first}-${last} is free in namespace ${ns}${host !== '*' ? ` for ${host}` : ''}`, { value: [first, last], argument: 'hostPort' });
        chosen = [p, p];
      } else PortMapping.assertFree(mappings, ns, protocol, first, last, host, 'hostPort');
      return [...natTableMsgs(nfproto), ...build(...chosen)];
    }, [nfproto]);
    const mapping = new PortMapping(ns, { id, protocol, hostPort: chosen[0], hostPortEnd: chosen[1], hostAddress: host, address: target.text, port, localhost });
    // UDP flows that reached this port before (a previous target, the host) are in
    // conntrack and would keep going there: delete them, as the reference portmap does.
    if (protocol === 'udp') await flushConntrack(ns, mapping);
    afterPublish(ns, mapping); // the NAT doctor, after the batch and not awaited (lib/doctor.ts)
    return mapping;
  }

  /**
   * What in the namespace's nf_tables ruleset (every family and table, read
   * only) can keep mapped packets from their container: a chain at policy
   * drop, a drop/reject rule, another table's DNAT that runs before ours.
   * With a mapping, about its packets; without, about any published port's.
   * `netplumb doctor` prints the same.
   */
  static diagnose(ns: Namespace, mapping?: PortMapping): Promise<Finding[]> {
    return diagnose(ns, mapping);
  }

  /** PortMapping.diagnose(this.namespace, this). */
  diagnose(): Promise<Finding[]> {
    return diagnose(this.namespace, this);
  }

  /** The port mappings installed in a namespace (by any process), read back from the kernel. */
  static async list(ns: Namespace): Promise<PortMapping[]> {
    // Both families: the ip and ip6 tables.
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { argument: 'namespace' });
    ns.assertOpen();
    return PortMapping.listIn(ns, NAT_FAMILIES);
  }

  /**
   * The port mappings in the NAT tables of `families` only (NFPROTO_IPV4,
   * NFPROTO_IPV6): what an IPv4-only network reads, without the ip6 table.
   * @internal
   */
  static async listIn(ns: Namespace, families: readonly number[]): Promise<PortMapping[]> {
    return PortMapping.fromRules(ns, (await readState(ns, families)).rules);
  }

  /**
   * @internal ERR_PORT_CONFLICT if one of `mappings` has the same protocol and an
   * overlapping port on an overlapping address ('*' overlaps every address).
   */
  static assertFree(mappings: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostPortEnd' | 'hostAddress' | 'address' | 'port' | 'id'>[], ns: Namespace, protocol: string, first: number, last: number, host: string, argument: string): void {
    // (The caller passes the mappings of one family.)
    for (const m of mappings) {
      if (m.protocol !== protocol || m.hostPortEnd < first || m.hostPort > last) continue;
      if (m.hostAddress !== '*' && host !== '*' && m.hostAddress !== host) continue;
      throw new NetplumbError(C.PORT_CONFLICT, `${protocol} port ${first}${last !== first ? `-${last}` : ''} is already published in namespace ${ns} (to ${m.address}:${m.port}, id ${m.id})`, {
        value: first === last ? first : [first, last],
        argument,
      });
    }
  }

  /** @internal The first port of first..last that no mapping of `protocol` on an overlapping address holds. */
  static firstFree(mappings: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostPortEnd' | 'hostAddress'>[], protocol: string, first: number, last: number, host: string): number | undefined {
    const held = mappings
      .filter((m) => m.protocol === protocol && (m.hostAddress === '*' || host === '*' || m.hostAddress === host) && m.hostPortEnd >= first && m.hostPort <= last)
      .sort((a, b) => a.hostPort - b.hostPort);
    let p = first;
    for (const m of held) {
      if (m.hostPort > p) break;
      p = Math.max(p, m.hostPortEnd + 1);
    }
    return p <= last ? p : undefined;
  }

  /** @internal The mappings that our rules describe. */
  static fromRules(ns: Namespace, rules: OurRule[]): PortMapping[] {
    const seen = new Map<string, PortMapping>();
    for (const r of rules) {
      const m = decodeMapping(r.comment);
      if (!m || seen.has(m.id)) continue;
      seen.set(m.id, new PortMapping(ns, m));
    }
    return [...seen.values()];
  }

  /**
   * Removes exactly this mapping's rules, and our table with them if they were
   * its last, in one atomic batch. Unpublishing twice (or after another
   * process removed it) is a no-op.
   */
  async unpublish(): Promise<void> {
    if (this.#removed) return;
    await transact(this.namespace, `unpublish ${this}`, (state) =>
      state.rules.filter((r) => r.comment.startsWith(`netplumb publish ${this.id} `)).map(delRule),
    [natFamily(this.family)]);
    // Flows already NATed to the target would go on reaching it (or its next holder).
    await flushConntrack(this.namespace, this, this.address);
    this.#removed = true;
  }

  /** `await using m = await PortMapping.publish(...)`: unpublishes at the end of the block unless the namespace is already closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.namespace.closed) await this.unpublish();
  }

  /** The mapping as `docker port` prints it: `tcp *:8080 -> 10.0.0.5:80`, `tcp [::1]:8080 -> [fd00::5]:80`. */
  toString(): string {
    const ports = this.hostPortEnd !== this.hostPort ? `${this.hostPort}-${this.hostPortEnd}` : `${this.hostPort}`;
    return `${this.protocol} ${endpointText(this.hostAddress, ports)} -> ${endpointText(this.address, String(this.port))}`;
  }

  /** The mapping's fields as a plain object (for `JSON.stringify` and logs). */
  toJSON(): Record<string, unknown> {
    return { id: this.id, family: this.family, protocol: this.protocol, hostAddress: this.hostAddress, hostPort: this.hostPort, hostPortEnd: this.hostPortEnd, address: this.address, port: this.port, localhost: this.localhost };
  }
}

let conntrackCleanup = true;
/** @internal Test hook: turns the conntrack cleanup off, for the test's control. */
export function _setConntrackCleanup(on: boolean): void {
  conntrackCleanup = on;
}

/**
 * Deletes the conntrack entries of a mapping's family, protocol and host ports
 * (with `to`: only those NATed to that address), over ctnetlink. The family
 * is the mapping's (IPv4 when it names none), or `to`'s.
 * ~ conntrack -D -f ipv4|ipv6 -p udp --dport PORT [--reply-src TO]
 */
export async function flushConntrack(ns: Namespace, m: { protocol: 'tcp' | 'udp'; hostPort: number; hostPortEnd: number; family?: 4 | 6 }, to?: string): Promise<number> {
  if (!conntrackCleanup) return 0;
  const family = m.family ?? (to !== undefined ? familyOf(to) : 4);
  return kernel(
    ns.handle.ctFlush({
      family: family === 6 ? AF_INET6 : AF_INET, proto: m.protocol === 'tcp' ? 6 : 17, dportMin: m.hostPort, dportMax: m.hostPortEnd, ...(to ? { to: v.ipBytes(to, family) } : {}),
    }),
    () => `conntrack entries of ${m.protocol} port ${m.hostPort}${m.hostPortEnd !== m.hostPort ? `-${m.hostPortEnd}` : ''}${to ? ` to ${to}` : ''} in namespace ${ns}`,
  );
}
