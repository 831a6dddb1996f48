// Macvlan and Vxlan against the real kernel: `ip -j -d link` as the oracle,
// and ping between namespaces the test made, through the new devices.
// A kernel without the kind skips its tests with the kernel's own words.
import { Address, Link, Macvlan, type Namespace, NetlinkError, NetplumbError, VethPair, Vxlan } from '../../lib';
import { NsTracker, rejectionOf } from '../helpers/ns-link';
import { ip, kernelLacks, oracle, ping, type IpLink } from '../helpers/oracle';

const t = new NsTracker();
afterEach(() => t.cleanup());

const NO_MACVLAN = kernelLacks('macvlan');
const NO_VXLAN = kernelLacks('vxlan');

function must(ns: string, dev: string): IpLink {
  const l = oracle.link(ns, dev);
  if (l === undefined) throw new Error(`oracle: no ${dev} in ${ns}`);
  return l;
}

/** A namespace with a veth pair p0/p1, both up: p0 is the lower device of the tests' macvlans. */
async function lowerIn(prefix: string): Promise<{ ns: Namespace; lower: Link }> {
  const ns = await t.create(prefix);
  const pair = await VethPair.create('p0', { namespace: ns, peerName: 'p1', up: true, peerUp: true });
  return { ns, lower: pair.link };
}

(NO_MACVLAN ? describe.skip : describe)(`Macvlan.create${NO_MACVLAN ? ` (skipped: no macvlan on this kernel: ${NO_MACVLAN})` : ''}`, () => {
  it('on a lower device, default mode bridge, mtu and mac as asked (ip -j -d)', async () => {
    const { ns, lower } = await lowerIn('mv');
    const mv = await Macvlan.create('mv0', { parent: lower, mtu: 1400, mac: '02:42:ac:11:00:09', up: true });
    expect(mv.kind).toBe('macvlan');
    expect(mv.namespace.equals(ns)).toBe(true);
    const o = must(ns.name!, 'mv0');
    expect(o.linkinfo?.info_kind).toBe('macvlan');
    expect(o.linkinfo?.info_data?.mode).toBe('bridge');
    expect(o.link).toBe('p0');
    expect(o.mtu).toBe(1400);
    expect(o.address).toBe('02:42:ac:11:00:09');
    expect(o.flags).toContain('UP');
    const priv = await Macvlan.create('mv1', { parent: 'p0', namespace: ns, mode: 'private' });
    expect(must(ns.name!, priv.name).linkinfo?.info_data?.mode).toBe('private');
    // Read back from the kernel by the library too (IFLA_MACVLAN_MODE), as ip shows it.
    expect([mv.macvlanMode, (await Link.get(ns, 'mv1')).macvlanMode, lower.macvlanMode]).toEqual(['bridge', 'private', undefined]);
  });

  it('born in another namespace (ip link add ... netns X): appears only there, its lower device stays', async () => {
    const { ns, lower } = await lowerIn('mvh');
    const c = await t.create('mvc');
    const mv = await Macvlan.create('eth0', { parent: lower, in: c, up: true });
    expect(mv.namespace.equals(c)).toBe(true);
    expect(must(c.name!, 'eth0').linkinfo?.info_kind).toBe('macvlan');
    expect(oracle.link(ns.name!, 'eth0')).toBeUndefined();
    expect(must(ns.name!, 'p0').linkinfo?.info_kind).toBe('veth');
  });

  it('traffic: two containers on one lower device reach each other in bridge mode, not in private mode', async () => {
    const { ns, lower } = await lowerIn('mvt');
    const [a, b, c, d] = await Promise.all([t.create('mva'), t.create('mvb'), t.create('mvp'), t.create('mvq')]);
    const ends = await Promise.all([
      Macvlan.create('eth0', { parent: lower, in: a, mode: 'bridge', up: true }),
      Macvlan.create('eth0', { parent: lower, in: b, mode: 'bridge', up: true }),
      Macvlan.create('eth0', { parent: lower, in: c, mode: 'private', up: true }),
      Macvlan.create('eth0', { parent: lower, in: d, mode: 'private', up: true }),
    ]);
    await Promise.all(ends.map((l, i) => Address.add(l, `10.77.0.${i + 1}/24`)));
    expect([a, b, c, d].map((x) => must(x.name!, 'eth0').linkinfo?.info_data?.mode)).toEqual(['bridge', 'bridge', 'private', 'private']);
    expect(ping(a.name!, '10.77.0.2')).toBe(true);
    expect(ping(b.name!, '10.77.0.1')).toBe(true);
    // The private ones are up and addressed: both reach the wire (the veth's other end).
    ip(ns.name!, 'addr', 'add', '10.77.0.254/24', 'dev', 'p1');
    expect(ping(c.name!, '10.77.0.254')).toBe(true);
    expect(ping(d.name!, '10.77.0.254')).toBe(true);
    // Control: private-mode macvlans on the same lower device do not see each other.
    expect(ping(c.name!, '10.77.0.4', 1)).toBe(false);
  });

  it('bad input is refused before any syscall; the kernel refuses a lower device that is not there', async () => {
    const { ns, lower } = await lowerIn('mve');
    const before = oracle.links(ns.name!).map((l) => l.ifname).sort();
    const refused = [
      await rejectionOf(Macvlan.create('mv0', { parent: lower, mode: 'bridged' as never })),
      await rejectionOf(Macvlan.create('mv0', undefined as never)),
      await rejectionOf(Macvlan.create('mv0', {} as never)),
      await rejectionOf(Macvlan.create('bad/name', { parent: lower })),
      await rejectionOf(Macvlan.create('mv0', { parent: lower, mtu: 70000 })),
    ];
    expect(refused.map((e) => [e instanceof NetplumbError, e.code])).toEqual([
      [true, 'ERR_INVALID_ARGUMENT'],
      [true, 'ERR_INVALID_ARGUMENT'],
      [true, 'ERR_INVALID_ARGUMENT'],
      [true, 'ERR_INVALID_IFNAME'],
      [true, 'ERR_INVALID_MTU'],
    ]);
    const gone = await rejectionOf(Macvlan.create('mv0', { parent: 9999, namespace: ns }));
    expect(gone).toBeInstanceOf(NetlinkError);
    expect(gone.code).toBe('ENODEV');
    expect(gone.syscall).toBe('RTM_NEWLINK');
    expect(oracle.links(ns.name!).map((l) => l.ifname).sort()).toEqual(before);
  });
});

