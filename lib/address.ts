import { ADDR_FLAGS, flagNames, nameOf, SCOPES, type Scope } from './constants';
import { ErrorCodes as C, fromNative, kernel, kernelDone, kernelThen, NetplumbError } from './errors';
import { Link, provideAddresses } from './link';
import { quickAddr, sendAddr, type AddrSpec, type RawAddr } from './native';
import { Namespace } from './namespace';
import * as v from './validate';

/** Options of `Address.add` / `Link.addAddress`: the flags of `ip addr add CIDR dev DEV [nodad] [noprefixroute] [valid_lft N] ...`. */
export interface AddressOptions {
  /** Skip duplicate address detection (IPv6): the address is usable at once. Default false. */
  nodad?: boolean;
  /** IPv4 broadcast: an address, or true to compute it from the prefix (`brd +`). Default: none, like `ip addr add`. */
  broadcast?: string | true;
  /** Point-to-point peer (`peer ADDR`). */
  peer?: string;
  /** IPv4 label, e.g. 'eth0:1'. */
  label?: string;
  /** Default: 'universe' (global), or 'host' for 127.0.0.0/8 and ::1. */
  scope?: Scope;
  /** Don't add the prefix route for this address. Default false. */
  noprefixroute?: boolean;
  /** Lifetimes in seconds (IFA_CACHEINFO). Default forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** Replace an existing address instead of failing with EEXIST (`ip addr replace`). Default false. */
  replace?: boolean;
}

const ADDRESS_KEYS: v.Keys<AddressOptions> = { nodad: true, broadcast: true, peer: true, label: true, scope: true, noprefixroute: true, validLifetime: true, preferredLifetime: true, replace: true };

/** One address as the kernel reports it (an entry of `ip -j addr show`). */
export interface AddressInfo {
  family: 4 | 6;
  address: string;
  prefixlen: number;
  /** 'address/prefixlen' */
  cidr: string;
  /** ifindex of the link. */
  index: number;
  scope: string | number;
  flags: string[];
  label: string;
  broadcast?: string;
  peer?: string;
  /** Seconds; 4294967295 = forever. */
  validLifetime: number;
  preferredLifetime: number;
}

/** Filter of `Address.list`: `ip -4|-6 addr show`. */
export interface AddressListOptions {
  family?: 4 | 6;
}

const ADDRESS_LIST_KEYS: v.Keys<AddressListOptions> = { family: true };

/** @internal An address as the kernel reports it, in the API's shape. */
export function addressInfo(r: RawAddr): AddressInfo {
  const a: AddressInfo = {
    family: r.family,
    address: r.local,
    prefixlen: r.prefixlen,
    cidr: `${r.local}/${r.prefixlen}`,
    index: r.index,
    scope: nameOf(SCOPES, r.scope) === 'universe' ? 'global' : nameOf(SCOPES, r.scope),
    flags: flagNames(ADDR_FLAGS, r.flags),
    label: r.label,
    validLifetime: r.validLft,
    preferredLifetime: r.preferredLft,
  };
  if (r.broadcast) a.broadcast = r.broadcast;
  if (r.address && r.address !== r.local) a.peer = r.address;
  return a;
}

