// Fuzz-style property test of the whole public API, without new dependencies:
// a seeded generator of hostile values (strings with control characters,
// unicode, lone surrogates, NUL, '/', '..', huge, negative and fractional
// numbers, NaN, ±Infinity, bigints, symbols, null-prototype objects, arrays,
// functions, option objects with every known option key set to anything, and
// the real objects of the API: open and closed namespaces, links, bridges,
// networks...) is thrown at every public function and method, thousands of
// times. The addon is a fake (as in validation.test.ts) that answers like a
// kernel would, and fails at random (a native error shape).
//
// Property: every call either succeeds, or throws / rejects with a
// NetplumbError — or with a NetlinkError when the fake addon returned an error
// during that call. Never a TypeError, RangeError, a raw fs error, anything
// untyped; never a hang; never an unhandled rejection.
//
// PROP_SEED=N and PROP_CALLS=N replay or extend a run.
import * as net from 'node:net';

import * as fs from 'node:fs';

import {
  Address, Bridge, Fdb, Link, Macvlan, Namespace, Neighbor, NetlinkError, NetplumbError, Network, parsePublish, PortMapping, Route, Rule, VethPair, Vxlan, Watcher,
  type Endpoint,
} from '../../lib';
import type { RawLink } from '../../lib/native';
import { comment, OWNER_MARK } from '../../lib/nft';
import { prng } from '../helpers/reliability';

interface Ctl {
  /** Probability that a fake call fails with a native error. */
  failRate: number;
  rnd: () => number;
  /** Native errors handed out so far. */
  errors: number;
  calls: number;
}

