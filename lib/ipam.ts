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

/**
 * Address management for one subnet: which host addresses are leased, and
 * the next free one. It holds no state of its own that matters: the caller
 * fills it from what the kernel holds (`reset`) under the network's lock,
 * allocates, and writes the lease into the kernel before releasing the lock.
 */
export class Ipam {
  readonly net: number;
  readonly prefixlen: number;
  readonly gateway: number;
  /** First and last address handed out. */
  readonly first: number;
  readonly last: number;
  readonly #leases = new Set<number>();
  #cursor: number;

  constructor(subnet: Subnet, range: { start?: string; end?: string } = {}) {
    this.net = subnet.net;
    this.prefixlen = subnet.prefixlen;
    this.gateway = subnet.gateway;
    const size = 2 ** (32 - subnet.prefixlen);
    const lo = subnet.net + (subnet.prefixlen >= 31 ? 0 : 1);
    const hi = subnet.net + size - (subnet.prefixlen >= 31 ? 1 : 2);
    const bound = (ip: string | undefined, name: string, dflt: number) => {
      if (ip === undefined) return dflt;
      const n = toInt(v.ip(ip, name, 4).bytes);
      if (n < lo || n > hi) throw new NetplumbError(C.INVALID_ARGUMENT, `${name} ${ip} is not a host address of ${subnet.text}`, { value: ip, argument: name });
      return n;
    };
    this.first = bound(range.start, 'rangeStart', lo);
    this.last = bound(range.end, 'rangeEnd', hi);
    if (this.last < this.first) throw new NetplumbError(C.INVALID_ARGUMENT, `rangeEnd ${fromInt(this.last)} is before rangeStart ${fromInt(this.first)}`, { argument: 'rangeEnd' });
    this.#cursor = this.first;
  }

  /** Is `n` an address of the subnet (network and broadcast included)? */
  contains(n: number): boolean {
    return n >= this.net && n < this.net + 2 ** (32 - this.prefixlen);
  }

  has(n: number): boolean {
    return this.#leases.has(n);
  }

  /** Replaces the leases by these (as read from the kernel). */
  reset(leases: Iterable<number>): void {
    this.#leases.clear();
    for (const n of leases) this.#leases.add(n);
  }

  release(n: number): void {
    this.#leases.delete(n);
  }

  /** Leased addresses, sorted. */
  get leases(): number[] {
    return [...this.#leases].sort((a, b) => a - b);
  }

  /**
   * Leases `ip` (ERR_ADDRESS_IN_USE if taken, ERR_INVALID_ARGUMENT outside the
   * range), or the next free address after the last one handed out
   * (ERR_SUBNET_EXHAUSTED when none is left). `network` names it in errors.
   */
  allocate(ip: string | undefined, network: string): number {
    const range = `${fromInt(this.first)}-${fromInt(this.last)}`;
    if (ip !== undefined) {
      const n = toInt(v.ip(ip, 'ip', 4).bytes);
      if (n < this.first || n > this.last) throw new NetplumbError(C.INVALID_ARGUMENT, `${ip} is not an address of network ${network}'s range ${range}`, { value: ip, argument: 'ip' });
      if (n === this.gateway || this.#leases.has(n)) throw new NetplumbError(C.ADDRESS_IN_USE, `${ip} is already in use on network ${network}`, { value: ip, argument: 'ip' });
      this.#leases.add(n);
      return n;
    }
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const n = this.first + ((this.#cursor - this.first + i) % span);
      if (n === this.gateway || this.#leases.has(n)) continue;
      this.#leases.add(n);
      this.#cursor = n + 1 > this.last ? this.first : n + 1;
      return n;
    }
    throw new NetplumbError(C.SUBNET_EXHAUSTED, `no free address left in ${range} on network ${network}`, { argument: 'ip' });
  }
}
