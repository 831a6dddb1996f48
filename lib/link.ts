import type { MacvlanMode } from './constants';
import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { KINDS, kindOf, type KindInfo, type KindName, type KindOptions, type LinkKind } from './kinds';
import type { LinkSpec, RawLink } from './native';
import { Namespace, provideLinks, resolveNamespace } from './namespace';
import * as v from './validate';
import type { AddressInfo, AddressOptions } from './address';

/**
 * What a Link asks of Address (`addAddress`, `removeAddress`, `addresses`).
 * address.ts sits above this module (an Address belongs to a Link) and hands
 * these down when it loads, as this module does for Namespace: no import cycle.
 */
export interface AddressAccess {
  add(link: Link, cidr: string, opts?: AddressOptions): Promise<AddressInfo>;
  delete(link: Link, cidr: string): Promise<void>;
  list(link: Link, opts?: { family?: 4 | 6 }): Promise<AddressInfo[]>;
}
let addressAccess: AddressAccess | undefined;
/** @internal Called by address.ts when it loads. */
export function provideAddresses(access: AddressAccess): void {
  addressAccess = access;
}
function addressClass(): AddressAccess {
  if (addressAccess === undefined) throw new Error('netplumb: lib/address was not loaded (import the package, not lib/link alone)');
  return addressAccess;
}

const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;
const IFF_PROMISC = 0x100;

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
/** A link's operational state (RFC 2863), as `ip link show` prints it after `state`. */
export type OperState = (typeof OPERSTATES)[number];

/** A reference to a link: the object, its name, or its ifindex (in the namespace at hand). */
export type LinkRef = Link | string | number;

/** Filter of `Link.list` / `Namespace.links`: `ip link show [type KIND] [master DEV]`. */
export interface LinkListOptions {
  /** Only links of this kind ('veth', 'bridge'...): filtered by the kernel. */
  kind?: string;
  /** Only ports of this master (a bridge): filtered by the kernel. */
  master?: LinkRef;
}

const LINK_LIST_KEYS: v.Keys<LinkListOptions> = { kind: true, master: true };

/** Options of `Link.moveTo`: `ip link set DEV netns NS [name NEWNAME]`. */
export interface MoveOptions {
  /** The name in the target namespace, set in the same request (`ip link set X netns NS name eth0` style). */
  name?: string;
}

const MOVE_KEYS: v.Keys<MoveOptions> = { name: true };

/** Options every kind takes in `Link.create`: `ip link add NAME [netns NS] [mtu N] [address MAC] [txqueuelen N] [alias TEXT] [group N] [up]` (`group` is `linkGroup` here). */
export interface LinkCommonOptions {
  /** Namespace the link is made from (and its `parent` looked up in). Default: the parent Link's, else the process's own. */
  namespace?: Namespace;
  /** Create it directly in this namespace (`ip link add ... netns NS`). Default: `namespace`. */
  in?: Namespace;
  mtu?: number;
  mac?: string;
  /** Transmit queue length (IFLA_TXQLEN). */
  txqlen?: number;
  /** Free text (IFLA_IFALIAS), up to 255 bytes (set by a second request: the kernel ignores it in a create). */
  alias?: string;
  /** Link group (IFLA_GROUP; `group` is a kind's own option: a vxlan's multicast group, a tun's gid). */
  linkGroup?: number;
  /** Bring it up. Default false. */
  up?: boolean;
}

const COMMON_KEYS: v.Keys<LinkCommonOptions> = { namespace: true, in: true, mtu: true, mac: true, txqlen: true, alias: true, linkGroup: true, up: true };

/**
 * Options of `Link.create`: `kind` picks the kind (lib/kinds/), whose own
 * options come with the common ones. E.g. `{ kind: 'vlan', parent: 'eth0', id: 100 }`.
 */
export type LinkCreateOptions = { [K in KindName]: { kind: K } & LinkCommonOptions & KindOptions<K> }[KindName];