jest.mock('../../lib/native', () => {
  const ctl: Ctl = { failRate: 0, rnd: Math.random, errors: 0, calls: 0 };
  let ino = 100;
  const fail = (syscall: string, extra: Record<string, unknown> = {}) => {
    ctl.errors++;
    const errnos = [1, 2, 13, 16, 17, 19, 22, 95, 99, 524];
    return Object.assign(new Error('fake'), { native: true, errno: errnos[Math.floor(ctl.rnd() * errnos.length)], syscall, ...extra });
  };
  /** Resolves `value`, or (at failRate) rejects with a native error. */
  const answer = <T>(syscall: string, value: () => T, extra?: Record<string, unknown>): Promise<T> => {
    ctl.calls++;
    if (ctl.rnd() < ctl.failRate) return Promise.reject(fail(syscall, extra));
    try {
      return Promise.resolve(value());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const hh = (n: number) => (n & 255).toString(16).padStart(2, '0');
  const raw = (index: number, name: string, kind: string): RawLink => ({
    index, name, kind, slaveKind: kind === 'veth' && index % 2 === 0 ? 'bridge' : '', flags: index % 3 === 0 ? 0x10043 : 0x1002, type: 1, mtu: 1500, minMtu: 68,
    maxMtu: 65535, mac: `02:00:00:00:${hh(index >> 8)}:${hh(index)}`, broadcast: 'ff:ff:ff:ff:ff:ff', operstate: 6, master: kind === 'veth' ? 4 : 0,
    link: kind === 'veth' ? index + 1 : 0, linkNetnsid: index % 5 === 0 ? 0 : -1, group: 0, txqlen: 1000, alias: index % 7 === 0 ? 'netplumb br0 10.0.0.9' : '',
    ...(kind === 'bridge' ? { data: { stp: 0, vlanFiltering: 0 } } : {}),
  });
  const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  // Address and route specs arrive packed (lib/native.ts): word 0 the op, word 3 the family.
  const unpacked = (wire: Uint8Array, ops: string[]): { op: string; family?: number } => {
    const w = new Uint32Array(wire.buffer, wire.byteOffset, 16);
    return { op: ops[w[0] as number] as string, family: w[3] || undefined };
  };
  const v = jest.requireActual<typeof import('../../lib/validate')>('../../lib/validate');
  const quickTakes = (s: unknown, what: 'route' | 'add' | 'del'): boolean => {
    try {
      const c = v.cidr(s, 'x', what === 'add' ? undefined : v.BARE_OK);
      return c.family === 4 && !(what === 'route' && v.hostBitsSet(c.bytes, c.prefixlen));
    } catch {
      return false;
    }
  };
  class FakeHandle {
    readonly byIndex = new Map<number, RawLink>();
    constructor(_mode: string, _path: string) {
      for (const l of [raw(1, 'lo', ''), raw(2, 'eth0', 'veth'), raw(3, 'veth0', 'veth'), raw(4, 'br0', 'bridge')]) this.byIndex.set(l.index, l);
    }
    ready() {
      return Promise.resolve({ ref: 99, dev: 1, ino: ino++ });
    }
    link(spec: { op: string; name?: string; index?: number; kind?: string }) {
      return answer(spec.op === 'new' ? 'RTM_NEWLINK' : spec.op === 'del' ? 'RTM_DELLINK' : spec.op === 'set' ? 'RTM_SETLINK' : 'RTM_GETLINK', () => {
        if (spec.op === 'dump') return [...this.byIndex.values()];
        if (spec.op !== 'get') return [];
        if (spec.name !== undefined) {
          if (/^(x|nosuch)/.test(spec.name)) throw fail('RTM_GETLINK');
          const found = [...this.byIndex.values()].find((l) => l.name === spec.name);
          if (found) return [found];
          const l = raw(5 + (hash(spec.name) % 10000), spec.name, spec.name.startsWith('br') ? 'bridge' : 'veth');
          this.byIndex.set(l.index, l);
          return [l];
        }
        const i = spec.index as number;
        return [this.byIndex.get(i) ?? raw(i, `if${i}`, 'veth')];
      });
    }
    addr(wire: Uint8Array) {
      const spec = unpacked(wire, ['new', 'del', 'dump']);
      return answer(spec.op === 'dump' ? 'RTM_GETADDR' : 'RTM_NEWADDR', () =>
        spec.op === 'dump' && spec.family !== 6
          ? [{ family: 4, prefixlen: 24, scope: 0, flags: 0x80, index: 4, local: '10.0.0.1', address: '10.0.0.1', broadcast: '', label: 'br0', validLft: 0xffffffff, preferredLft: 0xffffffff }]
          : [],
      );
    }
    route(wire: Uint8Array) {
      const spec = unpacked(wire, ['new', 'del', 'dump', 'get']);
      return answer('RTM_GETROUTE', () =>
        spec.op === 'dump' || spec.op === 'get'
          ? [{ family: spec.family ?? 4, dst: spec.family === 6 ? 'fd00::' : '10.0.0.0', dstLen: 24, src: '', srcLen: 0, gateway: '', prefsrc: '', oif: 4, iif: 0, table: 254, protocol: 2, scope: 253, type: 1, flags: 0, mtu: 0 }]
          : [],
      );
    }
    // The quick hand-off (src/quick.cc) takes a plain IPv4 CIDR, exactly as
    // validate.cidr does (test/integration/quick.test.ts), and declines the rest.
    addrText(del: number, _index: number, cidr: unknown) {
      return quickTakes(cidr, del ? 'del' : 'add') ? answer('RTM_NEWADDR', () => []) : null;
    }
    routeText(_del: number, _replace: number, _oif: number, to: unknown) {
      return quickTakes(to, 'route') ? answer('RTM_NEWROUTE', () => []) : null;
    }
    neigh() {
      return answer('RTM_GETNEIGH', () => []);
    }
    rule() {
      return answer('RTM_GETRULE', () => []);
    }
    nsid() {
      return answer('RTM_GETNSID', () => (ctl.rnd() < 0.5 ? 0 : -1));
    }
    setNsid() {
      return answer('RTM_NEWNSID', () => 0);
    }
    nftBatch(msgs: unknown[]) {
      return answer('NFT_MSG_NEWRULE', () => undefined, { index: Math.floor(ctl.rnd() * Math.max(1, msgs.length)) });
    }
    ctFlush() {
      return answer('IPCTNL_MSG_CT_DELETE', () => 0);
    }
    nftDump() {
      return answer('NFT_MSG_GETRULE', () => ({ exists: true, genid: 1, tableUserdata: Buffer.from(comment(OWNER_MARK)), chains: [], rules: [] }));
    }
    // Never a real fd: a fake one would reach net.Socket / dgram.
    socket() {
      ctl.calls++;
      return Promise.reject(fail('socket'));
    }
    sysctl() {
      return answer('write', () => '0');
    }
    close() {
      return Promise.resolve();
    }
    get pending() {
      return 0;
    }
  }
  const addon = {
    Handle: FakeHandle,
    removeNamespace: () => answer('umount2', () => undefined),
    attachNamespace: () => answer('mount', () => undefined),
    // Never really enters a namespace nor forks: spawn always gets a native error.
    enterNamespace: () => {
      ctl.calls++;
      ctl.errors++;
      return { native: true, errno: 1, syscall: 'setns' };
    },
    restoreNamespace: () => undefined,
    // A lock held by nobody else: an fd of our own, which withLock closes.
    tryLock: () => fs.openSync('/dev/null', 'r'),
  };
  // The packers (sendAddr, sendRoute) stay real: they call the fake handle.
  return { ...jest.requireActual<object>('../../lib/native'), native: () => addon, __ctl: ctl };
});

const ctl = (jest.requireMock('../../lib/native') as { __ctl: Ctl }).__ctl;

const SEED = Number(process.env.PROP_SEED ?? 0x5eed);
const CALLS = Number(process.env.PROP_CALLS ?? 20000);

// --------------------------------------------------------------- fixtures

interface Fx {
  ns: Namespace;
  ns2: Namespace;
  closed: Namespace;
  link: Link;
  other: Link;
  bridge: Bridge;
  pair: VethPair;
  network: Network;
  endpoint: Endpoint;
  mapping: PortMapping;
  server: net.Server;
}

let nsCount = 0;
async function fixture(): Promise<Fx> {
  const rate = ctl.failRate;
  ctl.failRate = 0;
  try {
    const ns = await Namespace.create(`pn${nsCount++}`);
    const ns2 = await Namespace.create(`pn${nsCount++}`);
    const closed = await Namespace.create(`pn${nsCount++}`);
    await closed.close();
    const link = await Link.get(ns, 'veth0');
    const other = await Link.get(ns2, 'eth0');
    const bridge = await Bridge.get(ns, 'br0');
    const pair = await VethPair.create('vp0', { namespace: ns, peerIn: ns2, peerName: 'eth1' });
    const network = await Network.bridge({ name: 'br0', subnet: '10.0.0.0/24', namespace: ns });
    const endpoint = await network.connect(ns2, { publish: ['8080:80'] });
    const mapping = await PortMapping.publish({ namespace: ns, hostPort: 9090, to: '10.0.0.5:90', bridge });
    // The endpoint is a plain object, handed around as an argument: nothing may change it behind the test's back.
    Object.freeze(endpoint);
    return { ns, ns2, closed, link, other, bridge, pair, network, endpoint, mapping, server: net.createServer() };
  } finally {
    ctl.failRate = rate;
  }
}

// --------------------------------------------------------------- the generator

const OPTION_KEYS = [
  'namespace', 'peerName', 'peerIn', 'master', 'up', 'peerUp', 'mtu', 'mac', 'peerMac', 'group', 'address', 'stp', 'vlanFiltering', 'nodad',
  'broadcast', 'peer', 'label', 'scope', 'noprefixroute', 'validLifetime', 'preferredLifetime', 'replace', 'family', 'to', 'via', 'dev', 'table',
  'metric', 'src', 'type', 'protocol', 'onlink', 'from', 'iif', 'oif', 'fwmark', 'fwmask', 'tos', 'priority', 'action', 'not', 'lladdr', 'state',
  'router', 'target', 'vlan', 'dst', 'vni', 'kind', 'name', 'hostPort', 'hostAddress', 'bridge', 'localhost', 'containerPort', 'ip', 'ifname',
  'hostIfname', 'publish', 'subnet', 'gateway', 'masquerade', 'icc', 'port', 'host', 'backlog', 'input', 'maxBuffer', 'names', 'timeout', 'keepAlive',
  'parent', 'in', 'mode', 'id', 'remote', 'group', 'local', 'links', 'addresses', 'routes',
] as const;

const GOOD_STRINGS = [
  'eth0', 'veth0', 'br0', 'lo', 'xgone0', 'eth0:1', '10.0.0.1/24', '10.0.0.2', '10.0.0.0/24', '172.17.0.0/16', 'fd00::1/64', 'fd00::2', '::1', '0.0.0.0/0',
  '02:00:00:00:00:01', '02-00-00-00-00-02', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', 'default', 'main', 'local', 'link', 'host', 'global', 'universe',
  'permanent', 'reachable', 'static', 'dynamic', 'master', 'self', 'tcp', 'udp', 'udp4', 'udp6', 'veth', 'bridge', 'none', 'container:pn0',
  'private', 'vepa', 'passthru', '239.1.1.1', 'ff02::1',
  'container:1', '8080:80', '127.0.0.1:8080:80/udp', '8000-8010:8000-8010', '10.0.0.5:80', 'net.ipv4.ip_forward', 'net/ipv4/conf/all/forwarding',
  'net.ipv4.conf.eth0.rp_filter', '/proc/self/ns/net', '/run/netns/pn0', 'pn0', 'blackhole', 'unicast', 'boot', 'prohibit', 'nop', 'table', 'goto', '/bin/true',
];

function hostileString(rnd: () => number): string {
  const pieces = [
    '', '.', '..', '/', '../..', '\0', 'a\0b', '\n', '\t', ' ', '\x7f', '\x01', 'é', 'à', '\u00a0', '\u202e', '\ud800', '\udc00x', '😀', 'ﬀ', '\u0301',
    '%', 'fe80::1%eth0', '1.2.3.4/33', '300.1.1.1', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8:9', '10.0.0.1/', '/24', '0x10', '1e3', '-1', '65536', 'NaN',
    'constructor', '__proto__', 'toString', 'hasOwnProperty', 'net', 'net..ipv4', 'net/../..', 'net.ipv4.ip_forward\n1',
    'y'.repeat(300), `/${'z'.repeat(256)}`, '/proc/self/ns/net/x', '/proc/1/ns/net',
  ];
  let s = '';
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) s += rnd() < 0.6 ? (pieces[Math.floor(rnd() * pieces.length)] as string) : String.fromCharCode(Math.floor(rnd() * 0x3000));
  if (rnd() < 0.05) s = s + 'x'.repeat(Math.floor(rnd() * 5000));
  return s;
}

const NUMBERS = [0, -0, 1, -1, 2, 4, 6, 7, 17, 68, 1500, 65535, 65536, 1.5, -1.5, 0.1, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, -(2 ** 31), Number.MAX_VALUE, Number.MIN_VALUE, 4194304, 4194305, 1e21];

function value(rnd: () => number, fx: Fx, depth = 0): unknown {
  const r = rnd();
  if (r < 0.2) return rnd() < 0.5 ? GOOD_STRINGS[Math.floor(rnd() * GOOD_STRINGS.length)] : hostileString(rnd);
  if (r < 0.35) return NUMBERS[Math.floor(rnd() * NUMBERS.length)];
  if (r < 0.4) return Math.floor(rnd() * 70000) - 100;
  if (r < 0.45) return [true, false, null, undefined][Math.floor(rnd() * 4)];
  if (r < 0.5) return [0n, 1n, -1n, 80n, 2n ** 64n][Math.floor(rnd() * 5)];
  if (r < 0.53) return Symbol(hostileString(rnd));
  if (r < 0.68) {
    const objs: unknown[] = [fx.ns, fx.ns2, fx.closed, fx.link, fx.other, fx.bridge, fx.pair, fx.network, fx.endpoint, fx.mapping, fx.server, fx.pair.peer, fx.endpoint.link];
    return objs[Math.floor(rnd() * objs.length)];
  }
  if (r < 0.75) {
    const misc: (() => unknown)[] = [
      () => ({}), () => Object.create(null), () => [], () => [1, 2], () => ['a', 'b'], () => [8080, 8081], () => [65535, 1], () => new Date(0), () => /re/,
      () => new Map(), () => Buffer.from('eth0'), () => new Uint8Array(6), () => () => 1, () => ({ fd: 99, handle: {}, name: 'x' }),
      () => ({ index: 3, namespace: fx.ns }), () => Object.assign(Object.create(null), { to: 'default' }), () => new Error('x'),
      () => ({ toString: () => 'eth0' }), () => ({ valueOf: () => 1500 }), () => [fx.ns, fx.ns2], () => [fx.ns, 'x'],
    ];
    return (misc[Math.floor(rnd() * misc.length)] as () => unknown)();
  }
  if (depth > 1) return undefined;
  // An options object: known keys, anything as values.
  const o: Record<string, unknown> = rnd() < 0.1 ? Object.create(null) : {};
  const n = 1 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) o[OPTION_KEYS[Math.floor(rnd() * OPTION_KEYS.length)] as string] = value(rnd, fx, depth + 1);
  if (rnd() < 0.3) o.namespace = rnd() < 0.7 ? fx.ns : fx.closed;
  return o;
}

