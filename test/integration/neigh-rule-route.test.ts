// Neighbor (ARP/NDP), Fdb (bridge / vxlan forwarding database), Rule (policy
// routing) and Route.get, against `ip -j neigh`, `bridge -j fdb`,
// `ip -j rule` and `ip -j route get` in namespaces made for the test.
import { spawnSync } from 'node:child_process';

import {
  Bridge, Fdb, type FdbInfo, Link, type Namespace, Neighbor, type NeighborInfo, NetlinkError, NetplumbError, Route, Rule,
  type RuleInfo, VethPair,
} from '../../lib';
import { ip, kernelLacks, run } from '../helpers/oracle';
import { NsTracker, rejectionOf } from '../helpers/ns-link';

const t = new NsTracker();

let n: Namespace; // the namespace under test
let p: Namespace; // the other end of v0, for carrier
let N: string;
let v0: Link;

beforeAll(async () => {
  n = await t.create('nrr');
  p = await t.create('nrp');
  N = n.name as string;
  await n.loopback.up();
  const pair = await VethPair.create('v0', { namespace: n, peerIn: p, peerName: 'v1', up: true, peerUp: true });
  v0 = pair.link;
  await v0.addAddress('10.20.0.1/24');
  await v0.addAddress('fd20::1/64', { nodad: true });
  const v1 = pair.peer;
  await v1.addAddress('10.20.0.2/24');
  await v1.addAddress('fd20::2/64', { nodad: true });
  await Route.add({ namespace: n, to: 'default', via: '10.20.0.254' });
  await Route.add({ namespace: n, to: 'default', via: 'fd20::fe', family: 6 });
});

afterAll(() => t.cleanup());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json(cmd: string, args: string[]): any[] {
  const out = run(cmd, args);
  return out.trim() ? JSON.parse(out) : [];
}

// ------------------------------------------------------------------ Neighbor

interface OracleNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
  router?: null;
}

const oracleNeigh = (...args: string[]): OracleNeigh[] => json('ip', ['-n', N, '-j', 'neigh', 'show', ...args]);
/** Ours and the oracle's, in one comparable shape, for the test's own addresses. */
const mine = (a: string): boolean => a.startsWith('10.20.0.') || a.startsWith('fd20::');
const fromOracle = (xs: OracleNeigh[]) =>
  xs.filter((x) => mine(x.dst)).map((x) => ({ address: x.dst, dev: x.dev, lladdr: x.lladdr, state: x.state.map((s) => s.toLowerCase()).sort() })).sort(byAddr);
const fromOurs = (xs: NeighborInfo[]) =>
  xs.filter((x) => mine(x.address)).map((x) => ({ address: x.address, dev: x.dev, lladdr: x.lladdr, state: [...x.state].sort() })).sort(byAddr);
function byAddr(a: { address: string }, b: { address: string }): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

