// The link kinds of lib/kinds/ against the real kernel, each checked with
// `ip -j -d link show` in the namespace concerned. A kind this kernel lacks
// is skipped with the kernel's own words (skipUnlessKind, via ip), and its
// refusal of our own request is checked instead: typed, nothing left behind.
// Their bytes are checked in native/test/test_nl.cpp (test_golden_new_kinds).
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

import { Link, type Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { NsTracker, rejectionOf } from '../helpers/ns-link';
import { kernelLacks, oracle, type IpLink } from '../helpers/oracle';

const t = new NsTracker();
afterEach(() => t.cleanup());

function must(ns: Namespace, dev: string): IpLink {
  const l = oracle.link(ns.name!, dev);
  if (l === undefined) throw new Error(`oracle: no ${dev} in ${ns.name}`);
  return l;
}
const dataOf = (ns: Namespace, dev: string): Record<string, unknown> => must(ns, dev).linkinfo?.info_data ?? {};
const names = (ns: Namespace): string[] =>
  oracle
    .links(ns.name!)
    .map((l) => l.ifname)
    .sort();

/** A namespace with a veth pair p0/p1, both up: the lower device of the tests' stacked kinds. */
async function withLower(prefix: string): Promise<{ ns: Namespace; lower: Link }> {
  const ns = await t.create(prefix);
  const pair = await VethPair.create('p0', { namespace: ns, peerName: 'p1', up: true, peerUp: true });
  return { ns, lower: pair.link };
}

/** `it` when the kernel has the kind, `it.skip` naming its refusal otherwise; and the converse for the refusal test. */
function byKernel(kind: string, lacks: string | undefined) {
  return {
    has: (title: string, fn: () => Promise<void>) => (lacks ? it.skip : it)(`${title}${lacks ? ` (skipped: no ${kind} on this kernel: ${lacks})` : ''}`, fn),
    lacks: (fn: () => Promise<void>) =>
      (lacks ? it : it.skip)(`${kind}: this kernel's refusal (${lacks ?? 'it has the kind'}) comes back as a NetlinkError, nothing left`, fn),
  };
}

/** The refusal of a kind the kernel lacks, from our own RTM_NEWLINK. */
async function expectRefused(ns: Namespace, make: () => Promise<unknown>): Promise<void> {
  const before = names(ns);
  const e = await rejectionOf(make());
  expect(e).toBeInstanceOf(NetlinkError);
  expect(e.syscall).toBe('RTM_NEWLINK');
  expect(e.code).toBe('EOPNOTSUPP');
  expect(String(e.extack)).toMatch(/unknown device type/i);
  expect(names(ns)).toEqual(before);
}

describe('dummy, ifb, wireguard (no options)', () => {
  for (const kind of ['dummy', 'ifb', 'wireguard'] as const) {
    const lacks = kernelLacks(kind);
    const k = byKernel(kind, lacks);
    k.has(`${kind}: made with mtu, alias, txqlen, link group and up (ip -j -d)`, async () => {
      const ns = await t.create(kind.slice(0, 3));
      const l = await Link.create(`${kind.slice(0, 3)}0`, { kind, namespace: ns, mtu: 1400, alias: `a ${kind}`, txqlen: 77, linkGroup: 9, up: true });
      const o = must(ns, l.name);
      expect(o.linkinfo?.info_kind).toBe(kind);
      expect([o.mtu, o.ifalias, (o as unknown as { txqlen: number }).txqlen, String((o as unknown as { group: string }).group)]).toEqual([
        1400,
        `a ${kind}`,
        77,
        '9',
      ]);
      expect(o.flags).toContain('UP');
      expect([l.kind, l.mtu, l.alias, l.txqlen, l.group, l.info]).toEqual([kind, 1400, `a ${kind}`, 77, 9, undefined]);
    });
    k.lacks(async () => {
      const ns = await t.create(kind.slice(0, 3));
      await expectRefused(ns, () => Link.create(`${kind.slice(0, 3)}0`, { kind, namespace: ns }));
    });
  }
});

describe('macvtap', () => {
  const lacks = kernelLacks('macvtap');
  const k = byKernel('macvtap', lacks);
  k.has('on a lower device, mode as asked, read back like ip (ip -j -d)', async () => {
    const { ns, lower } = await withLower('mvt');
    const a = await Link.create('mt0', { kind: 'macvtap', parent: lower, mode: 'bridge', up: true });
    const b = await Link.create('mt1', { kind: 'macvtap', parent: 'p0', namespace: ns, mode: 'private' });
    expect([must(ns, 'mt0').linkinfo?.info_kind, dataOf(ns, 'mt0').mode, must(ns, 'mt0').link]).toEqual(['macvtap', 'bridge', 'p0']);
    expect(dataOf(ns, 'mt1').mode).toBe('private');
    expect([a.info, b.info, a.macvlanMode]).toEqual([{ kind: 'macvtap', mode: 'bridge' }, { kind: 'macvtap', mode: 'private' }, 'bridge']);
    // its character device exists in the namespace's view: /sys/class/net/mt0/macvtap/tapN (by ifindex)
    expect(a.index).toBe(must(ns, 'mt0').ifindex);
  });
  k.lacks(async () => {
    const { ns, lower } = await withLower('mvt');
    await expectRefused(ns, () => Link.create('mt0', { kind: 'macvtap', parent: lower }));
  });
});

describe('tun / tap (through /dev/net/tun)', () => {
  const lacks = fs.existsSync('/dev/net/tun') ? undefined : 'no /dev/net/tun';
  /** What ip prints for a uid/gid: the name if it has one, else the number. */
  const idName = (db: 'passwd' | 'group', id: number): string | number => {
    const r = spawnSync('getent', [db, String(id)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split(':')[0]! : id;
  };
  (lacks ? it.skip : it)(`tun and tap: persistent, owner, group, multi-queue as asked (ip -j -d)${lacks ? ` (skipped: ${lacks})` : ''}`, async () => {
    const ns = await t.create('tun');
    const tap = await Link.create('tap0', { kind: 'tun', mode: 'tap', namespace: ns, owner: 4242, group: 4343, multiQueue: true, mtu: 1400, up: true });
    const tun = await Link.create('tun0', { kind: 'tun', namespace: ns, vnetHdr: true, alias: 'a tun' });
    const d = dataOf(ns, 'tap0');
    expect(must(ns, 'tap0').linkinfo?.info_kind).toBe('tun');
    expect([d.type, d.persist, d.multi_queue, d.vnet_hdr, d.pi, d.user, d.group]).toEqual([
      'tap',
      true,
      true,
      false,
      false,
      idName('passwd', 4242),
      idName('group', 4343),
    ]);
    expect([must(ns, 'tap0').mtu, must(ns, 'tap0').flags.includes('UP')]).toEqual([1400, true]);
    const e = dataOf(ns, 'tun0');
    expect([e.type, e.persist, e.multi_queue, e.vnet_hdr, e.user, e.group]).toEqual(['tun', true, false, true, undefined, undefined]);
    expect(must(ns, 'tun0').ifalias).toBe('a tun');
    // Read back by the library (IFLA_TUN_*), the same as ip's.
    expect(tap.info).toEqual({ kind: 'tun', mode: 'tap', persist: true, multiQueue: true, vnetHdr: false, pi: false, owner: 4242, group: 4343, numQueues: 0 });
    expect(tun.info).toMatchObject({ kind: 'tun', mode: 'tun', persist: true, multiQueue: false, vnetHdr: true });
    expect(tun.info).not.toHaveProperty('owner');
    // Born in the namespace asked, not in the test's own.
    expect(oracle.link(undefined, 'tap0')).toBeUndefined();
    // The name is taken: EEXIST (TUNSETIFF with IFF_TUN_EXCL), not an attach to the existing device.
    const taken = await rejectionOf(Link.create('tap0', { kind: 'tun', mode: 'tap', namespace: ns }));
    expect([taken instanceof NetlinkError, taken.code, taken.syscall]).toEqual([true, 'EEXIST', 'TUNSETIFF']);
    // Deleted like any link.
    await tap.delete();
    expect(oracle.link(ns.name!, 'tap0')).toBeUndefined();
  });
});

describe('vlan', () => {
  const lacks = kernelLacks('vlan');
  const k = byKernel('vlan', lacks);
  k.has('802.1Q and 802.1ad, id as asked, on the lower device (ip -j -d)', async () => {
    const { ns, lower } = await withLower('vl');
    const q = await Link.create('vl100', { kind: 'vlan', parent: lower, id: 100 });
    const ad = await Link.create('vl200', { kind: 'vlan', parent: 'p0', namespace: ns, id: 200, protocol: '802.1ad' });
    expect(dataOf(ns, 'vl100')).toMatchObject({ protocol: '802.1Q', id: 100 });
    expect(dataOf(ns, 'vl200')).toMatchObject({ protocol: '802.1ad', id: 200 });
    expect(must(ns, 'vl100').link).toBe('p0');
    expect([q.info, ad.info]).toEqual([
      { kind: 'vlan', id: 100, protocol: '802.1Q' },
      { kind: 'vlan', id: 200, protocol: '802.1ad' },
    ]);
  });
  k.lacks(async () => {
    const { ns, lower } = await withLower('vl');
    await expectRefused(ns, () => Link.create('vl100', { kind: 'vlan', parent: lower, id: 100 }));
  });
});

describe('ipvlan', () => {
  const lacks = kernelLacks('ipvlan');
  const k = byKernel('ipvlan', lacks);
  k.has('l2, l3, l3s as asked (ip -j -d)', async () => {
    const { ns, lower } = await withLower('iv');
    const made = [];
    for (const mode of ['l2', 'l3', 'l3s'] as const) made.push(await Link.create(`iv${mode}`, { kind: 'ipvlan', parent: lower, mode }));
    expect(['ivl2', 'ivl3', 'ivl3s'].map((n) => dataOf(ns, n).mode)).toEqual(['l2', 'l3', 'l3s']);
    expect(made.map((l) => l.info)).toEqual(['l2', 'l3', 'l3s'].map((mode) => ({ kind: 'ipvlan', mode, flag: 'bridge' })));
  });
  k.lacks(async () => {
    const { ns, lower } = await withLower('iv');
    await expectRefused(ns, () => Link.create('iv0', { kind: 'ipvlan', parent: lower, mode: 'l2' }));
  });
});

describe('bond', () => {
  const lacks = kernelLacks('bond');
  const k = byKernel('bond', lacks);
  k.has('mode, miimon and slaves (IFLA_MASTER on each) as asked (ip -j -d)', async () => {
    const ns = await t.create('bo');
    const a = await VethPair.create('s0', { namespace: ns, peerName: 's0p', up: true });
    await VethPair.create('s1', { namespace: ns, peerName: 's1p' });
    const b = await Link.create('bond0', { kind: 'bond', namespace: ns, mode: 'active-backup', miimon: 100, slaves: [a.link, 's1'] });
    expect(dataOf(ns, 'bond0')).toMatchObject({ mode: 'active-backup', miimon: 100 });
    expect([must(ns, 's0').master, must(ns, 's1').master]).toEqual(['bond0', 'bond0']);
    expect(b.info).toEqual({ kind: 'bond', mode: 'active-backup', miimon: 100 });
  });
  k.lacks(async () => {
    const ns = await t.create('bo');
    await expectRefused(ns, () => Link.create('bond0', { kind: 'bond', namespace: ns, mode: 'active-backup' }));
  });
});

describe('Link.create: checked before any syscall', () => {
  it('bad kinds, modes, ids and keys are typed errors; nothing is made', async () => {
    const { ns, lower } = await withLower('kv');
    const before = names(ns);
    const bad = (x: unknown): never => x as never;
    const cases: [string, () => Promise<unknown>][] = [
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'nosuch', namespace: ns }))],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', bad(undefined))],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 0 })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 4095 })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'vlan', parent: lower }))],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', bad({ kind: 'vlan', id: 5, namespace: ns }))],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'vlan', parent: lower, id: 5, protocol: bad('802.1x') })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'ipvlan', parent: lower, mode: bad('l4') })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'bond', namespace: ns, mode: bad('active') })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'tun', namespace: ns, mode: bad('tunnel') })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'tun', namespace: ns, owner: -1 })],
      ['ERR_INVALID_ARGUMENT', () => Link.create('x0', { kind: 'dummy', namespace: ns, alias: 'x'.repeat(256) })],
      ['ERR_UNKNOWN_OPTION', () => Link.create('x0', bad({ kind: 'dummy', namespace: ns, id: 3 }))],
      ['ERR_UNKNOWN_OPTION', () => Link.create('x0', bad({ kind: 'vlan', parent: lower, id: 5, vid: 5 }))],
      ['ERR_INVALID_IFNAME', () => Link.create('bad/name', { kind: 'dummy', namespace: ns })],
      ['ERR_INVALID_MTU', () => Link.create('x0', { kind: 'ifb', namespace: ns, mtu: 10 })],
    ];
    const got = [];
    for (const [, run] of cases) {
      const e = await rejectionOf(run());
      got.push([e instanceof NetplumbError, e.code]);
    }
    expect(got).toEqual(cases.map(([code]) => [true, code]));
    const unknown = await rejectionOf(Link.create('x0', bad({ kind: 'vlan', parent: lower, id: 5, protocl: '802.1Q' })));
    expect(unknown.message).toMatch(/did you mean "protocol"/);
    expect(names(ns)).toEqual(before);
  });
});

