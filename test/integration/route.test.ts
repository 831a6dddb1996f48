// Route against the real kernel, checked with iproute2 (`ip -j route show`).
import { spawnSync } from 'node:child_process';
import { type Link, Namespace, NetlinkError, Route, type RouteInfo, VethPair } from '../../lib';
import { expectNetlink, expectNetplumb, sorted } from '../helpers/addr-route';
import { inSandbox, oracle, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const NS = uniq('rt'); // the namespace under test: eth0 10.60.0.2/24, fd00:60::2/64
const HOST = uniq('rth'); // the other end of the veth (host side)
let ns: Namespace;
let host: Namespace;
let eth0: Link;
let hostEnd: Link; // lives in HOST

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OracleRoute = Record<string, any>;
const r4 = (...args: string[]): OracleRoute[] => oracle.routes(NS, ...args);
const r6 = (...args: string[]): OracleRoute[] => oracle.routes6(NS, ...args);
const find = (rs: OracleRoute[], dst: string): OracleRoute | undefined => rs.find((r) => r.dst === dst);

beforeAll(async () => {
  [ns, host] = await Promise.all([Namespace.create(NS), Namespace.create(HOST)]);
  const pair = await VethPair.create('veth0', { namespace: host, peerIn: ns, peerName: 'eth0', up: true, peerUp: true });
  eth0 = pair.peer;
  hostEnd = pair.link;
  expect(eth0.namespace.equals(ns)).toBe(true);
  await eth0.addAddress('10.60.0.2/24');
  await eth0.addAddress('fd00:60::2/64', { nodad: true });
  await ns.loopback.up();
});

afterAll(async () => {
  await Promise.all([ns?.delete(), host?.delete()]);
});

describe('Route.add', () => {
  it("default via 10.60.0.1 -> oracle has {dst:'default', gateway:'10.60.0.1', dev:'eth0'}", async () => {
    expect(find(r4(), 'default')).toBeUndefined();
    await Route.add({ namespace: ns, to: 'default', via: '10.60.0.1' });
    const d = find(r4(), 'default');
    expect(d).toMatchObject({ dst: 'default', gateway: '10.60.0.1', dev: 'eth0' });
    const mine = (await Route.list(ns, { family: 4 })).find((r) => r.to === 'default');
    expect(mine).toMatchObject({ family: 4, to: 'default', via: '10.60.0.1', dev: 'eth0', oif: eth0.index, table: 'main', type: 'unicast' });
  });

  it('a device route (10.61.0.0/16 dev eth0) gets scope link', async () => {
    await Route.add({ to: '10.61.0.0/16', dev: eth0 }); // namespace taken from the Link
    const r = find(r4(), '10.61.0.0/16');
    expect(r).toBeDefined();
    expect(r!.dev).toBe('eth0');
    expect(r!.scope).toBe('link');
    expect(r!.gateway).toBeUndefined();
    const mine = (await Route.list(ns, { family: 4 })).find((x) => x.to === '10.61.0.0/16');
    expect(mine?.scope).toBe('link');
  });

  it('metric is set (oracle), and two metrics make two routes', async () => {
    await Route.add({ namespace: ns, to: '10.63.0.0/16', dev: 'eth0', metric: 77 });
    await Route.add({ namespace: ns, to: '10.63.0.0/16', dev: 'eth0', metric: 78 });
    const rs = r4().filter((r) => r.dst === '10.63.0.0/16');
    expect(sorted(rs.map((r) => r.metric))).toEqual([77, 78]);
    const mine = (await Route.list(ns, { family: 4 })).filter((x) => x.to === '10.63.0.0/16');
    expect(sorted(mine.map((x) => x.metric))).toEqual([77, 78]);
  });

  it('table 100 (oracle `route show table 100`), and not in main', async () => {
    await Route.add({ namespace: ns, to: '10.64.0.0/16', via: '10.60.0.1', table: 100 });
    expect(find(r4('table', '100'), '10.64.0.0/16')).toMatchObject({ gateway: '10.60.0.1', dev: 'eth0' });
    expect(find(r4(), '10.64.0.0/16')).toBeUndefined();
    const mine = await Route.list(ns, { table: 100, family: 4 });
    expect(mine.map((r) => r.to)).toEqual(['10.64.0.0/16']);
    expect(mine[0]!.table).toBe(100);
    expect(mine[0]!.via).toBe('10.60.0.1');
    expect((await Route.list(ns)).find((r) => r.to === '10.64.0.0/16')).toBeUndefined();
  });

  it('Route.list(ns, {table: 100}) without family lists the table although IPv6 has no table 100', async () => {
    // Only IPv4 uses table 100 here: the IPv6 dump must count as empty, not fail the whole list.
    const six = spawnSync('ip', ['-n', NS, '-6', 'route', 'show', 'table', '100'], { encoding: 'utf8' });
    expect(six.status).not.toBe(0);
    expect(six.stderr).toContain('FIB table does not exist');
    const mine = await Route.list(ns, { table: 100 });
    expect(mine.map((r) => r.to)).toEqual(['10.64.0.0/16']);
  });

  it('src sets the preferred source (prefsrc 10.60.0.2)', async () => {
    await Route.add({ namespace: ns, to: '10.65.0.0/16', via: '10.60.0.1', src: '10.60.0.2' });
    expect(find(r4(), '10.65.0.0/16')).toMatchObject({ gateway: '10.60.0.1', prefsrc: '10.60.0.2' });
    expect((await Route.list(ns, { family: 4 })).find((r) => r.to === '10.65.0.0/16')?.src).toBe('10.60.0.2');
  });

  it('type blackhole and unreachable', async () => {
    await Route.add({ namespace: ns, to: '10.62.0.0/16', type: 'blackhole' });
    await Route.add({ namespace: ns, to: '10.62.0.0/16', type: 'unreachable', metric: 5 });
    const rs = r4().filter((r) => r.dst === '10.62.0.0/16');
    expect(sorted(rs.map((r) => r.type))).toEqual(['blackhole', 'unreachable']);
    const mine = (await Route.list(ns, { family: 4 })).filter((r) => r.to === '10.62.0.0/16');
    expect(sorted(mine.map((r) => String(r.type)))).toEqual(['blackhole', 'unreachable']);
  });

  it('IPv6 default via fd00:60::1 (address fd00:60::2/64 nodad)', async () => {
    await Route.add({ namespace: ns, to: 'default', via: 'fd00:60::1' });
    const d = find(r6(), 'default');
    expect(d).toMatchObject({ dst: 'default', gateway: 'fd00:60::1', dev: 'eth0' });
    const mine = (await Route.list(ns, { family: 6 })).find((r) => r.to === 'default');
    expect(mine).toMatchObject({ family: 6, via: 'fd00:60::1', dev: 'eth0' });
    // the IPv4 default is untouched
    expect(find(r4(), 'default')?.gateway).toBe('10.60.0.1');
  });
});

describe('replace, delete, kernel errors', () => {
  it('Route.replace changes the gateway of an existing route', async () => {
    await Route.add({ namespace: ns, to: '10.66.0.0/16', via: '10.60.0.1' });
    expect(find(r4(), '10.66.0.0/16')?.gateway).toBe('10.60.0.1');
    await Route.replace({ namespace: ns, to: '10.66.0.0/16', via: '10.60.0.254' });
    const rs = r4().filter((r) => r.dst === '10.66.0.0/16');
    expect(rs).toHaveLength(1);
    expect(rs[0]!.gateway).toBe('10.60.0.254');
  });

  it('adding an existing route -> NetlinkError EEXIST from RTM_NEWROUTE', async () => {
    await Route.add({ namespace: ns, to: '10.67.0.0/16', via: '10.60.0.1' });
    const e = await expectNetlink(Route.add({ namespace: ns, to: '10.67.0.0/16', via: '10.60.0.1' }), 'EEXIST', 'RTM_NEWROUTE');
    expect(e.errno).toBe(-17);
    expect(e.object).toContain('10.67.0.0/16');
    expect(r4().filter((r) => r.dst === '10.67.0.0/16')).toHaveLength(1);
  });

  it('Route.delete removes the route; deleting an absent one -> ESRCH', async () => {
    await Route.add({ namespace: ns, to: '10.68.0.0/16', via: '10.60.0.1' });
    expect(find(r4(), '10.68.0.0/16')).toBeDefined();
    await Route.delete({ namespace: ns, to: '10.68.0.0/16' });
    expect(find(r4(), '10.68.0.0/16')).toBeUndefined();
    const e = await expectNetlink(Route.delete({ namespace: ns, to: '10.68.0.0/16' }), 'ESRCH', 'RTM_DELROUTE');
    expect(e.errno).toBe(-3);
    // IPv6 too
    await Route.add({ namespace: ns, to: 'fd00:68::/64', via: 'fd00:60::1' });
    expect(find(r6(), 'fd00:68::/64')).toBeDefined();
    await Route.delete({ namespace: ns, to: 'fd00:68::/64', via: 'fd00:60::1' });
    expect(find(r6(), 'fd00:68::/64')).toBeUndefined();
    await expectNetlink(Route.delete({ namespace: ns, to: 'fd00:68::/64' }), 'ESRCH');
  });

  it('an unreachable gateway (192.0.2.1, no covering route) -> ENETUNREACH with the kernel extack; onlink makes it succeed', async () => {
    const e = await expectNetlink(Route.add({ namespace: ns, to: '10.69.0.0/16', via: '192.0.2.1', dev: 'eth0' }), 'ENETUNREACH', 'RTM_NEWROUTE');
    expect(typeof e.extack).toBe('string');
    expect(e.extack!.length).toBeGreaterThan(0);
    expect(e.message).toContain(e.extack!);
    expect(find(r4(), '10.69.0.0/16')).toBeUndefined();

    await Route.add({ namespace: ns, to: '10.69.0.0/16', via: '192.0.2.1', dev: 'eth0', onlink: true });
    const r = find(r4(), '10.69.0.0/16');
    expect(r).toMatchObject({ gateway: '192.0.2.1', dev: 'eth0' });
    expect(r!.flags).toContain('onlink');
  });
});

function tuple(r: { to: string; via?: string; dev?: string; metric?: number }): string {
  return `${r.to}|${r.via ?? ''}|${r.dev ?? ''}|${r.metric ?? 0}`;
}

describe('Route.list', () => {
  it('family 4, main table: the set of (to, via, dev, metric) equals the oracle', async () => {
    const mine = (await Route.list(ns, { family: 4 })).map(tuple);
    const theirs = r4().map((r) => tuple({ to: r.dst, via: r.gateway, dev: r.dev, metric: r.metric }));
    expect(theirs.length).toBeGreaterThanOrEqual(10); // non-vacuous: everything added above
    expect(sorted(mine)).toEqual(sorted(theirs));
  });

  it('family 6, main table: same for IPv6', async () => {
    const mine = (await Route.list(ns, { family: 6 })).map(tuple);
    const theirs = r6().map((r) => tuple({ to: r.dst, via: r.gateway, dev: r.dev, metric: r.metric }));
    expect(theirs.length).toBeGreaterThanOrEqual(3);
    expect(sorted(mine)).toEqual(sorted(theirs));
  });

  it("{table: 'all'} includes the local table's routes (and table 100's)", async () => {
    const all = await Route.list(ns, { table: 'all', family: 4 });
    const local = all.filter((r) => r.table === 'local');
    expect(local.length).toBeGreaterThan(0);
    expect(local.find((r) => r.to === '10.60.0.2' && r.type === 'local')).toBeDefined();
    expect(all.find((r) => r.table === 100 && r.to === '10.64.0.0/16')).toBeDefined();
    // the oracle's local table, as a set of (dst, type)
    const theirs = oracle.routes(NS, 'table', 'local').map((r) => `${r.dst}|${r.type}`);
    expect(sorted(local.map((r) => `${r.to}|${r.type}`))).toEqual(sorted(theirs));
    // the main list does not have them
    expect((await Route.list(ns, { family: 4 })).find((r) => r.type === 'local')).toBeUndefined();
  });

  it("{dev: 'eth0'} returns only eth0's routes, as the oracle's `dev eth0`", async () => {
    // a route out of another device, so that the filter has something to drop
    const other = await VethPair.create('o0', { namespace: ns, peerName: 'o1', up: true, peerUp: true });
    try {
      await Route.add({ namespace: ns, to: '10.70.0.0/16', dev: other.link });
      const all = await Route.list(ns, { family: 4 });
      expect(all.find((r) => r.dev === 'o0')).toBeDefined();
      for (const dev of ['eth0', eth0, eth0.index] as const) {
        const mine = await Route.list(ns, { family: 4, dev });
        expect(mine.length).toBeGreaterThan(0);
        expect(mine.every((r) => r.dev === 'eth0' && r.oif === eth0.index)).toBe(true);
        const theirs = r4('dev', 'eth0').map((r) => `${r.dst}|${r.gateway ?? ''}`);
        expect(sorted(mine.map((r) => `${r.to}|${r.via ?? ''}`))).toEqual(sorted(theirs));
      }
    } finally {
      await other.delete();
    }
  });
});

describe('validation (NetplumbError before any syscall)', () => {
  it("to '10.0.0.1/24' (host bits set) -> ERR_INVALID_CIDR", async () => {
    await expectNetplumb(Route.add({ namespace: ns, to: '10.0.0.1/24', dev: eth0 }), 'ERR_INVALID_CIDR');
    expect(find(r4(), '10.0.0.0/24')).toBeUndefined();
  });

  it('via of the other family -> ERR_FAMILY_MISMATCH', async () => {
    await expectNetplumb(Route.add({ namespace: ns, to: '10.71.0.0/16', via: 'fd00:60::1' }), 'ERR_FAMILY_MISMATCH');
    await expectNetplumb(Route.add({ namespace: ns, to: 'fd00:71::/64', via: '10.60.0.1' }), 'ERR_FAMILY_MISMATCH');
    expect(find(r4(), '10.71.0.0/16')).toBeUndefined();
  });

  it('dev from another namespace -> ERR_WRONG_NAMESPACE', async () => {
    expect(hostEnd.namespace.equals(ns)).toBe(false);
    const e = await expectNetplumb(Route.add({ namespace: ns, to: '10.72.0.0/16', dev: hostEnd }), 'ERR_WRONG_NAMESPACE');
    expect(e).not.toBeInstanceOf(NetlinkError);
    await expectNetplumb(Route.list(ns, { dev: hostEnd }), 'ERR_WRONG_NAMESPACE');
    expect(find(r4(), '10.72.0.0/16')).toBeUndefined();
    expect(find(oracle.routes(HOST), '10.72.0.0/16')).toBeUndefined();
  });
});

describe('many routes at once', () => {
  it('1,000 routes added concurrently are all listed (Route.list and oracle agree), then deleted concurrently', async () => {
    const tos = Array.from({ length: 1000 }, (_, i) => `10.100.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const before = r4().length;
    await Promise.all(tos.map((to) => Route.add({ namespace: ns, to: `${to}/32`, dev: eth0 })));

    const isOurs = (to: string): boolean => to.startsWith('10.100.');
    const mine = (await Route.list(ns, { family: 4 })).filter((r: RouteInfo) => isOurs(r.to));
    const theirs = r4().filter((r) => isOurs(r.dst));
    expect(mine).toHaveLength(1000);
    expect(theirs).toHaveLength(1000);
    expect(sorted(mine.map((r) => r.to))).toEqual(sorted(tos));
    expect(sorted(theirs.map((r) => r.dst))).toEqual(sorted(tos));
    expect(mine.every((r) => r.dev === 'eth0')).toBe(true);

    await Promise.all(tos.map((to) => Route.delete({ namespace: ns, to: `${to}/32`, dev: eth0 })));
    expect(r4().filter((r) => isOurs(r.dst))).toHaveLength(0);
    expect((await Route.list(ns, { family: 4 })).filter((r) => isOurs(r.to))).toHaveLength(0);
    expect(r4().length).toBe(before);
  });
});
