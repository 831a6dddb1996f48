import * as crypto from 'node:crypto';
import { Address } from './address';
import { Bridge } from './bridge';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link } from './link';
import { withLock } from './lock';
import { Namespace, resolveNamespace } from './namespace';
import { bridgeTableMsgs, delRule, expr, natTableMsgs, NFPROTO_BRIDGE, NFPROTO_IPV4, type OurRule, rule, transact } from './nft';
import { flushConntrack, PortMapping } from './port-mapping';
import { Route } from './route';
import { VethPair } from './veth-pair';
import * as v from './validate';
import { fromInt, Ipam, macOf, parseSubnet, toInt, type Subnet } from './ipam';
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
  /** The containers' subnet, e.g. '172.17.0.0/16' (IPv4). */
  subnet: string;
  /** The bridge's address and the containers' default gateway. Default: the subnet's first address. */
  gateway?: string;
  /** First address IPAM hands out. Default: the subnet's first host address. */
  rangeStart?: string;
  /** Last address IPAM hands out. Default: the subnet's last host address. */
  rangeEnd?: string;
  /** MTU of the bridge and of every veth. Default: the kernel's (1500). */
  mtu?: number;
  /** Masquerade traffic from the subnet leaving through any other interface (and enable ip_forward). Default true. */
  masquerade?: boolean;
  /** Inter-container communication on the bridge. Default true; false drops bridged traffic between containers. */
  icc?: boolean;
  /** The host namespace. Default: the process's own. */
  namespace?: Namespace;
  /** Give the bridge the gateway address. Default true; false leaves it without one (CNI's isGateway: false). */
  gatewayAddress?: boolean;
}

const BRIDGE_NETWORK_KEYS: v.Keys<BridgeNetworkOptions> = { name: true, subnet: true, gateway: true, rangeStart: true, rangeEnd: true, mtu: true, masquerade: true, icc: true, namespace: true, gatewayAddress: true };

