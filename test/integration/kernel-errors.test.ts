// Kernel refusals come back as NetlinkError with the kernel's own words
// (errno, extack, the attribute it pointed at), and the process survives them.
import { Bridge, Link, Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { kernel } from '../../lib/errors';
import { sendAddr } from '../../lib/native';
import { ip, oracle, uniq } from '../helpers/oracle';

let ns: Namespace;
let nsName: string;

beforeAll(async () => {
  nsName = uniq('kerr');
  ns = await Namespace.create(nsName);
});

afterAll(async () => {
  await ns?.delete();
});

async function caught(p: Promise<unknown>): Promise<NetlinkError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(NetlinkError);
  expect(e).not.toBeInstanceOf(NetplumbError);
  expect((e as Error).name).toBe('NetlinkError');
  return e as NetlinkError;
}

describe('kernel refusals', () => {
  it('duplicate link name: EEXIST, errno -17, RTM_NEWLINK, object names the link', async () => {
    const name = uniq('dup');
    await Bridge.create(name, { namespace: ns });
    const before = oracle.links(nsName).map((l) => l.ifname);
    expect(before.filter((n) => n === name)).toHaveLength(1);

    const e = await caught(Bridge.create(name, { namespace: ns }));
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    expect(e.syscall).toBe('RTM_NEWLINK');
    expect(e.object).toContain(name);
    expect(e.object).toContain(nsName);
    expect(e.message).toContain(name);

    // A veth whose first end, or whose peer, takes the same name: same error, nothing left behind.
    const e2 = await caught(VethPair.create(name, { namespace: ns, peerName: uniq('p') }));
    expect({ code: e2.code, errno: e2.errno, syscall: e2.syscall }).toEqual({ code: 'EEXIST', errno: -17, syscall: 'RTM_NEWLINK' });
    expect(e2.object).toContain(name);
    const e3 = await caught(VethPair.create(uniq('v'), { namespace: ns, peerName: name }));
    expect(e3.code).toBe('EEXIST');
    expect(e3.object).toContain(name);

    expect(oracle.links(nsName).map((l) => l.ifname).sort()).toEqual([...before].sort());
  });

  it('missing link: Link.get gives ENODEV (by name and by index)', async () => {
    const name = uniq('nope');
    expect(oracle.link(nsName, name)).toBeUndefined();
    const e = await caught(Link.get(ns, name));
    expect(e.code).toBe('ENODEV');
    expect(e.errno).toBe(-19);
    expect(e.syscall).toBe('RTM_GETLINK');
    expect(e.object).toContain(name);

    const byIndex = await caught(Link.get(ns, 999999));
    expect(byIndex.code).toBe('ENODEV');
    expect(byIndex.object).toContain('999999');
  });

  it("unknown link kind: EOPNOTSUPP with the kernel's extack 'Unknown device type'", async () => {
    // No public API creates arbitrary kinds: use the namespace's native handle, wrapped as lib/ does.
    const name = uniq('x');
    const e = await caught(kernel(ns.handle.link({ op: 'new', name, kind: 'nosuchkind' }), `link ${name}`));
    expect(e.errno).toBe(-95);
    expect(e.syscall).toBe('RTM_NEWLINK');
    expect(e.extack).toBe('Unknown device type');
    expect(e.message).toContain('Unknown device type');
    expect(e.object).toBe(`link ${name}`);
    expect(oracle.link(nsName, name)).toBeUndefined();
    // Linux names errno 95 EOPNOTSUPP (ENOTSUP is only an alias of it in libc), and that is the
    // code rtnetlink returns here (rtnl_newlink: -EOPNOTSUPP).
    expect(e.code).toBe('EOPNOTSUPP');
  });

  it("points at the offending attribute when the kernel gives NLMSGERR_ATTR_OFFS", async () => {
    // IFLA_IFNAME's policy is NLA_STRING, len IFNAMSIZ-1: the kernel's policy check rejects a
    // longer name and reports the attribute's offset. lib/ refuses such names, so go native.
    const long = 'a'.repeat(20);
    const get = await caught(kernel(ns.handle.link({ op: 'get', name: long }), `link ${long}`));
    expect(get.code).toBe('ERANGE');
    expect(get.syscall).toBe('RTM_GETLINK');
    expect(get.extack).toBe('Attribute failed policy validation');
    expect(get.attribute).toBe('IFLA_IFNAME');
    expect(get.message).toContain('IFLA_IFNAME');

    const add = await caught(kernel(ns.handle.link({ op: 'new', name: long, kind: 'bridge' }), `bridge ${long}`));
    expect(add.syscall).toBe('RTM_NEWLINK');
    expect(add.extack).toBe('Attribute failed policy validation');
    expect(add.attribute).toBe('IFLA_IFNAME');

    // Nested: the offset lands inside IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER.
    const first = uniq('v');
    const nested = await caught(kernel(ns.handle.link({ op: 'new', name: first, kind: 'veth', peer: { name: 'b'.repeat(20) } }), `veth ${first}`));
    expect(nested.extack).toBe('Attribute failed policy validation');
    expect(nested.attribute).toBe('IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER/IFLA_IFNAME');
    expect(oracle.link(nsName, first)).toBeUndefined();

    // Addresses: IFA_LABEL has the same policy.
    const label = 'c'.repeat(20);
    const addr = await caught(
      kernel(sendAddr(ns.handle, { op: 'new', family: 4, prefixlen: 8, index: 1, local: Uint8Array.of(10, 9, 9, 9), label }), 'address'),
    );
    expect(addr.syscall).toBe('RTM_NEWADDR');
    expect(addr.attribute).toBe('IFA_LABEL');
    expect(oracle.addrs(nsName, 'lo').flatMap((l: { addr_info: { local: string }[] }) => l.addr_info.map((a) => a.local))).not.toContain('10.9.9.9');
  });

  it('extack without an attribute: MTU above the bridge maximum', async () => {
    const br = await Bridge.create(uniq('br'), { namespace: ns });
    // lib/ refuses 70000 itself (ERR_INVALID_MTU), so go native to hear the kernel's message.
    const e = await caught(kernel(ns.handle.link({ op: 'set', index: br.index, mtu: 70000 }), br.describe()));
    expect(e.code).toBe('EINVAL');
    expect(e.syscall).toBe('RTM_SETLINK');
    expect(e.extack).toBe('mtu greater than device maximum');
    expect(e.attribute).toBeUndefined();
    expect(oracle.link(nsName, br.name)?.mtu).toBe(1500);
  });

  it('a route through an unreachable gateway: ENETUNREACH with extack', async () => {
    const { Route } = await import('../../lib');
    const e = await caught(Route.add({ namespace: ns, to: '10.77.0.0/16', via: '10.78.0.1' }));
    expect(e.code).toBe('ENETUNREACH');
    expect(e.errno).toBe(-101);
    expect(e.syscall).toBe('RTM_NEWROUTE');
    expect(e.extack).toBe('Nexthop has invalid gateway');
    expect(e.object).toContain('10.77.0.0/16');
    expect(oracle.routes(nsName)).toEqual([]);
  });

  it("a refused route or address call's error has the caller's own functions in its stack", async () => {
    // Route and address calls are not async functions (lib/errors.ts
    // kernelDone, lib/address.ts added): the error is made in a rejection
    // handler, and V8 follows the promise to the function that awaits it.
    const { Address, Route } = await import('../../lib');
    const { link } = await VethPair.create(uniq('stk'), { namespace: ns, peerName: uniq('stkp'), up: true, peerUp: true });
    await Route.add({ to: '10.79.0.0/16', dev: link });
    await Address.add(link, '10.79.1.1/24');
    async function userAddsTheRouteAgainQwe(): Promise<void> {
      await Route.add({ to: '10.79.0.0/16', dev: link });
    }
    async function userAddsTheAddressAgainAsd(): Promise<void> {
      await Address.add(link, '10.79.1.1/24');
    }
    async function userDeletesAMissingAddressZxc(): Promise<void> {
      await Address.delete(link, '10.79.2.1/24');
    }
    for (const [f, name, code] of [
      [userAddsTheRouteAgainQwe, 'userAddsTheRouteAgainQwe', 'EEXIST'],
      [userAddsTheAddressAgainAsd, 'userAddsTheAddressAgainAsd', 'EEXIST'],
      [userDeletesAMissingAddressZxc, 'userDeletesAMissingAddressZxc', 'EADDRNOTAVAIL'],
    ] as const) {
      const e = await caught(f());
      expect(e.code).toBe(code);
      expect(e.stack).toContain(name);
    }
    await link.delete();
  });

  it('a name lib/ accepts is one the kernel accepts (byte 0xA0 is a space to the kernel)', async () => {
    // Independent oracle first: iproute2 gets the same answers from the kernel.
    const fine = 'ethé'; // C3 A9
    const spacey = 'ethà'; // C3 A0: dev_valid_name() -> isspace(0xA0) is true in lib/ctype.c
    expect(() => ip(nsName, 'link', 'add', spacey, 'type', 'bridge')).toThrow(/Invalid argument|invalid/i);
    ip(nsName, 'link', 'add', fine, 'type', 'bridge');
    ip(nsName, 'link', 'del', fine);

    const ok = await Bridge.create(fine, { namespace: ns });
    expect(oracle.link(nsName, fine)?.ifname).toBe(fine);
    await ok.delete();

    const e = await Bridge.create(spacey, { namespace: ns }).then(
      () => undefined,
      (x: unknown) => x,
    );
    // The contract: refused before any syscall, not by the kernel.
    expect(e).toMatchObject({ name: 'NetplumbError', code: 'ERR_INVALID_IFNAME' });
  });

  it('the process stays alive and the namespace keeps working after all of these', async () => {
    expect(process.pid).toBeGreaterThan(0);
    const name = uniq('ok');
    const br = await Bridge.create(name, { namespace: ns, address: '10.66.0.1/24', up: true });
    expect(br.name).toBe(name);
    const o = oracle.link(nsName, name);
    expect(o?.linkinfo?.info_kind).toBe('bridge');
    expect(o?.flags).toContain('UP');
    expect(ip(nsName, '-br', 'addr', 'show', 'dev', name)).toContain('10.66.0.1/24');
    expect(ns.handle.pending).toBe(0);
  });
});