function scopeOf(s: unknown, argument = 'scope'): number {
  if (typeof s === 'number') return v.uint(s, argument, 255);
  if (typeof s === 'string' && Object.prototype.hasOwnProperty.call(SCOPES, s)) return SCOPES[s] as number;
  throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${argument} ${v.describe(s)}: one of ${Object.keys(SCOPES).join(', ')} or 0-255`, { value: s, argument });
}

/** No options (not a new object per call). */
const NO_OPTIONS: AddressOptions = Object.freeze({});

/** An address request's object, for errors. */
const addressText = (cidr: string, link: Link): string => `address ${cidr} on ${link.describe()}`;

/** A rejection with `e`, typed as a NetlinkError about the address if native (a closure of its own, not the caller's). */
const rejected = (e: unknown, cidr: string, link: Link): Promise<never> => Promise.reject(fromNative(e, () => addressText(cidr, link)));

/** Address.add's object, for errors, from madeInfo's arguments. */
const addedText = (_spec: AddrSpec | undefined, link: Link, cidr: string): string => addressText(cidr, link);

/**
 * The AddressInfo of an address Address.add made from `spec` (once the kernel
 * has said yes); with no spec, of a plain IPv4 CIDR the quick hand-off took
 * (src/quick.cc: no options, so no flags, peer, label or lifetimes).
 */
function madeInfo(spec: AddrSpec | undefined, link: Link, cidr: string): AddressInfo {
  const family = spec ? (spec.family as 4 | 6) : 4;
  const slash = cidr.indexOf('/');
  // An IPv4 address is taken only as a canonical dotted quad
  // (validate.parseIpv4), so its text as given is the one formatIp would make.
  const local = family === 4 ? cidr.slice(0, slash) : v.formatIp(spec?.local as Uint8Array);
  return addressInfo({
    family, index: link.index, local,
    prefixlen: spec ? (spec.prefixlen as number) : Number(cidr.slice(slash + 1)),
    // As Address.spec: a loopback address is host scope.
    scope: spec ? (spec.scope as number) : cidr.startsWith('127.') ? (SCOPES.host as number) : 0,
    flags: spec ? (spec.flags as number) : 0,
    address: spec?.peer ? v.formatIp(spec.peer) : local,
    broadcast: spec?.broadcast ? v.formatIp(spec.broadcast) : '',
    // The kernel labels IPv4 addresses with the device name unless told otherwise.
    label: spec?.label ?? (family === 4 ? link.name : ''),
    validLft: spec?.validLft ?? 0xffffffff, preferredLft: spec?.preferredLft ?? spec?.validLft ?? 0xffffffff,
  });
}

function assertLink(link: unknown): Link {
  if (!(link instanceof Link)) throw new NetplumbError(C.INVALID_ARGUMENT, 'link must be a Link', { value: link, argument: 'link' });
  link.namespace.assertOpen();
  return link;
}

function broadcastOf(addr: v.ParsedCidr): Uint8Array {
  const out = new Uint8Array(addr.bytes);
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(8, addr.prefixlen - i * 8));
    out[i] = (out[i] as number) | (~(0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Addresses on links: `ip addr add / del / show`. */
export class Address {
  private constructor() {}

  /** @internal Builds and checks the request, before any syscall. */
  static spec(link: Link, cidr: string, opts: AddressOptions | undefined, op: 'new' | 'del'): AddrSpec {
    const o = opts === undefined ? NO_OPTIONS : v.options<AddressOptions>(opts, ADDRESS_KEYS, 'address options');
    const a = v.cidr(cidr, 'address', op === 'del' ? v.BARE_OK : undefined);
    let flags = 0;
    if (o.nodad !== undefined && v.bool(o.nodad, 'nodad')) flags |= ADDR_FLAGS.nodad as number;
    if (o.noprefixroute !== undefined && v.bool(o.noprefixroute, 'noprefixroute')) flags |= ADDR_FLAGS.noprefixroute as number;
    const loopback = a.family === 4 ? a.bytes[0] === 127 : a.text === '::1';
    const spec: AddrSpec = {
      op,
      family: a.family,
      prefixlen: a.prefixlen,
      index: link.index,
      local: a.bytes,
      flags,
      scope: o.scope !== undefined ? scopeOf(o.scope) : loopback ? SCOPES.host : 0,
    };
    if (o.replace !== undefined) spec.replace = v.bool(o.replace, 'replace');
    if (o.peer !== undefined) spec.peer = v.ip(o.peer, 'peer', a.family).bytes;
    if (o.broadcast !== undefined) {
      if (a.family !== 4) throw new NetplumbError(C.FAMILY_MISMATCH, 'broadcast applies to IPv4 addresses only', { argument: 'broadcast' });
      spec.broadcast = o.broadcast === true ? broadcastOf(a) : v.ip(o.broadcast, 'broadcast', 4).bytes;
    }
    if (o.label !== undefined) {
      if (a.family !== 4) throw new NetplumbError(C.FAMILY_MISMATCH, 'label applies to IPv4 addresses only', { argument: 'label' });
      spec.label = v.label(o.label);
    }
    if (o.validLifetime !== undefined) spec.validLft = v.uint(o.validLifetime, 'validLifetime');
    if (o.preferredLifetime !== undefined) spec.preferredLft = v.uint(o.preferredLifetime, 'preferredLifetime');
    return spec;
  }

  /**
   * `ip addr add CIDR dev LINK`: EEXIST if it is already there (unless `replace`).
   * Resolves to the address as requested (normalized); flags the kernel sets
   * later (tentative, permanent) show in `Address.list`.
   */
  static add(link: Link, cidr: string, opts?: AddressOptions): Promise<AddressInfo> {
    // Not an async function: its frame, its promise and the await's closures
    // per call cost more than a then() with two closures (bench/RESULTS.md,
    // 2026-12-02, sixth); the error is still made where the caller awaits.
    try {
      assertLink(link);
      // No options and an IPv4 CIDR: the addon parses the text (src/quick.cc).
      let held: boolean | undefined;
      if (opts === undefined) {
        const q = quickAddr(link.namespace.handle, false, link.index, cidr);
        if (typeof q === 'object') return kernelThen(q, madeInfo, addedText, undefined, link, cidr);
        held = q;
      }
      const spec = Address.spec(link, cidr, opts, 'new');
      return kernelThen(sendAddr(link.namespace.handle, spec, held), madeInfo, addedText, spec, link, cidr);
    } catch (e) {
      return rejected(e, cidr, link);
    }
  }

  /** `ip addr replace CIDR dev LINK` */
  static replace(link: Link, cidr: string, opts?: AddressOptions): Promise<AddressInfo> {
    return Address.add(link, cidr, { ...v.options<AddressOptions>(opts, ADDRESS_KEYS, 'address options'), replace: true });
  }

  /** `ip addr del CIDR dev LINK`: EADDRNOTAVAIL if it is not there. */
  static delete(link: Link, cidr: string): Promise<void> {
    // Not an async function: the caller awaits kernelDone()'s promise directly
    // (one promise and one async frame fewer per call).
    try {
      assertLink(link);
      const q = quickAddr(link.namespace.handle, true, link.index, cidr);
      if (typeof q === 'object') return kernelDone(q, addressText, cidr, link);
      return kernelDone(sendAddr(link.namespace.handle, Address.spec(link, cidr, undefined, 'del'), q), addressText, cidr, link);
    } catch (e) {
      return rejected(e, cidr, link);
    }
  }

  /** `ip addr show [dev LINK]`: every address of a namespace, or of one link (filtered by the kernel). */
  static async list(target: Namespace | Link, opts?: AddressListOptions): Promise<AddressInfo[]> {
    const o = v.options<AddressListOptions>(opts, ADDRESS_LIST_KEYS, 'Address.list');
    let ns: Namespace;
    let index = 0;
    if (target instanceof Namespace) ns = target.assertOpen();
    else {
      const link = assertLink(target);
      ns = link.namespace;
      index = link.index;
    }
    const family = o.family === undefined ? undefined : o.family === 4 || o.family === 6 ? o.family : (() => {
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    })();
    const spec: AddrSpec = { op: 'dump', index };
    if (family) spec.family = family;
    const raws = await kernel(sendAddr(ns.handle, spec), () => `addresses in namespace ${ns}`);
    return raws.map(addressInfo);
  }
}
provideAddresses(Address);