/** Options of `network.connect`: what `docker network connect` / `docker run --network --ip --publish` set for one container. */
export interface NetworkConnectOptions {
  /** A fixed address in the subnet. Default: the next free one (IPAM). */
  ip?: string;
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

const NETWORK_CONNECT_KEYS: v.Keys<NetworkConnectOptions> = { ip: true, mac: true, ifname: true, hostIfname: true, publish: true, id: true, gatewayPriority: true, ifExists: true };

/** An endpoint as any process reads it back from the kernel (`net.endpoints()`). */
export interface EndpointInfo {
  id: string;
  ifname: string;
  /** The host end on the bridge. */
  hostIfname: string;
  ip: string;
  /** 'ip/prefixlen' */
  address: string;
  /** The port mappings to its address. */
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
  /** 'ip/prefixlen' */
  address: string;
  ip: string;
  gateway: string;
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

// A lease, on the host veth: 'netplumb NETWORK ADDRESS ID IFNAME' (ID and IFNAME: the endpoint's identity).
const ALIAS = /^netplumb (\S+) ([\d.]+)(?: (\S+) (\S+))?$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The container address a publish rule's comment ('netplumb publish ID tcp *:8080 -> 10.0.0.2:80') sends to. */
function targetOf(comment: string): string | undefined {
  return comment.startsWith('netplumb publish ') ? / -> ([\d.]+):\d+/.exec(comment)?.[1] : undefined;
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
  /** 'a.b.c.d/len' */
  readonly subnet: string;
  readonly gateway: string;
  readonly prefixlen: number;
  readonly mtu: number | undefined;
  readonly #ipam: Ipam;
  readonly #endpoints = new Set<Endpoint>();
  /** The leases on host veths, as last read from the kernel. */
  #held: { id: string; ifname: string; ip: string; hostIfname: string }[] = [];
  readonly #created: boolean;
  /** Link group of this network's host veths (IFLA_GROUP), for one-request teardown. */
  readonly group: number;

  private constructor(ns: Namespace, bridge: Bridge, subnet: Subnet, ipam: Ipam, mtu: number | undefined, created: boolean) {
    this.namespace = ns;
    this.bridge = bridge;
    this.name = bridge.name;
    this.prefixlen = subnet.prefixlen;
    this.#ipam = ipam;
    this.subnet = subnet.text;
    this.gateway = fromInt(subnet.gateway);
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
    const subnet = parseSubnet(o.subnet, o.gateway);
    const { net, gateway: gwInt } = subnet;
    const ipam = new Ipam(subnet, { ...(o.rangeStart !== undefined ? { start: o.rangeStart } : {}), ...(o.rangeEnd !== undefined ? { end: o.rangeEnd } : {}) });
    const mtu = o.mtu !== undefined ? v.mtu(o.mtu) : undefined;
    const masquerade = o.masquerade !== undefined ? v.bool(o.masquerade, 'masquerade') : true;
    const icc = o.icc !== undefined ? v.bool(o.icc, 'icc') : true;
    const gatewayAddress = o.gatewayAddress !== undefined ? v.bool(o.gatewayAddress, 'gatewayAddress') : true;
    const ns = await resolveNamespace(o.namespace);
    // Like Docker: a subnet that overlaps a route of the host namespace (another
    // network's bridge, a LAN) is refused; the bridge's own route is not a conflict.
    const last = net + 2 ** (32 - subnet.prefixlen) - 1;
    for (const r of await Route.list(ns, { family: 4 })) {
      if (r.to === 'default' || r.dev === name) continue;
      const [a, len] = r.to.split('/') as [string, string | undefined];
      const lo = toInt(v.networkOf(v.ipBytes(a, 4), Number(len ?? 32)));
      const hi = lo + 2 ** (32 - Number(len ?? 32)) - 1;
      if (lo <= last && net <= hi)
        throw new NetplumbError(C.SUBNET_OVERLAP, `subnet ${o.subnet} overlaps the route ${r.to}${r.dev ? ` dev ${r.dev}` : ''} in namespace ${ns}`, { value: o.subnet, argument: 'subnet' });
    }

    // One creator at a time, across processes (the lock connect() takes): a concurrent
    // adopter must not configure a bridge its creator is still configuring.
    return withLock(lockName(ns, name), `network ${name}`, async () => {
      let bridge: Bridge;
      let created = false; // netplumb's bridge: net.delete() removes it
      let madeHere = false; // made by this call: removed again if the rest fails
      const gwCidr = `${fromInt(gwInt)}/${subnet.prefixlen}`;
      const adopt = async (): Promise<Bridge> => {
        const b = await Bridge.get(ns, name);
        // Made by netplumb (this process or another, maybe one that crashed): ours to delete.
        created = b.alias.startsWith(BRIDGE_MARK);
        const addrs = await Address.list(b, { family: 4 });
        if (gatewayAddress && !addrs.some((a) => a.cidr === gwCidr))
          await Address.add(b, gwCidr).catch((e: unknown) => {
            if ((e as { code?: string }).code !== 'EEXIST') throw e; // added by a concurrent caller
          });
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
          bridge = await Bridge.create(name, { namespace: ns, ...(gatewayAddress ? { address: gwCidr } : {}), up: true, mac: randomMac(), ...(mtu ? { mtu } : {}) });
          created = madeHere = true;
        } catch (e2) {
          // Another caller created it in between: adopt theirs, as if it had been there first.
          if ((e2 as { code?: string }).code !== 'EEXIST') throw e2;
          bridge = await adopt();
        }
      }
      const network = new Network(ns, bridge, subnet, ipam, mtu, created);
      try {
        // The mark that tells every process this bridge is netplumb's (RTM_NEWLINK ignores
        // IFLA_IFALIAS, hence a second request; a crash in between leaves it looking adopted).
        if (madeHere) await kernel(ns.handle.link({ op: 'set', index: bridge.index, alias: `${BRIDGE_MARK} ${subnet.text}` }), () => `mark ${bridge.describe()} as netplumb's`);
        await network.rediscover();
        const masq = `netplumb masquerade ${network.name} ${network.subnet}`;
        const iccText = `netplumb icc ${network.name}`;
        await transact(ns, `network ${network.name}`, (state) => {
          const have = new Set(state.rules.map((r) => r.comment));
          const msgs = [];
          if (masquerade && !have.has(masq)) {
            msgs.push(...natTableMsgs(), rule(NFPROTO_IPV4, 'postrouting', [expr.addr('saddr', v.ipBytes(fromInt(net), 4), subnet.prefixlen), expr.oifname(bridge.name, true), expr.counter(), expr.masquerade()], masq));
          }
          if (!icc && !have.has(iccText)) {
            // Bridged traffic from one of this network's veths to another: both ends are in the
            // network's link group. (meta ibrname would need CONFIG_NFT_BRIDGE_META, often absent.)
            msgs.push(...bridgeTableMsgs(), rule(NFPROTO_BRIDGE, 'forward', [expr.groups(network.group), expr.counter(), expr.drop()], iccText));
          }
          return msgs;
        });
        if (masquerade) await ns.sysctl.set('net.ipv4.ip_forward', 1);
      } catch (e) {
        if (madeHere) await bridge.delete().catch(() => undefined);
        throw e;
      }
      return network;
    });
  }

