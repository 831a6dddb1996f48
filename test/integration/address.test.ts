// Address against the real kernel, checked with iproute2 (`ip -j addr show`).
import { Address, type AddressInfo, Link, Namespace, NetlinkError, VethPair } from '../../lib';
import { expectNetlink, expectNetplumb, oracleAddr, oracleAddrs, sorted } from '../helpers/addr-route';
import { inSandbox, ip, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const NS = uniq('addr');
let ns: Namespace;
let v0: Link; // veth end, up, with carrier (its peer v1 is up too)
let v1: Link;

beforeAll(async () => {
  ns = await Namespace.create(NS);
  const pair = await VethPair.create('v0', { namespace: ns, peerName: 'v1', up: true, peerUp: true });
  v0 = pair.link;
  v1 = pair.peer;
});

afterAll(async () => {
  await ns?.delete();
});

describe('Address.add (IPv4)', () => {
  it('adds 10.50.0.2/24: the kernel has it, and the returned AddressInfo describes it', async () => {
    expect(oracleAddr(NS, 'v0', '10.50.0.2')).toBeUndefined();
    const info = await v0.addAddress('10.50.0.2/24');
    const o = oracleAddr(NS, 'v0', '10.50.0.2');
    expect(o).toBeDefined();
    expect(o!.family).toBe('inet');
    expect(o!.prefixlen).toBe(24);
    expect(o!.scope).toBe('global');
    expect(o!.broadcast).toBeUndefined(); // no broadcast unless asked, like `ip addr add`

    expect(info.family).toBe(4);
    expect(info.address).toBe('10.50.0.2');
    expect(info.prefixlen).toBe(24);
    expect(info.cidr).toBe('10.50.0.2/24');
    expect(info.index).toBe(v0.index);
    expect(info.index).toBe(o!.ifindex);
    expect(info.scope).toBe('global');
    expect(info.broadcast).toBeUndefined();
    expect(info.peer).toBeUndefined();
    expect(info.validLifetime).toBe(0xffffffff);
    expect(info.preferredLifetime).toBe(0xffffffff);
    expect(o!.valid_life_time).toBe(0xffffffff);

    // The kernel also added the prefix route for it.
    const routes = ip(NS, 'route', 'show', 'dev', 'v0');
    expect(routes).toContain('10.50.0.0/24');
  });

  it('Address.add with broadcast: true computes 10.50.1.255 (oracle)', async () => {
    const info = await Address.add(v0, '10.50.1.2/24', { broadcast: true });
    expect(info.broadcast).toBe('10.50.1.255');
    expect(oracleAddr(NS, 'v0', '10.50.1.2')?.broadcast).toBe('10.50.1.255');
  });

  it('broadcast: true on a /20 sets the host bits only (10.50.16.9/20 -> 10.50.31.255)', async () => {
    const info = await Address.add(v0, '10.50.16.9/20', { broadcast: true });
    expect(info.broadcast).toBe('10.50.31.255');
    expect(oracleAddr(NS, 'v0', '10.50.16.9')?.broadcast).toBe('10.50.31.255');
  });

  it('an explicit broadcast address is used as given', async () => {
    const info = await v0.addAddress('10.50.2.2/24', { broadcast: '10.50.2.254' });
    expect(info.broadcast).toBe('10.50.2.254');
    expect(oracleAddr(NS, 'v0', '10.50.2.2')?.broadcast).toBe('10.50.2.254');
  });

  it('label sets the IPv4 label (oracle), and Address.list reports it', async () => {
    const info = await v0.addAddress('10.50.3.2/24', { label: 'v0:web' });
    expect(info.label).toBe('v0:web');
    expect(oracleAddr(NS, 'v0', '10.50.3.2')?.label).toBe('v0:web');
    const listed = (await v0.addresses({ family: 4 })).find((a) => a.address === '10.50.3.2');
    expect(listed?.label).toBe('v0:web');
  });

  it('Address.list reports a label set by iproute2, and the device name as the default IPv4 label', async () => {
    ip(NS, 'addr', 'add', '10.50.12.2/24', 'dev', 'v0', 'label', 'v0:ip');
    const listed = await v0.addresses({ family: 4 });
    expect(listed.find((a) => a.address === '10.50.12.2')?.label).toBe('v0:ip');
    expect(listed.find((a) => a.address === '10.50.0.2')?.label).toBe(oracleAddr(NS, 'v0', '10.50.0.2')?.label);
    expect(listed.find((a) => a.address === '10.50.0.2')?.label).toBe('v0');
  });

  it('the returned AddressInfo agrees with what Address.list then reports (address, prefix, index, scope, broadcast)', async () => {
    const info = await v0.addAddress('10.50.4.2/24', { broadcast: true });
    const listed = (await Address.list(v0, { family: 4 })).find((a) => a.address === '10.50.4.2') as AddressInfo;
    expect(listed).toBeDefined();
    for (const k of ['family', 'address', 'prefixlen', 'cidr', 'index', 'scope', 'broadcast', 'validLifetime', 'preferredLifetime'] as const)
      expect([k, info[k]]).toEqual([k, listed[k]]);
  });
});

describe('Address.add (IPv6)', () => {
  it("nodad: true -> the kernel shows the address with the nodad flag and never 'tentative'", async () => {
    const info = await v0.addAddress('fd00:50::2/64', { nodad: true });
    expect(info.family).toBe(6);
    expect(info.cidr).toBe('fd00:50::2/64');
    expect(info.flags).toContain('nodad');
    const o = oracleAddr(NS, 'v0', 'fd00:50::2');
    expect(o).toBeDefined();
    expect(o!.family).toBe('inet6');
    expect(o!.prefixlen).toBe(64);
    expect(o!.scope).toBe('global');
    expect(o!.nodad).toBe(true);
    expect(o!.tentative).toBeUndefined();
    expect(o!.dadfailed).toBeUndefined();
    const listed = (await v0.addresses({ family: 6 })).find((a) => a.address === 'fd00:50::2');
    expect(listed?.flags).toContain('nodad');
    expect(listed?.flags).not.toContain('tentative');
  });

  it('without nodad, on an up link with carrier, the address is tentative right after adding (DAD running)', async () => {
    await v0.refresh();
    expect(v0.isUp).toBe(true);
    expect(v0.hasCarrier).toBe(true);
    await v0.addAddress('fd00:50::3/64');
    const o = oracleAddr(NS, 'v0', 'fd00:50::3');
    expect(o).toBeDefined();
    expect(o!.nodad).toBeUndefined();
    // DAD takes about a second: right now the kernel reports it tentative (or already failed).
    expect(o!.tentative === true || o!.dadfailed === true).toBe(true);
    const listed = (await v0.addresses({ family: 6 })).find((a) => a.address === 'fd00:50::3');
    expect(listed).toBeDefined();
    expect(listed!.flags.includes('tentative') || listed!.flags.includes('dadfailed')).toBe(true);
  });
});

describe('Address.list', () => {
  it('Address.list(ns) equals the oracle (set of ifindex + cidr over all links)', async () => {
    await v1.addAddress('10.50.0.3/24');
    await v1.addAddress('fd00:50::9/64', { nodad: true });
    const mine = (await Address.list(ns)).map((a) => `${a.index} ${a.cidr}`);
    const theirs = oracleAddrs(NS).map((a) => `${a.ifindex} ${a.local}/${a.prefixlen}`);
    expect(theirs.length).toBeGreaterThanOrEqual(8); // non-vacuous: what we added above, plus link-locals
    expect(mine.length).toBe(new Set(mine).size);
    expect(sorted(mine)).toEqual(sorted(theirs));
    // Both links are represented.
    expect(new Set((await Address.list(ns)).map((a) => a.index))).toEqual(new Set([v0.index, v1.index]));
  });

  it('Address.list(link, {family}) equals the oracle for that link and family only', async () => {
    for (const family of [4, 6] as const) {
      const mine = await Address.list(v0, { family });
      expect(mine.every((a) => a.index === v0.index && a.family === family)).toBe(true);
      const theirs = oracleAddrs(NS, 'v0', family).map((a) => `${a.local}/${a.prefixlen}`);
      expect(theirs.length).toBeGreaterThan(0);
      expect(sorted(mine.map((a) => a.cidr))).toEqual(sorted(theirs));
    }
    // And for v1, through the Link method.
    const v1mine = (await v1.addresses({ family: 4 })).map((a) => a.cidr);
    expect(v1mine).toEqual(['10.50.0.3/24']);
  });

  it('Address.list(link) without family returns both families of that link, nothing from others', async () => {
    const mine = await Address.list(v1);
    const theirs = oracleAddrs(NS, 'v1').map((a) => `${a.local}/${a.prefixlen}`);
    expect(sorted(mine.map((a) => a.cidr))).toEqual(sorted(theirs));
    expect(new Set(mine.map((a) => a.family))).toEqual(new Set([4, 6]));
  });
});

describe('delete, replace, errors', () => {
  it('delete removes the address (oracle)', async () => {
    await v0.addAddress('10.50.5.2/24');
    expect(oracleAddr(NS, 'v0', '10.50.5.2')).toBeDefined();
    await Address.delete(v0, '10.50.5.2/24');
    expect(oracleAddr(NS, 'v0', '10.50.5.2')).toBeUndefined();
    // and an IPv6 one through the Link method
    await v0.addAddress('fd00:50::5/64', { nodad: true });
    expect(oracleAddr(NS, 'v0', 'fd00:50::5')).toBeDefined();
    await v0.removeAddress('fd00:50::5/64');
    expect(oracleAddr(NS, 'v0', 'fd00:50::5')).toBeUndefined();
  });

  it('adding an existing address -> NetlinkError EEXIST from RTM_NEWADDR', async () => {
    await v0.addAddress('10.50.6.2/24');
    const e = await expectNetlink(v0.addAddress('10.50.6.2/24'), 'EEXIST', 'RTM_NEWADDR');
    expect(e.errno).toBe(-17);
    expect(e.object).toContain('10.50.6.2/24');
    // still exactly one
    expect(oracleAddrs(NS, 'v0').filter((a) => a.local === '10.50.6.2')).toHaveLength(1);
  });

  it('replace: true on an existing address succeeds and updates it (lifetimes, per the oracle)', async () => {
    await v0.addAddress('10.50.7.2/24');
    expect(oracleAddr(NS, 'v0', '10.50.7.2')?.valid_life_time).toBe(0xffffffff);
    const info = await v0.addAddress('10.50.7.2/24', { replace: true, validLifetime: 3000, preferredLifetime: 2000 });
    expect(info.validLifetime).toBe(3000);
    expect(info.preferredLifetime).toBe(2000);
    const o = oracleAddrs(NS, 'v0').filter((a) => a.local === '10.50.7.2');
    expect(o).toHaveLength(1);
    expect(o[0]!.valid_life_time).toBeLessThanOrEqual(3000);
    expect(o[0]!.valid_life_time).toBeGreaterThan(2900);
    expect(o[0]!.preferred_life_time).toBeLessThanOrEqual(2000);
    expect(o[0]!.preferred_life_time).toBeGreaterThan(1900);
    // Address.replace: same, and also fine when the address is not there yet.
    await Address.replace(v0, '10.50.7.2/24');
    await Address.replace(v0, '10.50.8.2/24');
    expect(oracleAddr(NS, 'v0', '10.50.8.2')).toBeDefined();
  });

  it('deleting an absent address -> NetlinkError EADDRNOTAVAIL (RTM_DELADDR)', async () => {
    expect(oracleAddr(NS, 'v0', '10.50.99.2')).toBeUndefined();
    const e = await expectNetlink(Address.delete(v0, '10.50.99.2/24'), 'EADDRNOTAVAIL');
    expect(e.syscall).toBe('RTM_DELADDR');
    await expectNetlink(v0.removeAddress('fd00:50::99/64'), 'EADDRNOTAVAIL');
  });

  it('a link of a closed namespace -> ERR_NAMESPACE_CLOSED, and nothing reaches the kernel', async () => {
    const other = await Namespace.open(NS); // a second handle to the same namespace
    const l = await Link.get(other, 'v0');
    await other.close();
    await expectNetplumb(l.addAddress('10.50.10.2/24'), 'ERR_NAMESPACE_CLOSED');
    await expectNetplumb(Address.add(l, '10.50.10.2/24'), 'ERR_NAMESPACE_CLOSED');
    await expectNetplumb(Address.delete(l, '10.50.0.2/24'), 'ERR_NAMESPACE_CLOSED');
    await expectNetplumb(Address.list(l), 'ERR_NAMESPACE_CLOSED');
    await expectNetplumb(Address.list(other), 'ERR_NAMESPACE_CLOSED');
    expect(oracleAddr(NS, 'v0', '10.50.10.2')).toBeUndefined();
    expect(oracleAddr(NS, 'v0', '10.50.0.2')).toBeDefined();
  });

  it('input errors are NetplumbErrors before any syscall', async () => {
    await expectNetplumb(v0.addAddress('10.50.300.2/24'), 'ERR_INVALID_CIDR');
    await expectNetplumb(v0.addAddress('fd00:50::7/64', { broadcast: true }), 'ERR_FAMILY_MISMATCH');
    const e = await expectNetplumb(v0.addAddress('10.50.11.2/24', { broadcast: true, label: 'x'.repeat(16) }), 'ERR_INVALID_IFNAME');
    expect(e).not.toBeInstanceOf(NetlinkError);
    expect(oracleAddr(NS, 'v0', '10.50.11.2')).toBeUndefined();
  });
});

describe('many addresses at once', () => {
  it('200 addresses added concurrently are all there: Address.list and the oracle count 200', async () => {
    const pair = await VethPair.create('m0', { namespace: ns, peerName: 'm1' });
    const m0 = pair.link;
    try {
      const cidrs = Array.from({ length: 200 }, (_, i) => `10.51.${Math.floor(i / 100)}.${(i % 100) + 1}/16`);
      const infos = await Promise.all(cidrs.map((c) => m0.addAddress(c)));
      expect(sorted(infos.map((i) => i.cidr))).toEqual(sorted(cidrs));
      const listed = await Address.list(m0, { family: 4 });
      expect(listed).toHaveLength(200);
      expect(sorted(listed.map((a) => a.cidr))).toEqual(sorted(cidrs));
      const theirs = oracleAddrs(NS, 'm0', 4);
      expect(theirs).toHaveLength(200);
      expect(sorted(theirs.map((a) => `${a.local}/${a.prefixlen}`))).toEqual(sorted(cidrs));
      // Namespace-wide list has them too.
      expect((await Address.list(ns, { family: 4 })).filter((a) => a.index === m0.index)).toHaveLength(200);
    } finally {
      await m0.delete();
    }
  });
});

describe('AddressInfo canonical form', () => {
  it('a non-canonical IPv6 text comes back in the canonical form the kernel (and Address.list) report', async () => {
    const info = await v0.addAddress('FD00:50:0:0::A/64', { nodad: true });
    expect(oracleAddr(NS, 'v0', 'fd00:50::a')).toBeDefined();
    const listed = (await v0.addresses({ family: 6 })).find((a) => a.address === 'fd00:50::a');
    expect(listed).toBeDefined();
    expect(info.address).toBe('fd00:50::a');
    expect(info.cidr).toBe('fd00:50::a/64');
  });
});