/** What `link.info` holds: the read-back of the link's kind (`info.kind` tells which). */
export type LinkKindInfo = { [K in KindName]: KindInfo<K> }[KindName];

/** The longest alias the kernel keeps (IFALIASZ - 1). */
const MAX_ALIAS = 255;
function alias(a: unknown, argument = 'alias'): string {
  if (typeof a !== 'string') throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be a string`, { value: a, argument });
  if (Buffer.byteLength(a) > MAX_ALIAS || a.includes('\0'))
    throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be at most ${MAX_ALIAS} bytes, without NUL`, { value: a, argument });
  return a;
}

/**
 * A network interface in a namespace, as the kernel last described it.
 * Properties are a snapshot: methods keep them current for what they change,
 * `refresh()` reads everything again.
 */
export class Link {
  namespace: Namespace;
  index: number;
  name: string;
  /** 'veth', 'bridge', 'macvlan'...; '' for devices without rtnl kind (lo, physical NICs). */
  kind: string;
  /** 'bridge' when this link is a bridge port. */
  slaveKind: string;
  mtu: number;
  mac: string;
  /** IFF_* flags (ifi_flags). */
  flags: number;
  operstate: OperState;
  /** ifindex of the master (bridge), if any. */
  master: number | undefined;
  /** For a veth: its peer's ifindex, in the peer's namespace. */
  peerIndex: number | undefined;
  /** For a veth whose peer is in another namespace: that namespace's id as seen from here (IFLA_LINK_NETNSID). */
  peerNetnsId: number | undefined;
  group: number;
  txqlen: number;
  alias: string;
  /**
   * What the kernel reports of the link's kind (IFLA_INFO_DATA), typed by
   * the kind's file in lib/kinds/: `if (link.info?.kind === 'vlan') link.info.id`.
   * Undefined for kinds without one (veth, lo, physical NICs).
   */
  info: LinkKindInfo | undefined;
  /** For a macvlan (or macvtap): its mode (also `info.mode`). */
  macvlanMode: MacvlanMode | undefined;
  /** For a vxlan: its VNI, UDP port, remote (unicast) or group (multicast), local address and underlay device (ifindex) (also `info`). */
  vxlan: { id: number; port: number; remote?: string; group?: string; local?: string; dev?: number } | undefined;

  /** @internal */
  protected constructor(ns: Namespace, raw: RawLink) {
    this.namespace = ns;
    this.index = 0;
    this.name = '';
    this.kind = '';
    this.slaveKind = '';
    this.mtu = 0;
    this.mac = '';
    this.flags = 0;
    this.operstate = 'unknown';
    this.master = undefined;
    this.peerIndex = undefined;
    this.peerNetnsId = undefined;
    this.group = 0;
    this.txqlen = 0;
    this.alias = '';
    this.info = undefined;
    this.macvlanMode = undefined;
    this.vxlan = undefined;
    this.assign(raw);
  }

  /** @internal */
  static fromRaw(ns: Namespace, raw: RawLink): Link {
    return new Link(ns, raw);
  }

  /** @internal */
  assign(raw: RawLink): this {
    this.index = raw.index;
    this.name = raw.name;
    this.kind = raw.kind;
    this.slaveKind = raw.slaveKind;
    this.mtu = raw.mtu;
    this.mac = raw.mac;
    this.flags = raw.flags;
    this.operstate = OPERSTATES[raw.operstate] ?? 'unknown';
    this.master = raw.master || undefined;
    this.peerIndex = raw.kind === 'veth' && raw.link ? raw.link : undefined;
    this.peerNetnsId = raw.linkNetnsid >= 0 ? raw.linkNetnsid : undefined;
    this.group = raw.group;
    this.txqlen = raw.txqlen;
    this.alias = raw.alias;
    const codec = raw.data ? kindOf(raw.kind) : undefined;
    this.info = codec && raw.data ? (codec.decode(raw.data) as LinkKindInfo) : undefined;
    const info = this.info;
    this.macvlanMode = info && (info.kind === 'macvlan' || info.kind === 'macvtap') && info.mode ? (info.mode as MacvlanMode) : undefined;
    if (info?.kind === 'vxlan') {
      const { kind: _, ...x } = info;
      this.vxlan = x;
    } else {
      this.vxlan = undefined;
    }
    return this;
  }

