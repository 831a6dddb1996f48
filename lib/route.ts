import { nameOf, PROTOCOLS, type Protocol, ROUTE_TYPES, type RouteType, SCOPES, type Scope, TABLES, type Table } from './constants';
import { ErrorCodes as C, kernel, kernelDone, NetplumbError } from './errors';
import { Link, resolveIndex } from './link';
import { quickRoute, sendRoute, type RawRoute, type RouteSpec } from './native';
import { Namespace, resolveNamespace } from './namespace';
import * as v from './validate';

/**
 * Options of `Route.add` / `Route.replace` / `Route.delete`: `ip route add PREFIX [via GW] [dev DEV] [table T] [metric N] [scope S] [src A] [proto P] [onlink] [mtu N]`.
 */
export interface RouteOptions {
  /** Namespace of the route. Default: `dev`'s namespace if dev is a Link, else the process's own. */
  namespace?: Namespace;
  /** Destination: 'default', a CIDR ('10.1.0.0/16'), or a host address. */
  to: string;
  /** Gateway address (`via`). */
  via?: string;
  /** Output device (`dev`): a Link, a name or an ifindex. */
  dev?: Link | string | number;
  /** Routing table. Default 'main'. */
  table?: Table;
  /** Metric / priority. Default: the kernel's (0 for IPv4, 1024 for IPv6). */
  metric?: number;
  /** Default: 'link' for a route without gateway, 'universe' otherwise (as ip does). */
  scope?: Scope;
  /** Preferred source address (`src`). */
  src?: string;
  /** Default 'unicast'. */
  type?: RouteType;
  /** Default 'boot' (as ip does). */
  protocol?: Protocol;
  /** Gateway is on-link even if no prefix covers it (`onlink`). */
  onlink?: boolean;
  /** Path MTU for this route (`mtu`). */
  mtu?: number;
  /** Address family when `to` is 'default' without a gateway. Default 4. */
  family?: 4 | 6;
  /**
   * ECMP: the hops of a multipath route (`ip route add PREFIX nexthop via A dev D weight W nexthop ...`),
   * sent as RTA_MULTIPATH. Replaces `via` and `dev`, which must then be left out. 1 to 64 hops.
   */
  nexthops?: NexthopOptions[];
}

/** One hop of a multipath route: `nexthop [via A] [dev D] [weight W]`. */
export interface NexthopOptions {
  /**
   * Gateway of this hop. Of the route's family, or an IPv6 gateway for an IPv4
   * route (sent as RTA_VIA, like `via inet6 ADDR`; the kernel needs `dev` then).
   */
  via?: string;
  /** Output device of this hop: a Link, a name or an ifindex. A hop needs `via` or `dev`. */
  dev?: Link | string | number;
  /** Share of the flows this hop takes, 1-256 (`weight`). Default 1. */
  weight?: number;
}

const ROUTE_KEYS: v.Keys<RouteOptions> = { namespace: true, to: true, via: true, dev: true, table: true, metric: true, scope: true, src: true, type: true, protocol: true, onlink: true, mtu: true, family: true, nexthops: true };
const NEXTHOP_KEYS: v.Keys<NexthopOptions> = { via: true, dev: true, weight: true };
/** Most hops one multipath route may have here. */
const MAX_NEXTHOPS = 64;

/** One hop of a multipath route as the kernel reports it. */
export interface NexthopInfo {
  /** Gateway (RTA_GATEWAY, or RTA_VIA's address). */
  via?: string;
  /** Output device ifindex. */
  oif: number;
  /** Output device name, when known. */
  dev?: string;
  /** 1-256. */
  weight: number;
  /** RTNH_F_* (dead, linkdown, onlink...), when any is set. */
  flags?: number;
}

/** One route as the kernel reports it (an entry of `ip -j route show`). */
export interface RouteInfo {
  family: 4 | 6;
  /** 'default' or 'network/prefixlen' (a host route shows as its address, like ip). */
  to: string;
  via?: string;
  /** Output device name, when known. */
  dev?: string;
  /** Output device ifindex. */
  oif?: number;
  table: string | number;
  metric?: number;
  scope: string | number;
  protocol: string | number;
  type: string | number;
  src?: string;
  flags: number;
  mtu?: number;
  /** The hops of a multipath (ECMP) route; such a route has no `via`/`dev` of its own. */
  nexthops?: NexthopInfo[];
}

