// ECMP routes (RTA_MULTIPATH) against the real kernel: read back with
// `ip -j route show`, each hop checked with `ip route get`, and real pings
// that arrive on both routers.
//
//   client C ── a1 10.71.1.2/24 fd71:1::2/64 ── b1 (R1: 10.71.1.1, fd71:1::1; 10.99.0.0/24, fd99::/64 local)
//            └─ a2 10.71.2.2/24 fd71:2::2/64 ── b2 (R2: 10.71.2.1, fd71:2::1; 10.99.0.0/24, fd99::/64 local)
import { type Link, Namespace, NetlinkError, Route, VethPair } from '../../lib';
import { expectNetlink } from '../helpers/addr-route';
import { inSandbox, ip, ipj, ping, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const C = uniq('mpc');
const R1 = uniq('mpr');
const R2 = uniq('mpr');
let c: Namespace;
let r1: Namespace;
let r2: Namespace;
let a1: Link;
let a2: Link;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const show = (...args: string[]): Json[] => ipj(C, 'route', 'show', ...args);
const rxPackets = (ns: string, dev: string): number => ipj(ns, '-s', 'link', 'show', dev)[0].stats64.rx.packets;
/** The gateways `ip route get` picks for each destination. */
const gatewaysFor = (dsts: string[]): Set<string> => new Set(dsts.map((d) => ipj(C, 'route', 'get', d)[0].gateway as string));
/** Pings every destination from C and sees packets arrive at both routers (R1's b1, R2's b2). */
function expectTrafficThroughBothRouters(dsts: string[]): void {
  const before = [rxPackets(R1, 'b1'), rxPackets(R2, 'b2')];
  for (const d of dsts) expect(ping(C, d)).toBe(true);
  const after = [rxPackets(R1, 'b1'), rxPackets(R2, 'b2')];
  expect(after[0]! - before[0]!).toBeGreaterThan(0);
  expect(after[1]! - before[1]!).toBeGreaterThan(0);
}

beforeAll(async () => {
  [c, r1, r2] = await Promise.all([Namespace.create(C), Namespace.create(R1), Namespace.create(R2)]);
  const p1 = await VethPair.create('a1', { namespace: c, peerIn: r1, peerName: 'b1', up: true, peerUp: true });
  const p2 = await VethPair.create('a2', { namespace: c, peerIn: r2, peerName: 'b2', up: true, peerUp: true });
  a1 = p1.link;
  a2 = p2.link;
  await Promise.all([
    a1.addAddress('10.71.1.2/24'),
    a1.addAddress('fd71:1::2/64', { nodad: true }),
    a2.addAddress('10.71.2.2/24'),
    a2.addAddress('fd71:2::2/64', { nodad: true }),
    p1.peer.addAddress('10.71.1.1/24'),
    p1.peer.addAddress('fd71:1::1/64', { nodad: true }),
    p2.peer.addAddress('10.71.2.1/24'),
    p2.peer.addAddress('fd71:2::1/64', { nodad: true }),
    c.loopback.up(),
    r1.loopback.up(),
    r2.loopback.up(),
  ]);
  // Each router answers for the whole destination prefix.
  for (const r of [R1, R2]) {
    ip(r, 'route', 'add', 'local', '10.99.0.0/24', 'dev', 'lo');
    ip(r, '-6', 'route', 'add', 'local', 'fd99::/64', 'dev', 'lo');
  }
});

afterAll(async () => {
  await Promise.all([c?.delete(), r1?.delete(), r2?.delete()]);
});

const v4dsts = Array.from({ length: 24 }, (_, i) => `10.99.0.${i + 1}`);
const v6dsts = Array.from({ length: 24 }, (_, i) => `fd99::${(i + 1).toString(16)}`);

describe('ECMP routes', () => {
  it('IPv4: two hops with weights, read back by ip and Route.list, both used by real traffic', async () => {
    await Route.add({
      namespace: c,
      to: '10.99.0.0/24',
      nexthops: [
        { via: '10.71.1.1', dev: a1 },
        { via: '10.71.2.1', dev: 'a2', weight: 3 },
      ],
    });
    const r = show('10.99.0.0/24')[0];
    expect(r.gateway).toBeUndefined();
    expect(r.nexthops.map((h: Json) => ({ gateway: h.gateway, dev: h.dev, weight: h.weight }))).toEqual([
      { gateway: '10.71.1.1', dev: 'a1', weight: 1 },
      { gateway: '10.71.2.1', dev: 'a2', weight: 3 },
    ]);
    const mine = (await Route.list(c, { family: 4 })).find((x) => x.to === '10.99.0.0/24');
    expect(mine?.via).toBeUndefined();
    expect(mine?.scope).toBe('global');
    expect(mine?.nexthops).toEqual([
      { via: '10.71.1.1', dev: 'a1', oif: a1.index, weight: 1 },
      { via: '10.71.2.1', dev: 'a2', oif: a2.index, weight: 3 },
    ]);
    // The kernel spreads destinations over both hops.
    expect(gatewaysFor(v4dsts)).toEqual(new Set(['10.71.1.1', '10.71.2.1']));
    expectTrafficThroughBothRouters(v4dsts);
  });

  it('IPv6: two hops, weight 256, read back and used by real traffic', async () => {
    await Route.add({
      namespace: c,
      to: 'fd99::/64',
      nexthops: [
        { via: 'fd71:1::1', dev: a1, weight: 256 },
        { via: 'fd71:2::1', dev: a2, weight: 256 },
      ],
    });
    const r = ipj(C, '-6', 'route', 'show', 'fd99::/64')[0];
    expect(r.nexthops.map((h: Json) => ({ gateway: h.gateway, dev: h.dev, weight: h.weight }))).toEqual([
      { gateway: 'fd71:1::1', dev: 'a1', weight: 256 },
      { gateway: 'fd71:2::1', dev: 'a2', weight: 256 },
    ]);
    const mine = (await Route.list(c, { family: 6 })).find((x) => x.to === 'fd99::/64');
    expect(mine?.nexthops?.map((h) => [h.via, h.dev, h.weight])).toEqual([
      ['fd71:1::1', 'a1', 256],
      ['fd71:2::1', 'a2', 256],
    ]);
    expect(gatewaysFor(v6dsts)).toEqual(new Set(['fd71:1::1', 'fd71:2::1']));
    expectTrafficThroughBothRouters(v6dsts);
  });

  it('IPv4 over IPv6 gateways (RTA_VIA), read back by ip and Route.list', async () => {
    await Route.add({
      namespace: c,
      to: '10.98.0.0/24',
      nexthops: [
        { via: 'fd71:1::1', dev: a1 },
        { via: 'fd71:2::1', dev: a2, weight: 2 },
      ],
    });
    const r = show('10.98.0.0/24')[0];
    expect(r.nexthops.map((h: Json) => [h.via?.family, h.via?.host, h.dev, h.weight])).toEqual([
      ['inet6', 'fd71:1::1', 'a1', 1],
      ['inet6', 'fd71:2::1', 'a2', 2],
    ]);
    const mine = (await Route.list(c, { family: 4 })).find((x) => x.to === '10.98.0.0/24');
    expect(mine?.nexthops?.map((h) => [h.via, h.dev, h.weight])).toEqual([
      ['fd71:1::1', 'a1', 1],
      ['fd71:2::1', 'a2', 2],
    ]);
    const devs = new Set(Array.from({ length: 24 }, (_, i) => ipj(C, 'route', 'get', `10.98.0.${i + 1}`)[0].dev as string));
    expect(devs).toEqual(new Set(['a1', 'a2']));
  });

  it('device-only hops; default route from nexthops; replace; delete', async () => {
    await Route.add({ namespace: c, to: '10.97.0.0/24', nexthops: [{ dev: a1 }, { dev: a2 }] });
    expect(show('10.97.0.0/24')[0].nexthops.map((h: Json) => [h.dev, h.gateway])).toEqual([
      ['a1', undefined],
      ['a2', undefined],
    ]);
    await Route.add({ namespace: c, to: 'default', nexthops: [{ via: '10.71.1.1' }, { via: '10.71.2.1' }] });
    expect(show('default')[0].nexthops.map((h: Json) => h.gateway)).toEqual(['10.71.1.1', '10.71.2.1']);
    await Route.replace({ namespace: c, to: 'default', nexthops: [{ via: '10.71.2.1', weight: 5 }] });
    // One hop left: the kernel stores it as a plain route.
    const d = show('default')[0];
    expect([d.gateway, d.dev, d.nexthops]).toEqual(['10.71.2.1', 'a2', undefined]);
    await Route.delete({ namespace: c, to: '10.97.0.0/24', nexthops: [{ dev: a1 }, { dev: a2 }] });
    expect(show('10.97.0.0/24')).toEqual([]);
    await Route.delete({ namespace: c, to: 'default' });
    await Route.delete({ namespace: c, to: '10.99.0.0/24' });
    expect(show('10.99.0.0/24')).toEqual([]);
    await expectNetlink(Route.delete({ namespace: c, to: '10.99.0.0/24' }), 'ESRCH', 'RTM_DELROUTE');
    expect(ping(C, '10.99.0.1', 1)).toBe(false);
  });

  it('a hop the kernel refuses (a gateway on no link) fails with the hop named, nothing added', async () => {
    const e = await Route.add({ namespace: c, to: '10.96.0.0/24', nexthops: [{ via: '10.71.1.1' }, { via: '10.200.0.1' }] }).then(
      () => undefined,
      (x: unknown) => x as NetlinkError,
    );
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e?.syscall).toBe('RTM_NEWROUTE');
    expect(e?.message).toMatch(/nexthop via 10\.200\.0\.1/);
    expect(show('10.96.0.0/24')).toEqual([]);
  });

  it('a hop device from another namespace is refused before any syscall', async () => {
    await expect(
      Route.add({ namespace: c, to: '10.95.0.0/24', nexthops: [{ via: '10.71.1.1' }, { dev: (await r1.links()).find((l) => l.name === 'b1')! }] }),
    ).rejects.toMatchObject({ code: 'ERR_WRONG_NAMESPACE' });
  });
});
