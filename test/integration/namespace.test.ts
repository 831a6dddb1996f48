// Namespace against the real kernel, checked with iproute2 (`ip netns`, `ip -n NAME`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Link, Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { fdCount, ip, ipj, oracle, uniq } from '../helpers/oracle';
import { runChild } from '../helpers/child';
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

  it('fromPath of a missing file, a symbolic link loop, a missing directory: NetplumbErrors, as from a stat', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-'));
    fs.symlinkSync(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
    fs.symlinkSync(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
    fs.writeFileSync(path.join(dir, 'file'), '');
    try {
      const got = async (p: string) => {
        const e = await rejectionOf(Namespace.fromPath(p));
        return { netplumb: e instanceof NetplumbError && !(e instanceof NetlinkError), code: e.code, message: e.message };
      };
      expect(await got(path.join(dir, 'none'))).toEqual({ netplumb: true, code: 'ERR_NAMESPACE_NOT_FOUND', message: `no such file ${dir}/none` });
      expect(await got(path.join(dir, 'file', 'below'))).toMatchObject({ netplumb: true, code: 'ERR_NAMESPACE_NOT_FOUND' });
      expect(await got(path.join(dir, 'loop-a'))).toEqual({ netplumb: true, code: 'ERR_INVALID_PATH', message: `no such file ${dir}/loop-a: too many symbolic links` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opening namespaces loads no fs/promises (the first fromPath of a process cost 4-5 ms with its stat)', async () => {
    const ns = await t.create('opc');
    const r = runChild<{ loaded: boolean; missing: string }>('open-cost', [ns.name as string]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.report).toEqual({ loaded: false, missing: 'ERR_NAMESPACE_NOT_FOUND' });
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

// /run/netns as iproute2 keeps it, and what else can be found there: symbolic
// links (never followed), empty files left by a killed create, names with a
// newline. Each test below failed before these entries were handled.
const listBroken = () => Namespace.listBroken();

describe('/run/netns entries that are not namespaces', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const n of made.splice(0)) {
      const p = `/run/netns/${n}`;
      try {
        fs.lstatSync(p);
      } catch {
        continue;
      }
      spawnSync('umount', ['-l', '--no-canonicalize', p]);
      fs.rmSync(p, { force: true, recursive: true });
    }
  });
  const entry = (prefix: string) => {
    const name = uniq(prefix);
    made.push(name);
    return name;
  };

  it('a symlink to another namespace is not opened (ERR_NOT_A_NAMESPACE, entry symlink), only reported and unlinked', async () => {
    const name = entry('sym');
    // In the sandbox /proc/self/ns/net is the sandbox's own namespace: the
    // finding was a link to /proc/1/ns/net opening the root namespace.
    fs.symlinkSync(`/proc/${process.pid}/ns/net`, `/run/netns/${name}`);
    const e = await rejectionOf(Namespace.open(name));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NOT_A_NAMESPACE');
    expect(e.entry).toEqual({ name, broken: 'symlink', target: `/proc/${process.pid}/ns/net` });
    expect(e.message).toMatch(/symbolic link/);
    expect(await Namespace.list()).not.toContain(name);
    expect(await listBroken()).toContainEqual({ name, broken: 'symlink', target: `/proc/${process.pid}/ns/net` });
    await Namespace.delete(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  });

  it('Namespace.delete of a symlink to a named namespace unlinks the link and leaves that namespace mounted', async () => {
    const real = t.ipAdd('symt');
    const name = entry('syml');
    fs.symlinkSync(`/run/netns/${real}`, `/run/netns/${name}`);
    const ino = nsInode(`/run/netns/${real}`);
    await Namespace.delete(name);
    expect(() => fs.lstatSync(`/run/netns/${name}`)).toThrow(/ENOENT/);
    // The target is still a mounted namespace: same inode, usable by iproute2.
    expect(nsInode(`/run/netns/${real}`)).toBe(ino);
    expect(oracleNames(real)).toEqual(['lo']);
  });

  it('a dangling symlink is reported as broken, not listed, and Namespace.delete removes it', async () => {
    const name = entry('dang');
    fs.symlinkSync('/nonexistent/netns', `/run/netns/${name}`);
    expect(await Namespace.list()).not.toContain(name);
    expect(await listBroken()).toContainEqual({ name, broken: 'symlink', target: '/nonexistent/netns' });
    const e = await rejectionOf(Namespace.open(name));
    expect(e.code).toBe('ERR_NOT_A_NAMESPACE');
    await Namespace.delete(name);
    expect(() => fs.lstatSync(`/run/netns/${name}`)).toThrow(/ENOENT/);
  });

  it('a name with a newline (made by ip netns add) is reported as invalid-name and can be deleted', async () => {
    const name = `${entry('nl')}\nx`;
    made.push(name);
    ip(undefined, 'netns', 'add', name);
    expect(await Namespace.list()).not.toContain(name);
    expect(await listBroken()).toContainEqual({ name, broken: 'invalid-name' });
    await Namespace.delete(name);
    expect(fs.readdirSync('/run/netns')).not.toContain(name);
  });

  it('an empty file left by a killed create: reported as empty-file, refused by open, replaced by create', async () => {
    const name = entry('empty');
    fs.writeFileSync(`/run/netns/${name}`, '');
    const e = await rejectionOf(Namespace.open(name));
    expect(e.code).toBe('ERR_NOT_A_NAMESPACE');
    expect(e.entry).toEqual({ name, broken: 'empty-file' });
    expect(await listBroken()).toContainEqual({ name, broken: 'empty-file' });
    const ns = await Namespace.create(name);
    try {
      expect(nsInode(`/run/netns/${name}`)).toBe(ns.inode);
      expect(oracleNames(name)).toEqual(['lo']);
      expect(await Namespace.list()).toContain(name);
      expect((await listBroken()).map((b) => b.name)).not.toContain(name);
    } finally {
      await ns.delete();
    }
  });

  it('a file with data or a directory is not-a-namespace: refused by open and by create (EEXIST saying what it is)', async () => {
    const file = entry('data');
    fs.writeFileSync(`/run/netns/${file}`, 'hello\n');
    const dir = entry('dir');
    fs.mkdirSync(`/run/netns/${dir}`);
    for (const name of [file, dir]) {
      const e = await rejectionOf(Namespace.open(name));
      expect([name, e.code]).toEqual([name, 'ERR_NOT_A_NAMESPACE']);
      expect(e.entry).toEqual({ name, broken: 'not-a-namespace' });
      const c = await rejectionOf(Namespace.create(name));
      expect(c).toBeInstanceOf(NetlinkError);
      expect(c.code).toBe('EEXIST');
      expect(c.message).toMatch(/regular file|directory/);
    }
    expect(fs.readFileSync(`/run/netns/${file}`, 'utf8')).toBe('hello\n');
    const broken = await listBroken();
    expect(broken).toContainEqual({ name: file, broken: 'not-a-namespace' });
    expect(broken).toContainEqual({ name: dir, broken: 'not-a-namespace' });
    await Namespace.delete(file);
    await Namespace.delete(dir);
    expect(fs.existsSync(`/run/netns/${file}`) || fs.existsSync(`/run/netns/${dir}`)).toBe(false);
  });

  it('create over an existing namespace is EEXIST saying a namespace of that name exists', async () => {
    const first = await t.create('exi');
    const e = await rejectionOf(Namespace.create(first.name!));
    expect(e.code).toBe('EEXIST');
    expect(e.message).toMatch(/a namespace of that name already exists/);
  });
});

describe('delete() of a namespace that was only opened', () => {
  it('is refused (ERR_NAMESPACE_NOT_OURS) and leaves it; { force: true } deletes it', async () => {
    const name = t.ipAdd('nown');
    const ns = t.closeLater(await Namespace.open(name));
    const e = await rejectionOf(ns.delete());
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_NOT_OURS');
    expect(oracle.netns()).toContain(name);
    expect(ns.closed).toBe(false);
    await ns.delete({ force: true });
    expect(oracle.netns()).not.toContain(name);
    expect(ns.closed).toBe(true);
  });

  it('delete() of a created namespace whose name was deleted and reused leaves the new one alone', async () => {
    const ns = await t.create('reuse');
    const name = ns.name!;
    ip(undefined, 'netns', 'delete', name);
    ip(undefined, 'netns', 'add', name);
    const ino = nsInode(`/run/netns/${name}`);
    expect(ino).not.toBe(ns.inode);
    await ns.delete();
    expect(ns.closed).toBe(true);
    expect(nsInode(`/run/netns/${name}`)).toBe(ino);
    ip(undefined, 'netns', 'delete', name);
  });
});

describe('Namespace.duplicate', () => {
  it('pins the namespace when called: closing the original and reusing its fd number right after changes nothing', async () => {
    const a = await t.create('dupa');
    const b = await t.create('dupb');
    const number = a.ref; // its socket: the fd the duplicate takes the namespace from
    const dup = Namespace.duplicate(a); // the namespace's fd is taken here, synchronously
    await a.close();
    // Reuse the number for another namespace's file.
    const held: number[] = [];
    try {
      for (let i = 0; i < 64 && !held.includes(number); i++) held.push(fs.openSync(`/run/netns/${b.name}`, 'r'));
      const d = t.closeLater(await dup);
      // The number went to our files, unless the duplicate's own socket (made on an
      // I/O thread meanwhile) took it first; either way the original's was freed.
      expect([held.includes(number), d.ref === number]).toContain(true);
      expect(d.equals(b)).toBe(false);
      expect(d.inode).toBe(nsInode(`/run/netns/${a.name}`));
      expect((await d.links()).map((l) => l.name)).toEqual(['lo']);
    } finally {
      for (const fd of held) fs.closeSync(fd);
    }
    // Of a closed namespace: refused before anything is dup'd.
    const e = await rejectionOf(Namespace.duplicate(a));
    expect(e.code).toBe('ERR_NAMESPACE_CLOSED');
  });
});

describe('Namespace.fromFd', () => {
  it('takes the namespace of an fd (dup\'d when called: the fd may be closed at once); refuses an fd of anything else', async () => {
    const a = await t.create('fda');
    const fd = fs.openSync(`/run/netns/${a.name}`, 'r');
    const p = Namespace.fromFd(fd, 'given');
    fs.closeSync(fd);
    const ns = t.closeLater(await p);
    expect(ns.equals(a)).toBe(true);
    expect([ns.path, ns.inode]).toEqual(['given', nsInode(`/run/netns/${a.name}`)]);
    expect((await ns.links()).map((l) => l.name)).toEqual(['lo']);
    // A regular file, and a namespace of another kind: the checks of an opened path.
    const file = path.join(os.tmpdir(), uniq('fromfd-'));
    fs.writeFileSync(file, 'x');
    const rf = fs.openSync(file, 'r');
    const mnt = fs.openSync('/proc/self/ns/mnt', 'r');
    try {
      const e1 = await rejectionOf(Namespace.fromFd(rf, file));
      expect(e1).toBeInstanceOf(NetlinkError);
      expect([e1.code, e1.message]).toEqual(['EINVAL', expect.stringMatching(/is not a namespace: a regular file/)]);
      const e2 = await rejectionOf(Namespace.fromFd(mnt));
      expect([e2.code, e2.message]).toEqual(['EINVAL', expect.stringMatching(/is not a network namespace/)]);
    } finally {
      fs.closeSync(rf);
      fs.closeSync(mnt);
      fs.rmSync(file, { force: true });
    }
    expect((await rejectionOf(Namespace.fromFd(-1))).code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('one fd per open namespace', () => {
  it('an open namespace holds one fd (its netlink socket); what needs an fd of it takes one and closes it; ns.fd makes one on first access', async () => {
    // The first open of the process starts the I/O threads (each keeps an fd of its home namespace).
    await (await Namespace.current()).close();
    const fdsAtStart = fdCount();
    const a = await t.create('ofa');
    const b = await t.create('ofb');
    // Two namespaces open: two fds, the sockets (/proc/self/fd shows socket:[...]).
    expect(fdCount()).toBe(fdsAtStart + 2);
    expect(fs.readlinkSync(`/proc/self/fd/${a.ref}`)).toMatch(/^socket:\[\d+\]$/);
    // Every use that needs an fd of a namespace takes its own from the socket and closes it.
    const before = fdCount();
    await VethPair.create(uniq('of'), { namespace: a, peerIn: b, peerName: 'p0' });
    await (await Link.get(b, 'p0')).moveTo(a, { name: 'p1' });
    expect(await a.idOf(b)).toEqual(expect.any(Number));
    const d = await Namespace.duplicate(b);
    expect(d.equals(b)).toBe(true);
    await d.close();
    // ns.exec enters the namespace (an fd taken from its socket) for the fork.
    expect((await b.exec('ip', ['-j', 'link', 'show', 'lo'])).stdout).toMatch(/"ifname":"lo"/);
    expect(oracle.link(a.name, 'p1')).toBeDefined();
    expect(fdCount()).toBe(before);
    // Namespace.fd (internal): an nsfs fd of this namespace, made on first access, the same
    // number after, closed with the namespace (-1 then).
    const fd = a.fd;
    expect(fdCount()).toBe(before + 1);
    expect(a.fd).toBe(fd);
    expect(fs.statSync(`/proc/self/fd/${fd}`).ino).toBe(a.inode);
    expect(fs.readlinkSync(`/proc/self/fd/${fd}`)).toBe(`net:[${a.inode}]`);
    await a.close();
    expect(a.fd).toBe(-1);
    expect(fdCount()).toBe(before - 1);
  });
});

describe('names namespaceName allows', () => {
  it('odd but valid names (spaces, unicode, a leading dash, 255 bytes...) are created, listed, opened and deleted', async () => {
    const tag = uniq('');
    const names = [` lead${tag}`, `a b${tag}`, `ü-ñ-€${tag}`, `-dash${tag}`, `back\\slash${tag}`, `*?[${tag}`, `🦀${tag}`, `nbsp\u00a0${tag}`, 'n'.repeat(255 - tag.length) + tag];
    // `ip -j`: the plain `ip netns list` output cannot be split for names with spaces.
    const ipNames = () => (JSON.parse(ip(undefined, '-j', 'netns', 'list') || '[]') as { name: string }[]).map((n) => n.name);
    for (const name of names) {
      const ns = await Namespace.create(name);
      try {
        expect([name, await Namespace.list()]).toEqual([name, expect.arrayContaining([name])]);
        expect(ipNames()).toContain(name);
        const again = await Namespace.open(name);
        expect(again.equals(ns)).toBe(true);
        await again.close();
        await ns.close();
      } finally {
        await Namespace.delete(name);
      }
      expect([name, fs.readdirSync('/run/netns').includes(name)]).toEqual([name, false]);
    }
    expect((await Namespace.listBroken()).filter((b) => b.name.includes(tag))).toEqual([]);
  });
});