(NO_VXLAN ? describe.skip : describe)(`Vxlan.create${NO_VXLAN ? ` (skipped: no vxlan on this kernel: ${NO_VXLAN})` : ''}`, () => {
  /** Two "hosts" joined by a veth (10.60.0.1/24 - 10.60.0.2/24): the underlay. */
  async function underlay(): Promise<{ h1: Namespace; h2: Namespace; u1: Link; u2: Link }> {
    const [h1, h2] = await Promise.all([t.create('vx1'), t.create('vx2')]);
    const pair = await VethPair.create('u0', { namespace: h1, peerIn: h2, peerName: 'u0', up: true, peerUp: true });
    await Promise.all([Address.add(pair.link, '10.60.0.1/24'), Address.add(pair.peer, '10.60.0.2/24')]);
    return { h1, h2, u1: pair.link, u2: pair.peer };
  }

  it('id, port, remote, local and dev as asked (ip -j -d)', async () => {
    const { h1, u1 } = await underlay();
    const vx = await Vxlan.create('vx0', { id: 42, remote: '10.60.0.2', local: '10.60.0.1', dev: u1 });
    expect(vx.kind).toBe('vxlan');
    const d = must(h1.name!, 'vx0').linkinfo?.info_data as Record<string, unknown>;
    expect(d).toMatchObject({ id: 42, port: 4789, remote: '10.60.0.2', local: '10.60.0.1', link: 'u0' });
    const mc = await Vxlan.create('vx1', { id: 7, port: 8472, group: '239.1.1.1', dev: u1, namespace: h1 });
    expect(must(h1.name!, mc.name).linkinfo?.info_data).toMatchObject({ id: 7, port: 8472, group: '239.1.1.1', link: 'u0' });
    // Read back by the library (IFLA_VXLAN_*), the same as ip's.
    expect(vx.vxlan).toEqual({ id: 42, port: 4789, remote: '10.60.0.2', local: '10.60.0.1', dev: u1.index });
    expect((await Link.get(h1, 'vx1')).vxlan).toEqual({ id: 7, port: 8472, group: '239.1.1.1', dev: u1.index });
    expect(u1.vxlan).toBeUndefined();
  });

  it('traffic: an overlay between two hosts, ping across VNI 42 (and not across a VNI the other side lacks)', async () => {
    const { h1, h2, u1, u2 } = await underlay();
    const [a, b] = await Promise.all([
      Vxlan.create('vx0', { id: 42, remote: '10.60.0.2', local: '10.60.0.1', dev: u1, up: true }),
      Vxlan.create('vx0', { id: 42, remote: '10.60.0.1', local: '10.60.0.2', dev: u2, up: true }),
    ]);
    await Promise.all([Address.add(a, '192.168.42.1/24'), Address.add(b, '192.168.42.2/24')]);
    expect(ping(h1.name!, '192.168.42.2')).toBe(true);
    expect(ping(h2.name!, '192.168.42.1')).toBe(true);
    // Control: the VNI separates. 192.168.43.2 sits behind VNI 44 on h2, so VNI 43 from h1 cannot reach it ...
    const c = await Vxlan.create('vx3', { id: 43, remote: '10.60.0.2', local: '10.60.0.1', dev: u1, up: true });
    await Address.add(c, '192.168.43.1/24');
    const other = await Vxlan.create('vx4', { id: 44, port: 4789, remote: '10.60.0.1', local: '10.60.0.2', dev: u2, up: true });
    await Address.add(other, '192.168.43.2/24');
    expect(ping(h1.name!, '192.168.43.2', 1)).toBe(false);
    // ... and the same address behind VNI 43 can be reached.
    await other.delete();
    const same = await Vxlan.create('vx4', { id: 43, port: 4789, remote: '10.60.0.1', local: '10.60.0.2', dev: u2, up: true });
    await Address.add(same, '192.168.43.2/24');
    expect(ping(h1.name!, '192.168.43.2')).toBe(true);
  });

  it('bad input is refused before any syscall', async () => {
    const { h1, u1 } = await underlay();
    const before = oracle.links(h1.name!).map((l) => l.ifname).sort();
    const cases: [Promise<unknown>, string][] = [
      [Vxlan.create('vx0', {} as never), 'ERR_INVALID_ARGUMENT'],
      [Vxlan.create('vx0', { id: 1 << 24, dev: u1 }), 'ERR_INVALID_ARGUMENT'],
      [Vxlan.create('vx0', { id: 1, port: 0, dev: u1 }), 'ERR_INVALID_ARGUMENT'],
      [Vxlan.create('vx0', { id: 1, remote: '239.1.1.1', dev: u1 }), 'ERR_INVALID_IP'],
      [Vxlan.create('vx0', { id: 1, group: '10.0.0.1', dev: u1 }), 'ERR_INVALID_IP'],
      [Vxlan.create('vx0', { id: 1, group: '239.1.1.1', namespace: h1 }), 'ERR_INVALID_ARGUMENT'],
      [Vxlan.create('vx0', { id: 1, remote: '10.0.0.1', group: '239.1.1.1', dev: u1 }), 'ERR_INVALID_ARGUMENT'],
      [Vxlan.create('vx0', { id: 1, remote: '10.0.0.1', local: 'fd00::1', dev: u1 }), 'ERR_FAMILY_MISMATCH'],
    ];
    for (const [p, code] of cases) {
      const e = await rejectionOf(p);
      expect([e instanceof NetplumbError, e.code]).toEqual([true, code]);
    }
    expect(oracle.links(h1.name!).map((l) => l.ifname).sort()).toEqual(before);
  });
});