/** Filter of `Route.list`: `ip -4|-6 route show [table T] [dev DEV]`. */
export interface RouteListOptions {
  /** Default: both. */
  family?: 4 | 6;
  /** Default 'main'; 'all' for every table. Filtered by the kernel. */
  table?: Table | 'all';
  /** Only routes out of this device (filtered by the kernel). */
  dev?: Link | string | number;
  /** Resolve output device names with one link dump. Default true. */
  names?: boolean;
}

const ROUTE_LIST_KEYS: v.Keys<RouteListOptions> = { family: true, table: true, dev: true, names: true };


function tableOf(t: unknown, argument = 'table'): number {
  if (typeof t === 'string' && Object.prototype.hasOwnProperty.call(TABLES, t)) return TABLES[t] as number;
  if (typeof t === 'number') return v.uint(t, argument, 0xffffffff, 1);
  throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${argument} ${v.describe(t)}: 'main', 'local', 'default' or 1-4294967295`, { value: t, argument });
}
function named(table: Record<string, number>, t: unknown, argument: string, max = 255): number {
  if (typeof t === 'number') return v.uint(t, argument, max);
  if (typeof t === 'string' && Object.prototype.hasOwnProperty.call(table, t)) return table[t] as number;
  throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${argument} ${v.describe(t)}: one of ${Object.keys(table).join(', ')} or a number`, { value: t, argument });
}

/** @internal A route as the kernel reports it, in the API's shape (device names from `names`, if given). */
export function routeInfo(r: RawRoute, names: Map<number, string> | undefined): RouteInfo {
  const full = r.family === 4 ? 32 : 128;
  const to = r.dstLen === 0 ? 'default' : r.dstLen === full ? r.dst : `${r.dst}/${r.dstLen}`;
  const out: RouteInfo = {
    family: r.family as 4 | 6,
    to,
    table: nameOf(TABLES, r.table),
    scope: nameOf(SCOPES, r.scope) === 'universe' ? 'global' : nameOf(SCOPES, r.scope),
    protocol: nameOf(PROTOCOLS, r.protocol),
    type: nameOf(ROUTE_TYPES, r.type),
    flags: r.flags,
  };
  if (r.gateway) out.via = r.gateway;
  if (r.oif) {
    out.oif = r.oif;
    const n = names?.get(r.oif);
    if (n) out.dev = n;
  }
  if (r.priority !== undefined) out.metric = r.priority;
  if (r.prefsrc) out.src = r.prefsrc;
  if (r.mtu) out.mtu = r.mtu;
  if (r.multipath)
    out.nexthops = r.multipath.map((nh) => {
      const x: NexthopInfo = { oif: nh.oif, weight: nh.weight };
      if (nh.gateway) x.via = nh.gateway;
      const n = names?.get(nh.oif);
      if (n) x.dev = n;
      if (nh.flags) x.flags = nh.flags;
      return x;
    });
  return out;
}

/** A checked hop: its spec without the device index, and the device to resolve. */
interface CheckedHop {
  spec: { gateway?: Uint8Array; weight: number };
  dev?: Link | string | number;
}

/**
 * Checks `nexthops` (before any system call): an array of 1 to MAX_NEXTHOPS
 * hops, no `via`/`dev` beside it, each hop an object with known keys, a `via`
 * or a `dev`, a weight of 1-256, gateways of one family (an IPv6 gateway of an
 * IPv4 route allowed: RTA_VIA), devices in the route's namespace.
 */
