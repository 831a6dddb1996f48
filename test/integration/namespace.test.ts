// Namespace against the real kernel, checked with iproute2 (`ip netns`, `ip -n NAME`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Link, Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { ip, ipj, oracle, uniq } from '../helpers/oracle';
import { NsTracker, nsInode, oracleNames, rejectionOf, unusedPid } from '../helpers/ns-link';

const t = new NsTracker();
afterEach(() => t.cleanup());

describe('Namespace.create', () => {
  it('is visible to `ip netns list` and holds only a down loopback (`ip netns exec NAME ip -j link`)', async () => {
    const ns = await t.create('nsc');
    expect(ns.name).toBeDefined();
    expect(oracle.netns()).toContain(ns.name);
    expect(ns.path).toBe(`/run/netns/${ns.name}`);

    const links = JSON.parse(ip(undefined, 'netns', 'exec', ns.name!, 'ip', '-j', 'link')) as { ifname: string; flags: string[] }[];
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(links[0]!.flags).not.toContain('UP');

    // Our identity is the nsfs inode the iproute2 name points at.
    expect(ns.inode).toBe(nsInode(`/run/netns/${ns.name}`));
    // And the library sees the same thing the oracle does.
    expect((await Link.list(ns)).map((l) => l.name)).toEqual(['lo']);
  });

  it('loopback.up() brings lo up (`ip -n NAME -j link show lo`)', async () => {
    const ns = await t.create('nsl');
    expect(ipj(ns.name, 'link', 'show', 'lo')[0].flags).not.toContain('UP');
    await ns.loopback.up();
    expect(ipj(ns.name, 'link', 'show', 'lo')[0].flags).toContain('UP');
  });

  it('a second create with the same name is EEXIST from the kernel, and the first one still works', async () => {
    const first = await t.create('nsd');
    const name = first.name!;
    const before = nsInode(`/run/netns/${name}`);

    const e = await rejectionOf(Namespace.create(name));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);

    // Still there, still the same namespace (not replaced by a new one, not unmounted).
    expect(oracle.netns().filter((n) => n === name)).toHaveLength(1);
    expect(nsInode(`/run/netns/${name}`)).toBe(before);
    expect(first.closed).toBe(false);
    // And usable: a change made through the first object is seen by iproute2 in NAME.
    await first.loopback.up();
    expect(ipj(name, 'link', 'show', 'lo')[0].flags).toContain('UP');
    const pair = await VethPair.create('dup0', { namespace: first, peerName: 'dup1' });
    expect(oracleNames(name)).toEqual(['dup0', 'dup1', 'lo']);
    expect(pair.link.namespace.equals(first)).toBe(true);
  });

  it('is not the same namespace as current()', async () => {
    const ns = await t.create('nse');
    const cur = t.closeLater(await Namespace.current());
    expect(ns.equals(cur)).toBe(false);
    expect(cur.equals(ns)).toBe(false);
    // ...but another handle on the same name is.
    const again = t.closeLater(await Namespace.open(ns.name!));
    expect(again.equals(ns)).toBe(true);
  });
});

describe('Namespace.open', () => {
  it('opens a namespace made by `ip netns add` and lists its links, including one made there with ip', async () => {
    const name = t.ipAdd('ipo');
    const ns = t.closeLater(await Namespace.open(name));
    expect(ns.name).toBe(name);
    expect(ns.inode).toBe(nsInode(`/run/netns/${name}`));

    ip(name, 'link', 'add', 'name', 'ipva', 'type', 'veth', 'peer', 'name', 'ipvb');
    const links = await Link.list(ns);
    expect(links.map((l) => l.name).sort()).toEqual(oracleNames(name));
    expect(links.map((l) => l.name).sort()).toEqual(['ipva', 'ipvb', 'lo']);
    const byName = new Map(oracle.links(name).map((l) => [l.ifname, l]));
    for (const l of links) {
      expect(l.index).toBe(byName.get(l.name)!.ifindex);
      expect(l.namespace).toBe(ns);
    }
    expect(links.find((l) => l.name === 'ipva')!.kind).toBe('veth');
  });

  it('of a missing name is ERR_NAMESPACE_NOT_FOUND', async () => {
    const name = uniq('missing');
    expect(oracle.netns()).not.toContain(name);
    const e = await rejectionOf(Namespace.open(name));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_NOT_FOUND');
  });
});

describe('Namespace.list', () => {
  it('equals the names of `ip netns list`', async () => {
    const a = await t.create('lsa');
    const b = t.ipAdd('lsb');
    const listed = await Namespace.list();
    expect(listed).toContain(a.name);
    expect(listed).toContain(b);
    expect(listed).toEqual([...oracle.netns()].sort());
  });
});

