import * as fs from 'node:fs/promises';

import { Address } from './address';
import { ErrorCodes as C, NetplumbError } from './errors';
import { Link, type OperState } from './link';
import { Namespace } from './namespace';
import { PortMapping } from './port-mapping';
import { Route } from './route';

/** The key of the namespace this process runs in, when it has no name under /run/netns. */
export const CURRENT_NAMESPACE = '(current)';

/** A namespace of a {@link Topology}. */
export interface TopologyNamespace {
  /** Its name under /run/netns; '(current)' for this process's own unnamed namespace; 'pid:N' for one found through a process. */
  name: string;
  /** Is it the namespace this process runs in? */
  current: boolean;
  /** Identity (st_dev, st_ino of its nsfs inode). */
  dev: number;
  inode: number;
  /** The ids (RTM_GETNSID) under which it knows the other namespaces of the model, by their name. */
  nsids: Record<string, number>;
}

/** A link of a {@link Topology}: `ip -d link show`, one line. */
export interface TopologyLink {
  /** Name of its namespace in the model. */
  namespace: string;
  index: number;
  name: string;
  /** 'veth', 'bridge', 'macvlan'...; '' for devices without rtnl kind (lo, physical NICs). */
  kind: string;
  state: OperState;
  /** Administratively up (IFF_UP). */
  up: boolean;
  mtu: number;
  mac: string;
  /** Name of its master (bridge, bond, vrf) in the same namespace. */
  master?: string;
  /** The other end (veth): where it is, when the model holds its namespace. */
  peer?: TopologyEnd;
  /** IFLA_LINK (the peer's ifindex, in its namespace) and IFLA_LINK_NETNSID, as the kernel reports them. */
  peerIndex?: number;
  peerNetnsId?: number;
  /** The interface alias (`ip link set DEV alias`), where one is set. */
  alias?: string;
}

/** One end of a veth pair or of a bridge port edge. */
export interface TopologyEnd {
  namespace: string;
  name: string;
  index: number;
}

/** A veth pair, its two ends joined across namespaces (ends sorted by namespace, then name). */
export interface TopologyVethPair {
  a: TopologyEnd;
  b: TopologyEnd;
}

/** A bridge and its ports (`bridge link show master BR`). */
export interface TopologyBridge {
  namespace: string;
  name: string;
  index: number;
  /** The names of its ports, sorted. */
  ports: string[];
}

/** An address (`ip addr show`). */
export interface TopologyAddress {
  namespace: string;
  link: string;
  family: 4 | 6;
  /** 'address/prefixlen' */
  cidr: string;
  scope: string | number;
}

/** A route of the main table (`ip route show` and `ip -6 route show`). */
export interface TopologyRoute {
  namespace: string;
  family: 4 | 6;
  /** 'default' or a CIDR. */
  to: string;
  via?: string;
  dev?: string;
  metric?: number;
  type: string | number;
  protocol: string | number;
  scope: string | number;
  src?: string;
}

/** A port published by netplumb (`docker port`): DNAT from a host port to a container address. */
export interface TopologyPublishedPort {
  /** The namespace whose nf_tables rules carry it (the host of the network). */
  namespace: string;
  id: string;
  protocol: 'tcp' | 'udp';
  /** '*' for every host address. */
  hostAddress: string;
  hostPort: number;
  hostPortEnd: number;
  /** The container address and first port it is sent to. */
  address: string;
  port: number;
}

/** An endpoint of a netplumb network, as its lease on the host veth tells it. */
export interface TopologyEndpoint {
  /** The container id given to connect(). */
  id: string;
  /** The container's interface name and the host end on the bridge. */
  ifname: string;
  hostIfname: string;
  ip: string;
  /** Where the container's end is, when the model holds its namespace. */
  container?: TopologyEnd;
  /** The ports published to its address. */
  ports: TopologyPublishedPort[];
}

/** A netplumb network (a bridge carrying netplumb's mark) and its endpoints. */
export interface TopologyNetwork {
  namespace: string;
  /** The network's name, which is its bridge's name. */
  name: string;
  /** The subnet the mark records ('a.b.c.d/len'; more than one where the mark names several). */
  subnets: string[];
  /** The bridge's own addresses (the gateway). */
  gateways: string[];
  endpoints: TopologyEndpoint[];
}

/**
 * What the kernel holds, across namespaces: the model `netplumb show` prints
 * and draws. Every list is sorted (namespaces by name, then by ifindex), so
 * two reads of the same state compare equal.
 */
