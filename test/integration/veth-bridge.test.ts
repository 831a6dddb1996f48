// VethPair and Bridge against the real kernel, checked with `ip -j -d` and real traffic (ping).
import { Bridge, type Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { ip, oracle, ping, type IpLink } from '../helpers/oracle';
import { linkNamesSeenDuring, NsTracker, oracleNames, rejectionOf } from '../helpers/ns-link';

const t = new NsTracker();
afterEach(() => t.cleanup());

function must(ns: string | undefined, dev: string): IpLink {
  const l = oracle.link(ns, dev);
  if (l === undefined) throw new Error(`oracle: no ${dev} in ${ns}`);
  return l;
}

/** IPv4 addresses of a link per the oracle, as 'a.b.c.d/len'. */
function v4(ns: string, dev: string): string[] {
  const [entry] = oracle.addrs(ns, dev) as { addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return (entry?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

describe('VethPair.create', () => {
  it('host end on a bridge, peer born as eth0 in the container namespace, both up, mtu 1400', async () => {
    const host = await t.create('vh');
    const c = await t.create('vc');
    const H = host.name!;
    const C = c.name!;
    const br = await Bridge.create('br0', { namespace: host, up: true });

    let pair: VethPair | undefined;
    const create = async (): Promise<void> => {
      pair = await VethPair.create('vh0', { namespace: host, peerIn: c, peerName: 'eth0', master: br, up: true, peerUp: true, mtu: 1400 });
    };
    // Watch both namespaces while the pair is made: the peer must appear only in c, only as eth0.
    let seenInC: string[] = [];
    const seenInHost = await linkNamesSeenDuring(H, async () => {
      seenInC = await linkNamesSeenDuring(C, create);
    });
    expect(seenInC).toEqual(['eth0']);
    expect(seenInHost.filter((n) => n !== 'br0')).toEqual(['vh0']);
    const p = pair!;

    const h = must(H, 'vh0');
    expect(h.master).toBe('br0');
    expect(h.flags).toContain('UP');
    expect(h.mtu).toBe(1400);
    expect(h.linkinfo?.info_kind).toBe('veth');
    expect(oracleNames(H)).toEqual(['br0', 'lo', 'vh0']);

    const e = must(C, 'eth0');
    expect(e.flags).toContain('UP');
    expect(e.mtu).toBe(1400);
    expect(e.linkinfo?.info_kind).toBe('veth');
    expect(oracleNames(C)).toEqual(['eth0', 'lo']);
    // Carrier: both ends up, so both see the other.
    expect(must(H, 'vh0').flags).toContain('LOWER_UP');

    expect(p.link.name).toBe('vh0');
    expect(p.link.index).toBe(h.ifindex);
    expect(p.link.namespace).toBe(host);
    expect(p.peer.name).toBe('eth0');
    expect(p.peer.index).toBe(e.ifindex);
    expect(p.peer.namespace.equals(c)).toBe(true);
    expect(p.link.peerIndex).toBe(e.ifindex);
    expect(p.peer.peerIndex).toBe(h.ifindex);
    expect(p.link.master).toBe(br.index);
    expect(p.peer.isUp).toBe(true);
    expect(p.peer.mtu).toBe(1400);
  });

  it('without peerName, in the same namespace: the kernel names the peer and pair.peer is that link', async () => {
    const ns = await t.create('vs');
    const N = ns.name!;
    const pair = await VethPair.create('vx0', { namespace: ns });
    const names = oracleNames(N);
    expect(names).toHaveLength(3);
    const peerName = names.find((n) => n !== 'lo' && n !== 'vx0')!;
    expect(peerName).toBeDefined();
    const o = must(N, peerName);
    expect(o.link).toBe('vx0');
    expect(pair.peer.name).toBe(peerName);
    expect(pair.peer.index).toBe(o.ifindex);
    expect(pair.link.peerIndex).toBe(o.ifindex);
    expect(pair.peer.namespace).toBe(ns);
  });

  it('without peerName, peer in another namespace: pair.peer is the kernel-named link there, up when asked', async () => {
    const host = await t.create('vp');
    const c = await t.create('vq');
    const pair = await VethPair.create('vy0', { namespace: host, peerIn: c, peerUp: true });
    const inC = oracleNames(c.name!).filter((n) => n !== 'lo');
    expect(inC).toHaveLength(1);
    const o = must(c.name, inC[0]!);
    expect(pair.peer.name).toBe(o.ifname);
    expect(pair.peer.index).toBe(o.ifindex);
    expect(pair.peer.namespace.equals(c)).toBe(true);
    expect(pair.link.peerIndex).toBe(o.ifindex);
    expect(o.flags).toContain('UP');
    // The first end stays down (up not asked) and stays in host.
    expect(must(host.name, 'vy0').flags).not.toContain('UP');
    expect(oracleNames(host.name!)).toEqual(['lo', 'vy0']);
  });

  it('peerName taken in peerIn: EEXIST, and nothing is left in the host namespace', async () => {
    const host = await t.create('vf');
    const c = await t.create('vg');
    ip(c.name, 'link', 'add', 'name', 'eth0', 'type', 'bridge');
    const eth0Before = must(c.name, 'eth0').ifindex;
    const hostBefore = oracleNames(host.name!);

    const e = await rejectionOf(VethPair.create('vh1', { namespace: host, peerIn: c, peerName: 'eth0', up: true, peerUp: true }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    expect(e.syscall).toBe('RTM_NEWLINK');

    expect(oracleNames(host.name!)).toEqual(hostBefore);
    expect(oracle.link(host.name, 'vh1')).toBeUndefined();
    expect(oracleNames(c.name!)).toEqual(['eth0', 'lo']);
    const eth0 = must(c.name, 'eth0');
    expect(eth0.ifindex).toBe(eth0Before);
    expect(eth0.linkinfo?.info_kind).toBe('bridge');
  });

  it('delete() removes both ends, across namespaces', async () => {
    const host = await t.create('vd');
    const c = await t.create('ve');
    const pair = await VethPair.create('vz0', { namespace: host, peerIn: c, peerName: 'eth0' });
    expect(oracle.link(c.name, 'eth0')).toBeDefined();
    await pair.delete();
    expect(oracleNames(host.name!)).toEqual(['lo']);
    expect(oracleNames(c.name!)).toEqual(['lo']);
  });
});

describe('Bridge', () => {
  it('create with address, up, mtu and stp', async () => {
    const host = await t.create('bc');
    const H = host.name!;
    const br = await Bridge.create('brx', { namespace: host, address: '172.30.0.1/16', up: true, mtu: 1450, stp: true });
    const o = must(H, 'brx');
    expect(o.linkinfo?.info_kind).toBe('bridge');
    expect(o.flags).toContain('UP');
    expect(o.mtu).toBe(1450);
    expect(o.linkinfo?.info_data?.stp_state).toBe(1);
    expect(v4(H, 'brx')).toEqual(['172.30.0.1/16']);

    expect(br).toBeInstanceOf(Bridge);
    expect(br.name).toBe('brx');
    expect(br.index).toBe(o.ifindex);
    expect(br.kind).toBe('bridge');
    expect(br.mtu).toBe(1450);
    expect(br.stp).toBe(true);
    expect(br.isUp).toBe(true);
    expect((await br.addresses({ family: 4 })).map((a) => a.cidr)).toEqual(['172.30.0.1/16']);
  });

  it('create without options: down, stp off, no address', async () => {
    const host = await t.create('bd');
    const br = await Bridge.create('bry', { namespace: host });
    const o = must(host.name, 'bry');
    expect(o.flags).not.toContain('UP');
    expect(o.linkinfo?.info_data?.stp_state).toBe(0);
    expect(v4(host.name!, 'bry')).toEqual([]);
    expect(br.stp).toBe(false);
  });

  it('a kernel failure while adding addresses (the same address twice: EEXIST) leaves no bridge', async () => {
    const host = await t.create('be');
    const before = oracleNames(host.name!);
    const e = await rejectionOf(Bridge.create('brz', { namespace: host, address: ['10.9.0.1/24', '10.9.0.1/24'], up: true }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.syscall).toBe('RTM_NEWADDR');
    expect(oracle.link(host.name, 'brz')).toBeUndefined();
    expect(oracleNames(host.name!)).toEqual(before);
    // The name is free again.
    const again = await Bridge.create('brz', { namespace: host, address: '10.9.0.1/24' });
    expect(again.index).toBe(must(host.name, 'brz').ifindex);
  });

  it('create with a name in use is EEXIST and leaves the existing link alone', async () => {
    const host = await t.create('bf');
    ip(host.name, 'link', 'add', 'name', 'taken0', 'type', 'veth', 'peer', 'name', 'taken1');
    const index = must(host.name, 'taken0').ifindex;
    const e = await rejectionOf(Bridge.create('taken0', { namespace: host, address: '10.8.0.1/24' }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    const o = must(host.name, 'taken0');
    expect(o.ifindex).toBe(index);
    expect(o.linkinfo?.info_kind).toBe('veth');
    expect(v4(host.name!, 'taken0')).toEqual([]);
  });

  it('addPort / removePort / ports() agree with the oracle `master` field', async () => {
    const host = await t.create('bp');
    const H = host.name!;
    const br = await Bridge.create('brp', { namespace: host });
    const other = await Bridge.create('bro', { namespace: host });
    const a = await VethPair.create('pa0', { namespace: host, peerName: 'pa1' });
    const b = await VethPair.create('pb0', { namespace: host, peerName: 'pb1' });
    expect(await br.ports()).toEqual([]);

    await br.addPort(a.link); // a Link
    expect(a.link.master).toBe(br.index);
    await br.addPort('pb0'); // a name
    await br.addPort(must(H, 'pa1').ifindex); // an ifindex
    await other.addPort(b.peer);

    const oracleMaster = (m: string): string[] => oracle.links(H).filter((l) => l.master === m).map((l) => l.ifname).sort();
    expect(oracleMaster('brp')).toEqual(['pa0', 'pa1', 'pb0']);
    expect((await br.ports()).map((l) => l.name).sort()).toEqual(oracleMaster('brp'));
    expect((await other.ports()).map((l) => l.name)).toEqual(['pb1']);
    for (const port of await br.ports()) expect(port.master).toBe(br.index);

    await br.removePort(a.link);
    expect(a.link.master).toBeUndefined();
    await br.removePort('pb0');
    expect(must(H, 'pa0').master).toBeUndefined();
    expect(must(H, 'pb0').master).toBeUndefined();
    expect(oracleMaster('brp')).toEqual(['pa1']);
    expect((await br.ports()).map((l) => l.name)).toEqual(['pa1']);

    // Not a port (anymore), or a port of another bridge: refused, and nothing changes.
    for (const notMine of [a.link, 'pb1']) {
      const e = await rejectionOf(br.removePort(notMine));
      expect(e).toBeInstanceOf(NetplumbError);
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(must(H, 'pb1').master).toBe('bro');
    expect(oracleMaster('brp')).toEqual(['pa1']);
  });

  it('Bridge.get on a veth is ERR_NOT_A_BRIDGE; on a bridge it reads stp', async () => {
    const host = await t.create('bg');
    ip(host.name, 'link', 'add', 'name', 'gv0', 'type', 'veth', 'peer', 'name', 'gv1');
    ip(host.name, 'link', 'add', 'name', 'gbr', 'type', 'bridge', 'stp_state', '1');
    const e = await rejectionOf(Bridge.get(host, 'gv0'));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NOT_A_BRIDGE');
    const e2 = await rejectionOf(Bridge.get(host, 'lo'));
    expect(e2.code).toBe('ERR_NOT_A_BRIDGE');

    const br = await Bridge.get(host, 'gbr');
    expect(br).toBeInstanceOf(Bridge);
    expect(br.index).toBe(must(host.name, 'gbr').ifindex);
    expect(br.stp).toBe(true);
    expect((await Bridge.get(host, br.index)).name).toBe('gbr');
  });

  it('setStp(false) / setStp(true) are reflected (stp_state) and change nothing else', async () => {
    const host = await t.create('bs');
    const br = await Bridge.create('brs', { namespace: host, stp: true, mtu: 1450 });
    expect(must(host.name, 'brs').linkinfo?.info_data?.stp_state).toBe(1);
    await br.setStp(false);
    expect(br.stp).toBe(false);
    const o = must(host.name, 'brs');
    expect(o.linkinfo?.info_data?.stp_state).toBe(0);
    expect(o.mtu).toBe(1450);
    expect((await Bridge.get(host, 'brs')).stp).toBe(false);
    await br.setStp(true);
    expect(must(host.name, 'brs').linkinfo?.info_data?.stp_state).toBe(1);
  });
});

describe('traffic through a bridge', () => {
  it('two containers on a bridge ping each other and the bridge; a detached one is unreachable', async () => {
    const host = await t.create('th');
    const c1 = await t.create('tc');
    const c2 = await t.create('td');
    const br = await Bridge.create('br0', { namespace: host, address: '172.30.0.1/16', up: true });
    const wire = async (c: Namespace, hostEnd: string, addr: string): Promise<VethPair> => {
      await c.loopback.up();
      const pair = await VethPair.create(hostEnd, { namespace: host, peerIn: c, peerName: 'eth0', master: br, up: true, peerUp: true });
      await pair.peer.addAddress(addr);
      return pair;
    };
    const [p1, p2] = await Promise.all([wire(c1, 'veth1', '172.30.0.11/16'), wire(c2, 'veth2', '172.30.0.12/16')]);
    expect(v4(c1.name!, 'eth0')).toEqual(['172.30.0.11/16']);
    expect(v4(c2.name!, 'eth0')).toEqual(['172.30.0.12/16']);
    expect((await br.ports()).map((l) => l.name).sort()).toEqual(['veth1', 'veth2']);

    expect(ping(c1.name!, '172.30.0.12')).toBe(true);
    expect(ping(c2.name!, '172.30.0.11')).toBe(true);
    expect(ping(c1.name!, '172.30.0.1')).toBe(true);
    expect(ping(c2.name!, '172.30.0.1')).toBe(true);
    expect(ping(host.name!, '172.30.0.11')).toBe(true);

    // Negative controls: nobody at .99; and c2 unreachable once its host end leaves the bridge.
    expect(ping(c1.name!, '172.30.0.99', 1)).toBe(false);
    await br.removePort(p2.link);
    expect(must(host.name, 'veth2').master).toBeUndefined();
    expect(ping(c1.name!, '172.30.0.12', 1)).toBe(false);
    await br.addPort(p2.link);
    expect(ping(c1.name!, '172.30.0.12')).toBe(true);
    expect(p1.link.master).toBe(br.index);
  });
});