// --------------------------------------------------------------- the surface

type Call = (fx: Fx, a: unknown[]) => unknown;
/* eslint-disable @typescript-eslint/no-explicit-any */
const A = (x: unknown): any => x;

const SURFACE: Record<string, Call> = {
  // Namespace (static)
  'Namespace.create': (_, a) => Namespace.create(A(a[0])),
  'Namespace.open': (_, a) => Namespace.open(A(a[0])),
  'Namespace.fromPid': (_, a) => Namespace.fromPid(A(a[0])),
  'Namespace.fromPath': (_, a) => Namespace.fromPath(A(a[0])),
  'Namespace.current': () => Namespace.current(),
  'Namespace.attach': (_, a) => Namespace.attach(A(a[0]), A(a[1])),
  'Namespace.list': () => Namespace.list(),
  'Namespace.delete': (_, a) => Namespace.delete(A(a[0])),
  // Namespace (instance)
  'namespace.equals': (f, a) => f.ns.equals(A(a[0])),
  'namespace.idOf': (f, a) => f.ns.idOf(A(a[0])),
  'namespace.setId': (f, a) => f.ns.setId(A(a[0]), A(a[1])),
  'namespace.spawn': (f, a) => f.ns.spawn(A(a[0]), A(a[1]), A(a[2])),
  'namespace.exec': (f, a) => f.ns.exec(A(a[0]), A(a[1]), A(a[2])),
  'namespace.listen': (f, a) => f.ns.listen(A(a[0]), A(a[1])),
  'namespace.connect': (f, a) => f.ns.connect(A(a[0])),
  'namespace.agent': (f, a) => f.ns.agent(A(a[0])),
  'namespace.createSocket': (f, a) => f.ns.createSocket(A(a[0]), A(a[1])),
  'namespace.link': (f, a) => f.ns.link(A(a[0])),
  'namespace.loopback': (f) => f.ns.loopback,
  'namespace.assertOpen': (f, a) => (a.length ? f.closed : f.ns).assertOpen(),
  'namespace.toString': (f) => f.ns.toString(),
  'namespace.delete': (f) => f.ns.delete(),
  'namespace.close': (f) => f.ns.close(),
  'namespace.asyncDispose': (f) => f.ns[Symbol.asyncDispose](),
  'sysctl.get': (f, a) => f.ns.sysctl.get(A(a[0])),
  'sysctl.set': (f, a) => f.ns.sysctl.set(A(a[0]), A(a[1])),
  // Link
  'Link.list': (_, a) => Link.list(A(a[0]), A(a[1])),
  'Link.get': (_, a) => Link.get(A(a[0]), A(a[1])),
  'Link.deleteGroup': (_, a) => Link.deleteGroup(A(a[0]), A(a[1])),
  'link.refresh': (f) => f.link.refresh(),
  'link.up': (f) => f.link.up(),
  'link.down': (f) => f.link.down(),
  'link.rename': (f, a) => f.link.rename(A(a[0])),
  'link.setMtu': (f, a) => f.link.setMtu(A(a[0])),
  'link.setMac': (f, a) => f.link.setMac(A(a[0])),
  'link.setMaster': (f, a) => f.link.setMaster(A(a[0])),
  'link.clearMaster': (f) => f.link.clearMaster(),
  'link.setHairpin': (f, a) => f.link.setHairpin(A(a[0])),
  'link.moveTo': (f, a) => f.link.moveTo(A(a[0]), A(a[1])),
  'link.peer': (f, a) => f.link.peer(A(a[0])),
  'link.delete': (f) => f.link.delete(),
  'link.asyncDispose': (f) => f.link[Symbol.asyncDispose](),
  'link.addAddress': (f, a) => f.link.addAddress(A(a[0]), A(a[1])),
  'link.removeAddress': (f, a) => f.link.removeAddress(A(a[0])),
  'link.addresses': (f, a) => f.link.addresses(A(a[0])),
  'link.toJSON': (f) => f.link.toJSON(),
  'link.isUp/hasCarrier': (f) => [f.link.isUp, f.link.hasCarrier],
  // VethPair
  'VethPair.create': (_, a) => VethPair.create(A(a[0]), A(a[1])),
  'pair.delete': (f) => f.pair.delete(),
  'pair.asyncDispose': (f) => f.pair[Symbol.asyncDispose](),
  // Bridge
  'Bridge.create': (_, a) => Bridge.create(A(a[0]), A(a[1])),
  'Bridge.get': (_, a) => Bridge.get(A(a[0]), A(a[1])),
  'Bridge.listBridges': (_, a) => Bridge.listBridges(A(a[0])),
  'Macvlan.create': (_, a) => Macvlan.create(A(a[0]), A(a[1])),
  'Vxlan.create': (_, a) => Vxlan.create(A(a[0]), A(a[1])),
  'Watcher.open': (_, a) => Watcher.open(A(a[0]), A(a[1])),
  'bridge.addPort': (f, a) => f.bridge.addPort(A(a[0])),
  'bridge.removePort': (f, a) => f.bridge.removePort(A(a[0])),
  'bridge.ports': (f) => f.bridge.ports(),
  'bridge.publish': (f, a) => f.bridge.publish(A(a[0])),
  'bridge.setStp': (f, a) => f.bridge.setStp(A(a[0])),
  // Address
  'Address.add': (_, a) => Address.add(A(a[0]), A(a[1]), A(a[2])),
  'Address.replace': (_, a) => Address.replace(A(a[0]), A(a[1]), A(a[2])),
  'Address.delete': (_, a) => Address.delete(A(a[0]), A(a[1])),
  'Address.list': (_, a) => Address.list(A(a[0]), A(a[1])),
  // Route
  'Route.add': (_, a) => Route.add(A(a[0])),
  'Route.replace': (_, a) => Route.replace(A(a[0])),
  'Route.delete': (_, a) => Route.delete(A(a[0])),
  'Route.get': (_, a) => Route.get(A(a[0]), A(a[1]), A(a[2])),
  'Route.list': (_, a) => Route.list(A(a[0]), A(a[1])),
  // Neighbor, Fdb, Rule
  'Neighbor.add': (_, a) => Neighbor.add(A(a[0])),
  'Neighbor.replace': (_, a) => Neighbor.replace(A(a[0])),
  'Neighbor.delete': (_, a) => Neighbor.delete(A(a[0])),
  'Neighbor.list': (_, a) => Neighbor.list(A(a[0]), A(a[1])),
  'Fdb.add': (_, a) => Fdb.add(A(a[0])),
  'Fdb.delete': (_, a) => Fdb.delete(A(a[0])),
  'Fdb.list': (_, a) => Fdb.list(A(a[0]), A(a[1])),
  'Rule.add': (_, a) => Rule.add(A(a[0])),
  'Rule.delete': (_, a) => Rule.delete(A(a[0])),
  'Rule.list': (_, a) => Rule.list(A(a[0]), A(a[1])),
  // PortMapping
  'PortMapping.publish': (_, a) => PortMapping.publish(A(a[0])),
  'PortMapping.list': (_, a) => PortMapping.list(A(a[0])),
  'mapping.unpublish': (f) => f.mapping.unpublish(),
  'mapping.toString/toJSON': (f) => [f.mapping.toString(), f.mapping.toJSON()],
  'mapping.asyncDispose': (f) => f.mapping[Symbol.asyncDispose](),
  // Network
  'Network.bridge': (_, a) => Network.bridge(A(a[0])),
  'Network.mode': (_, a) => Network.mode(A(a[0]), A(a[1])),
  'network.connect': (f, a) => f.network.connect(A(a[0]), A(a[1])),
  'network.disconnect': (f, a) => f.network.disconnect(A(a.length ? a[0] : f.endpoint)),
  'endpoint.disconnect': (f) => f.endpoint.disconnect(),
  'network.disconnectAll': (f) => f.network.disconnectAll(),
  'network.delete': (f) => f.network.delete(),
  'network.rediscover': (f) => f.network.rediscover(),
  'network.contains': (f, a) => f.network.contains(A(a[0])),
  'network.leases': (f) => f.network.leases,
  'network.asyncDispose': (f) => f.network[Symbol.asyncDispose](),
  parsePublish: (_, a) => parsePublish(A(a[0])),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Valid arguments for each function: mutated (0–2 fields or positions replaced by random values) to reach deep code. */
const MAC = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
const VALID: Record<string, (f: Fx) => unknown[]> = {
  'Namespace.create': () => ['pnv'],
  'Namespace.open': () => ['pn0'],
  'Namespace.fromPid': () => [process.pid],
  'Namespace.fromPath': () => ['/proc/self/ns/net'],
  'Namespace.attach': () => ['pna', process.pid],
  'Namespace.delete': () => ['pn0'],
  'namespace.equals': (f) => [f.ns2],
  'namespace.idOf': (f) => [f.ns2],
  'namespace.setId': (f) => [f.ns2, 5],
  'namespace.spawn': () => ['/bin/true', ['-x'], { env: {} }],
  'namespace.exec': () => ['/bin/true', ['-x'], { input: 'x', maxBuffer: 100 }],
  'namespace.listen': (f) => [f.server, { port: 8080, host: '0.0.0.0', backlog: 5 }],
  'namespace.connect': () => [{ host: '10.0.0.2', port: 80 }],
  'namespace.agent': () => [{ keepAlive: true }],
  'namespace.createSocket': () => ['udp4', { port: 53, address: '0.0.0.0' }],
  'namespace.link': () => ['eth0'],
  'sysctl.get': () => ['net.ipv4.ip_forward'],
  'sysctl.set': () => ['net.ipv4.conf.all.forwarding', 1],
  'Link.list': (f) => [f.ns, { kind: 'veth', master: 'br0' }],
  'Link.get': (f) => [f.ns, 'eth0'],
  'Link.deleteGroup': (f) => [f.ns, 5],
  'link.rename': () => ['eth9'],
  'link.setMtu': () => [1400],
  'link.setMac': () => [MAC(9)],
  'link.setMaster': () => ['br0'],
  'link.setHairpin': () => [true],
  'link.moveTo': (f) => [f.ns2, { name: 'eth5' }],
  'link.peer': (f) => [[f.ns2]],
  'link.addAddress': () => ['10.0.0.9/24', { nodad: true, broadcast: true, label: 'veth0:1', scope: 'global', validLifetime: 100, preferredLifetime: 50, peer: '10.0.0.10', noprefixroute: true, replace: true }],
  'link.removeAddress': () => ['10.0.0.9/24'],
  'link.addresses': () => [{ family: 4 }],
  'VethPair.create': (f) => ['vx0', { namespace: f.ns, peerName: 'eth7', peerIn: f.ns2, master: 'br0', up: true, peerUp: true, mtu: 1400, mac: MAC(10), peerMac: MAC(11), group: 3 }],
  'Bridge.create': (f) => ['br5', { namespace: f.ns, address: ['10.5.0.1/24', 'fd05::1/64'], up: true, mtu: 1500, mac: MAC(12), stp: false, vlanFiltering: false }],
  'Bridge.get': (f) => [f.ns, 'br0'],
  'Bridge.listBridges': (f) => [f.ns],
  'Macvlan.create': (f) => ['mv5', { parent: f.link, in: f.ns2, mode: 'bridge', mtu: 1500, mac: MAC(13), up: true }],
  'Vxlan.create': (f) => ['vx5', { id: 42, port: 4789, remote: '10.0.0.2', local: '10.0.0.1', dev: f.link, mtu: 1450, up: true }],
  'Watcher.open': (f) => [f.ns, { links: true, addresses: true, routes: false, family: 4 }],
  'bridge.addPort': (f) => [f.link],
  'bridge.removePort': () => ['veth0'],
  'bridge.publish': () => [{ hostPort: 8081, to: '10.0.0.5:81', protocol: 'udp', hostAddress: '10.0.0.1', localhost: true }],
  'bridge.setStp': () => [true],
  'Address.add': (f) => [f.link, '10.0.0.9/24', { nodad: false, broadcast: '10.0.0.255', scope: 'link' }],
  'Address.replace': (f) => [f.link, 'fd00::9/64', { nodad: true }],
  'Address.delete': (f) => [f.link, '10.0.0.9'],
  'Address.list': (f) => [f.ns, { family: 6 }],
  'Route.add': (f) => [{ namespace: f.ns, to: '10.9.0.0/16', via: '10.0.0.254', dev: 'br0', table: 'main', metric: 10, scope: 'universe', src: '10.0.0.1', type: 'unicast', protocol: 'static', onlink: true, mtu: 1400 }],
  'Route.replace': (f) => [{ namespace: f.ns, to: 'default', via: 'fd00::1', dev: f.link, family: 6, table: 100 }],
  'Route.delete': (f) => [{ namespace: f.ns, to: '10.9.0.0/16', dev: 4 }],
  'Route.get': (f) => [f.ns, '10.9.1.1', { from: '10.0.0.1', iif: 'lo', oif: f.link }],
  'Route.list': (f) => [f.ns, { family: 4, table: 'all', dev: 'br0', names: true }],
  'Neighbor.add': (f) => [{ dev: f.link, address: '10.0.0.7', lladdr: MAC(7), state: 'permanent', router: false }],
  'Neighbor.replace': (f) => [{ dev: f.link, address: 'fd00::7', lladdr: MAC(7), state: 'reachable', router: true }],
  'Neighbor.delete': (f) => [{ dev: f.link, address: '10.0.0.7' }],
  'Neighbor.list': (f) => [f.ns, { family: 4 }],
  'Fdb.add': (f) => [{ dev: f.link, lladdr: MAC(8), target: 'master', state: 'static', vlan: 10, dst: '10.0.0.2', vni: 5 }],
  'Fdb.delete': (f) => [{ dev: f.link, lladdr: '00:00:00:00:00:00', target: 'self', state: 'dynamic' }],
  'Fdb.list': (f) => [f.ns, { bridge: 'br0' }],
  'Rule.add': (f) => [{ namespace: f.ns, family: 4, from: '10.0.0.0/24', to: '10.1.0.0/16', iif: 'eth0', oif: 'br0', fwmark: 1, fwmask: 255, tos: 0, table: 100, priority: 1000, action: 'table', not: false }],
  'Rule.delete': (f) => [{ namespace: f.ns, priority: 1000, action: 'blackhole' }],
  'Rule.list': (f) => [f.ns, { family: 6 }],
  'PortMapping.publish': (f) => [{ namespace: f.ns, protocol: 'tcp', hostPort: [8000, 8010], hostAddress: '10.0.0.1', to: '10.0.0.5:8000', bridge: f.bridge, localhost: false }],
  'PortMapping.list': (f) => [f.ns],
  'Network.bridge': (f) => [{ name: 'br7', subnet: '10.7.0.0/24', gateway: '10.7.0.1', mtu: 1500, masquerade: true, icc: false, namespace: f.ns }],
  'Network.mode': () => ['none', { name: 'pnnone' }],
  'network.connect': (f) => [f.ns2, { ip: '10.0.0.20', mac: MAC(20), ifname: 'eth3', hostIfname: 'vethabc', publish: ['8082:82', { hostPort: 8083, containerPort: 83, protocol: 'udp' }] }],
  'network.disconnect': (f) => [f.endpoint],
  'network.contains': () => ['10.0.0.3'],
  parsePublish: () => ['127.0.0.1:8080-8081:80-81/udp'],
};

/** Replaces 0–2 positions or option fields of valid arguments with random values. */
function mutate(rnd: () => number, fx: Fx, args: unknown[]): unknown[] {
  const out = [...args];
  const n = Math.floor(rnd() * 3);
  for (let i = 0; i < n && out.length; i++) {
    const at = Math.floor(rnd() * out.length);
    const a = out[at];
    if (a && typeof a === 'object' && !Array.isArray(a) && Object.getPrototypeOf(a) === Object.prototype && rnd() < 0.8) {
      // A copy: the object may be one of the fixtures (a random value put there by a previous round).
      const c: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      const keys = Object.keys(c);
      const k = rnd() < 0.8 && keys.length ? (keys[Math.floor(rnd() * keys.length)] as string) : (OPTION_KEYS[Math.floor(rnd() * OPTION_KEYS.length)] as string);
      if (rnd() < 0.15) delete c[k];
      else c[k] = value(rnd, fx, 1);
      out[at] = c;
    } else {
      out[at] = value(rnd, fx);
    }
  }
  return out;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return 'Symbol()';
  if (typeof v === 'function') return 'function';
  if (v instanceof Namespace) return `Namespace(${v.closed ? 'closed' : 'open'})`;
  if (v instanceof Link) return `Link(${v.name})`;
  if (v === null || typeof v !== 'object') return String(v);
  if (Object.getPrototypeOf(v) === null) return `[null-prototype ${JSON.stringify(Object.keys(v))}]`;
  if (Array.isArray(v)) return `[${v.map(describeValue).join(', ')}]`;
  if (v.constructor !== Object) return v.constructor.name;
  return `{${Object.entries(v).map(([k, x]) => `${k}: ${describeValue(x)}`).join(', ')}}`;
}

const HANG_MS = 2000;

it(`${CALLS} calls with random arguments (seed ${SEED}) to every public function: only typed errors`, async () => {
  const rnd = prng(SEED);
  ctl.rnd = prng(SEED ^ 0xa5a5a5a5);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);

  const names = Object.keys(SURFACE);
  const stats = { ok: 0, netplumb: 0, netlink: 0, calls: 0 };
  const perTarget = new Map<string, { ok: number; netplumb: number; netlink: number }>(names.map((n) => [n, { ok: 0, netplumb: 0, netlink: 0 }]));
  const violations = new Map<string, string>();
  const codes = new Set<string>();
  let fx = await fixture();
  try {
    for (let i = 0; i < CALLS; i++) {
      const name = names[i % names.length] as string; // every target equally often, arguments random
      if (i % 12 === 0) fx = await fixture(); // calls mutate (rename, close, delete...): start over now and then
      ctl.failRate = rnd() < 0.3 ? 0.3 : 0;
      const valid = VALID[name] as ((f: Fx) => unknown[]) | undefined;
      const args = valid && rnd() < 0.65 ? mutate(rnd, fx, valid(fx)) : Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, fx));
      const errorsBefore = ctl.errors;
      let outcome: { ok: true } | { ok: false; error: unknown };
      try {
        let r = (SURFACE[name] as Call)(fx, args);
        if (r && typeof (r as { then?: unknown }).then === 'function') {
          let timer: NodeJS.Timeout | undefined;
          r = await Promise.race([
            r as Promise<unknown>,
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`hung for ${HANG_MS} ms`)), HANG_MS);
            }),
          ]).finally(() => clearTimeout(timer));
        }
        outcome = { ok: true };
      } catch (e) {
        outcome = { ok: false, error: e };
      }
      stats.calls++;
      const t = perTarget.get(name) as { ok: number; netplumb: number; netlink: number };
      if (outcome.ok) {
        stats.ok++;
        t.ok++;
        continue;
      }
      const e = outcome.error;
      const fakeFailed = ctl.errors > errorsBefore;
      if (e instanceof NetplumbError && typeof e.code === 'string' && e.code.startsWith('ERR_')) {
        stats.netplumb++;
        t.netplumb++;
        codes.add(e.code);
      } else if (e instanceof NetlinkError && (fakeFailed || e.syscall === 'stat') && typeof e.code === 'string' && e.errno < 0) {
        // A NetlinkError comes from the fake addon, or from the real OS refusing to let us look
        // at a namespace file (stat of /proc/PID/ns/net: EACCES for a protected process).
        stats.netlink++;
        t.netlink++;
      } else {
        // Errors made by Node itself (fs) come from another realm than jest's: not `instanceof Error` here.
        const isError = e instanceof Error || Object.prototype.toString.call(e) === '[object Error]';
        const err = e as Error & { code?: unknown };
        const kind = isError ? `${err.name}${err.code !== undefined ? ` ${String(err.code)}` : ''}: ${String(err.message).split('\n')[0]?.slice(0, 120)}` : `non-Error ${describeValue(e)}`;
        const key = `${name} -> ${isError ? `${err.name}${typeof err.code === 'string' ? ` ${err.code}` : ''}` : typeof e}${e instanceof NetlinkError ? ' (the fake returned no error)' : ''}`;
        if (!violations.has(key)) violations.set(key, `${key}: ${kind}; args (${args.map(describeValue).join(', ')})`);
      }
    }
    // Let stray promises settle, to catch unhandled rejections.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', onUnhandled);
    ctl.failRate = 0;
  }
  const never = [...perTarget].filter(([, t]) => t.ok + t.netplumb + t.netlink === 0).map(([n]) => n);
  const neverOk = [...perTarget].filter(([, t]) => t.ok === 0).map(([n]) => n);
  console.log(
    `property: ${stats.calls} calls over ${names.length} functions (seed ${SEED}): ${stats.ok} succeeded, ${stats.netplumb} NetplumbError ` +
      `(${codes.size} codes), ${stats.netlink} NetlinkError from the fake, ${violations.size} kinds of untyped failure; ` +
      `never succeeded: ${neverOk.join(', ') || 'none'}` +
      (violations.size ? `\n${[...violations.values()].join('\n')}` : ''),
  );
  expect([...violations.values()]).toEqual([]);
  expect(unhandled.map((e) => String(e))).toEqual([]);
  // Not vacuous: every function was reached, calls did succeed, and the errors were varied.
  expect(never).toEqual([]);
  expect(stats.ok).toBeGreaterThan(CALLS / 20);
  expect(stats.netlink).toBeGreaterThan(0);
  expect(codes.size).toBeGreaterThan(8);
}, 120_000);