  /** Re-reads the leases held in the kernel (host veth aliases) and the bridge's own addresses. */
  async rediscover(): Promise<void> {
    const [ports, addrs] = await Promise.all([Link.list(this.namespace, { master: this.bridge }), Address.list(this.bridge, { family: 4 })]);
    // Replaced only once both reads succeeded: a failed read leaves what was known.
    const leases: number[] = [];
    this.#held = [];
    for (const p of ports) {
      const m = ALIAS.exec(p.alias);
      if (!m || m[1] !== this.name) continue;
      leases.push(toInt(v.ipBytes(m[2] as string, 4)));
      this.#held.push({ id: m[3] ?? '', ifname: m[4] ?? '', ip: m[2] as string, hostIfname: p.name });
    }
    for (const a of addrs) leases.push(toInt(v.ipBytes(a.address, 4)));
    this.#ipam.reset(leases);
  }

  /** Is `ip` an address of this network's subnet? */
  contains(ip: string): boolean {
    return this.#ipam.contains(toInt(v.ip(ip, 'ip', 4).bytes));
  }

  /** Addresses currently leased (including the gateway's). */
  get leases(): string[] {
    return this.#ipam.leases.map(fromInt);
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
    const publish = (o.publish ?? []).map(parsePublish).flatMap(planPublish);
    if (o.ip !== undefined) v.ip(o.ip, 'ip', 4);
    const hostIfname = o.hostIfname !== undefined ? v.ifname(o.hostIfname, 'hostIfname') : `veth${crypto.randomBytes(4).toString('hex').slice(0, 7)}`;
    const id = o.id !== undefined ? endpointId(o.id) : crypto.randomBytes(6).toString('hex');
    const priority = o.gatewayPriority !== undefined ? v.uint(o.gatewayPriority, 'gatewayPriority', 999, -999) : 0;
    const ifExists = o.ifExists ?? 'error';
    if (ifExists !== 'error' && ifExists !== 'reuse')
      throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ifExists ${v.describe(ifExists)}: 'error' or 'reuse'`, { value: ifExists, argument: 'ifExists' });

    if (publish.length) {
      // Conflicts are refused before anything changes (a read; the publish batch checks again, atomically).
      // The specs of this call count too: '8080:80' twice is a conflict, not a rollback.
      const existing: Parameters<typeof PortMapping.assertFree>[0] = await PortMapping.list(this.namespace);
      for (const p of publish) {
        const host = p.hostAddress ?? '*';
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
    let ip = '';
    try {
      // Leasing is a read-modify-write of state every process shares (the host
      // veths' aliases): under the network's lock, from what the kernel holds now,
      // until the lease is written on the new veth.
      const pair = await withLock(this.#lockName, `connect to network ${this.name}`, async () => {
        await this.#reconcile();
        const held = this.#held.find((h) => h.id === id && h.ifname === ifname);
        if (held) {
          if (ifExists === 'reuse') return held;
          throw new NetplumbError(C.ENDPOINT_EXISTS, `container ${id} is connected to network ${this.name} as ${ifname} already (${held.ip}, ${held.hostIfname})`, {
            value: id,
            argument: 'id',
          });
        }
        const lease = this.#ipam.allocate(o.ip, this.name);
        undo.push(async () => this.#ipam.release(lease));
        ip = fromInt(lease);
        await step('lease');
        const p = await VethPair.create(hostIfname, {
          namespace: this.namespace, master: this.bridge, up: true, peerIn: ns, peerName: ifname, peerUp: true, group: this.group,
          ...(this.mtu ? { mtu: this.mtu } : {}), peerMac: mac ?? macOf(lease),
        });
        undo.push(() => p.link.delete());
        await step('veth');
        await kernel(this.namespace.handle.link({ op: 'set', index: p.link.index, alias: `netplumb ${this.name} ${ip} ${id} ${ifname}` }), () => `lease alias on ${p.link.describe()}`);
        return p;
      });
      if (!(pair instanceof VethPair)) return await this.#existing(ns, pair);
      await Promise.all([
        pair.link.setHairpin(true),
        ns.loopback.up(),
        pair.peer.addAddress(`${ip}/${this.prefixlen}`, { nodad: true }),
      ]);
      await step('address');
      await this.#defaultRoute(ns, priority);
      await step('route');
      const mappings: PortMapping[] = [];
      for (const p of publish) {
        const m = await this.bridge.publish({
          protocol: p.protocol, hostPort: p.hostPort, to: `${ip}:${p.containerPort}`, ...(p.hostAddress ? { hostAddress: p.hostAddress } : {}),
          // 127.0.0.1:PORT:PORT as Docker means it: reachable from the host's loopback
          // (route_localnet on the bridge and a masquerade, as PortMapping's localhost does).
          ...(p.hostAddress?.startsWith('127.') ? { localhost: true } : {}),
        });
        mappings.push(m);
        undo.push(() => m.unpublish());
        await step('publish');
      }
      await pair.peer.refresh();
      const endpoint: Endpoint = {
        network: this, id, namespace: ns, link: pair.peer, hostLink: pair.link, ifname, hostIfname, address: `${ip}/${this.prefixlen}`,
        ip, gateway: this.gateway, mac: pair.peer.mac, mappings, ports: portsOf(mappings),
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
  async #defaultRoute(ns: Namespace, priority: number): Promise<void> {
    const base = 1_000_000 - 1_000 * priority;
    for (let tries = 0; ; tries++) {
      const taken = new Set((await Route.list(ns, { family: 4 })).filter((r) => r.to === 'default').map((r) => r.metric ?? 0));
      let metric = base;
      while (taken.has(metric) && metric < base + 999) metric++;
      try {
        await Route.add({ namespace: ns, to: 'default', via: this.gateway, metric });
        return;
      } catch (e) {
        // Another network's connect took that metric in between: look again.
        if ((e as { code?: string }).code !== 'EEXIST' || tries >= 5) throw e;
      }
    }
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

  /** prune() without the lock (the caller holds it); leaves the leases as the kernel has them. */
  async #reconcile(): Promise<{ links: string[]; rules: number }> {
    const ports = await Link.list(this.namespace, { master: this.bridge });
    const orphans = ports.filter((p) => p.group === this.group && ALIAS.exec(p.alias)?.[1] !== this.name);
    await Promise.all(
      orphans.map((p) =>
        p.delete().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV') throw e;
        }),
      ),
    );
    let stale: OurRule[] = [];
    await transact(this.namespace, `prune network ${this.name}`, async (state) => {
      // The leases are read after the rules: a rule seen above was published after its lease was written.
      await this.rediscover();
      stale = state.rules.filter((r) => {
        const t = targetOf(r.comment);
        return t !== undefined && this.contains(t) && !this.#ipam.has(toInt(v.ipBytes(t, 4)));
      });
      return stale.map(delRule);
    });
    await this.#flushConntrack(stale);
    return { links: orphans.map((p) => p.name), rules: stale.length };
  }

  /** Deletes the conntrack entries of the mappings these (removed) rules made: flows NATed to their targets. */
  async #flushConntrack(removed: OurRule[]): Promise<void> {
    for (const m of PortMapping.fromRules(this.namespace, removed)) await flushConntrack(this.namespace, m, m.address);
  }

  /** The endpoints of this network, whoever connected them, read from the kernel (leases and rules). */
  async endpoints(): Promise<EndpointInfo[]> {
    this.namespace.assertOpen();
    const [, mappings] = await Promise.all([this.rediscover(), PortMapping.list(this.namespace)]);
    return this.#held.map((h) => ({
      id: h.id, ifname: h.ifname, hostIfname: h.hostIfname, ip: h.ip, address: `${h.ip}/${this.prefixlen}`,
      mappings: mappings.filter((m) => m.address === h.ip),
      ports: portsOf(mappings.filter((m) => m.address === h.ip)),
    }));
  }

  /** The endpoint of container `id` (as `ifname`), or undefined. */
  async endpoint(id: string, ifname = 'eth0'): Promise<EndpointInfo | undefined> {
    endpointId(id);
    v.ifname(ifname, 'ifname');
    return (await this.endpoints()).find((e) => e.id === id && e.ifname === ifname);
  }

  /** connect(..., { ifExists: 'reuse' }) of an endpoint that exists: the Endpoint, from the kernel. */
  async #existing(ns: Namespace, held: { id: string; ifname: string; ip: string; hostIfname: string }): Promise<Endpoint> {
    const [link, hostLink, mappings] = await Promise.all([
      Link.get(ns, held.ifname),
      Link.get(this.namespace, held.hostIfname),
      PortMapping.list(this.namespace).then((ms) => ms.filter((m) => m.address === held.ip)),
    ]);
    const endpoint: Endpoint = {
      network: this, id: held.id, namespace: ns, link, hostLink, ifname: held.ifname, hostIfname: held.hostIfname,
      address: `${held.ip}/${this.prefixlen}`, ip: held.ip, gateway: this.gateway, mac: link.mac, mappings, ports: portsOf(mappings),
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
        await transact(this.namespace, `disconnect ${id} from network ${this.name}`, (state) => (removed = state.rules.filter((r) => targetOf(r.comment) === held.ip)).map(delRule));
        await this.#flushConntrack(removed);
        const host = await Link.get(this.namespace, held.hostIfname).catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV' && (e as { code?: string }).code !== 'ERR_LINK_NOT_FOUND') throw e;
          return undefined;
        });
        await host?.delete().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'ENODEV') throw e;
        });
        this.#ipam.release(toInt(v.ipBytes(held.ip, 4)));
        for (const e of this.#endpoints) if (e.id === id && e.ifname === ifname) this.#endpoints.delete(e);
      });
      return;
    }
    if (!endpoint || endpoint.network !== this || !(endpoint.hostLink instanceof Link) || !Array.isArray(endpoint.mappings) || !endpoint.mappings.every((m) => m instanceof PortMapping))
      throw new NetplumbError(C.INVALID_ARGUMENT, 'not an endpoint of this network', { argument: 'endpoint' });
    const lease = toInt(v.ip(endpoint.ip, 'endpoint.ip', 4).bytes);
    for (const m of endpoint.mappings) await m.unpublish();
    await endpoint.hostLink.delete().catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENODEV') throw e;
    });
    this.#ipam.release(lease);
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
    );
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
    const own = [`netplumb masquerade ${this.name} ${this.subnet}`, `netplumb icc ${this.name}`];
    await transact(this.namespace, `delete network ${this.name}`, (state) => state.rules.filter((r) => own.includes(r.comment)).map(delRule));
    if (this.#created || removeBridge) await this.bridge.delete();
    this.#ipam.reset([]);
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