  /** Administratively up (IFF_UP)? */
  get isUp(): boolean {
    return (this.flags & IFF_UP) !== 0;
  }
  /** Carrier present (IFF_LOWER_UP)? */
  get hasCarrier(): boolean {
    return (this.flags & IFF_LOWER_UP) !== 0;
  }

  /**
   * `ip link add NAME type KIND ...` (`ip tuntap add` for tun/tap): a link of
   * any kind in lib/kinds/, e.g. `Link.create('vl0', { kind: 'vlan', parent: 'eth0', id: 100 })`.
   * Every option is checked before anything is asked of the kernel. One
   * RTM_NEWLINK (a tun/tap: /dev/net/tun ioctls on the namespace's thread, then
   * one RTM_SETLINK for the common options); a bond's `slaves` are enslaved
   * after. On any failure the new link is deleted.
   * @throws NetplumbError ERR_INVALID_IFNAME, ERR_INVALID_ARGUMENT (no or unknown `kind`, a bad mode, an id out of range...), ERR_UNKNOWN_OPTION, ERR_INVALID_MTU, ERR_INVALID_MAC, ERR_INVALID_IP, ERR_NAMESPACE_CLOSED, ERR_LINK_NOT_FOUND, ERR_WRONG_NAMESPACE
   * @throws NetlinkError EEXIST (the name is taken), EOPNOTSUPP (this kernel lacks the kind), or another errno the kernel returns
   */
  static async create(name: string, opts: LinkCreateOptions): Promise<Link> {
    v.ifname(name);
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
      throw new NetplumbError(C.INVALID_ARGUMENT, 'link options must be an object with a kind', { value: opts, argument: 'options' });
    const kind = (opts as { kind?: unknown }).kind;
    const codec = typeof kind === 'string' ? kindOf(kind) : undefined;
    if (!codec) throw new NetplumbError(C.INVALID_ARGUMENT, `invalid link kind ${v.describe(kind)}: one of ${Object.keys(KINDS).join(', ')}`, { value: kind, argument: 'kind' });
    v.known(opts, { kind: true, ...COMMON_KEYS, ...codec.keys }, `Link.create (${codec.kind})`);
    return createOfKind(name, codec, opts as unknown as LinkCommonOptions & Record<string, unknown>);
  }