export interface Topology {
  namespaces: TopologyNamespace[];
  links: TopologyLink[];
  vethPairs: TopologyVethPair[];
  bridges: TopologyBridge[];
  addresses: TopologyAddress[];
  routes: TopologyRoute[];
  networks: TopologyNetwork[];
  ports: TopologyPublishedPort[];
  /** What could not be read (e.g. nf_tables refused), one line each; the rest of the model stands. */
  warnings: string[];
}

// netplumb's marks in the kernel (lib/network.ts writes them): a network's bridge
// carries 'netplumb network SUBNET...', a lease on a host veth 'netplumb NETWORK ADDRESS ID IFNAME'.
const NETWORK_MARK = /^netplumb network (\S.*)$/;
const LEASE_MARK = /^netplumb (\S+) (\S+)(?: (\S+) (\S+))?$/;

interface Held {
  key: string;
  ns: Namespace;
  current: boolean;
  /** Opened here: closed at the end. */
  own: boolean;
}

/**
 * Reads the topology of `namespaces` (Namespace objects or names under
 * /run/netns), or of 'all' (the default): this process's namespace, every
 * named namespace, and the namespaces netplumb's networks lead to (a veth
 * peer in a namespace with no name is looked for among the processes'
 * namespaces, and appears as 'pid:N'). Read-only: one dump of links,
 * addresses, routes and netplumb's nf_tables rules per namespace, and one
 * RTM_GETNSID per pair of namespaces a veth crosses. Namespaces it opened
 * itself are closed again.
 * @throws NetplumbError ERR_INVALID_ARGUMENT (not 'all' nor an array), ERR_INVALID_NAMESPACE_NAME, ERR_NAMESPACE_NOT_FOUND, ERR_NAMESPACE_CLOSED
 */
export async function topology(namespaces: 'all' | readonly (Namespace | string)[] = 'all'): Promise<Topology> {
  if (namespaces !== 'all' && !Array.isArray(namespaces))
    throw new NetplumbError(C.INVALID_ARGUMENT, "namespaces must be 'all' or an array of Namespace or names", { value: namespaces, argument: 'namespaces' });
  const list = namespaces === 'all' ? undefined : (namespaces as readonly unknown[]);
  if (list)
    for (const n of list) {
      if (n instanceof Namespace) n.assertOpen();
      else if (typeof n !== 'string')
        throw new NetplumbError(C.INVALID_ARGUMENT, 'each namespace must be a Namespace or a name', { value: n, argument: 'namespaces' });
    }
  const held: Held[] = [];
  try {
    await gather(list as readonly (Namespace | string)[] | undefined, held);
    return await read(held, list === undefined);
  } finally {
    await Promise.all(held.filter((h) => h.own).map((h) => h.ns.close().catch(() => undefined)));
  }
}

/** Opens (or takes) the namespaces to read, one entry per distinct namespace. */
async function gather(list: readonly (Namespace | string)[] | undefined, held: Held[]): Promise<void> {
  const self = await fs.stat('/proc/self/ns/net');
  const add = (key: string, ns: Namespace, own: boolean): void => {
    const same = held.find((h) => h.ns.equals(ns));
    if (same) {
      if (own) held.push({ key: '', ns, current: false, own }); // closed at the end, left out of the model
      return;
    }
    const current = ns.dev === self.dev && ns.inode === self.ino;
    held.push({ key: current && ns.name === undefined ? CURRENT_NAMESPACE : key, ns, current, own });
  };
  const names = list ?? (await Namespace.list());
  const opened = await Promise.allSettled(names.map((n) => (n instanceof Namespace ? Promise.resolve(n) : Namespace.open(n))));
  // Every one opened is held (and closed again) before a failure is reported.
  opened.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      const n = names[i] as Namespace | string;
      add(n instanceof Namespace ? (n.name ?? n.path) : n, r.value, !(n instanceof Namespace));
    }
  });
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // A named namespace deleted between the listing and the open is no error for 'all'.
    if (list || (failed.reason as { code?: string }).code !== C.NAMESPACE_NOT_FOUND) throw failed.reason;
  }
  if (!list) add(CURRENT_NAMESPACE, await Namespace.current(), true);
}

interface NsData {
  h: Held;
  links: Link[];
}

