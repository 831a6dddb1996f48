import * as crypto from 'node:crypto';
import { isIP } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers';
import { Address } from './address';
import { Bridge } from './bridge';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link } from './link';
import { withLock } from './lock';
import { Namespace, resolveNamespace } from './namespace';
import { bridgeTableMsgs, delRule, expr, natFamily, natTableMsgs, NFPROTO_BRIDGE, type OurRule, rule, transact } from './nft';
import { flushConntrack, loopback6, PortMapping, targetOfComment } from './port-mapping';
import { Route } from './route';
import { VethPair } from './veth-pair';
import * as v from './validate';
import { fromBig, fromInt, Ipam, Ipam6, macOf, macOf6, parseSubnet, parseSubnet6, toBig, toInt } from './ipam';
import { parsePublish, planPublish, type PublishSpec } from './publish-spec';

export { parsePublish, type PublishSpec } from './publish-spec';

/** A published port as connect() took it (the host port chosen for a range or an ephemeral spec). */
export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  /** '*' for every host address. */
  hostAddress: string;
  hostPort: number;
  hostPortEnd: number;
  containerPort: number;
  containerPortEnd: number;
}

function portsOf(mappings: PortMapping[]): PublishedPort[] {
  return mappings.map((m) => ({
    protocol: m.protocol, hostAddress: m.hostAddress, hostPort: m.hostPort, hostPortEnd: m.hostPortEnd, containerPort: m.port, containerPortEnd: m.port + (m.hostPortEnd - m.hostPort),
  }));
}

/** Options of `Network.bridge`: a Docker-style bridge network (`docker network create --driver bridge --subnet ...`). */
export interface BridgeNetworkOptions {
  /** The bridge's name, e.g. 'docker0'. An existing bridge of that name is adopted. */
  name: string;
  /**
   * The containers' subnet: '172.17.0.0/16', 'fd00:17::/64' (IPv6 only), or one
   * of each family for dual stack: ['172.18.0.0/16', 'fd00:18::/64']. An IPv6
   * subnet is /64 or shorter (ERR_INVALID_CIDR otherwise; see README, "IPv6 and dual stack").
   */
  subnet: string | string[];
  /** The bridge's address and the containers' default gateway: one per family, in `subnet`'s order. Default: each subnet's first address. */
  gateway?: string | string[];
  /** First address IPAM hands out (one per family, as `gateway`). Default: each subnet's first host address. */
  rangeStart?: string | string[];
  /** Last address IPAM hands out (one per family, as `gateway`). Default: each subnet's last host address. */
  rangeEnd?: string | string[];
  /** MTU of the bridge and of every veth. Default: the kernel's (1500). */
  mtu?: number;
  /** Masquerade traffic from the subnet leaving through any other interface (and enable forwarding). Default true. */
  masquerade?: boolean;
  /** For the IPv6 subnet: masquerade it too (Docker's ip6Masquerade). Default: `masquerade`. False leaves it routed, unNATed. */
  ip6Masquerade?: boolean;
  /** Inter-container communication on the bridge. Default true; false drops bridged traffic between containers. */
  icc?: boolean;
  /** The host namespace. Default: the process's own. */
  namespace?: Namespace;
  /** Give the bridge the gateway address. Default true; false leaves it without one (CNI's isGateway: false). */
  gatewayAddress?: boolean;
}

const BRIDGE_NETWORK_KEYS: v.Keys<BridgeNetworkOptions> = {
  name: true, subnet: true, gateway: true, rangeStart: true, rangeEnd: true, mtu: true, masquerade: true, ip6Masquerade: true, icc: true, namespace: true, gatewayAddress: true,
};

/** Options of `network.connect`: what `docker network connect` / `docker run --network --ip --publish` set for one container. */
export interface NetworkConnectOptions {
  /** A fixed IPv4 address in the subnet (or IPv6, on an IPv6-only network). Default: the next free one (IPAM). */
  ip?: string;
  /** A fixed IPv6 address in the IPv6 subnet (dual stack). Default: the next free one. */
  ip6?: string;
  /**
   * MAC of the container's interface. Default: 02:42 followed by the IPv4
   * address (as Docker long did), so the next holder of an address has the
   * MAC the host's and other containers' ARP caches already hold for it.
   */
  mac?: string;
  /** Name of the container's interface. Default 'eth0'. */
  ifname?: string;
  /** Name of the host end. Default 'veth' + 7 hex digits, like Docker. */
  hostIfname?: string;
  /**
   * Ports to publish, in Docker's `-p` syntax or as objects: '8080:80',
   * '8080:80/udp', '127.0.0.1:8080:80' (also from the host's loopback),
   * '8000-8010:8000-8010' (one to one), '8080-8090:80' (the first free host
   * port of the range), '80' or '127.0.0.1::80' (an ephemeral host port).
   * The endpoint's `ports` says which host ports were taken.
   */
  publish?: (string | PublishSpec)[];
  /**
   * The container's id: with `ifname`, the endpoint's identity on this network,
   * written into the lease so that any process can find, list and disconnect
   * it (`net.endpoint(id)`, `net.disconnect(id)`). Letters, digits, `_.-`, up to
   * 128. Default: 12 random hex digits.
   */
  id?: string;
  /**
   * Which of a container's networks gives its default route (Docker 26's
   * gw-priority): the highest priority wins; on a tie, the network connected
   * first. An integer from -999 to 999, default 0. Every network adds a
   * default route, with metric 1,000,000 - 1,000 x priority (+1 for each tie
   * already there); the kernel uses the lowest, so when the winning network
   * is disconnected (from any process, or its veth simply goes) the next one
   * takes over with no further call.
   */
  gatewayPriority?: number;
  /** When (id, ifname) is connected already: 'error' (default, ERR_ENDPOINT_EXISTS) or 'reuse' (return it). */
  ifExists?: 'error' | 'reuse';
}

const NETWORK_CONNECT_KEYS: v.Keys<NetworkConnectOptions> = { ip: true, ip6: true, mac: true, ifname: true, hostIfname: true, publish: true, id: true, gatewayPriority: true, ifExists: true };

/** An endpoint as any process reads it back from the kernel (`net.endpoints()`). */
export interface EndpointInfo {
  id: string;
  ifname: string;
  /** The host end on the bridge. */
  hostIfname: string;
  /** The first address (IPv4 on a dual-stack network). */
  ip: string;
  /** 'ip/prefixlen' */
  address: string;
  /** Every address, one per family ('ip/prefixlen'), IPv4 first. */
  addresses: string[];
  /** The port mappings to its addresses. */
  mappings: PortMapping[];
  /** The same, as ports. */
  ports: PublishedPort[];
}

