// The link kinds of lib/kinds/ without root: what each kind's options become
// in the spec handed to the addon (whose bytes native/test/test_nl.cpp
// checks), the typed read-back of what the kernel reports, and bad input
// refused before any native call (the addon is a fake that records calls).
import { Link, Namespace, NetplumbError } from '../../lib';
import type { LinkSpec, RawLink, TunSpec } from '../../lib/native';
import { KINDS } from '../../lib/kinds';

interface Calls {
  specs: LinkSpec[];
  tuns: TunSpec[];
}

function raw(over: Partial<RawLink> = {}): RawLink {
  return {
    index: 3,
    name: 'p0',
    kind: 'veth',
    slaveKind: '',
    flags: 0,
    type: 1,
    mtu: 1500,
    minMtu: 68,
    maxMtu: 65535,
    mac: '02:00:00:00:00:03',
    broadcast: 'ff:ff:ff:ff:ff:ff',
    operstate: 2,
    master: 0,
    link: 0,
    linkNetnsid: -1,
    group: 0,
    txqlen: 1000,
    alias: '',
    ...over,
  };
}

jest.mock('../../lib/native', () => {
  const calls: Calls = { specs: [], tuns: [] };
  class FakeHandle {
    ready() {
      return Promise.resolve({ fd: 99, dev: 1, ino: 2 });
    }
    link(spec: LinkSpec) {
      calls.specs.push(spec);
      if (spec.op === 'get') return Promise.resolve([{ ...raw(), index: spec.index ?? 9, name: spec.name ?? 'p0' }]);
      return Promise.resolve([]);
    }
    tun(spec: TunSpec) {
      calls.tuns.push(spec);
      return Promise.resolve(undefined);
    }
    close() {
      return Promise.resolve();
    }
    get pending() {
      return 0;
    }
  }
  return { ...jest.requireActual<object>('../../lib/native'), native: () => ({ Handle: FakeHandle }), __calls: calls };
});
const calls = (jest.requireMock('../../lib/native') as { __calls: Calls }).__calls;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bad = (x: unknown): any => x;
let ns: Namespace;
let lower: Link;

beforeAll(async () => {
  ns = await Namespace.current();
  lower = Link.fromRaw(ns, raw());
});
beforeEach(() => {
  calls.specs.length = 0;
  calls.tuns.length = 0;
});

const newSpec = (): LinkSpec | undefined => calls.specs.find((s) => s.op === 'new');