function checkNexthops(o: Partial<RouteOptions>, family: 4 | 6 | undefined, nsGiven: unknown): { list: CheckedHop[]; family?: 4 | 6; ns?: Namespace } {
  const bad = (msg: string, argument: string, value?: unknown) => new NetplumbError(C.INVALID_NEXTHOP, msg, { value, argument });
  const list = o.nexthops as unknown;
  if (o.via !== undefined || o.dev !== undefined)
    throw bad(`a multipath route takes its gateways and devices from nexthops: leave out ${o.via !== undefined ? 'via' : 'dev'}`, o.via !== undefined ? 'via' : 'dev');
  if (!Array.isArray(list)) throw bad(`invalid nexthops ${v.describe(list)}: must be an array of { via?, dev?, weight? }`, 'nexthops', list);
  if (list.length === 0 || list.length > MAX_NEXTHOPS) throw bad(`a multipath route needs 1 to ${MAX_NEXTHOPS} nexthops, got ${list.length}`, 'nexthops', list.length);
  let fam = o.family === 4 || o.family === 6 ? o.family : family;
  let ns: Namespace | undefined;
  const out = list.map((hop: unknown, i: number): CheckedHop => {
    const at = `nexthops[${i}]`;
    if (typeof hop !== 'object' || hop === null || Array.isArray(hop)) throw bad(`invalid ${at} ${v.describe(hop)}: must be an object { via?, dev?, weight? }`, at, hop);
    const h = v.options<NexthopOptions>(hop, NEXTHOP_KEYS, `Route nexthop ${at}`);
    if (h.via === undefined && h.dev === undefined) throw bad(`${at} needs a via or a dev`, at);
    const spec: CheckedHop['spec'] = { weight: h.weight === undefined ? 1 : v.uint(h.weight, `${at}.weight`, 256, 1) };
    if (h.via !== undefined) {
      const gw = v.ip(h.via, `${at}.via`);
      fam ??= gw.family;
      if (gw.family !== fam && !(fam === 4 && gw.family === 6))
        throw new NetplumbError(C.FAMILY_MISMATCH, `${at}.via ${h.via} is IPv${gw.family}, the route is IPv${fam}`, { value: h.via, argument: `${at}.via` });
      if (gw.family !== fam && h.dev === undefined) throw bad(`${at}: an IPv6 gateway of an IPv4 route needs a dev`, `${at}.dev`);
      spec.gateway = gw.bytes;
    }
    if (h.dev instanceof Link) {
      const where = nsGiven instanceof Namespace ? nsGiven : ns;
      if (where && !where.equals(h.dev.namespace)) throw new NetplumbError(C.WRONG_NAMESPACE, `${at}.dev ${h.dev.name} is not in namespace ${where}`, { argument: `${at}.dev` });
      ns ??= h.dev.namespace;
    } else if (h.dev !== undefined && typeof h.dev !== 'string' && typeof h.dev !== 'number') {
      throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${at}.dev ${v.describe(h.dev)}: a Link, a name or an ifindex`, { value: h.dev, argument: `${at}.dev` });
    }
    const c: CheckedHop = { spec };
    if (h.dev !== undefined) c.dev = h.dev;
    return c;
  });
  const r: { list: CheckedHop[]; family?: 4 | 6; ns?: Namespace } = { list: out };
  if (fam) r.family = fam;
  if (ns) r.ns = ns;
  return r;
}

/** A device as a route's text names it. */
const devName = (d: unknown): string => (d instanceof Link ? d.name : v.describe(d));

/** `route TO [via GW] [dev DEV] [nexthop...] in namespace NS`, for errors. */
function routeText(o: Partial<RouteOptions>, ns: Namespace): string {
  const hops = (o.nexthops ?? [])
    .map((h) => ` nexthop${h.via ? ` via ${h.via}` : ''}${h.dev !== undefined ? ` dev ${devName(h.dev)}` : ''}${h.weight !== undefined ? ` weight ${h.weight}` : ''}`)
    .join('');
  return `route ${o.to}${o.via ? ` via ${o.via}` : ''}${o.dev !== undefined ? ` dev ${devName(o.dev)}` : ''}${hops} in namespace ${ns}`;
}

/**
 * Hands a checked request to the addon. What stays alive while it is in
 * flight is kept small (a thousand in flight are what a scavenge copies): the
 * error's closure holds the options and the namespace, not the spec.
 */
function sendPrepared({ ns, spec, o }: Prepared, replace: boolean, held?: boolean): Promise<void> {
  if (replace) spec.replace = true;
  return kernelDone(sendRoute(ns.handle, spec, held), routeText, o, ns);
}

/**
 * The device of a plain route, `{ to: string, dev: Link }` and nothing else
 * (the call the quick hand-off takes), its namespace open; else undefined.
 * for-in as validate.known(): a key it visits besides the two sends the call
 * the full way. Every other option Route.spec reads must read as undefined
 * too: a getter, a non-enumerable property, a prototype's or a Proxy's is an
 * option for Route.spec, and for-in does not see them all.
 */
function plainDev(o: unknown): Link | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  let n = 0;
  for (const k in o) {
    if (k !== 'to' && k !== 'dev') return undefined;
    n++;
  }
  const r = o as Partial<RouteOptions>;
  if (n !== 2 || typeof r.to !== 'string') return undefined;
  const dev = r.dev;
  if (!(dev instanceof Link) || dev.namespace.closed) return undefined;
  return r.namespace === undefined && r.via === undefined && r.nexthops === undefined && r.family === undefined && r.table === undefined &&
    r.metric === undefined && r.scope === undefined && r.type === undefined && r.protocol === undefined && r.src === undefined &&
    r.onlink === undefined && r.mtu === undefined
    ? dev
    : undefined;
}

/** sendPrepared() once the slow path has looked up what the request names (a closure of its own, not #send's). */
const sendResolved = (p: Promise<Prepared>, replace: boolean): Promise<void> => p.then((q) => sendPrepared(q, replace));

/** A hop's device: its index when it is a Link of `ns`, else undefined (to be looked up). */
const here = (ns: Namespace, d: unknown): number | undefined => (d instanceof Link && ns.equals(d.namespace) ? d.index : undefined);

/** Every hop's device is a Link of `ns` (or absent). */
const hopsHere = (ns: Namespace, list: CheckedHop[]): boolean => list.every((h) => h.dev === undefined || here(ns, h.dev) !== undefined);

/** The hops as the addon takes them, their devices Links of `ns` (hopsHere). */
const hopsOf = (ns: Namespace, list: CheckedHop[]): NonNullable<RouteSpec['nexthops']> =>
  list.map((h) => ({ ...h.spec, oif: h.dev === undefined ? 0 : (here(ns, h.dev) as number) }));

/**
 * Route.spec's slow path: the namespace or a device named, looked up. Apart
 * from it, so that the fast path's variables are not kept in a context
 * allocated on every call for this function's closures.
 */
async function resolved(given: unknown, o: Partial<RouteOptions>, spec: RouteSpec, hops: CheckedHop[] | undefined): Promise<Prepared> {
  const ns = given instanceof Namespace ? given.assertOpen() : await resolveNamespace(given);
  if (o.dev instanceof Link && ns.equals(o.dev.namespace)) spec.oif = o.dev.index;
  else if (o.dev !== undefined) spec.oif = await resolveIndex(ns, o.dev, 'dev');
  if (hops)
    spec.nexthops = await Promise.all(
      hops.map(async (h, i) => ({ ...h.spec, oif: h.dev === undefined ? 0 : (here(ns, h.dev) ?? (await resolveIndex(ns, h.dev, `nexthops[${i}].dev`))) })),
    );
  return { ns, spec, o };
}

/** A checked route request, ready for the addon. */
interface Prepared {
  ns: Namespace;
  spec: RouteSpec;
  /** The options as given, for the error's text (routeText), made only on failure. */
  o: Partial<RouteOptions>;
}

/** Routes: `ip route add / replace / del / show`. */
export class Route {
  private constructor() {}

  /**
   * @internal Checks everything and builds the request. Synchronous for an open
   * Namespace and a Link (or no dev); a promise when a namespace or device must
   * be looked up by name. Bad input throws (the callers turn that into a rejection).
   */
  static spec(opts: unknown, op: 'new' | 'del'): Prepared | Promise<Prepared> {
    if (typeof opts !== 'object' || opts === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'route options must be an object', { value: opts, argument: 'options' });
    v.known(opts, ROUTE_KEYS, op === 'new' ? 'Route.add' : 'Route.delete');
    const o = opts as Partial<RouteOptions>;
    const nsGiven = o.namespace;
    const devNs = o.dev instanceof Link ? o.dev.namespace : undefined;
    if (nsGiven !== undefined && devNs && !(nsGiven instanceof Namespace && nsGiven.equals(devNs)))
      throw new NetplumbError(C.WRONG_NAMESPACE, `dev ${(o.dev as Link).name} is not in namespace ${nsGiven instanceof Namespace ? nsGiven : v.describe(nsGiven)}`, { argument: 'dev' });
    if (o.to === undefined) throw new NetplumbError(C.INVALID_ARGUMENT, "route needs 'to' ('default' or a CIDR)", { argument: 'to' });
    let family: 4 | 6 | undefined;
    let dst: Uint8Array | undefined;
    let dstLen = 0;
    if (o.to !== 'default') {
      const c = v.cidr(o.to, 'to', v.BARE_OK);
      family = c.family;
      dstLen = c.prefixlen;
      if (v.hostBitsSet(c.bytes, c.prefixlen))
        throw new NetplumbError(C.INVALID_CIDR, `invalid route destination ${o.to}: host bits set (did you mean ${v.formatIp(v.networkOf(c.bytes, c.prefixlen))}/${dstLen}?)`, { value: o.to, argument: 'to' });
      dst = c.bytes;
    }
    const gw = o.via !== undefined ? v.ip(o.via, 'via', family) : undefined;
    family ??= gw?.family;
    const hops = o.nexthops !== undefined ? checkNexthops(o, family, nsGiven) : undefined;
    family ??= hops?.family;
    if (o.family !== undefined) {
      if (o.family !== 4 && o.family !== 6) throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
      if (family && family !== o.family) throw new NetplumbError(C.FAMILY_MISMATCH, `route is IPv${family}, family says ${o.family}`, { argument: 'family' });
      family = o.family;
    }
    family ??= 4;
    // Every field a plain route sets, in one literal: no properties added
    // later (a backing store and map transitions per call).
    const spec: RouteSpec = { op, family, dstLen, dst, oif: 0 };
    if (gw) spec.gateway = gw.bytes;
    if (o.table !== undefined) spec.table = tableOf(o.table);
    if (o.metric !== undefined) spec.priority = v.uint(o.metric, 'metric');
    if (o.scope !== undefined) spec.scope = named(SCOPES, o.scope, 'scope');
    if (o.type !== undefined) spec.type = named(ROUTE_TYPES, o.type, 'type');
    if (o.protocol !== undefined) spec.protocol = named(PROTOCOLS, o.protocol, 'protocol');
    if (o.src !== undefined) spec.prefsrc = v.ip(o.src, 'src', family).bytes;
    if (o.onlink !== undefined) spec.onlink = v.bool(o.onlink, 'onlink');
    if (o.mtu !== undefined) spec.mtu = v.mtu(o.mtu);
    // Fast path: an open Namespace and Links (or no dev) need no await at all.
    const given = nsGiven ?? devNs ?? hops?.ns;
    if (given instanceof Namespace && (o.dev === undefined || here(given, o.dev) !== undefined) && (hops === undefined || hopsHere(given, hops.list))) {
      given.assertOpen();
      if (o.dev) spec.oif = (o.dev as Link).index;
      if (hops) spec.nexthops = hopsOf(given, hops.list);
      return { ns: given, spec, o };
    }
    return resolved(given, o, spec, hops?.list);
  }

  /** `ip route add ...`: EEXIST if the route is there already. */
  static add(opts: RouteOptions): Promise<void> {
    return Route.#send(opts, 'new', false);
  }

  /** `ip route replace ...`: adds, or replaces the route with the same destination, table and metric. */
  static replace(opts: RouteOptions): Promise<void> {
    return Route.#send(opts, 'new', true);
  }

  /** `ip route del ...`: ESRCH if no route matches. Unset fields match anything. */
  static delete(opts: RouteOptions): Promise<void> {
    return Route.#send(opts, 'del', false);
  }

  // Not an async function: on the fast path the request reaches the addon
  // during the call, and the caller awaits kernelDone()'s promise directly
  // (one promise and one await fewer per route; W2 in bench/).
  static #send(opts: RouteOptions, op: 'new' | 'del', replace: boolean): Promise<void> {
    try {
      // `{ to, dev }` with an IPv4 destination: the addon parses and checks
      // the text (src/quick.cc), one call instead of Route.spec and packing.
      // pace.ts is asked once per call: its answer goes with the call when
      // Route.spec comes to the same namespace (a getter may not).
      let asked: Namespace | undefined;
      let held = false;
      const dev = plainDev(opts);
      if (dev !== undefined) {
        asked = dev.namespace;
        const q = quickRoute(asked.handle, op === 'del', replace, dev.index, opts.to as string);
        if (typeof q === 'object') return kernelDone(q, routeText, opts, asked);
        held = q;
      }
      const p = Route.spec(opts, op);
      return 'then' in p ? sendResolved(p, replace) : sendPrepared(p, replace, p.ns === asked ? held : undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `ip route get DEST [from SRC] [iif DEV] [oif DEV]`: the route the kernel
   * would use, with the table it came from. ENETUNREACH etc. when none.
   */
  static async get(ns: Namespace, destination: string, opts?: { from?: string; iif?: Link | string | number; oif?: Link | string | number }): Promise<RouteInfo> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    ns.assertOpen();
    const o = v.options<{ from?: string; iif?: Link | string | number; oif?: Link | string | number }>(opts, { from: true, iif: true, oif: true }, 'Route.get');
    const dst = v.ip(destination, 'destination');
    const spec: RouteSpec = { op: 'get', family: dst.family, dst: dst.bytes, dstLen: dst.family === 4 ? 32 : 128 };
    if (o.from !== undefined) {
      const src = v.ip(o.from, 'from', dst.family);
      spec.src = src.bytes;
      spec.srcLen = dst.family === 4 ? 32 : 128;
    }
    if (o.iif !== undefined) spec.iif = await resolveIndex(ns, o.iif, 'iif');
    if (o.oif !== undefined) spec.oif = await resolveIndex(ns, o.oif, 'oif');
    const [raws, links] = await Promise.all([kernel(sendRoute(ns.handle, spec), `route to ${destination} in namespace ${ns}`), Link.list(ns)]);
    const names = new Map(links.map((l) => [l.index, l.name]));
    if (!raws[0]) throw new NetplumbError(C.INVALID_ARGUMENT, `no answer for route ${destination}`);
    return routeInfo(raws[0], names);
  }

  /** `ip route show [table T] [dev D]` for one namespace. */
  static async list(ns: Namespace, opts?: RouteListOptions): Promise<RouteInfo[]> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    ns.assertOpen();
    const o = v.options<RouteListOptions>(opts, ROUTE_LIST_KEYS, 'Route.list');
    if (o.family !== undefined && o.family !== 4 && o.family !== 6)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    const table = o.table === undefined ? TABLES.main : o.table === 'all' ? 0 : tableOf(o.table);
    const oif = o.dev !== undefined ? await resolveIndex(ns, o.dev, 'dev') : 0;
    const families: (4 | 6)[] = o.family ? [o.family] : [4, 6];
    const names = o.names === false ? undefined : Link.list(ns).then((ls) => new Map(ls.map((l) => [l.index, l.name])));
    const dumps = families.map((family) =>
      kernel(sendRoute(ns.handle, { op: 'dump', family, table: table as number, oif }), `routes in namespace ${ns}`).catch((e: unknown) => {
        // A table that exists for one family only: the other family has no routes in it.
        // The main table exists only once a route is in it: a fresh namespace has none.
        if ((!o.family || table === TABLES.main) && table !== 0 && (e as { code?: string }).code === 'ENOENT') return [] as RawRoute[];
        throw e;
      }),
    );
    const [map, ...lists] = await Promise.all([names, ...dumps]);
    // The kernel also reports cached clones for IPv6; ip shows only real routes.
    return (lists as RawRoute[][]).flat().filter((r) => (r.flags & 0x200) === 0).map((r) => routeInfo(r, map as Map<number, string> | undefined));
  }
}
