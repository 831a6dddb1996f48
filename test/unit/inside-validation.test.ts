// Bad input to the "inside a namespace" API (spawn, exec, listen, connect,
// createSocket, sysctl, Neighbor, Fdb, Rule, Route.get, attach, setId/idOf) is
// refused in TypeScript, before anything native runs.
//
// The addon is replaced by a fake (as in validation.test.ts) that records
// every call: Handle construction and every Handle method, removeNamespace,
// attachNamespace, enterNamespace and restoreNamespace. child_process.spawn is
// spied on too. Each bad input must reject (or throw) a NetplumbError with the
// expected code AND leave the log empty. A control proves valid input does
// reach the same fake.
import { rejection } from '../helpers/addr-route';
import type * as child_process from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';

import { Fdb, Link, Namespace, Neighbor, NetlinkError, NetplumbError, Route, Rule } from '../../lib';
import type { RawLink } from '../../lib/native';

interface Log {
  log: string[];
  enterResult: number | object;
}

jest.mock('../../lib/native', () => {
  const state: Log = { log: [], enterResult: 7 };
  const rec = (what: string, result: () => unknown = () => undefined) => (...args: unknown[]) => {
    state.log.push(`${what}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
    return result();
  };
  const unpacked = (what: string, wire: Uint8Array, ops: string[]) => {
    const w = new Uint32Array(wire.buffer, wire.byteOffset, 16);
    state.log.push(`${what}(${JSON.stringify({ op: ops[w[0] as number], family: w[3] })})`);
    return Promise.resolve([]);
  };
  class FakeHandle {
    constructor(mode: string, path: string) {
      state.log.push(`new Handle(${mode}, ${path})`);
    }
    ready() {
      state.log.push('ready()');
      return Promise.resolve({ fd: 99, dev: 1, ino: 2 });
    }
    link = rec('link', () => Promise.resolve([]));
    // Address and route specs arrive packed (lib/native.ts): logged as their op and family.
    addr = (wire: Uint8Array) => unpacked('addr', wire, ['new', 'del', 'dump']);
    route = (wire: Uint8Array) => unpacked('route', wire, ['new', 'del', 'dump', 'get']);
    neigh = rec('neigh', () => Promise.resolve([]));
    rule = rec('rule', () => Promise.resolve([]));
    nsid = rec('nsid', () => Promise.resolve(-1));
    setNsid = rec('setNsid', () => Promise.resolve(0));
    socket = rec('socket', () => Promise.reject(Object.assign(new Error('fake socket'), { native: true, errno: 1, syscall: 'socket' })));
    sysctl = rec('sysctl', () => Promise.resolve('0'));
    close() {
      state.log.push('close()');
      return Promise.resolve();
    }
    get pending() {
      return 0;
    }
  }
  const addon = {
    Handle: FakeHandle,
    removeNamespace: rec('removeNamespace', () => Promise.resolve()),
    attachNamespace: rec('attachNamespace', () => Promise.resolve()),
    enterNamespace: (fd: number) => {
      state.log.push(`enterNamespace(${fd})`);
      return state.enterResult;
    },
    restoreNamespace: rec('restoreNamespace', undefined),
  };
  // The packers (sendAddr, sendRoute) stay real: they call the fake handle.
  return { ...jest.requireActual<object>('../../lib/native'), native: () => addon, __state: state };
});

const state = (jest.requireMock('../../lib/native') as { __state: Log }).__state;

function rawLink(over: Partial<RawLink> = {}): RawLink {
  return {
    index: 7, name: 'veth0', kind: 'veth', slaveKind: '', flags: 0, type: 1, mtu: 1500, minMtu: 68, maxMtu: 65535,
    mac: '02:00:00:00:00:07', broadcast: 'ff:ff:ff:ff:ff:ff', operstate: 2, master: 0, link: 8, linkNetnsid: -1,
    group: 0, txqlen: 1000, alias: '', ...over,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bad = (x: unknown): any => x;

let ns: Namespace;
let other: Namespace;
let closedNs: Namespace;
let link: Link;
let port: Link;
let closedLink: Link;
let spawnSpy: jest.SpyInstance;
// The real module object (the library's `import * as` reads through to it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realChildProcess = require('node:child_process') as typeof child_process;

beforeAll(async () => {
  ns = await Namespace.current();
  other = await Namespace.current();
  closedNs = await Namespace.current();
  await closedNs.close();
  link = Link.fromRaw(ns, rawLink());
  port = Link.fromRaw(ns, rawLink({ index: 9, name: 'p0', slaveKind: 'bridge', master: 3 }));
  closedLink = Link.fromRaw(closedNs, rawLink());
  // The setup went through the fake: it is what the library uses.
  expect(state.log.filter((l) => l.startsWith('new Handle'))).toHaveLength(3);
  expect(ns.fd).toBe(99);
});

beforeEach(() => {
  state.log.length = 0;
  state.enterResult = 7;
  spawnSpy = jest.spyOn(realChildProcess, 'spawn').mockImplementation(() => {
    state.log.push('child_process.spawn');
    return new EventEmitter() as child_process.ChildProcess;
  });
});

afterEach(() => spawnSpy.mockRestore());

interface Case {
  what: string;
  code: string;
  run: () => unknown;
}

const ECHO = net.createServer();

const cases: Case[] = [
  // spawn / exec.
  { what: 'spawn: empty command', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('') },
  { what: 'spawn: command not a string', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn(bad(42)) },
  { what: 'spawn: command with NUL', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip\0x') },
  { what: 'spawn: args a string', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip', bad('link')) },
  { what: 'spawn: args with a number', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip', bad(['link', 1])) },
  { what: 'spawn: an arg with NUL', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip', ['li\0nk']) },
  { what: 'spawn: options a string', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip', [], bad('pipe')) },
  { what: 'spawn: options an array', code: 'ERR_INVALID_ARGUMENT', run: () => ns.spawn('ip', [], bad([])) },
  { what: 'spawn: closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.spawn('ip') },
  { what: 'exec: empty command', code: 'ERR_INVALID_ARGUMENT', run: () => ns.exec('') },
  { what: 'exec: args not an array', code: 'ERR_INVALID_ARGUMENT', run: () => ns.exec('ip', bad({ 0: 'link' })) },
  { what: 'exec: options a number', code: 'ERR_INVALID_ARGUMENT', run: () => ns.exec('ip', [], bad(5)) },
  { what: 'exec: closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.exec('ip', ['link']) },

  // listen.
  { what: 'listen: server a plain object', code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(bad({ listen() {} }), { port: 80 }) },
  { what: 'listen: port 65536', code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(ECHO, { port: 65536 }) },
  { what: 'listen: port -1', code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(ECHO, { port: -1 }) },
  { what: "listen: port '80'", code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(ECHO, { port: bad('80') }) },
  { what: 'listen: no options', code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(ECHO, bad(undefined)) },
  { what: "listen: host 'localhost'", code: 'ERR_INVALID_IP', run: () => ns.listen(ECHO, { port: 80, host: 'localhost' }) },
  { what: 'listen: host with zone id', code: 'ERR_INVALID_IP', run: () => ns.listen(ECHO, { port: 80, host: 'fe80::1%eth0' }) },
  { what: 'listen: backlog 0', code: 'ERR_INVALID_ARGUMENT', run: () => ns.listen(ECHO, { port: 80, backlog: 0 }) },
  { what: 'listen: closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.listen(ECHO, { port: 80 }) },

  // connect.
  { what: "connect: host 'example.com'", code: 'ERR_INVALID_IP', run: () => ns.connect({ host: 'example.com', port: 80 }) },
  { what: 'connect: host missing', code: 'ERR_INVALID_IP', run: () => ns.connect(bad({ port: 80 })) },
  { what: 'connect: host a CIDR', code: 'ERR_INVALID_IP', run: () => ns.connect({ host: '10.0.0.1/24', port: 80 }) },
  { what: 'connect: port 70000', code: 'ERR_INVALID_ARGUMENT', run: () => ns.connect({ host: '10.0.0.1', port: 70000 }) },
  { what: 'connect: port 0', code: 'ERR_INVALID_ARGUMENT', run: () => ns.connect({ host: '10.0.0.1', port: 0 }) },
  { what: 'connect: port 1.5', code: 'ERR_INVALID_ARGUMENT', run: () => ns.connect({ host: '10.0.0.1', port: 1.5 }) },
  { what: 'connect: options null', code: 'ERR_INVALID_ARGUMENT', run: () => ns.connect(bad(null)) },
  { what: 'connect: closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.connect({ host: '10.0.0.1', port: 80 }) },

  // createSocket.
  { what: "createSocket: type 'tcp'", code: 'ERR_INVALID_ARGUMENT', run: () => ns.createSocket(bad('tcp')) },
  { what: 'createSocket: port 65536', code: 'ERR_INVALID_ARGUMENT', run: () => ns.createSocket('udp4', { port: 65536 }) },
  { what: "createSocket: udp4 on '::'", code: 'ERR_FAMILY_MISMATCH', run: () => ns.createSocket('udp4', { address: '::' }) },
  { what: 'createSocket: udp6 on an IPv4 address', code: 'ERR_FAMILY_MISMATCH', run: () => ns.createSocket('udp6', { address: '10.0.0.1' }) },
  { what: "createSocket: address 'nope'", code: 'ERR_INVALID_IP', run: () => ns.createSocket('udp4', { address: 'nope' }) },
  { what: 'createSocket: options a string', code: 'ERR_INVALID_ARGUMENT', run: () => ns.createSocket('udp4', bad('x')) },
  { what: 'createSocket: closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.createSocket('udp4') },

  // sysctl keys and values.
  ...(
    [
      ['kernel.hostname', 'outside net'],
      ['kernel/hostname', 'outside net, slash form'],
      ['net.ipv4.../x', 'dots then slash'],
      ['net/../etc', 'parent component'],
      ['net/ipv4/./ip_forward', 'current-dir component'],
      ['net.ipv4..ip_forward', 'empty component'],
      ['net', 'no setting named'],
      ['', 'empty'],
      ['/net/ipv4/ip_forward', 'leading slash'],
      ['net/ipv4/conf/a b/forwarding', 'space'],
      ['net.ipv4.ip_forward\n', 'newline'],
      ['net.' + 'x'.repeat(600), 'too long'],
    ] as const
  ).flatMap(([key, why]): Case[] => [
    { what: `sysctl.get ${why}`, code: 'ERR_INVALID_SYSCTL', run: () => ns.sysctl.get(key) },
    { what: `sysctl.set ${why}`, code: 'ERR_INVALID_SYSCTL', run: () => ns.sysctl.set(key, 1) },
  ]),
  { what: 'sysctl.get key not a string', code: 'ERR_INVALID_SYSCTL', run: () => ns.sysctl.get(bad(42)) },
  { what: 'sysctl.set value with newline', code: 'ERR_INVALID_ARGUMENT', run: () => ns.sysctl.set('net.ipv4.ip_forward', '1\n0') },
  { what: 'sysctl.set value with NUL', code: 'ERR_INVALID_ARGUMENT', run: () => ns.sysctl.set('net.ipv4.ip_forward', '1\0') },
  { what: 'sysctl.set value NaN', code: 'ERR_INVALID_ARGUMENT', run: () => ns.sysctl.set('net.ipv4.ip_forward', NaN) },
  { what: 'sysctl.set value an object', code: 'ERR_INVALID_ARGUMENT', run: () => ns.sysctl.set('net.ipv4.ip_forward', bad({})) },
  { what: 'sysctl.get closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.sysctl.get('net.ipv4.ip_forward') },
  { what: 'sysctl.set closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.sysctl.set('net.ipv4.ip_forward', 1) },

  // Neighbor.
  { what: 'Neighbor.add dev not a Link', code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.add({ dev: bad({ index: 7 }), address: '10.0.0.1', lladdr: '02:00:00:00:00:01' }) },
  { what: 'Neighbor.add options null', code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.add(bad(null)) },
  { what: "Neighbor.add address 'nope'", code: 'ERR_INVALID_IP', run: () => Neighbor.add({ dev: link, address: 'nope', lladdr: '02:00:00:00:00:01' }) },
  { what: 'Neighbor.add address a CIDR', code: 'ERR_INVALID_IP', run: () => Neighbor.add({ dev: link, address: '10.0.0.1/32', lladdr: '02:00:00:00:00:01' }) },
  { what: "Neighbor.add lladdr 'zz'", code: 'ERR_INVALID_LLADDR', run: () => Neighbor.add({ dev: link, address: '10.0.0.1', lladdr: 'zz' }) },
  { what: 'Neighbor.add lladdr 33 octets', code: 'ERR_INVALID_LLADDR', run: () => Neighbor.add({ dev: link, address: '10.0.0.1', lladdr: Array(33).fill('02').join(':') }) },
  { what: 'Neighbor.add without lladdr', code: 'ERR_INVALID_LLADDR', run: () => Neighbor.add({ dev: link, address: '10.0.0.1' }) },
  { what: "Neighbor.replace lladdr '0200.0000.0001'", code: 'ERR_INVALID_LLADDR', run: () => Neighbor.replace({ dev: link, address: '10.0.0.1', lladdr: '0200.0000.0001' }) },
  { what: "Neighbor.add state 'bogus'", code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.add({ dev: link, address: '10.0.0.1', lladdr: '02:00:00:00:00:01', state: bad('bogus') }) },
  { what: "Neighbor.add router 'yes'", code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.add({ dev: link, address: 'fd00::1', lladdr: '02:00:00:00:00:01', router: bad('yes') }) },
  { what: 'Neighbor.delete address garbage', code: 'ERR_INVALID_IP', run: () => Neighbor.delete({ dev: link, address: '10.0.0.256' }) },
  { what: 'Neighbor.add on a closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => Neighbor.add({ dev: closedLink, address: '10.0.0.1', lladdr: '02:00:00:00:00:01' }) },
  { what: 'Neighbor.list family 5', code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.list(ns, { family: bad(5) }) },
  { what: 'Neighbor.list target a string', code: 'ERR_INVALID_ARGUMENT', run: () => Neighbor.list(bad('eth0')) },

  // Fdb.
  { what: 'Fdb.add dev not a Link', code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: bad('p0'), lladdr: '02:00:00:00:00:01' }) },
  { what: 'Fdb.add lladdr multicast', code: 'ERR_INVALID_MAC', run: () => Fdb.add({ dev: port, lladdr: '01:00:5e:00:00:01' }) },
  { what: "Fdb.add lladdr 'zz'", code: 'ERR_INVALID_MAC', run: () => Fdb.add({ dev: port, lladdr: 'zz' }) },
  { what: "Fdb.add target 'both'", code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: port, lladdr: '02:00:00:00:00:01', target: bad('both') }) },
  { what: "Fdb.add state 'reachable'", code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: port, lladdr: '02:00:00:00:00:01', state: bad('reachable') }) },
  { what: 'Fdb.add vlan 4095', code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: port, lladdr: '02:00:00:00:00:01', vlan: 4095 }) },
  { what: 'Fdb.add vlan 0', code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: port, lladdr: '02:00:00:00:00:01', vlan: 0 }) },
  { what: 'Fdb.add vni 2**24', code: 'ERR_INVALID_ARGUMENT', run: () => Fdb.add({ dev: link, lladdr: '02:00:00:00:00:01', vni: 2 ** 24 }) },
  { what: "Fdb.add dst 'x'", code: 'ERR_INVALID_IP', run: () => Fdb.add({ dev: link, lladdr: '02:00:00:00:00:01', dst: 'x' }) },
  { what: 'Fdb.delete on a closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => Fdb.delete({ dev: closedLink, lladdr: '02:00:00:00:00:01' }) },
  { what: 'Fdb.list bridge bad name', code: 'ERR_INVALID_IFNAME', run: () => Fdb.list(ns, { bridge: 'a/b' }) },

  // Rule.
  { what: 'Rule.add priority -1', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, table: 100, priority: -1 }) },
  { what: 'Rule.add priority 2**32', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, table: 100, priority: 2 ** 32 }) },
  { what: 'Rule.add from with host bits', code: 'ERR_INVALID_CIDR', run: () => Rule.add({ namespace: ns, from: '10.0.0.1/8', table: 100 }) },
  { what: 'Rule.add to garbage', code: 'ERR_INVALID_CIDR', run: () => Rule.add({ namespace: ns, to: 'nowhere', table: 100 }) },
  { what: 'Rule.add from v4, to v6', code: 'ERR_FAMILY_MISMATCH', run: () => Rule.add({ namespace: ns, from: '10.0.0.0/8', to: 'fd00::/8', table: 100 }) },
  { what: 'Rule.add family 6 with IPv4 from', code: 'ERR_FAMILY_MISMATCH', run: () => Rule.add({ namespace: ns, family: 6, from: '10.0.0.0/8' }) },
  { what: 'Rule.add family 5', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, family: bad(5) }) },
  { what: "Rule.add action 'goto'", code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, action: bad('goto') }) },
  { what: "Rule.add action 'drop'", code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, action: bad('drop') }) },
  { what: "Rule.add iif 'a/b'", code: 'ERR_INVALID_IFNAME', run: () => Rule.add({ namespace: ns, iif: 'a/b', table: 100 }) },
  { what: 'Rule.add oif too long', code: 'ERR_INVALID_IFNAME', run: () => Rule.add({ namespace: ns, oif: 'x'.repeat(16), table: 100 }) },
  { what: 'Rule.add table 0', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, table: 0 }) },
  { what: 'Rule.add fwmark -1', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, fwmark: -1, table: 100 }) },
  { what: 'Rule.add fwmask 2**32', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, fwmark: 1, fwmask: 2 ** 32, table: 100 }) },
  { what: 'Rule.add tos 256', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, tos: 256, table: 100 }) },
  { what: "Rule.add not 'yes'", code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: ns, not: bad('yes'), table: 100 }) },
  { what: 'Rule.add namespace {}', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add({ namespace: bad({}), table: 100 }) },
  { what: 'Rule.add options a string', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.add(bad('from all')) },
  { what: 'Rule.add closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => Rule.add({ namespace: closedNs, table: 100 }) },
  { what: 'Rule.delete priority 1.5', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.delete({ namespace: ns, priority: 1.5 }) },
  { what: 'Rule.list namespace a string', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.list(bad('x')) },
  { what: 'Rule.list family 4.5', code: 'ERR_INVALID_ARGUMENT', run: () => Rule.list(ns, { family: bad(4.5) }) },

  // Route.get.
  { what: "Route.get destination 'example.com'", code: 'ERR_INVALID_IP', run: () => Route.get(ns, 'example.com') },
  { what: 'Route.get destination a CIDR', code: 'ERR_INVALID_IP', run: () => Route.get(ns, '10.0.0.0/24') },
  { what: 'Route.get from of the other family', code: 'ERR_FAMILY_MISMATCH', run: () => Route.get(ns, '10.0.0.1', { from: 'fd00::1' }) },
  { what: "Route.get from 'x'", code: 'ERR_INVALID_IP', run: () => Route.get(ns, '10.0.0.1', { from: 'x' }) },
  { what: "Route.get iif 'a b'", code: 'ERR_INVALID_IFNAME', run: () => Route.get(ns, '10.0.0.1', { iif: 'a b' }) },
  { what: 'Route.get oif 0', code: 'ERR_INVALID_ARGUMENT', run: () => Route.get(ns, '10.0.0.1', { oif: 0 }) },
  { what: 'Route.get oif an object', code: 'ERR_INVALID_ARGUMENT', run: () => Route.get(ns, '10.0.0.1', { oif: bad({}) }) },
  { what: 'Route.get namespace not a Namespace', code: 'ERR_INVALID_ARGUMENT', run: () => Route.get(bad({}), '10.0.0.1') },
  { what: 'Route.get options a string', code: 'ERR_INVALID_ARGUMENT', run: () => Route.get(ns, '10.0.0.1', bad('from')) },
  { what: 'Route.get closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => Route.get(closedNs, '10.0.0.1') },

  // attach.
  { what: "attach name 'a/b'", code: 'ERR_INVALID_NAMESPACE_NAME', run: () => Namespace.attach('a/b', 1) },
  { what: "attach name '..'", code: 'ERR_INVALID_NAMESPACE_NAME', run: () => Namespace.attach('..', 1) },
  { what: 'attach name empty', code: 'ERR_INVALID_NAMESPACE_NAME', run: () => Namespace.attach('', 1) },
  { what: 'attach pid 0', code: 'ERR_INVALID_PID', run: () => Namespace.attach('x', 0) },
  { what: 'attach pid -1', code: 'ERR_INVALID_PID', run: () => Namespace.attach('x', -1) },
  { what: "attach pid '1'", code: 'ERR_INVALID_PID', run: () => Namespace.attach('x', bad('1')) },
  // pid_max is at most 4194304, so no process ever has that pid: /proc/4194304 never exists.
  { what: 'attach pid with no process', code: 'ERR_NAMESPACE_NOT_FOUND', run: () => Namespace.attach('x', 4194304) },

  // setId / idOf.
  { what: 'setId id -1', code: 'ERR_INVALID_ARGUMENT', run: () => ns.setId(other, -1) },
  { what: 'setId id 2**31', code: 'ERR_INVALID_ARGUMENT', run: () => ns.setId(other, 2 ** 31) },
  { what: 'setId id 1.5', code: 'ERR_INVALID_ARGUMENT', run: () => ns.setId(other, 1.5) },
  { what: 'setId other not a Namespace', code: 'ERR_INVALID_ARGUMENT', run: () => ns.setId(bad({ fd: 99 }), 1) },
  { what: 'setId other closed', code: 'ERR_NAMESPACE_CLOSED', run: () => ns.setId(closedNs, 1) },
  { what: 'setId on a closed namespace', code: 'ERR_NAMESPACE_CLOSED', run: () => closedNs.setId(other, 1) },
  { what: 'idOf other not a Namespace', code: 'ERR_INVALID_ARGUMENT', run: () => ns.idOf(bad('x')) },
  { what: 'idOf other closed', code: 'ERR_NAMESPACE_CLOSED', run: () => ns.idOf(closedNs) },
];

describe('bad input to the inside-a-namespace API is refused before any native call', () => {
  it('covers at least 25 inputs, each described once', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(new Set(cases.map((c) => c.what)).size).toBe(cases.length);
  });

  test.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    // Sync throws and rejections both count.
    const caught = await rejection((async () => c.run())());
    expect(caught).toBeInstanceOf(NetplumbError);
    expect(caught).not.toBeInstanceOf(NetlinkError);
    const err = caught as NetplumbError;
    expect({ name: err.name, code: err.code }).toEqual({ name: 'NetplumbError', code: c.code });
    expect(err.message.length).toBeGreaterThan(0);
    // Nothing reached the (fake) addon, nothing was spawned, the thread never entered anything.
    expect(state.log).toEqual([]);
    expect(spawnSpy).not.toHaveBeenCalled();
  });
});

describe('controls: the same fake does see valid input', () => {
  it('spawn enters, spawns, restores, in that order', () => {
    ns.spawn('ip', ['link']);
    expect(state.log).toEqual(['enterNamespace(99)', 'child_process.spawn', 'restoreNamespace(7)']);
    expect(spawnSpy).toHaveBeenCalledWith('ip', ['link'], {});
  });

  it('spawn restores even when child_process.spawn throws inside the window', () => {
    spawnSpy.mockImplementation(() => {
      state.log.push('child_process.spawn (throws)');
      throw new TypeError('boom');
    });
    expect(() => ns.spawn('ip', ['link'])).toThrow('boom');
    expect(state.log).toEqual(['enterNamespace(99)', 'child_process.spawn (throws)', 'restoreNamespace(7)']);
  });

  it('spawn: a failed enter is a NetlinkError, and nothing is spawned or restored', () => {
    state.enterResult = { native: true, errno: 1, syscall: 'setns' };
    let caught: unknown;
    try {
      ns.spawn('ip', ['link']);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetlinkError);
    expect((caught as NetlinkError).code).toBe('EPERM');
    expect(state.log).toEqual(['enterNamespace(99)']);
  });

  it('sysctl, neigh, fdb, rule, route get, socket, nsid reach the fake', async () => {
    await expect(ns.sysctl.get('net.ipv4.ip_forward')).resolves.toBe('0');
    await ns.sysctl.set('net/ipv4/conf/eth0.100/forwarding', true);
    await Neighbor.add({ dev: link, address: '10.0.0.1', lladdr: '02:00:00:00:00:01' });
    await Fdb.add({ dev: port, lladdr: '02:00:00:00:00:01' });
    await Rule.add({ namespace: ns, from: '10.0.0.0/8', table: 100, priority: 4294967295 });
    await expect(Route.get(ns, '10.0.0.1')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' }); // the fake answers []
    await expect(ns.connect({ host: '10.0.0.1', port: 80 })).rejects.toBeInstanceOf(NetlinkError); // the fake socket() fails
    await ns.setId(other, 0x7fffffff);
    await expect(ns.idOf(other)).resolves.toBeUndefined();
    const log = state.log.join('\n');
    expect(log).toContain('sysctl({"path":"ipv4/ip_forward"})');
    expect(log).toContain('sysctl({"path":"ipv4/conf/eth0.100/forwarding","write":"1"})');
    expect(log).toMatch(/^neigh\(\{"op":"new","family":4,"index":7,/m);
    expect(log).toMatch(/^neigh\(\{"op":"new","family":7,"index":9,.*"flags":4/m);
    expect(log).toMatch(/^rule\(\{"op":"new","family":4,.*"priority":4294967295/m);
    expect(log).toMatch(/^route\(\{"op":"get","family":4/m);
    expect(log).toMatch(/^socket\(\{"domain":4,"type":"stream"\}\)/m);
    expect(log).toContain('setNsid(99, 2147483647)');
    expect(log).toContain('nsid(99)');
  });
});