async function read(heldAll: Held[], all: boolean): Promise<Topology> {
  const held = heldAll.filter((h) => h.key !== '');
  const warnings: string[] = [];
  const data: NsData[] = await Promise.all(held.map(async (h) => ({ h, links: await Link.list(h.ns) })));
  // Veth peers in a namespace the model lacks: with 'all', look for it among the processes' namespaces.
  if (all) await findByPid(data, heldAll, warnings);
  data.sort((x, y) => cmp(x.h.key, y.h.key));

  // nsids: for every namespace with a link whose peer is elsewhere, the ids of the others.
  const nsids = new Map<string, Record<string, number>>();
  await Promise.all(
    data.map(async (d) => {
      const ids: Record<string, number> = {};
      if (d.links.some((l) => l.peerNetnsId !== undefined))
        for (const o of data) {
          if (o === d) continue;
          const id = await d.h.ns.idOf(o.h.ns);
          if (id !== undefined) ids[o.h.key] = id;
        }
      nsids.set(d.h.key, ids);
    }),
  );
  const byNsid = (from: string, id: number): string | undefined => Object.entries(nsids.get(from) ?? {}).find(([, n]) => n === id)?.[0];
  const linkAt = new Map<string, Link>();
  for (const d of data) for (const l of d.links) linkAt.set(`${d.h.key}\0${l.index}`, l);

  const links: TopologyLink[] = [];
  const pairs = new Map<string, TopologyVethPair>();
  for (const d of data) {
    const byIndex = new Map(d.links.map((l) => [l.index, l]));
    for (const l of [...d.links].sort((a, b) => a.index - b.index)) {
      const t: TopologyLink = { namespace: d.h.key, index: l.index, name: l.name, kind: l.kind, state: l.operstate, up: l.isUp, mtu: l.mtu, mac: l.mac };
      if (l.master !== undefined) t.master = byIndex.get(l.master)?.name ?? `#${l.master}`;
      if (l.alias) t.alias = l.alias;
      if (l.kind === 'veth' && l.peerIndex !== undefined) {
        t.peerIndex = l.peerIndex;
        if (l.peerNetnsId !== undefined) t.peerNetnsId = l.peerNetnsId;
        const where = l.peerNetnsId === undefined ? d.h.key : byNsid(d.h.key, l.peerNetnsId);
        const peer = where !== undefined ? linkAt.get(`${where}\0${l.peerIndex}`) : undefined;
        // Joined only when the peer points back: an index alone could name another link.
        if (where !== undefined && peer && peer.kind === 'veth' && peer.peerIndex === l.index) {
          t.peer = { namespace: where, name: peer.name, index: peer.index };
          const ends = [{ namespace: d.h.key, name: l.name, index: l.index }, t.peer].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
          const key = ends.map((e) => `${e.namespace}\0${e.index}`).join('\0');
          if (!pairs.has(key)) pairs.set(key, { a: ends[0] as TopologyEnd, b: ends[1] as TopologyEnd });
        }
      }
      links.push(t);
    }
  }

  const bridges: TopologyBridge[] = [];
  for (const d of data)
    for (const b of d.links.filter((l) => l.kind === 'bridge').sort((x, y) => x.index - y.index))
      bridges.push({
        namespace: d.h.key,
        name: b.name,
        index: b.index,
        ports: d.links
          .filter((l) => l.master === b.index)
          .map((l) => l.name)
          .sort(cmp),
      });

  const addresses: TopologyAddress[] = [];
  const routes: TopologyRoute[] = [];
  const ports: TopologyPublishedPort[] = [];
  const perNs = await Promise.all(
    data.map(async (d) => {
      const [addrs, rts, maps] = await Promise.all([
        Address.list(d.h.ns),
        Route.list(d.h.ns),
        PortMapping.list(d.h.ns).catch((e: unknown) => {
          warnings.push(`namespace ${d.h.key}: published ports not read (nf_tables: ${(e as { code?: string }).code ?? String(e)})`);
          return [] as PortMapping[];
        }),
      ]);
      return { d, addrs, rts, maps };
    }),
  );
  for (const { d, addrs, rts, maps } of perNs) {
    const names = new Map(d.links.map((l) => [l.index, l.name]));
    const sortedAddrs = [...addrs].sort((a, b) => a.index - b.index || a.family - b.family);
    for (const a of sortedAddrs)
      addresses.push({ namespace: d.h.key, link: names.get(a.index) ?? `#${a.index}`, family: a.family, cidr: a.cidr, scope: a.scope });
    for (const r of rts) {
      const t: TopologyRoute = { namespace: d.h.key, family: r.family, to: r.to, type: r.type, protocol: r.protocol, scope: r.scope };
      if (r.via !== undefined) t.via = r.via;
      if (r.dev !== undefined) t.dev = r.dev;
      if (r.metric !== undefined) t.metric = r.metric;
      if (r.src !== undefined) t.src = r.src;
      routes.push(t);
    }
    for (const m of [...maps].sort((a, b) => cmp(a.protocol, b.protocol) || a.hostPort - b.hostPort || cmp(a.hostAddress, b.hostAddress)))
      ports.push({
        namespace: d.h.key,
        id: m.id,
        protocol: m.protocol,
        hostAddress: m.hostAddress,
        hostPort: m.hostPort,
        hostPortEnd: m.hostPortEnd,
        address: m.address,
        port: m.port,
      });
  }

  const networks: TopologyNetwork[] = [];
  const linkByName = new Map(links.map((l) => [`${l.namespace}\0${l.name}`, l]));
  for (const b of bridges) {
    const mark = NETWORK_MARK.exec(linkByName.get(`${b.namespace}\0${b.name}`)?.alias ?? '');
    if (!mark) continue;
    const endpoints: TopologyEndpoint[] = [];
    for (const p of b.ports) {
      const port = linkByName.get(`${b.namespace}\0${p}`);
      const lease = LEASE_MARK.exec(port?.alias ?? '');
      if (!port || !lease || lease[1] !== b.name) continue;
      const ip = lease[2] as string;
      const e: TopologyEndpoint = {
        id: lease[3] ?? '',
        ifname: lease[4] ?? '',
        hostIfname: p,
        ip,
        ports: ports.filter((m) => m.namespace === b.namespace && m.address === ip),
      };
      if (port.peer) e.container = port.peer;
      endpoints.push(e);
    }
    networks.push({
      namespace: b.namespace,
      name: b.name,
      subnets: (mark[1] as string).split(/\s+/),
      gateways: addresses.filter((a) => a.namespace === b.namespace && a.link === b.name && a.scope !== 'link').map((a) => a.cidr),
      endpoints: endpoints.sort((x, y) => cmp(x.id, y.id) || cmp(x.ifname, y.ifname)),
    });
  }

  return {
    namespaces: data.map((d) => ({ name: d.h.key, current: d.h.current, dev: d.h.ns.dev, inode: d.h.ns.inode, nsids: nsids.get(d.h.key) ?? {} })),
    links,
    vethPairs: [...pairs.values()].sort(
      (x, y) => cmp(x.a.namespace, y.a.namespace) || cmp(x.a.name, y.a.name) || cmp(x.b.namespace, y.b.namespace) || cmp(x.b.name, y.b.name),
    ),
    bridges,
    addresses,
    routes,
    networks,
    ports,
    warnings,
  };
}

