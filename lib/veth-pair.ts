import { ErrorCodes as C, kernel, NetplumbError } from './errors';
import { Link, resolveIndex, type LinkRef } from './link';
import type { LinkSpec } from './native';
import { type Namespace, resolveNamespace } from './namespace';
import * as v from './validate';

/** Options of `VethPair.create`: `ip link add NAME [netns NS] type veth peer name PEER [netns NS]`, with MTU and MACs. */
export interface VethPairOptions {
  /** Namespace of the first end. Default: the process's own. */
  namespace?: Namespace;
  /** Name of the other end. Default: chosen by the kernel (vethN). */
  peerName?: string;
  /** Namespace of the other end, where it is created directly: no move, no rename. Default: same as the first end. */
  peerIn?: Namespace;
  /** Attach the first end to this bridge at creation (`master`). */
  master?: LinkRef;
  /** Bring the first end up. Default false. */
  up?: boolean;
  /** Bring the other end up too (a second request, in its namespace). Default false. */
  peerUp?: boolean;
  /** MTU of both ends. Default: the kernel's (1500). */
  mtu?: number;
  mac?: string;
  peerMac?: string;
  /** Link group of the first end (IFLA_GROUP): many links can then be deleted in one request. Default 0. */
  group?: number;
}

const VETH_PAIR_KEYS: v.Keys<VethPairOptions> = { namespace: true, peerName: true, peerIn: true, master: true, up: true, peerUp: true, mtu: true, mac: true, peerMac: true, group: true };

/**
 * A veth pair: two links joined back to back. `link` is the first end (the
 * host side in Docker's picture), `peer` the other (the container's eth0).
 */
export class VethPair {
  readonly link: Link;
  readonly peer: Link;

  private constructor(link: Link, peer: Link) {
    this.link = link;
    this.peer = peer;
  }

  /**
   * `ip link add NAME type veth peer name PEER netns NS`, in one RTM_NEWLINK:
   * the peer is born in its namespace under its final name, which saves the
   * move (and the kernel's synchronize_net) of the hand-written recipe.
   */
  static async create(name: string, opts?: VethPairOptions): Promise<VethPair> {
    v.ifname(name);
    const o = v.options<VethPairOptions>(opts, VETH_PAIR_KEYS, 'VethPair.create');
    const peerName = o.peerName !== undefined ? v.ifname(o.peerName, 'peerName') : undefined;
    if (o.mtu !== undefined) v.mtu(o.mtu);
    const mac = o.mac !== undefined ? v.mac(o.mac, 'mac') : undefined;
    const peerMac = o.peerMac !== undefined ? v.mac(o.peerMac, 'peerMac') : undefined;
    const up = o.up !== undefined ? v.bool(o.up, 'up') : false;
    const peerUp = o.peerUp !== undefined ? v.bool(o.peerUp, 'peerUp') : false;
    if (peerName === name && o.peerIn === undefined)
      throw new NetplumbError(C.INVALID_ARGUMENT, `peerName ${peerName} is the name of the first end`, { argument: 'peerName' });
    const ns = await resolveNamespace(o.namespace);
    const peerNs = o.peerIn !== undefined ? await resolveNamespace(o.peerIn, 'peerIn') : ns;
    const master = o.master !== undefined ? await resolveIndex(ns, o.master, 'master') : undefined;

    // Both namespaces must still be open now: the request takes its own copy
    // of the peer namespace's fd when it is built, just below.
    ns.assertOpen();
    peerNs.assertOpen();
    const spec: LinkSpec = { op: 'new', kind: 'veth', name, up, peer: { netnsFd: peerNs.ref } };
    if (o.mtu !== undefined) spec.mtu = spec.peer!.mtu = o.mtu;
    if (mac) spec.mac = mac;
    if (peerMac) spec.peer!.mac = peerMac;
    if (peerName) spec.peer!.name = peerName;
    if (master !== undefined) spec.master = master;
    if (o.group !== undefined) spec.group = v.uint(o.group, 'group', 0xffffffff);
    const what = `veth pair ${name}${peerName ? `/${peerName}` : ''} in namespace ${ns}${peerNs !== ns ? ` (peer in ${peerNs})` : ''}`;
    await kernel(ns.handle.link(spec), what);

    try {
      // Both ends are looked up (and the peer brought up) concurrently.
      const first = Link.get(ns, name);
      const second = peerName
        ? (peerUp ? peerNs.handle.link({ op: 'set', name: peerName, up: true }).then(() => undefined) : Promise.resolve()).then(() => Link.get(peerNs, peerName))
        : first.then(async (l) => {
            const p = await Link.get(peerNs, l.peerIndex as number);
            return peerUp ? p.up() : p;
          });
      const [link, peer] = await Promise.all([first, kernel(second, `peer of ${what}`)]);
      return new VethPair(link, peer);
    } catch (e) {
      // Leave nothing behind: deleting one end deletes both.
      await ns.handle.link({ op: 'del', name }).catch(() => undefined);
      throw e;
    }
  }

  /** Deletes both ends. */
  async delete(): Promise<void> {
    await this.link.delete();
  }

  /** `await using pair = await VethPair.create(...)`: deletes the pair at the end of the block; one already gone is not an error. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete().catch((e: unknown) => {
      // Already gone (its namespace was deleted, say): nothing to undo.
      if ((e as { code?: string }).code !== 'ENODEV' && (e as { code?: string }).code !== C.NAMESPACE_CLOSED) throw e;
    });
  }
}