describe('options become the data of the kind (the fields of native/rtnl/kinds/<kind>.cpp)', () => {
  it.each([
    ['vlan 802.1ad', { kind: 'vlan', parent: 'LOWER', id: 100, protocol: '802.1ad' }, { kind: 'vlan', parent: 3, data: { id: 100, protocol: 0x88a8 } }],
    ['vlan default 802.1Q', { kind: 'vlan', parent: 'LOWER', id: 4094 }, { kind: 'vlan', parent: 3, data: { id: 4094, protocol: 0x8100 } }],
    ['ipvlan l3s private', { kind: 'ipvlan', parent: 'LOWER', mode: 'l3s', flag: 'private' }, { kind: 'ipvlan', parent: 3, data: { mode: 2, flags: 1 } }],
    ['ipvlan default l3 bridge', { kind: 'ipvlan', parent: 'LOWER' }, { kind: 'ipvlan', parent: 3, data: { mode: 1, flags: 0 } }],
    ['bond', { kind: 'bond', mode: '802.3ad', miimon: 100 }, { kind: 'bond', data: { mode: 4, miimon: 100 } }],
    ['macvtap', { kind: 'macvtap', parent: 'LOWER', mode: 'passthru' }, { kind: 'macvtap', parent: 3, data: { mode: 8 } }],
    [
      'vxlan dev goes in its own attribute',
      { kind: 'vxlan', id: 42, dev: 'LOWER', remote: '10.0.0.2' },
      { kind: 'vxlan', data: { id: 42, port: 4789, group: new Uint8Array([10, 0, 0, 2]), link: 3 } },
    ],
    ['dummy: no data', { kind: 'dummy', mtu: 9000, linkGroup: 5, txqlen: 10 }, { kind: 'dummy', mtu: 9000, group: 5, txqlen: 10 }],
    ['wireguard: no data', { kind: 'wireguard' }, { kind: 'wireguard' }],
  ])('%s', async (_what, opts, want) => {
    const o = { ...(opts as Record<string, unknown>) };
    if (o.parent === 'LOWER') o.parent = lower;
    if (o.dev === 'LOWER') o.dev = lower;
    await Link.create('x0', bad({ namespace: ns, ...o }));
    const s = newSpec()!;
    expect(s).toEqual({ op: 'new', name: 'x0', ...want });
    expect(s.parent === undefined || s.data?.link === undefined).toBe(true);
  });

  it('tun/tap go to /dev/net/tun (handle.tun), then one RTM_SETLINK for the common options', async () => {
    await Link.create('tap0', { kind: 'tun', mode: 'tap', namespace: ns, owner: 1000, group: 100, multiQueue: true, mtu: 1400, up: true });
    expect(calls.tuns).toEqual([{ name: 'tap0', tap: true, owner: 1000, group: 100, multiQueue: true }]);
    expect(newSpec()).toBeUndefined();
    expect(calls.specs.filter((s) => s.op === 'set')).toEqual([{ op: 'set', index: 9, mtu: 1400, up: true }]);
  });

  it('bond slaves: each taken down, then enslaved (IFLA_MASTER), after the bond exists', async () => {
    await Link.create('bond0', { kind: 'bond', namespace: ns, slaves: [lower, 7] });
    expect(calls.specs.filter((s) => s.op === 'set')).toEqual([
      { op: 'set', index: 3, up: false },
      { op: 'set', index: 3, master: 9 },
      { op: 'set', index: 7, up: false },
      { op: 'set', index: 7, master: 9 },
    ]);
  });

  it('an alias at creation goes in a second request (the kernel ignores IFLA_IFALIAS in a create)', async () => {
    await Link.create('d0', { kind: 'dummy', namespace: ns, alias: 'hello' });
    expect(newSpec()).not.toHaveProperty('alias');
    expect(calls.specs.filter((s) => s.op === 'set')).toEqual([{ op: 'set', index: 9, alias: 'hello' }]);
  });
});

describe('read back: what the kernel reports, typed by the kind', () => {
  it.each([
    ['vlan', { id: 100, protocol: 0x88a8 }, { kind: 'vlan', id: 100, protocol: '802.1ad' }],
    ['vlan', { id: 5, protocol: 0x9100 }, { kind: 'vlan', id: 5, protocol: 0x9100 }],
    ['ipvlan', { mode: 0, flags: 2 }, { kind: 'ipvlan', mode: 'l2', flag: 'vepa' }],
    ['bond', { mode: 1, miimon: 100 }, { kind: 'bond', mode: 'active-backup', miimon: 100 }],
    ['macvtap', { mode: 4 }, { kind: 'macvtap', mode: 'bridge' }],
    ['bridge', { stp: 1, vlanFiltering: 0 }, { kind: 'bridge', stp: true, vlanFiltering: false }],
    [
      'tun',
      { type: 2, pi: 0, vnetHdr: 1, persist: 1, multiQueue: 0, numQueues: 0, owner: 1000 },
      { kind: 'tun', mode: 'tap', pi: false, vnetHdr: true, persist: true, multiQueue: false, numQueues: 0, owner: 1000 },
    ],
    ['vxlan', { id: 42, port: 4789, group: '239.1.1.1', link: 3 }, { kind: 'vxlan', id: 42, port: 4789, group: '239.1.1.1', dev: 3 }],
    ['vxlan', { id: 42, port: 4789, group: '10.0.0.2' }, { kind: 'vxlan', id: 42, port: 4789, remote: '10.0.0.2' }],
  ])('%s %j', (kind, data, info) => {
    expect(Link.fromRaw(ns, raw({ kind, data })).info).toEqual(info);
  });

  it('a kind without data, or one lib/kinds does not know, has no info', () => {
    expect(Link.fromRaw(ns, raw({ kind: 'veth' })).info).toBeUndefined();
    expect(Link.fromRaw(ns, raw({ kind: 'geneve', data: { id: 1 } })).info).toBeUndefined();
  });

  it('every kind lists the keys it takes (ERR_UNKNOWN_OPTION for the rest)', () => {
    expect(Object.fromEntries(Object.entries(KINDS).map(([k, c]) => [k, Object.keys(c.keys).sort()]))).toEqual({
      bond: ['miimon', 'mode', 'slaves'],
      bridge: ['stp', 'vlanFiltering'],
      dummy: [],
      ifb: [],
      ipvlan: ['flag', 'mode', 'parent'],
      macvlan: ['mode', 'parent'],
      macvtap: ['mode', 'parent'],
      tun: ['group', 'multiQueue', 'owner', 'pi', 'vnetHdr', 'mode'].sort(),
      vlan: ['id', 'parent', 'protocol'],
      vxlan: ['dev', 'group', 'id', 'local', 'port', 'remote'],
      wireguard: [],
    });
  });
});