/**
 * Veth peers whose namespace (by its nsid) is none of the model's: the
 * namespaces of running processes (/proc/PID/ns/net) not yet held are
 * opened, and those a peer points to join the model as 'pid:PID'.
 */
async function findByPid(data: NsData[], heldAll: Held[], warnings: string[]): Promise<void> {
  const lost: { d: NsData; id: number }[] = [];
  for (const d of data) {
    const ids = new Set<number>();
    for (const l of d.links) if (l.kind === 'veth' && l.peerNetnsId !== undefined) ids.add(l.peerNetnsId);
    for (const id of ids) {
      let found = false;
      for (const o of data) if (o !== d && (await d.h.ns.idOf(o.h.ns)) === id) found = true;
      if (!found) lost.push({ d, id });
    }
  }
  if (lost.length === 0) return;
  const seen = new Set(data.map((d) => `${d.h.ns.dev}:${d.h.ns.inode}`));
  const pids = (await fs.readdir('/proc')).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    if (lost.length === 0) break;
    let st;
    try {
      st = await fs.stat(`/proc/${pid}/ns/net`);
    } catch {
      continue; // exited, or not ours to see
    }
    if (seen.has(`${st.dev}:${st.ino}`)) continue;
    seen.add(`${st.dev}:${st.ino}`);
    let ns: Namespace;
    try {
      ns = await Namespace.fromPid(Number(pid));
    } catch {
      continue;
    }
    const h: Held = { key: `pid:${pid}`, ns, current: false, own: true };
    heldAll.push(h);
    let wanted = false;
    for (let i = lost.length - 1; i >= 0; i--) {
      const l = lost[i] as { d: NsData; id: number };
      if ((await l.d.h.ns.idOf(ns)) === l.id) {
        wanted = true;
        lost.splice(i, 1);
      }
    }
    if (wanted) data.push({ h, links: await Link.list(ns) });
    else h.key = '';
  }
  for (const l of lost)
    warnings.push(`namespace ${l.d.h.key}: a veth peer is in the namespace it calls nsid ${l.id}, which is neither named nor any process's`);
}

const collator = new Intl.Collator('en', { numeric: true });
/** Names in natural order (c2 before c10), ties broken by code units: the same order everywhere. */
function cmp(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
