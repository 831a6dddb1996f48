// Link against the real kernel, checked with `ip -j -d link` in the test's namespaces.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { Link, type Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { ip, oracle } from '../helpers/oracle';
import { killChild, NsTracker, oracleNames, rejectionOf, sleeperIn } from '../helpers/ns-link';

const t = new NsTracker();
let ns: Namespace;
let N: string; // its name, for the oracle

/** A veth pair va/vb and a bridge br0 made with iproute2 (not with the library under test). */
beforeEach(async () => {
  ns = await t.create('lk');
  N = ns.name!;
  ip(N, 'link', 'add', 'name', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  ip(N, 'link', 'add', 'name', 'br0', 'type', 'bridge');
});
afterEach(() => t.cleanup());

function must<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`oracle: ${what} not found`);
  return x;
}

describe('promiscuous mode', () => {
  it('setPromisc(true/false) = ip link set DEV promisc on/off (checked with ip -j: PROMISC, promiscuity); other flags untouched', async () => {
    const br = await Link.get(ns, 'br0');
    await br.up();
    await br.setPromisc(true);
    let seen = must(oracle.link(N, 'br0'), 'br0') as unknown as { flags: string[]; promiscuity?: number };
    expect(seen.flags).toEqual(expect.arrayContaining(['PROMISC', 'UP']));
    expect(br.isPromisc).toBe(true);
    expect((await br.refresh()).isPromisc).toBe(true);
    await br.setPromisc(false);
    seen = must(oracle.link(N, 'br0'), 'br0') as unknown as { flags: string[] };
    expect(seen.flags).not.toContain('PROMISC');
    expect(seen.flags).toContain('UP');
    expect(br.isPromisc).toBe(false);
    await expect(br.setPromisc('yes' as unknown as boolean)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('reading links', () => {
  it('Link.list matches `ip -j -d link` (names, indexes, mtu, mac, kind, flags, peer)', async () => {
    ip(N, 'link', 'set', 'va', 'mtu', '1420');
    ip(N, 'link', 'set', 'va', 'up');
    const links = await Link.list(ns);
    const truth = oracle.links(N);
    expect(links.map((l) => l.name).sort()).toEqual(['br0', 'lo', 'va', 'vb']);
    expect(links.map((l) => l.name).sort()).toEqual(truth.map((l) => l.ifname).sort());
    const byName = new Map(truth.map((l) => [l.ifname, l]));
    for (const l of links) {
      const o = must(byName.get(l.name), l.name);
      expect({ name: l.name, index: l.index, mtu: l.mtu, mac: l.mac, kind: l.kind, up: l.isUp }).toEqual({
        name: o.ifname,
        index: o.ifindex,
        mtu: o.mtu,
        mac: o.address,
        kind: o.linkinfo?.info_kind ?? '',
        up: o.flags.includes('UP'),
      });
      expect(l.namespace).toBe(ns);
    }
    const va = links.find((l) => l.name === 'va')!;
    const vb = links.find((l) => l.name === 'vb')!;
    expect(va.mtu).toBe(1420);
    expect(va.isUp).toBe(true);
    expect(va.peerIndex).toBe(vb.index);
    expect(vb.peerIndex).toBe(va.index);
    expect(links.find((l) => l.name === 'br0')!.kind).toBe('bridge');
  });

  it('Link.get by name and by index', async () => {
    const o = must(oracle.link(N, 'vb'), 'vb');
    const byName = await Link.get(ns, 'vb');
    const byIndex = await Link.get(ns, o.ifindex);
    for (const l of [byName, byIndex]) {
      expect(l.name).toBe('vb');
      expect(l.index).toBe(o.ifindex);
      expect(l.mac).toBe(o.address);
      expect(l.mtu).toBe(o.mtu);
      expect(l.kind).toBe('veth');
    }
    expect((await ns.link('br0')).index).toBe(must(oracle.link(N, 'br0'), 'br0').ifindex);
  });

  it('Link.list filters by kind and by master', async () => {
    ip(N, 'link', 'set', 'vb', 'master', 'br0');
    expect((await Link.list(ns, { kind: 'veth' })).map((l) => l.name).sort()).toEqual(['va', 'vb']);
    expect((await Link.list(ns, { kind: 'bridge' })).map((l) => l.name)).toEqual(['br0']);
    expect((await Link.list(ns, { master: 'br0' })).map((l) => l.name)).toEqual(['vb']);
  });
});

describe('changing links', () => {
  it('up() and down() are reflected in the oracle flags', async () => {
    const va = await Link.get(ns, 'va');
    expect(must(oracle.link(N, 'va'), 'va').flags).not.toContain('UP');
    await va.up();
    expect(va.isUp).toBe(true);
    expect(must(oracle.link(N, 'va'), 'va').flags).toContain('UP');
    await va.down();
    expect(va.isUp).toBe(false);
    expect(must(oracle.link(N, 'va'), 'va').flags).not.toContain('UP');
  });

  it('rename() while down: the old name is gone, the new one has the same ifindex', async () => {
    const va = await Link.get(ns, 'va');
    const index = va.index;
    await va.rename('va-new');
    expect(va.name).toBe('va-new');
    expect(oracle.link(N, 'va')).toBeUndefined();
    expect(must(oracle.link(N, 'va-new'), 'va-new').ifindex).toBe(index);
    // The peer now names it by its new name.
    expect(must(oracle.link(N, 'vb'), 'vb').link).toBe('va-new');
  });

  it('rename() while up does what the kernel does for `ip link set NAME name NEW` on an up link', async () => {
    // What does this kernel do? Ask it through iproute2, on a second up veth.
    ip(N, 'link', 'add', 'name', 'pa', 'type', 'veth', 'peer', 'name', 'pb');
    ip(N, 'link', 'set', 'pa', 'up');
    const probe = spawnSync('ip', ['-n', N, 'link', 'set', 'pa', 'name', 'pa2'], { encoding: 'utf8' });
    const kernelAllows = probe.status === 0;
    // Linux < 6.2 refuses with EBUSY ("Device or resource busy"); 6.2 and later allow renaming an up link.
    if (!kernelAllows) expect(probe.stderr).toMatch(/busy/i);
    console.warn(`rename while up on kernel ${os.release()}: ${kernelAllows ? 'allowed' : 'EBUSY'}`);

    const va = await Link.get(ns, 'va');
    await va.up();
    const index = va.index;
    if (kernelAllows) {
      await va.rename('va-up');
      expect(va.name).toBe('va-up');
      expect(oracle.link(N, 'va')).toBeUndefined();
      const o = must(oracle.link(N, 'va-up'), 'va-up');
      expect(o.ifindex).toBe(index);
      expect(o.flags).toContain('UP');
    } else {
      const e = await rejectionOf(va.rename('va-up'));
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.code).toBe('EBUSY');
      expect(e.errno).toBe(-16);
      expect(va.name).toBe('va');
      expect(oracle.link(N, 'va-up')).toBeUndefined();
      expect(must(oracle.link(N, 'va'), 'va').ifindex).toBe(index);
    }
  });

  it('setMtu() and setMac() are reflected', async () => {
    const va = await Link.get(ns, 'va');
    await va.setMtu(1400);
    expect(va.mtu).toBe(1400);
    expect(must(oracle.link(N, 'va'), 'va').mtu).toBe(1400);
    await va.setMtu(9000);
    expect(must(oracle.link(N, 'va'), 'va').mtu).toBe(9000);

    await va.setMac('02:42:AC:11:00:02');
    expect(va.mac).toBe('02:42:ac:11:00:02');
    expect(must(oracle.link(N, 'va'), 'va').address).toBe('02:42:ac:11:00:02');
    await va.setMac('06-00-00-00-00-01');
    expect(must(oracle.link(N, 'va'), 'va').address).toBe('06:00:00:00:00:01');
    // A fresh read agrees with the object.
    const again = await Link.get(ns, 'va');
    expect([again.mtu, again.mac]).toEqual([9000, '06:00:00:00:00:01']);
  });

  it('setMaster(bridge) / clearMaster() are reflected in the oracle `master` field', async () => {
    const va = await Link.get(ns, 'va');
    const vb = await Link.get(ns, 'vb');
    const br = await Link.get(ns, 'br0');
    expect(must(oracle.link(N, 'va'), 'va').master).toBeUndefined();

    await va.setMaster(br);
    expect(va.master).toBe(br.index);
    expect(must(oracle.link(N, 'va'), 'va').master).toBe('br0');
    expect(must(oracle.link(N, 'va'), 'va').linkinfo?.info_slave_kind).toBe('bridge');

    await vb.setMaster('br0');
    expect(must(oracle.link(N, 'vb'), 'vb').master).toBe('br0');
    await vb.clearMaster();
    expect(vb.master).toBeUndefined();
    expect(must(oracle.link(N, 'vb'), 'vb').master).toBeUndefined();

    await va.clearMaster();
    expect(must(oracle.link(N, 'va'), 'va').master).toBeUndefined();
    await va.setMaster(br.index);
    expect(must(oracle.link(N, 'va'), 'va').master).toBe('br0');
    expect((await va.refresh()).master).toBe(br.index);
  });

  it('setMaster with a Link of another namespace is ERR_WRONG_NAMESPACE (nothing sent)', async () => {
    const other = await t.create('lko');
    ip(other.name, 'link', 'add', 'name', 'br0', 'type', 'bridge');
    const foreign = await Link.get(other, 'br0');
    const va = await Link.get(ns, 'va');
    const e = await rejectionOf(va.setMaster(foreign));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_WRONG_NAMESPACE');
    expect(must(oracle.link(N, 'va'), 'va').master).toBeUndefined();
  });
});

describe('moving links between namespaces', () => {
  it('moveTo(ns): gone from the source, present in the target, and the object follows it', async () => {
    const other = await t.create('lkm');
    const vb = await Link.get(ns, 'vb');
    await vb.moveTo(other);
    expect(oracle.link(N, 'vb')).toBeUndefined();
    expect(oracleNames(N)).toEqual(['br0', 'lo', 'va']);
    const o = must(oracle.link(other.name, 'vb'), 'vb in target');
    expect(vb.namespace).toBe(other);
    expect(vb.name).toBe('vb');
    expect(vb.index).toBe(o.ifindex);
    expect(vb.mac).toBe(o.address);
    // The peer left behind now points into another namespace.
    expect(must(oracle.link(N, 'va'), 'va').link_netnsid).toBeDefined();
    // And the object keeps working in its new namespace.
    await vb.up();
    expect(must(oracle.link(other.name, 'vb'), 'vb').flags).toContain('UP');
  });

  it("moveTo(ns, { name: 'eth0' }) renames it in the same step", async () => {
    const other = await t.create('lkn');
    const vb = await Link.get(ns, 'vb');
    await vb.moveTo(other, { name: 'eth0' });
    expect(oracle.link(N, 'vb')).toBeUndefined();
    expect(oracle.link(N, 'eth0')).toBeUndefined();
    expect(oracleNames(other.name!)).toEqual(['eth0', 'lo']);
    const o = must(oracle.link(other.name, 'eth0'), 'eth0 in target');
    expect(vb.name).toBe('eth0');
    expect(vb.namespace.equals(other)).toBe(true);
    expect(vb.index).toBe(o.ifindex);
    expect(vb.kind).toBe('veth');
  });

  it('moveTo(pid) moves it into the namespace of a process (`ip netns exec NAME sleep 30`)', async () => {
    const target = await t.create('lkp');
    const sleeper = await sleeperIn(target.name!);
    try {
      const vb = await Link.get(ns, 'vb');
      await vb.moveTo(sleeper.pid, { name: 'ceth0' });
      t.closeLater(vb.namespace); // opened for us from the pid
      expect(oracle.link(N, 'vb')).toBeUndefined();
      const o = must(oracle.link(target.name, 'ceth0'), 'ceth0 in target');
      expect(vb.index).toBe(o.ifindex);
      expect(vb.name).toBe('ceth0');
      expect(vb.namespace.equals(target)).toBe(true);
      expect(vb.namespace).not.toBe(ns);
    } finally {
      await killChild(sleeper);
    }
  });

  it('moveTo a namespace refused by the kernel (a bridge is netns-local) leaves the object as it was', async () => {
    const other = await t.create('lkr');
    const br = await Link.get(ns, 'br0');
    const index = br.index;
    const e = await rejectionOf(br.moveTo(other));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EINVAL');
    expect(e.syscall).toBe('RTM_SETLINK');
    expect(e.extack).toMatch(/netns is immutable/i);
    expect(br.namespace).toBe(ns);
    expect([br.name, br.index]).toEqual(['br0', index]);
    expect(must(oracle.link(N, 'br0'), 'br0').ifindex).toBe(index);
    expect(oracleNames(other.name!)).toEqual(['lo']);
  });
});

describe('deleting links', () => {
  it('delete() of one veth end removes both ends', async () => {
    const va = await Link.get(ns, 'va');
    await va.delete();
    expect(oracle.link(N, 'va')).toBeUndefined();
    expect(oracle.link(N, 'vb')).toBeUndefined();
    expect(oracleNames(N)).toEqual(['br0', 'lo']);
  });

  it('`await using` deletes the link; one already gone is not an error', async () => {
    {
      await using br = await Link.get(ns, 'br0');
      expect(br.kind).toBe('bridge');
    }
    expect(oracle.link(N, 'br0')).toBeUndefined();
    {
      await using vb = await Link.get(ns, 'vb');
      ip(N, 'link', 'del', 'va'); // takes vb with it, behind the object's back
      expect(vb.name).toBe('vb');
    }
    expect(oracleNames(N)).toEqual(['lo']);
  });
});

describe('kernel refusals', () => {
  it('creating a link with a name in use is EEXIST from RTM_NEWLINK', async () => {
    const before = must(oracle.link(N, 'va'), 'va').ifindex;
    const e = await rejectionOf(VethPair.create('va', { namespace: ns, peerName: 'vnew' }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    expect(e.syscall).toBe('RTM_NEWLINK');
    expect(String(e.object)).toContain('va');
    // The existing link is untouched and nothing was added.
    expect(must(oracle.link(N, 'va'), 'va').ifindex).toBe(before);
    expect(oracleNames(N)).toEqual(['br0', 'lo', 'va', 'vb']);
  });

  it("Link.get(ns, 'nope0') and Link.get(ns, unknown index) are ENODEV", async () => {
    expect(oracle.link(N, 'nope0')).toBeUndefined();
    const e = await rejectionOf(Link.get(ns, 'nope0'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENODEV');
    expect(e.errno).toBe(-19);
    expect(e.syscall).toBe('RTM_GETLINK');

    const used = new Set(oracle.links(N).map((l) => l.ifindex));
    let free = 1000;
    while (used.has(free)) free++;
    const e2 = await rejectionOf(Link.get(ns, free));
    expect(e2).toBeInstanceOf(NetlinkError);
    expect(e2.code).toBe('ENODEV');
  });

  it("setMtu above the device's own maximum (a tap: max_mtu 65521) is EINVAL with the kernel's extack", async () => {
    ip(N, 'tuntap', 'add', 'mode', 'tap', 'tp0');
    const o = must(oracle.link(N, 'tp0'), 'tp0') as { max_mtu?: number; mtu: number };
    expect(o.max_mtu).toBeDefined();
    expect(o.max_mtu!).toBeLessThan(65535); // so 65535 passes netplumb's own check but not the kernel's
    const tp = await Link.get(ns, 'tp0');
    const e = await rejectionOf(tp.setMtu(65535));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EINVAL');
    expect(e.errno).toBe(-22);
    expect(e.syscall).toBe('RTM_SETLINK');
    expect(e.extack).toMatch(/mtu greater than device maximum/i);
    expect(e.message).toContain(String(e.extack));
    // Nothing changed, in the kernel or in the object.
    expect(must(oracle.link(N, 'tp0'), 'tp0').mtu).toBe(o.mtu);
    expect(tp.mtu).toBe(o.mtu);
    // The maximum itself is accepted.
    await tp.setMtu(o.max_mtu!);
    expect(must(oracle.link(N, 'tp0'), 'tp0').mtu).toBe(o.max_mtu);
  });

  it('setMaster(bridge) on a bridge is refused by the kernel with its extack (ELOOP)', async () => {
    ip(N, 'link', 'add', 'name', 'br1', 'type', 'bridge');
    const br1 = await Link.get(ns, 'br1');
    const e = await rejectionOf(br1.setMaster('br0'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ELOOP');
    expect(e.syscall).toBe('RTM_SETLINK');
    expect(e.extack).toMatch(/can not enslave a bridge to a bridge/i);
    expect(br1.master).toBeUndefined();
    expect(must(oracle.link(N, 'br1'), 'br1').master).toBeUndefined();
  });
});