/** What connect() built: the container's side of a network. */
export interface Endpoint {
  network: Network;
  /** The container's id (connect's `id`). */
  id: string;
  namespace: Namespace;
  /** The container's interface (e.g. eth0), in its namespace. */
  link: Link;
  /** The host end on the bridge (e.g. veth1a2b3c4). */
  hostLink: Link;
  ifname: string;
  hostIfname: string;
  /** 'ip/prefixlen' of the first family (IPv4 on a dual-stack network). */
  address: string;
  ip: string;
  gateway: string;
  /** Every address, one per family ('ip/prefixlen'), IPv4 first. */
  addresses: string[];
  /** The IPv6 address, on a network with an IPv6 subnet. */
  ip6?: string;
  /** The IPv6 gateway, on a network with an IPv6 subnet. */
  gateway6?: string;
  mac: string;
  mappings: PortMapping[];
  /** The published ports, with the host ports chosen (`docker port`). */
  ports: PublishedPort[];
  /** Removes this endpoint: its port mappings, its veth pair (both ends) and its address lease. Same as `network.disconnect(endpoint)`. */
  disconnect(): Promise<void>;
  /** `await using ep = await net.connect(ns)`: disconnects at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** @internal Test hook: called at each step of connect(); throwing there simulates a failure. */
let faultHook: ((step: string) => void | Promise<void>) | undefined;
/** @internal */
export function _setConnectFaultHook(fn: typeof faultHook): void {
  faultHook = fn;
}
async function step(name: string): Promise<void> {
  if (faultHook) await faultHook(name);
}

/** The alias of a bridge Network.bridge created: `netplumb network SUBNET`. */
const BRIDGE_MARK = 'netplumb network';

// A lease, on the host veth: 'netplumb NETWORK ADDRESSES ID IFNAME' (ID and IFNAME: the endpoint's identity),
// ADDRESSES one per family, comma-separated ('172.18.0.2,fd00:18::2'; earlier versions wrote one IPv4 address).
const ALIAS = /^netplumb (\S+) ([0-9A-Fa-f.:,]+)(?: (\S+) (\S+))?$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The container address a publish rule's comment ('netplumb publish ID tcp *:8080 -> 10.0.0.2:80') sends to. */
const targetOf = targetOfComment;

/** A lease as the kernel holds it (a host veth's alias). */
interface Held {
  id: string;
  ifname: string;
  /** The first address (IPv4 on a dual-stack network). */
  ip: string;
  /** One per family, in the network's family order. */
  ips: string[];
  hostIfname: string;
}

/**
 * A connect waiting for its network's lock, in this process (see
 * Network#leaseBatch): `lease` runs under the lock, after the hold's one read
 * of the kernel. Its synchronous part checks the endpoint and takes the
 * addresses (so the connects of one hold lease in turn, each seeing the
 * others' leases); it returns the endpoint that exists (ifExists 'reuse') or
 * the rest of the work under the lock (the veth, the lease alias), which runs
 * alongside the other connects'.
 */
interface LeaseJob {
  /** 'ID IFNAME': the endpoint. Two connects of one endpoint never share a hold. */
  key: string;
  lease: () => Held | (() => Promise<VethPair>);
  resolve: (r: Held | VethPair) => void;
  reject: (e: unknown) => void;
}

/** Family of an address's text. */
const familyOfText = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

/**
 * One family's subnet and IPAM, behind one interface of address texts: the
 * IPv4 pool does 32-bit arithmetic (Ipam), the IPv6 one 128-bit (Ipam6).
 */
class Pool {
  readonly family: 4 | 6;
  /** 'net/len', canonical. */
  readonly subnet: string;
  readonly prefixlen: number;
  readonly gateway: string;
  readonly #v4?: Ipam;
  readonly #v6?: Ipam6;

  constructor(subnet: unknown, gateway: unknown, start: unknown, end: unknown) {
    // (Ipam checks them: a non-string is ERR_INVALID_IP there.)
    const r = { ...(start !== undefined ? { start: start as string } : {}), ...(end !== undefined ? { end: end as string } : {}) };
    const fam = typeof subnet === 'string' && subnet.includes(':') ? 6 : 4;
    if (fam === 6) {
      const s = parseSubnet6(subnet, gateway);
      this.#v6 = new Ipam6(s, r);
      [this.family, this.subnet, this.prefixlen, this.gateway] = [6, s.text, s.prefixlen, fromBig(s.gateway)];
    } else {
      const s = parseSubnet(subnet, gateway);
      this.#v4 = new Ipam(s, r);
      [this.family, this.subnet, this.prefixlen, this.gateway] = [4, s.text, s.prefixlen, fromInt(s.gateway)];
    }
  }