describe('link setters: alias, txqlen, group', () => {
  it('set, read back by the library and by ip -j -d; alias cleared with ""', async () => {
    const { ns, lower } = await withLower('set');
    await lower.setAlias('uplink to rack 4');
    await lower.setTxqlen(4242);
    await lower.setGroup(77);
    const o = must(ns, 'p0') as IpLink & { txqlen: number; group: string };
    expect([o.ifalias, o.txqlen, o.group]).toEqual(['uplink to rack 4', 4242, '77']);
    const again = await Link.get(ns, 'p0');
    expect([again.alias, again.txqlen, again.group]).toEqual(['uplink to rack 4', 4242, 77]);
    expect([lower.alias, lower.txqlen, lower.group]).toEqual(['uplink to rack 4', 4242, 77]);
    await lower.setAlias('');
    expect(must(ns, 'p0').ifalias).toBeUndefined();
    expect((await Link.get(ns, 'p0')).alias).toBe('');
    // The group is what Link.deleteGroup takes (p0 takes its peer p1 with it).
    await Link.deleteGroup(ns, 77);
    expect(names(ns)).toEqual(['lo']);
  });

  it('bad values are typed errors before any syscall', async () => {
    const { ns, lower } = await withLower('setb');
    const bad = (x: unknown): never => x as never;
    const refused = [
      await rejectionOf(lower.setAlias(bad(42))),
      await rejectionOf(lower.setAlias('x'.repeat(256))),
      await rejectionOf(lower.setTxqlen(-1)),
      await rejectionOf(lower.setTxqlen(1.5)),
      await rejectionOf(lower.setGroup(2 ** 32)),
    ];
    expect(refused.map((e) => [e instanceof NetplumbError, e.code])).toEqual(Array(5).fill([true, 'ERR_INVALID_ARGUMENT']));
    const o = must(ns, 'p0') as IpLink & { txqlen: number; group: string };
    expect([o.ifalias, o.txqlen, o.group]).toEqual([undefined, 1000, 'default']);
  });
});
