import { ErrorCodes as C, NetplumbError } from './errors';
import { MAX_SHIFTED_RANGE } from './port-mapping';
import * as v from './validate';

/** Ephemeral host ports one spec may ask for (`-p 1000-2023`). */
const MAX_EPHEMERAL = 1024;

/**
 * A port to publish, as Docker reads `-p`:
 * - `hostPort` a port and `containerPort` a port: that host port;
 * - `hostPort` a range and `containerPort` a range of the same size: one to one;
 * - `hostPort` a range and `containerPort` one port: the first free host port of the range;
 * - `hostPort` 0 or absent: an ephemeral host port (one per container port of a range),
 *   from the host namespace's net.ipv4.ip_local_port_range.
 * The ports actually taken are in the endpoint's `ports`.
 */
export interface PublishSpec {
  hostPort?: number | [number, number];
  containerPort: number | [number, number];
  protocol?: 'tcp' | 'udp';
  /**
   * Only this host address: an IPv4 one publishes to the container's IPv4
   * address only, an IPv6 one to its IPv6 address only ('0.0.0.0' and '::':
   * every address of that family). Absent: every address of each family the
   * container has, as Docker does on a dual-stack network.
   */
  hostAddress?: string;
}

/** One mapping to make: what `PortMapping.publish` takes, less the target address. */
export interface PublishPlan {
  protocol: 'tcp' | 'udp';
  /** A port, a one-to-one range, a range to take one free port from, or 0 (ephemeral). */
  hostPort: number | [number, number] | { anyOf: [number, number] };
  /** The (first) container port. */
  containerPort: number;
  hostAddress?: string;
}

/**
 * Parses Docker's -p syntax, `[hostAddress:][hostPort[-end]:]containerPort[-end][/tcp|udp]`
 * (`8080:80`, `127.0.0.1:8080:80/udp`, `8000-8010:8000-8010`, `8080-8090:80`,
 * `80`, `127.0.0.1::80`; an IPv6 host address in brackets: `[::1]:8080:80`,
 * `[::]:8080:80`, `[2001:db8::1]:8000-8010:8000-8010`), or an object. Every number and address is checked
 * here, so connect() refuses a bad spec before it changes anything.
 */
export function parsePublish(spec: string | PublishSpec): PublishSpec {
  const port = (n: unknown, what: string) => v.uint(n, `${what} in publish spec ${v.describe(spec)}`, 65535, 1);
  const fail = (why: string) => new NetplumbError(C.INVALID_ARGUMENT, `publish ${v.describe(spec)}: ${why}`, { value: spec, argument: 'publish' });
  const range = (r: unknown, what: string): number | [number, number] => {
    if (!Array.isArray(r)) return port(r, what);
    if (r.length !== 2) throw fail(`${what} must be a port or [first, last]`);
    const [a, b] = [port(r[0], `${what}[0]`), port(r[1], `${what}[1]`)];
    if (b < a) throw fail(`${what} range ${a}-${b} is empty`);
    return a === b ? a : [a, b];
  };
  let o: PublishSpec;
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    o = { containerPort: range(spec.containerPort, 'containerPort') };
    if (spec.hostPort !== undefined && spec.hostPort !== 0) o.hostPort = range(spec.hostPort, 'hostPort');
    if (spec.protocol !== undefined) {
      if (spec.protocol !== 'tcp' && spec.protocol !== 'udp') throw fail(`invalid protocol ${v.describe(spec.protocol)}: 'tcp' or 'udp'`);
      o.protocol = spec.protocol;
    }
    if (spec.hostAddress !== undefined) o.hostAddress = v.formatIp(v.ip(spec.hostAddress, 'hostAddress').bytes);
  } else {
    if (typeof spec !== 'string') throw fail('use [ADDR:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|udp] ([IPV6ADDR]: for IPv6)');
    const m = /^(?:(?:(\d+\.\d+\.\d+\.\d+|\[[0-9A-Fa-f:.]+\]):)?(\d*)(?:-(\d+))?:)?(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(spec);
    if (!m || (m[3] !== undefined && m[2] === '')) throw fail('use [ADDR:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|udp] ([IPV6ADDR]: for IPv6)');
    const c0 = port(Number(m[4]), 'container port');
    const c1 = m[5] !== undefined ? port(Number(m[5]), 'last container port') : c0;
    if (c1 < c0) throw fail('the container port range is empty');
    o = { containerPort: c1 !== c0 ? [c0, c1] : c0, protocol: (m[6] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
    if (m[2]) {
      const h0 = port(Number(m[2]), 'host port');
      const h1 = m[3] !== undefined ? port(Number(m[3]), 'last host port') : h0;
      if (h1 < h0) throw fail('the host port range is empty');
      o.hostPort = h1 !== h0 ? [h0, h1] : h0;
    }
    if (m[1]) {
      // [ADDR] is IPv6 only (Docker's syntax): a bracketed IPv4 address is refused.
      const bracketed = m[1].startsWith('[');
      o.hostAddress = v.formatIp(v.ip(bracketed ? m[1].slice(1, -1) : m[1], 'host address', bracketed ? 6 : 4).bytes);
    }
  }
  const hostSpan = Array.isArray(o.hostPort) ? o.hostPort[1] - o.hostPort[0] : 0;
  const containerSpan = Array.isArray(o.containerPort) ? o.containerPort[1] - o.containerPort[0] : 0;
  if (o.hostPort !== undefined && containerSpan > 0 && hostSpan !== containerSpan) throw fail('host and container ranges differ in size');
  if (o.hostPort === undefined && containerSpan + 1 > MAX_EPHEMERAL) throw fail(`at most ${MAX_EPHEMERAL} container ports get ephemeral host ports at once`);
  if (Array.isArray(o.hostPort) && containerSpan > 0 && o.hostPort[0] !== (o.containerPort as [number, number])[0] && hostSpan + 1 > MAX_SHIFTED_RANGE)
    throw fail(`a host port range mapped onto other container ports is limited to ${MAX_SHIFTED_RANGE} ports; a range onto the same port numbers has no limit`);
  return o;
}

/** The mappings a (parsed) spec asks for: one, or one per container port for ephemeral host ports. */
export function planPublish(spec: PublishSpec): PublishPlan[] {
  const protocol = spec.protocol ?? 'tcp';
  const [c0, c1] = Array.isArray(spec.containerPort) ? spec.containerPort : [spec.containerPort, spec.containerPort];
  const extra = spec.hostAddress !== undefined ? { hostAddress: spec.hostAddress } : {};
  if (spec.hostPort === undefined) return Array.from({ length: c1 - c0 + 1 }, (_, i) => ({ protocol, hostPort: 0, containerPort: c0 + i, ...extra }));
  if (Array.isArray(spec.hostPort) && c0 === c1) return [{ protocol, hostPort: { anyOf: spec.hostPort }, containerPort: c0, ...extra }];
  return [{ protocol, hostPort: spec.hostPort, containerPort: c0, ...extra }];
}