describe('Namespace.fromPid / fromPath / current', () => {
  it('fromPid(process.pid) and fromPath(/proc/self/ns/net) are current()', async () => {
    const cur = t.closeLater(await Namespace.current());
    const byPid = t.closeLater(await Namespace.fromPid(process.pid));
    const byPath = t.closeLater(await Namespace.fromPath('/proc/self/ns/net'));
    expect(byPid.equals(cur)).toBe(true);
    expect(byPath.equals(cur)).toBe(true);
    expect(byPid.equals(byPath)).toBe(true);
    // The identity is that of the kernel's nsfs inode.
    const st = fs.statSync('/proc/self/ns/net');
    expect(cur.inode).toBe(st.ino);
    expect(cur.dev).toBe(st.dev);
    expect(byPid.name).toBeUndefined();
    // current() lists what `ip link` (no -n) shows in this process's namespace.
    expect((await Link.list(cur)).map((l) => l.name).sort()).toEqual(oracle.links().map((l) => l.ifname).sort());
  });

  it('fromPath of a named namespace file is that namespace', async () => {
    const ns = await t.create('fp');
    const other = t.closeLater(await Namespace.fromPath(`/run/netns/${ns.name}`));
    expect(other.equals(ns)).toBe(true);
    expect(other.name).toBeUndefined();
  });

  it('fromPid of a process that does not exist is ERR_NAMESPACE_NOT_FOUND', async () => {
    const pid = unusedPid();
    const e = await rejectionOf(Namespace.fromPid(pid));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_NOT_FOUND');
  });

  it('fromPath of a regular file is refused by the kernel (EINVAL: not a network namespace)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-'));
    const file = path.join(dir, 'not-a-netns');
    fs.writeFileSync(file, 'hello\n');
    try {
      const e = await rejectionOf(Namespace.fromPath(file));
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.code).toBe('EINVAL');
      expect(e.errno).toBe(-22);
      expect(typeof e.syscall).toBe('string');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (fs.existsSync('/etc/hostname')) {
      const e = await rejectionOf(Namespace.fromPath('/etc/hostname'));
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.code).toBe('EINVAL');
    }
  });
});

describe('deleting and closing', () => {
  it('delete() removes it from /run/netns and `ip netns list`', async () => {
    const ns = await Namespace.create(uniq('del'));
    const name = ns.name!;
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(true);
    await ns.delete();
    expect(ns.closed).toBe(true);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
    expect(oracle.netns()).not.toContain(name);
    expect(await Namespace.list()).not.toContain(name);
  });

  it('Namespace.delete(name) removes a namespace we hold no object for (one made by ip)', async () => {
    const name = t.ipAdd('sdel');
    expect(oracle.netns()).toContain(name);
    await Namespace.delete(name);
    expect(oracle.netns()).not.toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
    const e = await rejectionOf(Namespace.delete(name));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_NOT_FOUND');
  });

  it('Namespace.delete(name) of one we created with Namespace.create', async () => {
    const ns = await t.create('sdel2');
    await Namespace.delete(ns.name!);
    expect(oracle.netns()).not.toContain(ns.name);
  });

  it('a closed namespace refuses to be used (ERR_NAMESPACE_CLOSED), but still exists', async () => {
    const ns = await t.create('cls');
    await ns.close();
    expect(ns.closed).toBe(true);
    // close() is not delete(): iproute2 still sees it.
    expect(oracle.netns()).toContain(ns.name);

    const uses: [string, () => Promise<unknown>][] = [
      ['Link.list', () => Link.list(ns)],
      ['Link.get', () => Link.get(ns, 'lo')],
      ['links()', () => ns.links()],
      ['loopback.up()', () => ns.loopback.up()],
      ['VethPair.create', () => VethPair.create('clsv0', { namespace: ns })],
      ['VethPair.create peerIn', async () => {
        const live = await t.create('clsl');
        return VethPair.create('clsv1', { namespace: live, peerIn: ns });
      }],
    ];
    for (const [what, use] of uses) {
      const e = await rejectionOf(use());
      expect([what, e]).toEqual([what, expect.any(NetplumbError)]);
      expect([what, e.code]).toEqual([what, 'ERR_NAMESPACE_CLOSED']);
    }
    // Nothing was created by the refused calls.
    expect(oracleNames(ns.name!)).toEqual(['lo']);
    expect(ipj(ns.name, 'link', 'show', 'lo')[0].flags).not.toContain('UP');
  });

  it('delete() after close() still removes the name (close() is not a reason to keep it)', async () => {
    const ns = await t.create('clsd');
    const name = ns.name!;
    await ns.close();
    expect(oracle.netns()).toContain(name);
    await ns.delete();
    expect(oracle.netns()).not.toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  });

  it('`await using` deletes a namespace it created', async () => {
    let name = '';
    let held: Namespace | undefined;
    {
      await using ns = await Namespace.create(uniq('use'));
      name = ns.name!;
      held = ns;
      expect(oracle.netns()).toContain(name);
    }
    expect(held!.closed).toBe(true);
    expect(oracle.netns()).not.toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  });

  it('`await using` only closes a namespace it opened (the ip-made one stays)', async () => {
    const name = t.ipAdd('useo');
    let held: Namespace | undefined;
    {
      await using ns = await Namespace.open(name);
      held = ns;
      expect((await ns.links()).map((l) => l.name)).toEqual(['lo']);
    }
    expect(held!.closed).toBe(true);
    expect(oracle.netns()).toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(true);
    // Still a live namespace for iproute2.
    expect(oracleNames(name)).toEqual(['lo']);
  });

  it('`await using` on fromPath/current only closes (the namespace is untouched)', async () => {
    const made = await t.create('usep');
    {
      await using ns = await Namespace.fromPath(`/run/netns/${made.name}`);
      expect(ns.equals(made)).toBe(true);
    }
    expect(oracle.netns()).toContain(made.name);
    expect((await made.links()).map((l) => l.name)).toEqual(['lo']);
  });
});