  /** The address's number in this family, or undefined if it is not of this family. */
  #num(ip: string): bigint | undefined {
    if (familyOfText(ip) !== this.family) return undefined;
    return this.family === 6 ? toBig(v.ipBytes(ip, 6)) : BigInt(toInt(v.ipBytes(ip, 4)));
  }
  contains(ip: string): boolean {
    const n = this.#num(ip);
    return n !== undefined && (this.#v6 ? this.#v6.contains(n) : this.#v4!.contains(Number(n)));
  }
  has(ip: string): boolean {
    const n = this.#num(ip);
    return n !== undefined && (this.#v6 ? this.#v6.has(n) : this.#v4!.has(Number(n)));
  }
  release(ip: string): void {
    const n = this.#num(ip);
    if (n === undefined) return;
    if (this.#v6) this.#v6.release(n);
    else this.#v4!.release(Number(n));
  }
  reset(ips: string[]): void {
    const ns = ips.map((ip) => this.#num(ip)).filter((n): n is bigint => n !== undefined);
    if (this.#v6) this.#v6.reset(ns);
    else this.#v4!.reset(ns.map(Number));
  }
  get leases(): string[] {
    return this.#v6 ? this.#v6.leases.map(fromBig) : this.#v4!.leases.map(fromInt);
  }
  /** A lease: `ip` or the next free address, as canonical text. */
  allocate(ip: string | undefined, network: string): string {
    return this.#v6 ? fromBig(this.#v6.allocate(ip, network)) : fromInt(this.#v4!.allocate(ip, network));
  }
  /** Free addresses of the range, leases in it (the gateway not counted), and the range as text. */
  get free(): { free: bigint; leased: number; range: string } {
    if (this.#v6) {
      const i = this.#v6;
      return { free: i.free, leased: i.leases.filter((n) => n >= i.first && n <= i.last && n !== i.gateway).length, range: `${fromBig(i.first)}-${fromBig(i.last)}` };
    }
    const i = this.#v4!;
    return { free: BigInt(i.free), leased: i.leases.filter((n) => n >= i.first && n <= i.last && n !== i.gateway).length, range: `${fromInt(i.first)}-${fromInt(i.last)}` };
  }
  /** The MAC a container whose address is `ip` gets by default (02:42 and the low 32 bits). */
  macOf(ip: string): string {
    return this.#v6 ? macOf6(toBig(v.ipBytes(ip, 6))) : macOf(toInt(v.ipBytes(ip, 4)));
  }
}

/** The EUI-64 link-local address of a MAC (RFC 4291 2.5.1, appendix A), as the kernel would make it: 'fe80::…/64'. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const id = [(b[0] as number) ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]] as number[];
  const groups = [0, 2, 4, 6].map((i) => (((id[i] as number) << 8) | (id[i + 1] as number)).toString(16));
  return `fe80::${groups.join(':')}/64`;
}

/** One value or one per family: as an array of `n`, or ERR_INVALID_ARGUMENT. */
function perFamily(x: unknown, n: number, name: string): unknown[] {
  if (!Array.isArray(x)) return n === 1 || x === undefined ? Array.from({ length: n }, () => x) : fail();
  if (x.length !== n) return fail();
  return x;
  function fail(): never {
    throw new NetplumbError(C.INVALID_ARGUMENT, `${name} must give one value per subnet (${n}), in the subnets' order`, { value: x, argument: name });
  }
}

/** A container id as connect/disconnect take it: letters, digits, `_.-`, up to 128. */
function endpointId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id))
    throw new NetplumbError(C.INVALID_ARGUMENT, `invalid container id ${v.describe(id)}: letters, digits, '_', '.', '-', at most 128, starting with a letter or digit`, { value: id, argument: 'id' });
  return id;
}

/** The lock every process takes to create or change the network on bridge `name` of `ns` (by inode). */
function lockName(ns: Namespace, name: string): string {
  return `network-${ns.dev}-${ns.inode}-${name}`;
}

/** A random unicast, locally administered MAC (as Docker gives its bridges). */
function randomMac(): string {
  const b = crypto.randomBytes(6);
  b[0] = ((b[0] as number) & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * A Docker-style bridge network: a bridge with the gateway address, IPAM over
 * a subnet, masquerade for traffic leaving it, and connect() doing the whole
 * veth / bridge / address / route / NAT dance for a container namespace.
 *
 * Leases live in the kernel, not in this process: each host-side veth carries
 * `netplumb NETWORK ADDRESS` as its interface alias (`ip link show` shows it),
 * so a network opened again after a restart knows which addresses are taken.
 */
export class Network {
  readonly name: string;
  readonly namespace: Namespace;
  readonly bridge: Bridge;
  /** 'a.b.c.d/len': the first subnet (the IPv4 one on a dual-stack network). */
  readonly subnet: string;
  readonly gateway: string;
  readonly prefixlen: number;
  /** Every subnet, one per family, IPv4 first. */
  readonly subnets: string[];
  /** The gateways, in `subnets`' order. */
  readonly gateways: string[];
  readonly mtu: number | undefined;
  readonly #pools: Pool[];
  readonly #endpoints = new Set<Endpoint>();
  /** The leases on host veths, as last read from the kernel. */
  #held: Held[] = [];
  /** This process's connects waiting for the network's lock, in call order. */
  readonly #waiting: LeaseJob[] = [];
  /** Is a loop taking the lock for #waiting running? */
  #draining = false;
  readonly #created: boolean;
  /** Link group of this network's host veths (IFLA_GROUP), for one-request teardown. */
  readonly group: number;

  private constructor(ns: Namespace, bridge: Bridge, pools: Pool[], mtu: number | undefined, created: boolean) {
    this.namespace = ns;
    this.bridge = bridge;
    this.name = bridge.name;
    this.#pools = pools;
    const first = pools[0] as Pool;
    this.prefixlen = first.prefixlen;
    this.subnet = first.subnet;
    this.gateway = first.gateway;
    this.subnets = pools.map((p) => p.subnet);
    this.gateways = pools.map((p) => p.gateway);
    this.mtu = mtu;
    this.#created = created;
    // A stable group per network name (FNV-1a), away from 0 (the default group).
    let h = 0x811c9dc5;
    for (const ch of Buffer.from(this.name)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
    this.group = 0x10000 + (h % 0x7fff0000);
  }

  /** Creates (or adopts) a bridge network, like the docker0 network. */
  static async bridge(opts: BridgeNetworkOptions): Promise<Network> {
    const o = v.options<BridgeNetworkOptions>(opts, BRIDGE_NETWORK_KEYS, 'Network.bridge');
    const name = v.ifname(o.name);
    // One subnet, or one per family (dual stack): IPv4 first, whatever the order given.
    const subnets = Array.isArray(o.subnet) ? o.subnet : [o.subnet];
    if (subnets.length < 1 || subnets.length > 2)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'subnet must be one subnet or [IPv4 subnet, IPv6 subnet]', { value: o.subnet, argument: 'subnet' });
    const gws = perFamily(o.gateway, subnets.length, 'gateway');
    const starts = perFamily(o.rangeStart, subnets.length, 'rangeStart');
    const ends = perFamily(o.rangeEnd, subnets.length, 'rangeEnd');
    const pools = subnets.map((s, i) => new Pool(s, gws[i], starts[i], ends[i])).sort((a, b) => a.family - b.family);
    if (pools.length === 2 && pools[0]!.family === pools[1]!.family)
      throw new NetplumbError(C.FAMILY_MISMATCH, `subnet ${v.describe(o.subnet)}: two subnets are one IPv4 and one IPv6 subnet`, { value: o.subnet, argument: 'subnet' });
    const mtu = o.mtu !== undefined ? v.mtu(o.mtu) : undefined;
    const masquerade = o.masquerade !== undefined ? v.bool(o.masquerade, 'masquerade') : true;
    const ip6Masquerade = o.ip6Masquerade !== undefined ? v.bool(o.ip6Masquerade, 'ip6Masquerade') : masquerade;
    const icc = o.icc !== undefined ? v.bool(o.icc, 'icc') : true;
    const gatewayAddress = o.gatewayAddress !== undefined ? v.bool(o.gatewayAddress, 'gatewayAddress') : true;
    const ns = await resolveNamespace(o.namespace);
    // Like Docker: a subnet that overlaps a route of the host namespace (another
    // network's bridge, a LAN) is refused; the bridge's own route is not a conflict.
    // (IPv6: link-local and multicast routes are on every interface, not a conflict.)
    for (const pool of pools) {
      const bits = pool.family === 4 ? 32 : 128;
      const range = (cidr: string): [bigint, bigint] => {
        const [a, len] = cidr.split('/') as [string, string | undefined];
        const lo = toBig(v.networkOf(v.ipBytes(a, pool.family), Number(len ?? bits)));
        return [lo, lo + (1n << BigInt(bits - Number(len ?? bits))) - 1n];
      };
      const [net, last] = range(pool.subnet);
      for (const r of await Route.list(ns, { family: pool.family })) {
        if (r.to === 'default' || r.dev === name) continue;
        if (pool.family === 6 && /^(fe[89ab]|ff)/i.test(r.to)) continue;
        const [lo, hi] = range(r.to);
        if (lo <= last && net <= hi)
          throw new NetplumbError(C.SUBNET_OVERLAP, `subnet ${pool.subnet} overlaps the route ${r.to}${r.dev ? ` dev ${r.dev}` : ''} in namespace ${ns}`, { value: o.subnet, argument: 'subnet' });
      }
    }

    // One creator at a time, across processes (the lock connect() takes): a concurrent
    // adopter must not configure a bridge its creator is still configuring.
    return withLock(lockName(ns, name), `network ${name}`, async () => {
      let bridge: Bridge;
      let created = false; // netplumb's bridge: net.delete() removes it
      let madeHere = false; // made by this call: removed again if the rest fails
      const gwCidrs = pools.map((p) => `${p.gateway}/${p.prefixlen}`);
      const six = pools.some((p) => p.family === 6);
      // The gateway addresses (IPv6 without DAD: IPAM, under the lock, is what keeps addresses unique on the bridge).
      const addGateways = async (b: Bridge, have: string[]): Promise<void> => {
        if (!gatewayAddress) return;
        for (const cidr of gwCidrs)
          if (!have.includes(cidr))
            await Address.add(b, cidr, cidr.includes(':') ? { nodad: true } : {}).catch((e: unknown) => {
              if ((e as { code?: string }).code !== 'EEXIST') throw e; // added by a concurrent caller
            });
      };
      const adopt = async (): Promise<Bridge> => {
        const b = await Bridge.get(ns, name);
        // Made by netplumb (this process or another, maybe one that crashed): ours to delete.
        created = b.alias.startsWith(BRIDGE_MARK);
        await addGateways(b, (await Address.list(b)).map((a) => a.cidr));
        if (!b.isUp) await b.up();
        return b;
      };
      try {
        bridge = await adopt();
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENODEV') throw e;
        try {
          // A MAC of its own from the start: left to the kernel, a bridge takes its lowest
          // port's MAC and changes it when that port leaves, and every container's ARP
          // entry for the gateway goes stale.
          const bridgeMac = randomMac();
          bridge = await Bridge.create(name, { namespace: ns, up: false, mac: bridgeMac, ...(mtu ? { mtu } : {}) });
          created = madeHere = true;
          // Before it is up: no router advertisement is taken on it (the host may forward), no
          // DAD (its link-local address, made when the first port brings its carrier up, would be
          // tentative for a second, and the kernel sends no neighbour solicitation from a bridge
          // without a usable link-local address: nothing forwarded to a container gets there),
          // and its addresses (the gateways) are there when it comes up.
          // Its link-local address is added by us, with nodad (see #ipv6Sysctls: the kernel's would be
          // tentative until its DAD work item ran).
          if (six) {
            await Promise.all([
              ns.sysctl.set(`net/ipv6/conf/${name}/accept_ra`, 0), ns.sysctl.set(`net/ipv6/conf/${name}/accept_dad`, 0), ns.sysctl.set(`net/ipv6/conf/${name}/addr_gen_mode`, 1),
            ]);
            await Address.add(bridge, linkLocal(bridgeMac), { nodad: true });
          }
          await addGateways(bridge, []);
          await bridge.up();
        } catch (e2) {
          // Another caller created it in between: adopt theirs, as if it had been there first.
          if ((e2 as { code?: string }).code !== 'EEXIST') throw e2;
          bridge = await adopt();
        }
      }
      const network = new Network(ns, bridge, pools, mtu, created);
      try {
        // The mark that tells every process this bridge is netplumb's (RTM_NEWLINK ignores
        // IFLA_IFALIAS, hence a second request; a crash in between leaves it looking adopted).
        if (madeHere) await kernel(ns.handle.link({ op: 'set', index: bridge.index, alias: `${BRIDGE_MARK} ${network.subnets.join(',')}` }), () => `mark ${bridge.describe()} as netplumb's`);
        if (six && !madeHere) await Promise.all([ns.sysctl.set(`net/ipv6/conf/${name}/accept_ra`, 0), ns.sysctl.set(`net/ipv6/conf/${name}/accept_dad`, 0)]);
        await network.rediscover();
        const iccText = `netplumb icc ${network.name}`;
        await transact(ns, `network ${network.name}`, (state) => {
          const have = new Set(state.rules.map((r) => r.comment));
          const msgs = [];
          for (const pool of pools) {
            const masq = `netplumb masquerade ${network.name} ${pool.subnet}`;
            if (!(pool.family === 4 ? masquerade : ip6Masquerade) || have.has(masq)) continue;
            const fam = natFamily(pool.family);
            const net = v.ipBytes(pool.subnet.split('/')[0] as string, pool.family);
            msgs.push(...natTableMsgs(fam), rule(fam, 'postrouting', [expr.addr('saddr', net, pool.prefixlen), expr.oifname(bridge.name, true), expr.counter(), expr.masquerade()], masq));
          }
          if (!icc && !have.has(iccText)) {
            // Bridged traffic from one of this network's veths to another: both ends are in the
            // network's link group. (meta ibrname would need CONFIG_NFT_BRIDGE_META, often absent.)
            msgs.push(...bridgeTableMsgs(), rule(NFPROTO_BRIDGE, 'forward', [expr.groups(network.group), expr.counter(), expr.drop()], iccText));
          }
          return msgs;
        }, [...network.#nat, NFPROTO_BRIDGE]);
        // Forwarding, per family (IPv6's also stops the host's interfaces taking router advertisements
        // unless their accept_ra is 2: the same trade Docker makes).
        if (masquerade && pools.some((p) => p.family === 4)) await ns.sysctl.set('net.ipv4.ip_forward', 1);
        if (masquerade && six) await ns.sysctl.set('net.ipv6.conf.all.forwarding', 1);
      } catch (e) {
        if (madeHere) await bridge.delete().catch(() => undefined);
        throw e;
      }
      return network;
    });
  }

  /** Re-reads the leases held in the kernel (host veth aliases) and the bridge's own addresses. */
  async rediscover(): Promise<void> {
    await this.#rediscover();
  }

  /** rediscover(), returning the bridge's ports as it read them (one link dump). */
  async #rediscover(): Promise<Link[]> {
    const [dumped, addrs] = await Promise.all([Link.list(this.namespace, { master: this.bridge }), Address.list(this.bridge)]);
    // The kernel sends only the bridge's ports (IFLA_MASTER in the dump request, honoured since
    // Linux 4.4 and checked under NETLINK_GET_STRICT_CHK): this is for a kernel that sends them all.
    const ports = dumped.filter((p) => p.master === this.bridge.index);
    // Replaced only once both reads succeeded: a failed read leaves what was known.
    const leases: string[] = [];
    this.#held = [];
    for (const p of ports) {
      const m = ALIAS.exec(p.alias);
      if (!m || m[1] !== this.name) continue;
      const ips = (m[2] as string).split(',').filter((a) => isIP(a) !== 0);
      if (ips.length === 0) continue;
      leases.push(...ips);
      this.#held.push({ id: m[3] ?? '', ifname: m[4] ?? '', ip: ips[0] as string, ips, hostIfname: p.name });
    }
    for (const a of addrs) leases.push(a.address);
    for (const pool of this.#pools) pool.reset(leases);
    return ports;
  }

  /** Is `ip` an address of one of this network's subnets? */
  contains(ip: string): boolean {
    const p = v.ip(ip, 'ip');
    const text = v.formatIp(p.bytes);
    return this.#pools.some((pool) => pool.contains(text));
  }

  /** Is `ip` (an address of the network) leased? */
  #leased(ip: string): boolean {
    return this.#pools.some((pool) => pool.has(ip));
  }

  /**
   * Per family (IPv4 first), as of the last read of the leases (`rediscover`,
   * which connect, prune and opening the network do): how many addresses of
   * the range are free, how many are leased, and the range. A count, never a
   * scan: an IPv6 /64 is answered at once.
   */
  free(): { subnet: string; range: string; free: bigint; leased: number }[] {
    return this.#pools.map((p) => ({ subnet: p.subnet, ...p.free }));
  }

  /** Addresses currently leased (including the gateways'), IPv4 first. */
  get leases(): string[] {
    return this.#pools.flatMap((p) => p.leases);
  }

  /**
   * Connects a container namespace, the way Docker wires --net=bridge: a veth
   * whose host end (vethXXXXXXX) joins the bridge and whose other end is
   * created inside the namespace as eth0, an address from IPAM, a default
   * route via the gateway, loopback up, and the published ports. If any step
   * fails, everything done so far is undone and the original error thrown.
   */
  async connect(ns: Namespace, opts?: NetworkConnectOptions): Promise<Endpoint> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { argument: 'namespace' });
    ns.assertOpen();
    this.namespace.assertOpen();
    const o = v.options<NetworkConnectOptions>(opts, NETWORK_CONNECT_KEYS, 'net.connect');
    const ifname = v.ifname(o.ifname ?? 'eth0', 'ifname');
    const mac = o.mac !== undefined ? (v.mac(o.mac), o.mac) : undefined;
    if (o.publish !== undefined && !Array.isArray(o.publish))
      throw new NetplumbError(C.INVALID_ARGUMENT, 'publish must be an array', { value: o.publish, argument: 'publish' });
    const families = this.#pools.map((p) => p.family);
    // Each spec for each family of the container (or only its host address's family).
    const publish = (o.publish ?? [])
      .map(parsePublish)
      .flatMap(planPublish)
      .flatMap((p, group) => {
        const fam = p.hostAddress !== undefined ? familyOfText(p.hostAddress) : undefined;
        if (fam !== undefined && !families.includes(fam))
          throw new NetplumbError(C.FAMILY_MISMATCH, `publish ${p.hostAddress}: network ${this.name} has no IPv${fam} subnet (${this.subnets.join(', ')})`, { value: p.hostAddress, argument: 'publish' });
        if (p.hostAddress === '::1') throw loopback6('publish');
        return (fam !== undefined ? [fam] : families).map((family) => ({ ...p, family, group }));
      });
    const six = families.includes(6);
    // A fixed address per family: `ip` the first family's, `ip6` the IPv6 one's (on an IPv6-only network, either).
    const fixed = new Map<4 | 6, string>();
    if (o.ip !== undefined) fixed.set(families[0] as 4 | 6, v.formatIp(v.ip(o.ip, 'ip', families[0]).bytes));
    if (o.ip6 !== undefined) {
      if (!families.includes(6)) throw new NetplumbError(C.FAMILY_MISMATCH, `ip6: network ${this.name} has no IPv6 subnet`, { value: o.ip6, argument: 'ip6' });
      const a = v.formatIp(v.ip(o.ip6, 'ip6', 6).bytes);
      if (fixed.has(6) && fixed.get(6) !== a) throw new NetplumbError(C.INVALID_ARGUMENT, 'ip and ip6 name two IPv6 addresses', { value: o.ip6, argument: 'ip6' });
      fixed.set(6, a);
    }
    const hostIfname = o.hostIfname !== undefined ? v.ifname(o.hostIfname, 'hostIfname') : `veth${crypto.randomBytes(4).toString('hex').slice(0, 7)}`;
    const id = o.id !== undefined ? endpointId(o.id) : crypto.randomBytes(6).toString('hex');
    const priority = o.gatewayPriority !== undefined ? v.uint(o.gatewayPriority, 'gatewayPriority', 999, -999) : 0;
    const ifExists = o.ifExists ?? 'error';
    if (ifExists !== 'error' && ifExists !== 'reuse')
      throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ifExists ${v.describe(ifExists)}: 'error' or 'reuse'`, { value: ifExists, argument: 'ifExists' });

    if (publish.length) {
      // Conflicts are refused before anything changes (a read; the publish batch checks again, atomically).
      // The specs of this call count too: '8080:80' twice is a conflict, not a rollback.
      const all = await PortMapping.listIn(this.namespace, this.#nat);
      const byFamily = new Map<number, Parameters<typeof PortMapping.assertFree>[0]>(families.map((f) => [f, all.filter((m) => m.family === f)]));
      for (const p of publish) {
        const existing = byFamily.get(p.family) ?? [];
        const host = p.hostAddress === undefined || !/[1-9a-f]/i.test(p.hostAddress) ? '*' : p.hostAddress;
        let [first, last] = typeof p.hostPort === 'number' ? [p.hostPort, p.hostPort] : Array.isArray(p.hostPort) ? p.hostPort : p.hostPort.anyOf;
        if (p.hostPort === 0) continue; // an ephemeral port: chosen in the publish batch
        if (!Array.isArray(p.hostPort) && typeof p.hostPort === 'object') {
          const free = PortMapping.firstFree(existing, p.protocol, first, last, host);
          if (free === undefined)
            throw new NetplumbError(C.PORT_CONFLICT, `no ${p.protocol} port of ${first}-${last} is free in namespace ${this.namespace}`, { value: [first, last], argument: 'publish' });
          [first, last] = [free, free];
        } else PortMapping.assertFree(existing, this.namespace, p.protocol, first, last, host, 'publish');
        existing.push({ protocol: p.protocol, hostPort: first, hostPortEnd: last, hostAddress: host, address: '(this connect)', port: p.containerPort, id: '-' });
      }
    }
    const undo: (() => Promise<unknown>)[] = [];
    const ips: string[] = [];
    let peerMac = '';
    try {
      // Leasing is a read-modify-write of state every process shares (the host
      // veths' aliases): under the network's lock, from what the kernel holds now,
      // until the lease is written on the new veth. The connects this process has
      // waiting share one hold of the lock and one read of the kernel (#leaseBatch).
      const pair = await this.#queueLease(`${id} ${ifname}`, () => {
        const held = this.#held.find((h) => h.id === id && h.ifname === ifname);
        if (held) {
          if (ifExists === 'reuse') return held;
          throw new NetplumbError(C.ENDPOINT_EXISTS, `container ${id} is connected to network ${this.name} as ${ifname} already (${held.ip}, ${held.hostIfname})`, {
            value: id,
            argument: 'id',
          });
        }
        for (const pool of this.#pools) {
          const lease = pool.allocate(fixed.get(pool.family), this.name);
          undo.push(async () => pool.release(lease));
          ips.push(lease);
        }
        return async () => {
          await step('lease');
          const first = this.#pools[0] as Pool;
          peerMac = mac ?? first.macOf(ips[0] as string);
          const p = await VethPair.create(hostIfname, {
            // With IPv6, the container's end comes up only once its sysctls and addresses are set (below).
            namespace: this.namespace, master: this.bridge, up: true, peerIn: ns, peerName: ifname, peerUp: !six, group: this.group,
            ...(this.mtu ? { mtu: this.mtu } : {}), peerMac,
          });
          undo.push(() => p.link.delete());
          await step('veth');
          await kernel(this.namespace.handle.link({ op: 'set', index: p.link.index, alias: `netplumb ${this.name} ${ips.join(',')} ${id} ${ifname}` }), () => `lease alias on ${p.link.describe()}`);
          return p;
        };
      });
      if (!(pair instanceof VethPair)) return await this.#existing(ns, pair);
      const addresses = this.#pools.map((pool, i) => `${ips[i]}/${pool.prefixlen}`);
      await Promise.all([
        pair.link.setHairpin(true),
        ns.loopback.up(),
        ...(six ? [this.#ipv6Sysctls(ns, pair.peer.name, pair.link.name)] : []),
        // No DAD for either family: IPAM, under the network's lock, keeps addresses unique on the bridge.
        // The link-local address too, added here rather than made by the kernel (see #ipv6Sysctls).
        ...[...addresses, ...(six ? [linkLocal(peerMac)] : [])].map((a) => pair.peer.addAddress(a, { nodad: true })),
      ]);
      if (six) await pair.peer.up();
      await step('address');
      for (const pool of this.#pools) await this.#defaultRoute(ns, priority, pool);
      await step('route');
      const mappings: PortMapping[] = [];
      // A port chosen (ephemeral or of a range) for one family is taken for the other too, as Docker does.
      const chosen = new Map<number, number>();
      for (const p of publish) {
        const ip = ips[families.indexOf(p.family)] as string;
        const hostPort = chosen.get(p.group) ?? p.hostPort;
        const unspecified = p.hostAddress !== undefined && !/[1-9a-f]/i.test(p.hostAddress);
        const m = await this.bridge.publish({
          protocol: p.protocol, hostPort, to: p.family === 6 ? `[${ip}]:${p.containerPort}` : `${ip}:${p.containerPort}`,
          ...(p.hostAddress && !unspecified ? { hostAddress: p.hostAddress } : {}),
          // 127.0.0.1:PORT:PORT as Docker means it: reachable from the host's loopback
          // (route_localnet on the bridge and a masquerade, as PortMapping's localhost does; [::1] is refused above).
          ...(p.hostAddress?.startsWith('127.') ? { localhost: true } : {}),
        });
        if (p.hostPort === 0 || (typeof p.hostPort === 'object' && !Array.isArray(p.hostPort))) chosen.set(p.group, m.hostPort);
        mappings.push(m);
        undo.push(() => m.unpublish());
        await step('publish');
      }
      await pair.peer.refresh();
      const v6 = families.indexOf(6);
      const endpoint: Endpoint = {
        network: this, id, namespace: ns, link: pair.peer, hostLink: pair.link, ifname, hostIfname, address: addresses[0] as string,
        ip: ips[0] as string, gateway: this.gateway, addresses, ...(v6 >= 0 ? { ip6: ips[v6] as string, gateway6: this.gateways[v6] as string } : {}),
        mac: pair.peer.mac, mappings, ports: portsOf(mappings),
        disconnect: () => this.disconnect(endpoint),
        [Symbol.asyncDispose]: () => this.disconnect(endpoint),
      };
      this.#endpoints.add(endpoint);
      return endpoint;
    } catch (e) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      // The kernel says EEXIST (or, racing another creator, EINVAL) without naming
      // the interface: say which one, and why it is likely there.
      const code = (e as { code?: string; syscall?: string }).code;
      if ((code === 'EEXIST' || code === 'EINVAL') && (e as { syscall?: string }).syscall === 'RTM_NEWLINK' && !ns.closed) {
        const taken = await Link.get(ns, ifname).then(
          () => true,
          () => false,
        );
        if (taken)
          throw new NetplumbError(C.IFNAME_IN_USE, `interface ${ifname} already exists in namespace ${ns}: is the container connected already (by this or another process)? Pass another ifname to connect it twice`, {
            value: ifname,
            argument: 'ifname',
            cause: e,
          });
      }
      throw e;
    }
  }

  /**
   * A default route via this network's gateway, with the metric of `priority`
   * (see gatewayPriority): the first free metric of the priority's block of
   * 1,000, so a tie goes to the network connected first.
   */
  async #defaultRoute(ns: Namespace, priority: number, pool: Pool): Promise<void> {
    const base = 1_000_000 - 1_000 * priority;
    for (let tries = 0; ; tries++) {
      const taken = new Set((await Route.list(ns, { family: pool.family })).filter((r) => r.to === 'default').map((r) => r.metric ?? 0));
      let metric = base;
      while (taken.has(metric) && metric < base + 999) metric++;
      try {
        await Route.add({ namespace: ns, to: 'default', via: pool.gateway, metric });
        return;
      } catch (e) {
        // Another network's connect took that metric in between: look again.
        if ((e as { code?: string }).code !== 'EEXIST' || tries >= 5) throw e;
      }
    }
  }

  /**
   * What IPv6 needs to be usable as soon as connect() resolves, set before the
   * container's end comes up: no DAD on it (its link-local address would be
   * `tentative` for a second or more, and a socket bound to it fail with
   * EADDRNOTAVAIL; the addresses netplumb gives are unique by IPAM), no
   * link-local address made by the kernel (addr_gen_mode 1, none: even with
   * accept_dad 0 the kernel's own is `tentative` until its DAD work item has
   * run, milliseconds on a loaded host, after the link came up; connect adds
   * the same EUI-64 address itself, with nodad, which is never tentative), no
   * router advertisements taken on either end (the bridge is the only
   * router, and the host may forward), and unsolicited neighbour
   * advertisements when the link comes up (ndisc_notify; arp_notify for
   * IPv4), as the reference CNI bridge plugin sets them, so that caches
   * holding the address's previous MAC learn the new one.
   */
  async #ipv6Sysctls(ns: Namespace, ifname: string, hostIfname: string): Promise<void> {
    await Promise.all([
      ns.sysctl.set(`net/ipv6/conf/${ifname}/accept_dad`, 0),
      ns.sysctl.set(`net/ipv6/conf/${ifname}/addr_gen_mode`, 1),
      ns.sysctl.set(`net/ipv6/conf/${ifname}/accept_ra`, 0),
      ns.sysctl.set(`net/ipv6/conf/${ifname}/ndisc_notify`, 1),
      ns.sysctl.set(`net/ipv4/conf/${ifname}/arp_notify`, 1),
      this.namespace.sysctl.set(`net/ipv6/conf/${hostIfname}/accept_ra`, 0),
    ]);
  }

  /**
   * The NAT tables this network's rules can be in: `ip`, `ip6` or both, by
   * its subnets' families. An IPv4-only network never reads the ip6 table.
   */
  get #nat(): number[] {
    return this.#pools.map((p) => natFamily(p.family));
  }

  /** The lock every process takes to change this network's leases: the host namespace (by inode) and the bridge. */
  get #lockName(): string {
    return lockName(this.namespace, this.name);
  }

  /**
   * Removes what containers that vanished without disconnect() left (any
   * process's): host veths of this network that carry no lease (a connect
   * killed before it wrote one), and published-port rules to an address of
   * this subnet that nobody leases any more (their container is gone; the
   * next holder of the address must not receive its traffic). connect() does
   * the same before it leases an address.
   */
  async prune(): Promise<{ links: string[]; rules: number }> {
    this.namespace.assertOpen();
    return withLock(this.#lockName, `prune network ${this.name}`, () => this.#reconcile());
  }

  /**
   * prune() without the lock (the caller holds it); leaves the leases as the
   * kernel has them. One read of each: the bridge's ports (one link dump, the
   * leases and the orphans both come from it), its addresses, our rules.
   */
  async #reconcile(): Promise<{ links: string[]; rules: number }> {
    let ports: Link[] = [];
    let stale: OurRule[] = [];
    await transact(this.namespace, `prune network ${this.name}`, async (state) => {
      // The leases are read after the rules: a rule seen above was published after its lease was written.
      ports = await this.#rediscover();
      stale = state.rules.filter((r) => {
        const t = targetOf(r.comment);
        return t !== undefined && this.contains(t) && !this.#leased(t);
      });
      return stale.map(delRule);
    }, this.#nat);
    // Ports of the network's group with no lease: a connect killed before it wrote one (no process
    // makes one while we hold the lock). They carry no lease, so the leases read above stand.
    const orphans = ports.filter((p) => p.group === this.group && ALIAS.exec(p.alias)?.[1] !== this.name);
    await Promise.all(
      orphans.map((p) =>
        p.delete().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV') throw e;
        }),
      ),
    );
    await this.#flushConntrack(stale);
    return { links: orphans.map((p) => p.name), rules: stale.length };
  }

  /**
   * Queues a connect's leasing (see LeaseJob) for the next hold of the
   * network's lock this process takes; resolves with what `lease` gave.
   */
  #queueLease(key: string, lease: LeaseJob['lease']): Promise<Held | VethPair> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, lease, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  /**
   * Takes the network's lock for the connects waiting, again and again until
   * none is left: each hold serves every connect queued when it began.
   */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      // The connects started in the same turn of the event loop (Promise.all of a map) join the first
      // hold; later ones queue during it. (withLock calls its function at once when the lock is free.)
      // node:timers' own setImmediate, bound when this module loads: a test's fake timers replace the global.
      await new Promise((resolve) => nextTurn(resolve));
      while (this.#waiting.length > 0) {
        try {
          await withLock(this.#lockName, `connect to network ${this.name}`, () => this.#leaseBatch(this.#waiting.splice(0)));
        } catch (e) {
          // The lock itself failed (its directory, a timeout): the connects that waited for it fail with it.
          for (const j of this.#waiting.splice(0)) j.reject(e);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * One hold of the network's lock for `batch`: one reconcile with the kernel
   * (which another process may have changed since any earlier hold: its
   * result serves this hold only), then each connect leases in turn from it
   * and makes its veth, all in flight. A connect's failure fails that connect
   * alone (its own undo releases what it took). Never throws.
   */
  async #leaseBatch(batch: LeaseJob[]): Promise<void> {
    try {
      await this.#reconcile();
    } catch (e) {
      for (const j of batch) j.reject(e);
      return;
    }
    const keys = new Set<string>();
    const later: LeaseJob[] = [];
    const making: Promise<void>[] = [];
    for (const j of batch) {
      // An endpoint an earlier connect of this hold is making: this one waits for the next hold, whose
      // read sees the lease (or its absence, if that connect failed).
      if (keys.has(j.key)) {
        later.push(j);
        continue;
      }
      try {
        const r = j.lease();
        if (typeof r === 'function') {
          keys.add(j.key);
          making.push(r().then(j.resolve, j.reject));
        } else j.resolve(r);
      } catch (e) {
        j.reject(e);
      }
    }
    this.#waiting.unshift(...later);
    await Promise.all(making);
  }

  /** Deletes the conntrack entries of the mappings these (removed) rules made: flows NATed to their targets. */
  async #flushConntrack(removed: OurRule[]): Promise<void> {
    for (const m of PortMapping.fromRules(this.namespace, removed)) await flushConntrack(this.namespace, m, m.address);
  }

  /** The endpoints of this network, whoever connected them, read from the kernel (leases and rules). */
  async endpoints(): Promise<EndpointInfo[]> {
    this.namespace.assertOpen();
    const [, mappings] = await Promise.all([this.rediscover(), PortMapping.listIn(this.namespace, this.#nat)]);
    return this.#held.map((h) => ({
      id: h.id, ifname: h.ifname, hostIfname: h.hostIfname, ip: h.ip, address: this.#cidrOf(h.ip), addresses: h.ips.map((a) => this.#cidrOf(a)),
      mappings: mappings.filter((m) => h.ips.includes(m.address)),
      ports: portsOf(mappings.filter((m) => h.ips.includes(m.address))),
    }));
  }

  /** 'ip/prefixlen' of an address of the network. */
  #cidrOf(ip: string): string {
    return `${ip}/${this.#pools.find((p) => p.family === familyOfText(ip))?.prefixlen ?? this.prefixlen}`;
  }

  /** The endpoint of container `id` (as `ifname`), or undefined. */
  async endpoint(id: string, ifname = 'eth0'): Promise<EndpointInfo | undefined> {
    endpointId(id);
    v.ifname(ifname, 'ifname');
    return (await this.endpoints()).find((e) => e.id === id && e.ifname === ifname);
  }

  /** connect(..., { ifExists: 'reuse' }) of an endpoint that exists: the Endpoint, from the kernel. */
  async #existing(ns: Namespace, held: Held): Promise<Endpoint> {
    const [link, hostLink, mappings] = await Promise.all([
      Link.get(ns, held.ifname),
      Link.get(this.namespace, held.hostIfname),
      PortMapping.listIn(this.namespace, this.#nat).then((ms) => ms.filter((m) => held.ips.includes(m.address))),
    ]);
    const ip6 = held.ips.find((a) => familyOfText(a) === 6);
    const gw6 = this.#pools.find((p) => p.family === 6)?.gateway;
    const endpoint: Endpoint = {
      network: this, id: held.id, namespace: ns, link, hostLink, ifname: held.ifname, hostIfname: held.hostIfname,
      address: this.#cidrOf(held.ip), ip: held.ip, gateway: this.gateway, addresses: held.ips.map((a) => this.#cidrOf(a)),
      ...(ip6 !== undefined && gw6 !== undefined ? { ip6, gateway6: gw6 } : {}),
      mac: link.mac, mappings, ports: portsOf(mappings),
      disconnect: () => this.disconnect(endpoint),
      [Symbol.asyncDispose]: () => this.disconnect(endpoint),
    };
    this.#endpoints.add(endpoint);
    return endpoint;
  }

  /**
   * Undoes connect(): unpublishes, deletes the veth pair (both ends), releases
   * the address. By id (with ifname, default 'eth0'), from any process, with
   * nothing in memory: the lease names the veth, the address names the rules.
   * Disconnecting what is not connected (any more) is a no-op.
   */
  async disconnect(endpoint: Endpoint | string, ifname = 'eth0'): Promise<void> {
    if (typeof endpoint === 'string') {
      const id = endpointId(endpoint);
      v.ifname(ifname, 'ifname');
      this.namespace.assertOpen();
      await withLock(this.#lockName, `disconnect ${id} from network ${this.name}`, async () => {
        await this.rediscover();
        const held = this.#held.find((h) => h.id === id && h.ifname === ifname);
        if (!held) return;
        let removed: OurRule[] = [];
        await transact(this.namespace, `disconnect ${id} from network ${this.name}`, (state) => (removed = state.rules.filter((r) => held.ips.includes(targetOf(r.comment) ?? ''))).map(delRule), this.#nat);
        await this.#flushConntrack(removed);
        const host = await Link.get(this.namespace, held.hostIfname).catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV' && (e as { code?: string }).code !== 'ERR_LINK_NOT_FOUND') throw e;
          return undefined;
        });
        await host?.delete().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV') throw e;
        });
        for (const a of held.ips) for (const pool of this.#pools) pool.release(a);
        for (const e of this.#endpoints) if (e.id === id && e.ifname === ifname) this.#endpoints.delete(e);
      });
      return;
    }
    if (!endpoint || endpoint.network !== this || !(endpoint.hostLink instanceof Link) || !Array.isArray(endpoint.mappings) || !endpoint.mappings.every((m) => m instanceof PortMapping))
      throw new NetplumbError(C.INVALID_ARGUMENT, 'not an endpoint of this network', { argument: 'endpoint' });
    const leases = (Array.isArray(endpoint.addresses) ? endpoint.addresses.map((a) => a.split('/')[0] as string) : [endpoint.ip]).map((a) => v.formatIp(v.ip(a, 'endpoint.ip').bytes));
    for (const m of endpoint.mappings) await m.unpublish();
    await endpoint.hostLink.delete().catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENODEV') throw e;
    });
    for (const a of leases) for (const pool of this.#pools) pool.release(a);
    this.#endpoints.delete(endpoint);
  }

  /**
   * Disconnects every container of this network at once: its port mappings in
   * one nf_tables batch, and all host veths (with their peers) in a single
   * RTM_DELLINK for the network's link group — one kernel wait instead of one
   * per container. When it resolves, the links and their names are gone.
   */
  async disconnectAll(): Promise<void> {
    // This object's mappings, and any mapping to an address of this subnet
    // (published by another process that connected containers here).
    const ids = new Set([...this.#endpoints].flatMap((e) => e.mappings.map((m) => m.id)));
    const inSubnet = (r: { comment: string }) => {
      const t = targetOf(r.comment);
      return t !== undefined && this.contains(t);
    };
    await transact(this.namespace, `disconnect all from ${this.name}`, (state) =>
      state.rules.filter((r) => ids.has(r.comment.split(' ')[2] ?? '') || inSubnet(r)).map(delRule),
    this.#nat);
    await Link.deleteGroup(this.namespace, this.group).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENODEV') throw e;
    });
    this.#endpoints.clear();
    await this.rediscover();
  }

  /**
   * Removes the network: its endpoints (every host veth leased on it, whoever
   * connected it), its NAT and filter rules, and the bridge if netplumb
   * created it (its alias says `netplumb network SUBNET`, whichever process
   * made it, even one that crashed). A bridge that was there before (the
   * user's) is left as it was found, minus our rules, unless `{ bridge: true }`
   * says the network is yours to remove whole.
   */
  async delete(options?: { bridge?: boolean }): Promise<void> {
    const o = v.options<{ bridge?: boolean }>(options, { bridge: true }, 'net.delete');
    const removeBridge = o.bridge !== undefined ? v.bool(o.bridge, 'bridge') : false;
    await this.disconnectAll().catch(() => undefined);
    const ports = await Link.list(this.namespace, { master: this.bridge });
    await Promise.all(ports.filter((p) => ALIAS.exec(p.alias)?.[1] === this.name).map((p) => p.delete().catch(() => undefined)));
    const own = [...this.subnets.map((s) => `netplumb masquerade ${this.name} ${s}`), `netplumb icc ${this.name}`];
    await transact(this.namespace, `delete network ${this.name}`, (state) => state.rules.filter((r) => own.includes(r.comment)).map(delRule), [...this.#nat, NFPROTO_BRIDGE]);
    if (this.#created || removeBridge) await this.bridge.delete();
    for (const pool of this.#pools) pool.reset([]);
  }

  /** `await using net = await Network.bridge(...)`: deletes the network (`docker network rm`) unless its namespace is already closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.namespace.closed) await this.delete();
  }

  /**
   * Docker's other modes, from the same pieces:
   * - 'host': the process's own namespace, no wiring;
   * - 'none': a new namespace with loopback up and nothing else (named `name`);
   * - 'container:NAME' / 'container:PID': the namespace of another container
   *   (a named namespace, or a process's); also a Namespace object.
   */
  static async mode(spec: 'host' | 'none' | `container:${string}` | Namespace, opts: { name?: string } = {}): Promise<Namespace> {
    // Pinned by a dup taken before any await: spec may be closed, and its fd number reused, meanwhile.
    v.options<{ name?: string }>(opts, { name: true }, 'Network.mode');
    if (spec instanceof Namespace) return Namespace.duplicate(spec);
    if (spec === 'host') return Namespace.current();
    if (spec === 'none') {
      const name = v.namespaceName(opts.name ?? `none-${crypto.randomBytes(4).toString('hex')}`);
      const ns = await Namespace.create(name);
      try {
        await ns.loopback.up();
      } catch (e) {
        await ns.delete().catch(() => undefined);
        throw e;
      }
      return ns;
    }
    if (typeof spec === 'string' && spec.startsWith('container:')) {
      const target = spec.slice('container:'.length);
      if (/^\d+$/.test(target)) return Namespace.fromPid(Number(target));
      return Namespace.open(target);
    }
    throw new NetplumbError(C.INVALID_MODE, `invalid network mode ${v.describe(spec)}: 'host', 'none', 'container:NAME|PID' (bridge mode: Network.bridge().connect())`, { value: spec, argument: 'mode' });
  }
}
