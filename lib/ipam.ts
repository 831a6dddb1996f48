import { ErrorCodes as C, NetplumbError } from './errors';
import * as v from './validate';

/** An IPv4 address as an unsigned 32-bit number. */
export function toInt(b: Uint8Array): number {
  return (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
}

/** The dotted quad of an unsigned 32-bit number. */
export function fromInt(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** 02:42:a:b:c:d for the IPv4 address a.b.c.d: unicast, locally administered (as Docker long did). */
export function macOf(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** An IPv4 subnet for containers, checked: no host bits, at most /30, the gateway a host address of it. */
export interface Subnet {
  /** The network address. */
  net: number;
  prefixlen: number;
  /** The gateway (the bridge's address). */
  gateway: number;
  /** 'a.b.c.d/len' */
  text: string;
}

/**
 * Checks a containers' subnet and its gateway as Docker does: a subnet with
 * host bits set is refused, naming the one probably meant (ERR_INVALID_CIDR);
 * the gateway defaults to the first host address.
 */
export function parseSubnet(subnet: unknown, gateway: unknown): Subnet {
  const s = v.cidr(subnet, 'subnet', { family: 4 });
  if (s.prefixlen > 30) throw new NetplumbError(C.INVALID_CIDR, `subnet ${String(subnet)} is too small for containers (at most /30)`, { argument: 'subnet' });
  const net = toInt(v.networkOf(s.bytes, s.prefixlen));
  if (net !== toInt(s.bytes))
    throw new NetplumbError(C.INVALID_CIDR, `subnet ${String(subnet)} has host bits set: did you mean ${fromInt(net)}/${s.prefixlen}?`, { value: subnet, argument: 'subnet' });
  const gw = gateway !== undefined ? toInt(v.ip(gateway, 'gateway', 4).bytes) : net + 1;
  if (gw <= net || gw >= net + 2 ** (32 - s.prefixlen) - 1)
    throw new NetplumbError(C.INVALID_ARGUMENT, `gateway ${fromInt(gw)} is not a host address of ${String(subnet)}`, { argument: 'gateway' });
  return { net, prefixlen: s.prefixlen, gateway: gw, text: `${fromInt(net)}/${s.prefixlen}` };
}

/** The arithmetic of one family's addresses: 32-bit numbers (IPv4) or 128-bit BigInts (IPv6). */
interface Arith<N extends number | bigint> {
  readonly family: 4 | 6;
  /** The `argument` errors about a requested address name. */
  readonly argument: string;
  readonly zero: N;
  of(b: Uint8Array): N;
  text(n: N): string;
  /** n + k, k a small integer. */
  plus(n: N, k: number): N;
  minus(a: N, b: N): N;
}

/**
 * Leases of one subnet's range, in one family's arithmetic (Ipam, Ipam6). The
 * state is sparse: the leased addresses only, never a bitmap of the subnet.
 * Allocation walks from a cursor past leased addresses, so it looks at no
 * more than (leases + 1) candidates whatever the subnet's size, and
 * exhaustion is known by counting leases, not by a scan. It holds no state of
 * its own that matters: the caller fills it from what the kernel holds
 * (`reset`) under the network's lock, allocates, and writes the lease into
 * the kernel before releasing the lock.
 */
abstract class Leases<N extends number | bigint> {
  readonly net: N;
  readonly prefixlen: number;
  readonly gateway: N;
  /** First and last address handed out. */
  readonly first: N;
  readonly last: N;
  readonly #a: Arith<N>;
  /** The first address past the subnet. */
  readonly #end: N;
  readonly #leases = new Set<N>();
  #cursor: N;

  /** lo..hi: the host addresses a range may take; end: the first address past the subnet. */
  protected constructor(a: Arith<N>, subnet: { net: N; prefixlen: number; gateway: N; text: string }, end: N, lo: N, hi: N, range: { start?: string; end?: string }) {
    this.#a = a;
    this.net = subnet.net;
    this.prefixlen = subnet.prefixlen;
    this.gateway = subnet.gateway;
    this.#end = end;
    const bound = (ip: string | undefined, name: string, dflt: N): N => {
      if (ip === undefined) return dflt;
      const n = a.of(v.ip(ip, name, a.family).bytes);
      if (n < lo || n > hi) throw new NetplumbError(C.INVALID_ARGUMENT, `${name} ${ip} is not a host address of ${subnet.text}`, { value: ip, argument: name });
      return n;
    };
    this.first = bound(range.start, 'rangeStart', lo);
    this.last = bound(range.end, 'rangeEnd', hi);
    if (this.last < this.first) throw new NetplumbError(C.INVALID_ARGUMENT, `rangeEnd ${a.text(this.last)} is before rangeStart ${a.text(this.first)}`, { argument: 'rangeEnd' });
    this.#cursor = this.first;
  }

  /** Is `n` an address of the subnet (network and top included)? */
  contains(n: N): boolean {
    return n >= this.net && n < this.#end;
  }

  has(n: N): boolean {
    return this.#leases.has(n);
  }

  /** Replaces the leases by these (as read from the kernel). */
  reset(leases: Iterable<N>): void {
    this.#leases.clear();
    for (const n of leases) this.#leases.add(n);
  }

  release(n: N): void {
    this.#leases.delete(n);
  }

  /** Leased addresses, sorted. */
  get leases(): N[] {
    return [...this.#leases].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  }

  /** How many addresses of first..last are free (the gateway and leases taken out). */
  get free(): N {
    const inRange = (n: N) => n >= this.first && n <= this.last;
    let used = 0;
    for (const n of this.#leases) if (inRange(n)) used++;
    if (inRange(this.gateway) && !this.#leases.has(this.gateway)) used++;
    return this.#a.plus(this.#a.minus(this.last, this.first), 1 - used);
  }

  /**
   * Leases `ip` (ERR_ADDRESS_IN_USE if taken, ERR_INVALID_ARGUMENT outside the
   * range), or the next free address after the last one handed out
   * (ERR_SUBNET_EXHAUSTED when none is left). `network` names it in errors.
   */
  allocate(ip: string | undefined, network: string): N {
    const a = this.#a;
    const range = `${a.text(this.first)}-${a.text(this.last)}`;
    if (ip !== undefined) {
      const n = a.of(v.ip(ip, a.argument, a.family).bytes);
      if (n < this.first || n > this.last) throw new NetplumbError(C.INVALID_ARGUMENT, `${ip} is not an address of network ${network}'s range ${range}`, { value: ip, argument: a.argument });
      if (n === this.gateway || this.#leases.has(n)) throw new NetplumbError(C.ADDRESS_IN_USE, `${ip} is already in use on network ${network}`, { value: ip, argument: a.argument });
      this.#leases.add(n);
      return n;
    }
    if (this.free <= a.zero) throw new NetplumbError(C.SUBNET_EXHAUSTED, `no free address left in ${range} on network ${network}`, { argument: a.argument });
    // A free address exists: at most (leases + gateway) taken ones are stepped over.
    let n = this.#cursor;
    while (n === this.gateway || this.#leases.has(n)) n = n >= this.last ? this.first : a.plus(n, 1);
    this.#leases.add(n);
    this.#cursor = n >= this.last ? this.first : a.plus(n, 1);
    return n;
  }
}

const V4: Arith<number> = { family: 4, argument: 'ip', zero: 0, of: toInt, text: fromInt, plus: (n, k) => n + k, minus: (x, y) => x - y };

/** Address management for one IPv4 subnet (32-bit numbers): see Leases. */
export class Ipam extends Leases<number> {
  constructor(subnet: Subnet, range: { start?: string; end?: string } = {}) {
    const size = 2 ** (32 - subnet.prefixlen);
    // A /31 or /32 has no network or broadcast address to keep out.
    const edge = subnet.prefixlen >= 31 ? 0 : 1;
    super(V4, subnet, subnet.net + size, subnet.net + edge, subnet.net + size - 1 - edge, range);
  }
}

/** An IPv6 address as an unsigned 128-bit BigInt. */
export function toBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** The canonical text of a 128-bit BigInt (as inet_ntop writes it). */
export function fromBig(n: bigint): string {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--, n >>= 8n) b[i] = Number(n & 0xffn);
  return v.formatIp(b);
}

/** 02:42 and the low 32 bits of an IPv6 address: the MAC of a container with no IPv4 address. */
export function macOf6(ip: bigint): string {
  return macOf(Number(ip & 0xffffffffn));
}

/**
 * The longest IPv6 prefix a container network takes. Addresses are assigned
 * statically (no SLAAC: router advertisements are off on the bridge and the
 * veths), so nothing in netplumb needs a /64; but the containers' own software
 * may (SLAAC, privacy addresses, anything that assumes 64-bit interface
 * identifiers, RFC 7421), so a longer prefix is refused (ERR_INVALID_CIDR).
 */
export const MAX_PREFIX6 = 64;

/** An IPv6 subnet for containers: /64 or shorter, no host bits, the gateway a host address of it. */
export interface Subnet6 {
  net: bigint;
  prefixlen: number;
  gateway: bigint;
  /** 'fd00::/64', canonical. */
  text: string;
}

/** Host addresses an IPv6 subnet never hands out at its top: the reserved anycast identifiers of RFC 2526 (128 of a /64). */
const RESERVED_TOP = 128n;

/** parseSubnet for IPv6: host bits refused naming the subnet meant, at most /64, the gateway defaulting to the first host address (::1 of the subnet). */
export function parseSubnet6(subnet: unknown, gateway: unknown): Subnet6 {
  const s = v.cidr(subnet, 'subnet', { family: 6 });
  if (s.prefixlen > MAX_PREFIX6)
    throw new NetplumbError(C.INVALID_CIDR, `IPv6 subnet ${String(subnet)} is longer than /${MAX_PREFIX6}: containers' IPv6 subnets are /64 or shorter (64-bit interface identifiers, as SLAAC needs)`, { value: subnet, argument: 'subnet' });
  const net = toBig(v.networkOf(s.bytes, s.prefixlen));
  if (net !== toBig(s.bytes))
    throw new NetplumbError(C.INVALID_CIDR, `subnet ${String(subnet)} has host bits set: did you mean ${fromBig(net)}/${s.prefixlen}?`, { value: subnet, argument: 'subnet' });
  const size = 1n << BigInt(128 - s.prefixlen);
  const gw = gateway !== undefined ? toBig(v.ip(gateway, 'gateway', 6).bytes) : net + 1n;
  if (gw <= net || gw >= net + size - RESERVED_TOP)
    throw new NetplumbError(C.INVALID_ARGUMENT, `gateway ${fromBig(gw)} is not a host address of ${String(subnet)}`, { argument: 'gateway' });
  return { net, prefixlen: s.prefixlen, gateway: gw, text: `${fromBig(net)}/${s.prefixlen}` };
}

const V6: Arith<bigint> = { family: 6, argument: 'ip6', zero: 0n, of: toBig, text: fromBig, plus: (n, k) => n + BigInt(k), minus: (x, y) => x - y };

/** Address management for one IPv6 subnet (128-bit BigInts): see Leases. */
export class Ipam6 extends Leases<bigint> {
  constructor(subnet: Subnet6, range: { start?: string; end?: string } = {}) {
    const size = 1n << BigInt(128 - subnet.prefixlen);
    // The subnet-router anycast address (host part 0) and the reserved top are never leased.
    super(V6, subnet, subnet.net + size, subnet.net + 1n, subnet.net + size - RESERVED_TOP - 1n, range);
  }
}