describe('Neighbor', () => {
  afterAll(async () => {
    spawnSync('ip', ['-n', N, 'neigh', 'flush', 'dev', 'v0']);
  });

  it('add IPv4 permanent and IPv6 reachable, list, replace, delete (vs ip -j neigh show)', async () => {
    await Neighbor.add({ dev: v0, address: '10.20.0.5', lladdr: '02:00:00:00:00:05' });
    await Neighbor.add({ dev: v0, address: 'fd20::5', lladdr: '02:00:00:00:00:06', state: 'reachable', router: true });

    const o4 = oracleNeigh('10.20.0.5');
    expect(o4).toEqual([{ dst: '10.20.0.5', dev: 'v0', lladdr: '02:00:00:00:00:05', state: ['PERMANENT'] }]);
    const o6 = oracleNeigh('fd20::5');
    expect(o6).toEqual([expect.objectContaining({ dst: 'fd20::5', dev: 'v0', lladdr: '02:00:00:00:00:06', state: ['REACHABLE'] })]);
    expect(o6[0]).toHaveProperty('router');

    const all = await Neighbor.list(n);
    expect(fromOurs(all)).toEqual(fromOracle(oracleNeigh()));
    const e4 = all.find((x) => x.address === '10.20.0.5');
    expect(e4).toEqual({ family: 4, address: '10.20.0.5', lladdr: '02:00:00:00:00:05', index: v0.index, dev: 'v0', state: ['permanent'], flags: [] });
    const e6 = all.find((x) => x.address === 'fd20::5');
    expect(e6).toMatchObject({ family: 6, lladdr: '02:00:00:00:00:06', index: v0.index, dev: 'v0', state: ['reachable'] });
    expect(e6?.flags).toContain('router');

    // Filters: by link, by family.
    // (`ip neigh show dev v0` leaves the dev out of each entry.)
    expect(fromOurs(await Neighbor.list(v0))).toEqual(fromOracle(oracleNeigh('dev', 'v0').map((x) => ({ ...x, dev: 'v0' }))));
    const only4 = await Neighbor.list(n, { family: 4 });
    expect(only4.length).toBeGreaterThan(0);
    expect(only4.every((x) => x.family === 4)).toBe(true);
    expect(fromOurs(only4)).toEqual(fromOracle(json('ip', ['-n', N, '-4', '-j', 'neigh', 'show'])));

    // replace: new lladdr.
    await Neighbor.replace({ dev: v0, address: '10.20.0.5', lladdr: '02:00:00:00:00:55' });
    expect(oracleNeigh('10.20.0.5')).toEqual([{ dst: '10.20.0.5', dev: 'v0', lladdr: '02:00:00:00:00:55', state: ['PERMANENT'] }]);
    // replace of an absent entry creates it.
    await Neighbor.replace({ dev: v0, address: '10.20.0.6', lladdr: '02:00:00:00:00:66', state: 'stale' });
    expect(oracleNeigh('10.20.0.6')).toEqual([{ dst: '10.20.0.6', dev: 'v0', lladdr: '02:00:00:00:00:66', state: ['STALE'] }]);

    // delete.
    await Neighbor.delete({ dev: v0, address: '10.20.0.5' });
    await Neighbor.delete({ dev: v0, address: 'fd20::5' });
    await Neighbor.delete({ dev: v0, address: '10.20.0.6' });
    expect(oracleNeigh('10.20.0.5')).toEqual([]);
    expect(oracleNeigh('fd20::5')).toEqual([]);
    expect((await Neighbor.list(n)).filter((x) => ['10.20.0.5', 'fd20::5', '10.20.0.6'].includes(x.address))).toEqual([]);
  });

  it('duplicate add: NetlinkError EEXIST; delete of an absent entry: ENOENT', async () => {
    await Neighbor.add({ dev: v0, address: '10.20.0.7', lladdr: '02:00:00:00:00:07' });
    const e = await rejectionOf(Neighbor.add({ dev: v0, address: '10.20.0.7', lladdr: '02:00:00:00:00:08' }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    expect(e.syscall).toBe('RTM_NEWNEIGH');
    // The first entry is unchanged.
    expect(oracleNeigh('10.20.0.7')).toEqual([expect.objectContaining({ lladdr: '02:00:00:00:00:07' })]);
    await Neighbor.delete({ dev: v0, address: '10.20.0.7' });

    const d = await rejectionOf(Neighbor.delete({ dev: v0, address: '10.20.0.7' }));
    expect(d).toBeInstanceOf(NetlinkError);
    expect(d.code).toBe('ENOENT');
    expect(d.syscall).toBe('RTM_DELNEIGH');
    const d6 = await rejectionOf(Neighbor.delete({ dev: v0, address: 'fd20::77' }));
    expect(d6).toBeInstanceOf(NetlinkError);
    expect(d6.code).toBe('ENOENT');
  });

  it("invalid lladdr ('zz'): NetplumbError ERR_INVALID_LLADDR, nothing added", async () => {
    for (const lladdr of ['zz', '02:00:00:00:00:0g', '02:00:00:00:00:', '02::00', '0200.0000.0005', '']) {
      const e = await rejectionOf(Neighbor.add({ dev: v0, address: '10.20.0.8', lladdr }));
      expect({ lladdr, name: e.name, code: e.code }).toEqual({ lladdr, name: 'NetplumbError', code: 'ERR_INVALID_LLADDR' });
    }
    // Well-formed but of the wrong length for Ethernet (5 octets): netplumb accepts any 1-32
    // octets (it does not know the device's address length), the kernel refuses.
    const short = await rejectionOf(Neighbor.add({ dev: v0, address: '10.20.0.8', lladdr: '02:00:00:00:00' }));
    expect(short).toBeInstanceOf(NetlinkError);
    expect(short.code).toBe('EINVAL');
    const e = await rejectionOf(Neighbor.add({ dev: v0, address: '10.20.0.8' }));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_INVALID_LLADDR');
    expect(oracleNeigh('10.20.0.8')).toEqual([]);
  });
});

// ------------------------------------------------------------------ Fdb

interface OracleFdb {
  mac: string;
  ifname: string;
  master?: string;
  dst?: string;
  vni?: number;
  vlan?: number;
  flags: string[];
  state: string;
}

/** `bridge -n N -j fdb show ARGS`; with `dev X` bridge leaves ifname out of each entry: it is filled in. */
const oracleFdb = (...args: string[]): OracleFdb[] => {
  const dev = args[0] === 'dev' ? args[1] : undefined;
  return (json('bridge', ['-n', N, '-j', 'fdb', 'show', ...args]) as OracleFdb[]).map((x) => (dev ? { ...x, ifname: x.ifname ?? dev } : x));
};

describe('Fdb', () => {
  it('bridge port: add (master, static), list, delete (vs bridge -j fdb show)', async () => {
    const br = await Bridge.create('br0', { namespace: n, up: true });
    const pair = await VethPair.create('p0', { namespace: n, peerName: 'p1', master: br, up: true, peerUp: true });
    const p0 = pair.link;
    expect(p0.slaveKind).toBe('bridge');
    const MAC = '02:11:22:33:44:55';

    await Fdb.add({ dev: p0, lladdr: MAC });
    const o = oracleFdb('br', 'br0').filter((x) => x.mac === MAC);
    expect(o).toEqual([{ mac: MAC, ifname: 'p0', master: 'br0', flags: [], state: 'static' }]);

    const ours = (await Fdb.list(n)).filter((x) => x.lladdr === MAC);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ lladdr: MAC, index: p0.index, dev: 'p0', master: br.index, state: ['static'] });
    expect(ours[0]?.flags).not.toContain('self');

    // Every entry of the bridge, ours vs the oracle (mac, port, state). Learned entries
    // can appear at any moment (p1 sends IPv6 chatter): compare when the oracle is
    // the same before and after our dump.
    const dyn = (st: string) => (st === '' || st === 'reachable' ? 'dynamic' : st);
    const theirs = () => oracleFdb('br', 'br0').map((x) => `${x.mac} ${x.ifname} ${dyn(x.state ?? '')}`).sort();
    let compared = false;
    for (let i = 0; i < 5 && !compared; i++) {
      const before = theirs();
      const oursBr = await Fdb.list(n, { bridge: br });
      const after = theirs();
      if (JSON.stringify(before) !== JSON.stringify(after)) continue;
      expect(oursBr.length).toBeGreaterThan(1);
      expect(oursBr.map((x: FdbInfo) => `${x.lladdr} ${x.dev} ${dyn(x.state.join(','))}`).sort()).toEqual(after);
      compared = true;
    }
    expect(compared).toBe(true);

    // Adding it again: EEXIST.
    const e = await rejectionOf(Fdb.add({ dev: p0, lladdr: MAC }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');

    await Fdb.delete({ dev: p0, lladdr: MAC });
    expect(oracleFdb('br', 'br0').filter((x) => x.mac === MAC)).toEqual([]);
    const d = await rejectionOf(Fdb.delete({ dev: p0, lladdr: MAC }));
    expect(d).toBeInstanceOf(NetlinkError);
    expect(d.code).toBe('ENOENT');
  });

  const NO_VXLAN = kernelLacks('vxlan');
  (NO_VXLAN ? it.skip : it)(`vxlan device: add (self, dst, vni), list, delete (vs bridge -j fdb show)${NO_VXLAN ? ` (skipped: ${NO_VXLAN})` : ''}`, async () => {
    ip(N, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.20.0.1');
    const vx0 = await Link.get(n, 'vx0');
    expect(vx0.kind).toBe('vxlan');
    const MAC = '02:aa:bb:cc:dd:ee';

    await Fdb.add({ dev: vx0, lladdr: MAC, dst: '10.20.0.9', vni: 100, state: 'permanent' });
    const o = oracleFdb('dev', 'vx0').filter((x) => x.mac === MAC);
    expect(o).toEqual([expect.objectContaining({ mac: MAC, ifname: 'vx0', dst: '10.20.0.9', vni: 100, flags: ['self'] })]);

    const ours = (await Fdb.list(vx0)).filter((x) => x.lladdr === MAC);
    expect(ours).toEqual([expect.objectContaining({ lladdr: MAC, index: vx0.index, dev: 'vx0', dst: '10.20.0.9', vni: 100 })]);
    expect(ours[0]?.flags).toContain('self');
    expect(ours[0]?.state.join(',') || 'dynamic').toBe(o[0]?.state);

    // A second remote for another MAC, the device's own vni (which the kernel does not report).
    await Fdb.add({ dev: vx0, lladdr: '02:aa:bb:cc:dd:ef', dst: '10.20.0.10', state: 'permanent' });
    const o2 = oracleFdb('dev', 'vx0').filter((x) => x.mac === '02:aa:bb:cc:dd:ef');
    expect(o2).toEqual([expect.objectContaining({ dst: '10.20.0.10', flags: ['self'] })]);
    expect(o2[0]?.vni).toBeUndefined();
    const ours2 = (await Fdb.list(vx0)).filter((x) => x.lladdr === '02:aa:bb:cc:dd:ef');
    expect(ours2).toEqual([expect.objectContaining({ dst: '10.20.0.10', dev: 'vx0' })]);
    expect(ours2[0]?.vni).toBeUndefined();
    // An IPv6 remote on an IPv4 vxlan: the kernel refuses (NetlinkError).
    const af = await rejectionOf(Fdb.add({ dev: vx0, lladdr: '02:aa:bb:cc:dd:f0', dst: 'fd20::9', state: 'permanent' }));
    expect(af).toBeInstanceOf(NetlinkError);
    expect(af.code).toBe('EAFNOSUPPORT');

    await Fdb.delete({ dev: vx0, lladdr: MAC, dst: '10.20.0.9', vni: 100 });
    await Fdb.delete({ dev: vx0, lladdr: '02:aa:bb:cc:dd:ef', dst: '10.20.0.10' });
    expect(oracleFdb('dev', 'vx0').filter((x) => x.mac.startsWith('02:aa:bb'))).toEqual([]);
    await vx0.delete();
  });

  (NO_VXLAN ? it.skip : it)(`vxlan device: the default state ('static') is accepted, as \`bridge fdb add ... static\` is${NO_VXLAN ? ` (skipped: ${NO_VXLAN})` : ''}`, async () => {
    ip(N, 'link', 'add', 'vx1', 'type', 'vxlan', 'id', '43', 'dstport', '4790', 'local', '10.20.0.1');
    const vx1 = await Link.get(n, 'vx1');
    try {
      // Control: iproute2's 'static' works on a vxlan device.
      run('bridge', ['-n', N, 'fdb', 'add', '02:aa:bb:cc:dd:01', 'dev', 'vx1', 'self', 'static', 'dst', '10.20.0.9']);
      expect(oracleFdb('dev', 'vx1').filter((x) => x.mac === '02:aa:bb:cc:dd:01')).toEqual([
        expect.objectContaining({ dst: '10.20.0.9', flags: ['self'], state: 'static' }),
      ]);
      // FdbOptions documents 'static' as the default state, and 'self' as the default target for vxlan.
      await Fdb.add({ dev: vx1, lladdr: '02:aa:bb:cc:dd:02', dst: '10.20.0.10' });
      expect(oracleFdb('dev', 'vx1').filter((x) => x.mac === '02:aa:bb:cc:dd:02')).toEqual([
        expect.objectContaining({ dst: '10.20.0.10', flags: ['self'], state: 'static' }),
      ]);
      await Fdb.add({ dev: vx1, lladdr: '02:aa:bb:cc:dd:03', dst: '10.20.0.11', state: 'static' });
      expect(oracleFdb('dev', 'vx1').filter((x) => x.mac === '02:aa:bb:cc:dd:03')).toHaveLength(1);
    } finally {
      await vx1.delete();
    }
  });
});

// ------------------------------------------------------------------ Rule

interface OracleRule {
  priority: number;
  src: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  not?: null;
  fwmark?: string;
  fwmask?: string;
  iif?: string;
  oif?: string;
  table?: string;
  action?: string;
}

const oracleRules = (family: 4 | 6): OracleRule[] => json('ip', ['-n', N, `-${family}`, '-j', 'rule', 'show']);

/** A RuleInfo as `ip -j rule show` prints it. */
function asIp(r: RuleInfo): OracleRule {
  const o: OracleRule = { priority: r.priority as number, src: r.from ? (r.from.split('/')[0] as string) : 'all' };
  if (r.not) o.not = null;
  if (r.from) o.srclen = Number(r.from.split('/')[1]);
  if (r.to) {
    o.dst = r.to.split('/')[0] as string;
    o.dstlen = Number(r.to.split('/')[1]);
  }
  if (r.fwmark !== undefined || (r.fwmask !== undefined && r.fwmask !== 0)) {
    o.fwmark = `0x${(r.fwmark ?? 0).toString(16)}`;
    if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) o.fwmask = `0x${r.fwmask.toString(16)}`;
  }
  if (r.iif) o.iif = r.iif;
  if (r.oif) o.oif = r.oif;
  if (r.action === 'table') o.table = String(r.table);
  else o.action = String(r.action);
  return o;
}

describe('Rule', () => {
  let baseline4: OracleRule[];
  let baseline6: OracleRule[];
  beforeAll(() => {
    baseline4 = oracleRules(4);
    baseline6 = oracleRules(6);
    // A fresh namespace has the kernel's default rules only.
    expect(baseline4.map((r) => r.priority)).toEqual([0, 32766, 32767]);
    expect(baseline6.map((r) => r.priority)).toEqual([0, 32766]);
  });
  afterEach(() => {
    // Leave the defaults only, whatever a test did.
    for (const [fam, keep] of [['-4', [0, 32766, 32767]], ['-6', [0, 32766]]] as const)
      for (const r of oracleRules(fam === '-4' ? 4 : 6)) if (!(keep as readonly number[]).includes(r.priority)) spawnSync('ip', ['-n', N, fam, 'rule', 'del', 'pref', String(r.priority)]);
  });

  async function addAll(): Promise<void> {
    await Rule.add({
      namespace: n, from: '10.10.0.0/16', to: '10.11.0.0/16', iif: 'v0', oif: 'lo', fwmark: 0x10, fwmask: 0xff, table: 100, priority: 1000, not: true,
    });
    await Rule.add({ namespace: n, to: '10.12.0.0/16', action: 'blackhole', priority: 1001 });
    await Rule.add({ namespace: n, fwmark: 7, table: 'main', priority: 1002 });
    await Rule.add({ namespace: n, from: 'fd30::/64', to: 'fd31::/48', table: 200, priority: 2000 });
    await Rule.add({ namespace: n, family: 6, iif: 'v0', action: 'unreachable', priority: 2001 });
  }

  it('add IPv4 and IPv6 rules with every selector (vs ip -j rule show), then delete them', async () => {
    await addAll();
    const o4 = oracleRules(4);
    expect(o4).toContainEqual({
      priority: 1000, not: null, src: '10.10.0.0', srclen: 16, dst: '10.11.0.0', dstlen: 16, fwmark: '0x10', fwmask: '0xff', iif: 'v0', oif: 'lo', table: '100',
    });
    expect(o4).toContainEqual({ priority: 1001, src: 'all', dst: '10.12.0.0', dstlen: 16, action: 'blackhole' });
    expect(o4).toContainEqual({ priority: 1002, src: 'all', fwmark: '0x7', table: 'main' });
    expect(o4).toHaveLength(6);
    const o6 = oracleRules(6);
    expect(o6).toContainEqual({ priority: 2000, src: 'fd30::', srclen: 64, dst: 'fd31::', dstlen: 48, table: '200' });
    expect(o6).toContainEqual({ priority: 2001, src: 'all', iif: 'v0', action: 'unreachable' });
    expect(o6).toHaveLength(4);

    // Our view of the rules we added.
    const ours = await Rule.list(n);
    expect(ours.find((r) => r.priority === 1000)).toEqual({
      family: 4, priority: 1000, from: '10.10.0.0/16', to: '10.11.0.0/16', iif: 'v0', oif: 'lo', fwmark: 0x10, fwmask: 0xff, tos: 0, table: 100, action: 'table', not: true,
    });
    expect(ours.find((r) => r.priority === 1001)).toMatchObject({ family: 4, to: '10.12.0.0/16', action: 'blackhole', not: false });
    expect(ours.find((r) => r.priority === 2000)).toMatchObject({ family: 6, from: 'fd30::/64', to: 'fd31::/48', table: 200, action: 'table' });
    expect(ours.find((r) => r.priority === 2001)).toMatchObject({ family: 6, iif: 'v0', action: 'unreachable' });
    for (const p of [1000, 1001, 1002, 2000, 2001]) expect(ours.filter((r) => r.priority === p).map(asIp)).toEqual([...o4, ...o6].filter((r) => r.priority === p));

    // The blackhole rule really drops: a route lookup to 10.12.0.1 fails, for ip too.
    const bh = await rejectionOf(Route.get(n, '10.12.0.1'));
    expect(bh).toBeInstanceOf(NetlinkError);
    expect(bh.code).toBe('EINVAL'); // the kernel's answer to a lookup that hits a blackhole rule
    expect(spawnSync('ip', ['-n', N, 'route', 'get', '10.12.0.1'], { encoding: 'utf8' }).status).not.toBe(0);

    // Delete each (by its selectors); the oracle no longer shows them.
    await Rule.delete({ namespace: n, priority: 1000 });
    await Rule.delete({ namespace: n, to: '10.12.0.0/16', action: 'blackhole', priority: 1001 });
    await Rule.delete({ namespace: n, fwmark: 7, table: 'main' });
    await Rule.delete({ namespace: n, from: 'fd30::/64', priority: 2000 });
    await Rule.delete({ namespace: n, family: 6, priority: 2001, action: 'unreachable' });
    expect(oracleRules(4)).toEqual(baseline4);
    expect(oracleRules(6)).toEqual(baseline6);
  });

  it('delete with only the priority removes a blackhole / unreachable rule (unset fields match anything)', async () => {
    await Rule.add({ namespace: n, to: '10.14.0.0/16', action: 'blackhole', priority: 1500 });
    await Rule.add({ namespace: n, family: 6, to: 'fd32::/48', action: 'unreachable', priority: 1501 });
    await Rule.add({ namespace: n, to: '10.15.0.0/16', action: 'prohibit', priority: 1502 });
    // Control: iproute2 deletes by pref alone.
    ip(N, 'rule', 'del', 'pref', '1502');
    expect(oracleRules(4).map((r) => r.priority)).not.toContain(1502);
    // The documented contract of Rule.delete: unset fields match anything.
    await Rule.delete({ namespace: n, priority: 1500 });
    expect(oracleRules(4).map((r) => r.priority)).not.toContain(1500);
    await Rule.delete({ namespace: n, family: 6, priority: 1501 });
    expect(oracleRules(6).map((r) => r.priority)).not.toContain(1501);
  });

  it('Rule.list equals ip -j rule show, both families, the kernel defaults (pref 0) included', async () => {
    await addAll();
    const ours = await Rule.list(n);
    expect(ours.filter((r) => r.family === 4).map(asIp)).toEqual(oracleRules(4));
    expect(ours.filter((r) => r.family === 6).map(asIp)).toEqual(oracleRules(6));
    expect((await Rule.list(n, { family: 6 })).map(asIp)).toEqual(oracleRules(6));
  });

  it('priority out of range (-1, 2**32): NetplumbError ERR_INVALID_ARGUMENT, nothing added', async () => {
    for (const priority of [-1, 2 ** 32, 1.5]) {
      const e = await rejectionOf(Rule.add({ namespace: n, from: '10.10.0.0/16', table: 100, priority }));
      expect({ priority, name: e.name, code: e.code }).toEqual({ priority, name: 'NetplumbError', code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(oracleRules(4)).toEqual(baseline4);
  });

  it('the highest priority 4294967295 is accepted', async () => {
    await Rule.add({ namespace: n, to: '10.13.0.0/16', table: 100, priority: 4294967295 });
    expect(oracleRules(4)).toContainEqual({ priority: 4294967295, src: 'all', dst: '10.13.0.0', dstlen: 16, table: '100' });
    expect((await Rule.list(n, { family: 4 })).map((r) => r.priority)).toContain(4294967295);
    await Rule.delete({ namespace: n, priority: 4294967295 });
  });

  it('delete of a rule that does not exist: NetlinkError ENOENT', async () => {
    const e = await rejectionOf(Rule.delete({ namespace: n, from: '10.99.0.0/16', table: 100, priority: 5555 }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('RTM_DELRULE');
    const e6 = await rejectionOf(Rule.delete({ namespace: n, family: 6, priority: 5556 }));
    expect(e6).toBeInstanceOf(NetlinkError);
    expect(e6.code).toBe('ENOENT');
  });
});

// ------------------------------------------------------------------ Route.get

interface OracleGet {
  dst: string;
  gateway?: string;
  dev: string;
  prefsrc?: string;
  table?: string;
}

const oracleGet = (...args: string[]): OracleGet => {
  const [r] = json('ip', ['-n', N, '-j', 'route', 'get', ...args]);
  return r as OracleGet;
};

describe('Route.get', () => {
  it('a gatewayed destination: dev, gateway, prefsrc as ip route get says', async () => {
    const o = oracleGet('8.8.8.8');
    expect(o).toMatchObject({ dst: '8.8.8.8', gateway: '10.20.0.254', dev: 'v0', prefsrc: '10.20.0.1' });
    const r = await Route.get(n, '8.8.8.8');
    expect({ to: r.to, via: r.via, dev: r.dev, src: r.src, oif: r.oif, family: r.family }).toEqual({
      to: '8.8.8.8', via: o.gateway, dev: o.dev, src: o.prefsrc, oif: v0.index, family: 4,
    });
  });

  it('a direct destination: no gateway', async () => {
    const o = oracleGet('10.20.0.7');
    expect(o.gateway).toBeUndefined();
    const r = await Route.get(n, '10.20.0.7');
    expect({ via: r.via, dev: r.dev, src: r.src }).toEqual({ via: undefined, dev: 'v0', src: o.prefsrc });
    expect(r.src).toBe('10.20.0.1');
  });

  it('with from: policy routing picks the table of a from-rule', async () => {
    await Route.add({ namespace: n, to: 'default', via: '10.20.0.253', table: 300 });
    await Rule.add({ namespace: n, from: '10.20.0.1/32', table: 300, priority: 300 });
    try {
      const o = oracleGet('8.8.8.8', 'from', '10.20.0.1');
      expect(o).toMatchObject({ gateway: '10.20.0.253', dev: 'v0' });
      const r = await Route.get(n, '8.8.8.8', { from: '10.20.0.1' });
      expect({ via: r.via, dev: r.dev, src: r.src }).toEqual({ via: o.gateway, dev: o.dev, src: o.prefsrc });
      expect(r.table).toBe(300);
      // Without from the main table's default is used.
      expect((await Route.get(n, '8.8.8.8')).via).toBe('10.20.0.254');
      const d = await Route.get(n, '10.20.0.7', { from: '10.20.0.1' });
      const od = oracleGet('10.20.0.7', 'from', '10.20.0.1');
      expect({ via: d.via, dev: d.dev }).toEqual({ via: od.gateway, dev: od.dev });
    } finally {
      await Rule.delete({ namespace: n, priority: 300 });
    }
  });

  it('IPv6: gatewayed and direct', async () => {
    const o = oracleGet('2001:db8::1');
    expect(o).toMatchObject({ gateway: 'fd20::fe', dev: 'v0', prefsrc: 'fd20::1' });
    const r = await Route.get(n, '2001:db8::1');
    expect({ family: r.family, via: r.via, dev: r.dev, src: r.src }).toEqual({ family: 6, via: o.gateway, dev: o.dev, src: o.prefsrc });

    const od = oracleGet('fd20::7');
    const d = await Route.get(n, 'fd20::7');
    expect({ via: d.via, dev: d.dev, src: d.src }).toEqual({ via: od.gateway, dev: od.dev, src: od.prefsrc });
    expect(d.via).toBeUndefined();

    const of = oracleGet('2001:db8::1', 'from', 'fd20::1');
    const f = await Route.get(n, '2001:db8::1', { from: 'fd20::1' });
    expect({ via: f.via, dev: f.dev }).toEqual({ via: of.gateway, dev: of.dev });
  });

  it('an unreachable destination: NetlinkError ENETUNREACH', async () => {
    const u = await t.create('nru');
    await u.loopback.up();
    expect(spawnSync('ip', ['-n', u.name as string, 'route', 'get', '192.0.2.1'], { encoding: 'utf8' }).stderr).toMatch(/unreachable/i);
    const e = await rejectionOf(Route.get(u, '192.0.2.1'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENETUNREACH');
    expect(e.errno).toBe(-101);
    const e6 = await rejectionOf(Route.get(u, '2001:db8::1'));
    expect(e6).toBeInstanceOf(NetlinkError);
    expect(e6.code).toBe('ENETUNREACH');
  });

  it('bad input: NetplumbError', async () => {
    expect((await rejectionOf(Route.get(n, 'example.com'))).code).toBe('ERR_INVALID_IP');
    expect((await rejectionOf(Route.get(n, '10.0.0.0/24'))).code).toBe('ERR_INVALID_IP');
    expect((await rejectionOf(Route.get(n, '10.20.0.7', { from: 'fd20::1' }))).code).toBe('ERR_FAMILY_MISMATCH');
  });
});