  /** `ip link show`: every link of a namespace. */
  static async list(ns: Namespace, opts?: LinkListOptions): Promise<Link[]> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    ns.assertOpen();
    const o = v.options<LinkListOptions>(opts, LINK_LIST_KEYS, 'Link.list');
    const spec: LinkSpec = { op: 'dump' };
    if (o.kind !== undefined) spec.filterKind = v.ifname(o.kind, 'kind');
    if (o.master !== undefined) spec.filterMaster = await resolveIndex(ns, o.master, 'master');
    const raws = await kernel(ns.handle.link(spec), `links in namespace ${ns}`);
    return raws.map((r) => Link.fromRaw(ns, r));
  }

  /** `ip link show DEV`: one link by name or ifindex; a missing one is a NetlinkError with code ENODEV. */
  static async get(ns: Namespace, ref: string | number): Promise<Link> {
    return Link.fromRaw(ns, await Link.fetch(ns, ref));
  }

  /** @internal One RTM_GETLINK by name or index: the kernel's description of the link. */
  static async fetch(ns: Namespace, ref: string | number): Promise<RawLink> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    ns.assertOpen();
    const spec: LinkSpec = typeof ref === 'number' ? { op: 'get', index: v.uint(ref, 'ifindex', 0x7fffffff, 1) } : { op: 'get', name: v.ifname(ref) };
    const raws = await kernel(ns.handle.link(spec), () => `link ${typeof ref === 'number' ? `#${ref}` : ref} in namespace ${ns}`);
    if (!raws[0]) throw new NetplumbError(C.LINK_NOT_FOUND, `link ${ref} not found in namespace ${ns}`);
    return raws[0];
  }

  /** @internal Sends a change for this link. */
  protected async change(spec: Omit<LinkSpec, 'op' | 'index'>, what: string): Promise<void> {
    this.namespace.assertOpen();
    await kernel(this.namespace.handle.link({ op: 'set', index: this.index, ...spec }), () => `${what} for ${this.describe()}`);
  }

  /** @internal */
  describe(): string {
    return `link ${this.name} (#${this.index}) in namespace ${this.namespace}`;
  }

  /** Reads the link again from the kernel. */
  async refresh(): Promise<this> {
    this.namespace.assertOpen();
    const raws = await kernel(this.namespace.handle.link({ op: 'get', index: this.index }), () => this.describe());
    if (raws[0]) this.assign(raws[0]);
    return this;
  }

  /** `ip link set DEV up` */
  async up(): Promise<this> {
    await this.change({ up: true }, 'set up');
    this.flags |= IFF_UP;
    return this;
  }

  /** Promiscuous mode set by `setPromisc` / `ip link set DEV promisc on` (IFF_PROMISC)? */
  get isPromisc(): boolean {
    return (this.flags & IFF_PROMISC) !== 0;
  }

  /**
   * `ip link set DEV promisc on|off`: receive every frame, not only those
   * addressed to the link (the CNI bridge plugin's promiscMode, for a bridge).
   * @throws NetplumbError ERR_INVALID_ARGUMENT (not a boolean), ERR_NAMESPACE_CLOSED; NetlinkError ENODEV
   */
  async setPromisc(on: boolean): Promise<this> {
    v.bool(on, 'on');
    await this.change({ promisc: on }, `set promisc ${on ? 'on' : 'off'}`);
    this.flags = on ? this.flags | IFF_PROMISC : this.flags & ~IFF_PROMISC;
    return this;
  }

  /** `ip link set DEV down` */
  async down(): Promise<this> {
    await this.change({ up: false }, 'set down');
    this.flags &= ~IFF_UP;
    return this;
  }

  /** `ip link set DEV name NEW` (kernels before 6.2 refuse while the link is up: EBUSY). */
  async rename(name: string): Promise<this> {
    v.ifname(name);
    await this.change({ name }, `rename to ${name}`);
    this.name = name;
    return this;
  }

  /** `ip link set DEV mtu N` */
  async setMtu(mtu: number): Promise<this> {
    v.mtu(mtu);
    await this.change({ mtu }, `set mtu ${mtu}`);
    this.mtu = mtu;
    return this;
  }

  /** `ip link set DEV address MAC` */
  async setMac(mac: string): Promise<this> {
    const bytes = v.mac(mac);
    await this.change({ mac: bytes }, `set address ${mac}`);
    this.mac = mac.toLowerCase().replace(/-/g, ':');
    return this;
  }

  /**
   * `ip link set DEV alias TEXT`: free text kept by the kernel (IFLA_IFALIAS), up to 255 bytes; '' clears it.
   * @throws NetplumbError ERR_INVALID_ARGUMENT (not a string, too long, a NUL), ERR_NAMESPACE_CLOSED; NetlinkError ENODEV
   */
  async setAlias(text: string): Promise<this> {
    alias(text, 'alias');
    await this.change({ alias: text }, `set alias ${JSON.stringify(text)}`);
    this.alias = text;
    return this;
  }

  /**
   * `ip link set DEV txqueuelen N` (IFLA_TXQLEN).
   * @throws NetplumbError ERR_INVALID_ARGUMENT (not an integer 0-4294967295), ERR_NAMESPACE_CLOSED; NetlinkError ENODEV
   */
  async setTxqlen(txqlen: number): Promise<this> {
    v.uint(txqlen, 'txqlen');
    await this.change({ txqlen }, `set txqueuelen ${txqlen}`);
    this.txqlen = txqlen;
    return this;
  }

  /**
   * `ip link set DEV group N` (IFLA_GROUP): links of a group can be deleted together (`Link.deleteGroup`).
   * @throws NetplumbError ERR_INVALID_ARGUMENT (not an integer 0-4294967295), ERR_NAMESPACE_CLOSED; NetlinkError ENODEV
   */
  async setGroup(group: number): Promise<this> {
    v.uint(group, 'group');
    await this.change({ group }, `set group ${group}`);
    this.group = group;
    return this;
  }

  /** `ip link set DEV master BRIDGE` (`brctl addif BRIDGE DEV`). */
  async setMaster(master: LinkRef): Promise<this> {
    const index = await resolveIndex(this.namespace, master, 'master');
    await this.change({ master: index }, `set master #${index}`);
    this.master = index;
    return this;
  }

  /** `ip link set DEV nomaster` (`brctl delif BRIDGE DEV`). */
  async clearMaster(): Promise<this> {
    await this.change({ master: 0 }, 'set nomaster');
    this.master = undefined;
    return this;
  }

  /**
   * `bridge link set dev DEV hairpin on|off`: let a bridge port send frames
   * back out the port they came in on (needed for hairpin NAT when the
   * kernel's br_netfilter makes bridged traffic go through the IP hooks).
   */
  async setHairpin(on: boolean): Promise<this> {
    v.bool(on, 'hairpin');
    await this.change({ hairpin: on }, `set hairpin ${on ? 'on' : 'off'}`);
    return this;
  }

  /**
   * `ip link set DEV netns NS [name NEW]`: moves the link into another
   * namespace (a Namespace, or a process's namespace by pid), renaming it in
   * the same request. Afterwards this object describes the link in its new
   * namespace (its index may differ there). With a pid, the namespace is
   * opened for you and becomes `link.namespace`: close it when done.
   */
  async moveTo(target: Namespace | number, opts?: MoveOptions): Promise<this> {
    const o = v.options<MoveOptions>(opts, MOVE_KEYS, 'moveTo');
    const name = o.name !== undefined ? v.ifname(o.name, 'options.name') : undefined;
    let ns: Namespace;
    if (typeof target === 'number') {
      v.pid(target, 'target');
      ns = await Namespace.fromPid(target);
    } else if (target instanceof Namespace) {
      ns = target.assertOpen();
    } else {
      throw new NetplumbError(C.INVALID_ARGUMENT, 'target must be a Namespace or a pid', { value: target, argument: 'target' });
    }
    try {
      ns.assertOpen(); // the request dups ns.fd as it is built: it must be ours, now
      await this.change({ netnsFd: ns.fd, ...(name ? { name } : {}) }, `move to namespace ${ns}${name ? ` as ${name}` : ''}`);
      const moved = await Link.fetch(ns, name ?? this.name);
      this.namespace = ns;
      this.assign(moved);
    } catch (e) {
      if (typeof target === 'number') await ns.close();
      throw e;
    }
    return this;
  }

  /**
   * The other end of a veth. A peer in this namespace is found directly; one
   * in another namespace is looked for among `search` (matched by namespace id,
   * as `ip link` shows `link-netnsid`). Undefined if not a veth or not found.
   */
  async peer(search: Namespace[] = []): Promise<Link | undefined> {
    if (this.kind !== 'veth' || this.peerIndex === undefined) return undefined;
    if (!Array.isArray(search) || !search.every((n) => n instanceof Namespace))
      throw new NetplumbError(C.INVALID_ARGUMENT, 'search must be an array of Namespace', { argument: 'search' });
    if (this.peerNetnsId === undefined) return Link.get(this.namespace, this.peerIndex);
    for (const ns of search) {
      if ((await this.namespace.idOf(ns)) === this.peerNetnsId) return Link.get(ns, this.peerIndex);
    }
    return undefined;
  }

  /**
   * `ip link delete group N`: every link of a group in one request — and one
   * wait for the kernel's RCU grace period instead of one per link (deleting
   * 200 veths one by one costs seconds; as a group, tens of milliseconds).
   */
  static async deleteGroup(ns: Namespace, group: number): Promise<void> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { argument: 'namespace' });
    ns.assertOpen();
    v.uint(group, 'group', 0xffffffff, 1);
    await kernel(ns.handle.link({ op: 'del', group }), `links of group ${group} in namespace ${ns}`);
  }

  /**
   * `ip link delete DEV` (a veth takes its peer with it). A link that is gone
   * already is not an error (deleting twice is a no-op, as for every object's
   * delete); the link is deleted by its index, never by name, so a newer link
   * that took the name is left alone.
   */
  async delete(): Promise<void> {
    this.namespace.assertOpen();
    await kernel(this.namespace.handle.link({ op: 'del', index: this.index }), () => `delete ${this.describe()}`).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENODEV') throw e;
    });
  }

  /** `await using`: deletes the link; one already gone (ENODEV, closed namespace) is not an error. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.namespace.closed) return;
    await this.delete().catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENODEV') throw e;
    });
  }

  /** `ip addr add CIDR dev DEV` */
  addAddress(cidr: string, opts?: AddressOptions): Promise<AddressInfo> {
    return addressClass().add(this, cidr, opts);
  }
  /** `ip addr del CIDR dev DEV` */
  removeAddress(cidr: string): Promise<void> {
    return addressClass().delete(this, cidr);
  }
  /** `ip addr show dev DEV` */
  addresses(opts?: { family?: 4 | 6 }): Promise<AddressInfo[]> {
    return addressClass().list(this, opts);
  }

  /** The link's fields as a plain object (for `JSON.stringify` and logs), like an entry of `ip -j link show`. */
  toJSON(): Record<string, unknown> {
    return {
      index: this.index, name: this.name, kind: this.kind, mtu: this.mtu, mac: this.mac, up: this.isUp,
      operstate: this.operstate, master: this.master, peerIndex: this.peerIndex, namespace: String(this.namespace),
    };
  }
}
provideLinks(Link);