// The classes of failure the property run finds, one minimal reproduction each, so that each
// is a deterministic, named failure (and stays fixed once fixed). Every one must be a NetplumbError.
describe('minimal reproductions of what the property run finds', () => {
  let fx: Fx;
  beforeAll(async () => {
    fx = await fixture();
  });
  const NULL_PROTO = (): unknown => Object.create(null);
  const CASES: [string, (f: Fx) => unknown][] = [
    ['Bridge.listBridges("x") (no Namespace check)', () => Bridge.listBridges(A('x'))],
    ['sysctl.get(1n) (JSON.stringify of a bigint in the message)', (f) => f.ns.sysctl.get(A(1n))],
    ['sysctl.set(1n, 1)', (f) => f.ns.sysctl.set(A(1n), 1)],
    ['parsePublish(1n)', () => parsePublish(A(1n))],
    ['Network.mode(1n)', () => Network.mode(A(1n))],
    ['Neighbor.add lladdr 1n', (f) => Neighbor.add({ dev: f.link, address: '10.0.0.7', lladdr: A(1n) })],
    ['Neighbor.add state 1n', (f) => Neighbor.add({ dev: f.link, address: '10.0.0.7', lladdr: '02:00:00:00:00:07', state: A(1n) })],
    ['Fdb.add state 1n', (f) => Fdb.add({ dev: f.link, lladdr: '02:00:00:00:00:08', state: A(1n) })],
    ['Route.add table: a null-prototype object (String() of it in the message)', (f) => Route.add({ namespace: f.ns, to: '10.9.0.0/16', table: A(NULL_PROTO()) })],
    ['Route.add scope: a null-prototype object', (f) => Route.add({ namespace: f.ns, to: '10.9.0.0/16', scope: A(NULL_PROTO()) })],
    ['Address.add scope: a null-prototype object', (f) => Address.add(f.link, '10.0.0.9/24', { scope: A(NULL_PROTO()) })],
    ['PortMapping.publish protocol: a null-prototype object', (f) => PortMapping.publish({ namespace: f.ns, hostPort: 8080, to: '10.0.0.5:80', protocol: A(NULL_PROTO()) })],
    ['Rule.delete action: a null-prototype object', (f) => Rule.delete({ namespace: f.ns, action: A(NULL_PROTO()) })],
    ["network.connect publish: 'x' (not an array)", (f) => f.network.connect(f.ns2, { publish: A('8080:80') })],
    ['network.disconnect of a copy of an endpoint with hostLink: 5', (f) => f.network.disconnect({ ...f.endpoint, hostLink: A(5) })],
    ['network.disconnect of a copy of an endpoint with mappings: 5', (f) => f.network.disconnect({ ...f.endpoint, mappings: A(5) })],
    ['Namespace.fromPath with a 300-byte component (was a raw ENAMETOOLONG from fs.stat)', () => Namespace.fromPath('x'.repeat(300))],
    ['Namespace.fromPid of a pid no process can have (was a raw error from fs.stat)', () => Namespace.fromPid(4194304)],
    // fromPath of a symbolic link loop is checked by the open itself now: test/integration/namespace.test.ts.
  ];
  test.each(CASES)('%s: a NetplumbError', async (_what, call) => {
    let caught: unknown;
    try {
      await call(fx);
    } catch (e) {
      caught = e;
    }
    const got = caught as { name?: string; code?: string; message?: string } | undefined;
    expect({ name: got?.name, code: got?.code, isNetplumbError: caught instanceof NetplumbError, message: String(got?.message).slice(0, 120) }).toEqual({
      name: 'NetplumbError', code: expect.stringMatching(/^ERR_/), isNetplumbError: true, message: expect.any(String),
    });
  });
});