describe('bad input is refused before any native call', () => {
  const cases: [string, string, () => Promise<unknown>][] = [
    ['no options', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad(undefined))],
    ['unknown kind', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'veth' }))],
    ['kind not a string', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 7 }))],
    ['vlan id 0', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 0 })],
    ['vlan id 4095', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 4095 })],
    ['vlan id 1.5', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 1.5 })],
    ['vlan without id', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'vlan', parent: lower }))],
    ['vlan without parent', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'vlan', id: 3 }))],
    ['vlan protocol', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 3, protocol: bad('802.1X') })],
    ['ipvlan mode', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'ipvlan', parent: lower, mode: bad('L2') })],
    ['ipvlan flag', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'ipvlan', parent: lower, flag: bad('open') })],
    ['ipvlan without parent', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'ipvlan' }))],
    ['macvtap mode', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'macvtap', parent: lower, mode: bad('bridged') })],
    ['bond mode', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'bond', mode: bad('round-robin') })],
    ['bond miimon', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'bond', miimon: -5 })],
    ['bond slaves not an array', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'bond', slaves: bad('eth0') })],
    ['tun mode', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'tun', mode: bad('tunnel') })],
    ['tun owner', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'tun', owner: 2 ** 32 })],
    ['tun multiQueue', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'tun', multiQueue: bad('yes') })],
    ['alias too long', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'dummy', alias: 'é'.repeat(128) })],
    ['txqlen', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'dummy', txqlen: -1 })],
    ['linkGroup', 'ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'dummy', linkGroup: bad('9') })],
    ['mtu', 'ERR_INVALID_MTU', () => Link.create('x0', { kind: 'dummy', mtu: 67 })],
    ['mac', 'ERR_INVALID_MAC', () => Link.create('x0', { kind: 'dummy', mac: '02:00' })],
    ['name', 'ERR_INVALID_IFNAME', () => Link.create('a/b', { kind: 'dummy' })],
    ['unknown key', 'ERR_UNKNOWN_OPTION', () => Link.create('x0', bad({ kind: 'dummy', mode: 'x' }))],
    ['a key of another kind', 'ERR_UNKNOWN_OPTION', () => Link.create('x0', bad({ kind: 'vlan', parent: lower, id: 3, miimon: 1 }))],
    ['group is linkGroup here', 'ERR_UNKNOWN_OPTION', () => Link.create('x0', bad({ kind: 'dummy', group: 3 }))],
    ['setAlias', 'ERR_INVALID_ARGUMENT', () => lower.setAlias(bad(null))],
    ['setAlias NUL', 'ERR_INVALID_ARGUMENT', () => lower.setAlias('a\0b')],
    ['setTxqlen', 'ERR_INVALID_ARGUMENT', () => lower.setTxqlen(2 ** 32)],
    ['setGroup', 'ERR_INVALID_ARGUMENT', () => lower.setGroup(-1)],
  ];
  it.each(cases)('%s: %s', async (_what, code, run) => {
    const e = await run().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(NetplumbError);
    expect((e as NetplumbError).code).toBe(code);
    expect(calls.specs).toEqual([]);
    expect(calls.tuns).toEqual([]);
  });

  it('an unknown key names the nearest valid one', async () => {
    await expect(Link.create('x0', bad({ kind: 'vlan', parent: lower, id: 3, protocl: '802.1Q' }))).rejects.toThrow(/did you mean "protocol"/);
  });
});