/**
 * @internal `Link.create` after the kind and the keys are known: the common
 * options and the kind's checked, then the kernel asked. Macvlan.create and
 * Vxlan.create come here too.
 */
export async function createOfKind(name: string, codec: LinkKind<object, unknown>, o: LinkCommonOptions & Record<string, unknown>): Promise<Link> {
  const common: Omit<LinkSpec, 'op'> = {};
  if (o.mtu !== undefined) common.mtu = v.mtu(o.mtu);
  if (o.mac !== undefined) common.mac = v.mac(o.mac);
  if (o.txqlen !== undefined) common.txqlen = v.uint(o.txqlen, 'txqlen');
  if (o.alias !== undefined) common.alias = alias(o.alias);
  if (o.linkGroup !== undefined) common.group = v.uint(o.linkGroup, 'linkGroup');
  const up = o.up !== undefined ? v.bool(o.up, 'up') : undefined;
  const ks = codec.encode(o);
  const parentRef = ks.parent?.ref;
  const ns = await resolveNamespace(o.namespace ?? (parentRef instanceof Link ? parentRef.namespace : undefined));
  const into = o.in !== undefined ? await resolveNamespace(o.in, 'in') : undefined;
  const home = into ?? ns;
  const spec: LinkSpec = { op: 'new', kind: codec.kind, name, ...common };
  if (ks.data && Object.keys(ks.data).length) spec.data = { ...ks.data };
  if (ks.parent) {
    const index = await resolveIndex(ns, ks.parent.ref, ks.parent.argument);
    if (ks.parent.dataKey) spec.data = { ...spec.data, [ks.parent.dataKey]: index };
    else spec.parent = index;
  }
  const slaves = ks.slaves ? await Promise.all(ks.slaves.map((s, i) => resolveIndex(home, s, `slaves[${i}]`))) : [];
  const what = `${codec.kind} ${name} in namespace ${home}`;
  let link: Link;
  if (ks.tun) {
    // /dev/net/tun on the target namespace's own thread: the device is born there.
    home.assertOpen();
    await kernel(home.handle.tun({ name, ...ks.tun }), what);
    link = await Link.get(home, name).catch(async (e: unknown) => {
      await home.handle.link({ op: 'del', name }).catch(() => undefined);
      throw e;
    });
    if (Object.keys(common).length || up !== undefined) {
      try {
        await kernel(home.handle.link({ op: 'set', index: link.index, ...common, ...(up !== undefined ? { up } : {}) }), () => `set up ${what}`);
        await link.refresh();
      } catch (e) {
        await link.delete().catch(() => undefined);
        throw e;
      }
    }
  } else {
    if (up !== undefined) spec.up = up;
    // The kernel ignores IFLA_IFALIAS in a create (rtnl_create_link does not
    // read it): the alias goes in a second request.
    const text = spec.alias;
    delete spec.alias;
    link = await createLink(ns, spec, what, into);
    if (text !== undefined) {
      try {
        await link.setAlias(text);
      } catch (e) {
        await link.delete().catch(() => undefined);
        throw e;
      }
    }
  }
  if (slaves.length) {
    try {
      // A bond takes a slave only while it is down ("Device can not be enslaved
      // while up"); in one request the master would be set before the flags.
      for (const index of slaves) {
        await kernel(home.handle.link({ op: 'set', index, up: false }), () => `set down #${index} to enslave it to ${what}`);
        await kernel(home.handle.link({ op: 'set', index, master: link.index }), () => `enslave #${index} to ${what}`);
      }
    } catch (e) {
      await link.delete().catch(() => undefined);
      throw e;
    }
  }
  return link;
}

