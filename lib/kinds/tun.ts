// tun and tap: `ip tuntap add NAME mode tun|tap [user UID] [group GID] [multi_queue] [vnet_hdr] [pi]`.
// Made through /dev/net/tun on the namespace's own thread (rtnetlink cannot
// create one: native/rtnl/kinds/tun.cpp), persistent; read back from IFLA_TUN_*.
import * as v from '../validate';
import { oneOf, type LinkKind } from './kind';

/** IFF_TUN / IFF_TAP (linux/if_tun.h). */
export const TUN_MODES = { tun: 1, tap: 2 } as const;
/** 'tun' (IP packets) or 'tap' (Ethernet frames). */
export type TunMode = keyof typeof TUN_MODES;

/** Options of a tun/tap device (`Link.create(name, { kind: 'tun', mode: 'tap', owner: 1000 })`). */
export interface TunOptions {
  /** Default 'tun'. */
  mode?: TunMode;
  /** The user allowed to attach to it without CAP_NET_ADMIN (TUNSETOWNER). */
  owner?: number;
  /** The group allowed to attach to it (TUNSETGROUP). */
  group?: number;
  /** Several queues (IFF_MULTI_QUEUE): one fd per queue. Default false. */
  multiQueue?: boolean;
  /** A virtio-net header before each packet (IFF_VNET_HDR). Default false. */
  vnetHdr?: boolean;
  /** A packet information header before each packet (no IFF_NO_PI). Default false. */
  pi?: boolean;
}

/** A tun/tap device's read-back (IFLA_TUN_*, as `ip -d link show` prints it). */
export interface TunInfo {
  kind: 'tun';
  mode: TunMode;
  persist: boolean;
  multiQueue: boolean;
  vnetHdr: boolean;
  pi: boolean;
  /** Absent when no owner is set. */
  owner?: number;
  group?: number;
  numQueues: number;
}

/** The tun kind (tun and tap). */
export const tun: LinkKind<TunOptions, TunInfo> = {
  kind: 'tun',
  keys: { mode: true, owner: true, group: true, multiQueue: true, vnetHdr: true, pi: true },
  encode(o) {
    const mode = oneOf(TUN_MODES, o.mode ?? 'tun', 'mode', 'tun mode');
    const t: NonNullable<ReturnType<LinkKind<TunOptions, TunInfo>['encode']>['tun']> = { tap: mode === 'tap' };
    if (o.owner !== undefined) t.owner = v.uint(o.owner, 'owner', 0xfffffffe);
    if (o.group !== undefined) t.group = v.uint(o.group, 'group', 0xfffffffe);
    if (o.multiQueue !== undefined) t.multiQueue = v.bool(o.multiQueue, 'multiQueue');
    if (o.vnetHdr !== undefined) t.vnetHdr = v.bool(o.vnetHdr, 'vnetHdr');
    if (o.pi !== undefined) t.pi = v.bool(o.pi, 'pi');
    return { tun: t };
  },
  decode(d) {
    const out: TunInfo = {
      kind: 'tun',
      mode: d.type === TUN_MODES.tap ? 'tap' : 'tun',
      persist: d.persist === 1,
      multiQueue: d.multiQueue === 1,
      vnetHdr: d.vnetHdr === 1,
      pi: d.pi === 1,
      numQueues: Number(d.numQueues ?? 0),
    };
    if (d.owner !== undefined) out.owner = Number(d.owner);
    if (d.group !== undefined) out.group = Number(d.group);
    return out;
  },
};