/**
 * @internal One RTM_NEWLINK for `spec`, sent in `ns`; with `into`, the device
 * is born in that namespace (IFLA_NET_NS_FD, as `ip link add ... netns X`).
 * Resolves to the new Link; if looking it up fails, the device is deleted.
 */
export async function createLink(ns: Namespace, spec: LinkSpec, what: string, into?: Namespace): Promise<Link> {
  const home = into ?? ns;
  ns.assertOpen();
  home.assertOpen();
  if (into && !into.equals(ns)) spec.netnsFd = into.fd;
  await kernel(ns.handle.link(spec), what);
  try {
    return await Link.get(home, spec.name as string);
  } catch (e) {
    await home.handle.link({ op: 'del', name: spec.name }).catch(() => undefined);
    throw e;
  }
}

/** @internal The ifindex of a link reference, in `ns`. Names cost one RTM_GETLINK. */
export async function resolveIndex(ns: Namespace, ref: unknown, argument: string): Promise<number> {
  if (ref instanceof Link) {
    if (!ref.namespace.equals(ns))
      throw new NetplumbError(C.WRONG_NAMESPACE, `${argument} ${ref.name} is in namespace ${ref.namespace}, not ${ns}`, { argument });
    return ref.index;
  }
  if (typeof ref === 'number') return v.uint(ref, argument, 0x7fffffff, 1);
  if (typeof ref === 'string') return (await Link.get(ns, v.ifname(ref, argument))).index;
  throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be a Link, a name or an ifindex`, { value: ref, argument });
}
