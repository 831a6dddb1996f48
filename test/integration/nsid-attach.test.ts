// Namespace.attach (`ip netns attach NAME PID`), namespace ids (idOf / setId,
// `ip netns list-id`) and Link.peer across namespaces.
import * as fs from 'node:fs';

import { Link, Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { ip, oracle, run } from '../helpers/oracle';
import { NsTracker, rejectionOf, unusedPid } from '../helpers/ns-link';
import { Children, exited, identify, inodeOfLink, netnsLink } from '../helpers/inside';

const t = new NsTracker();
const kids = new Children();
/** Names made by attach(): removed in afterAll whatever happened. */
const attached: string[] = [];

afterAll(async () => {
  await kids.reap();
  for (const name of attached) if (fs.existsSync(`/run/netns/${name}`)) ip(undefined, 'netns', 'delete', name);
  await t.cleanup();
});

/** `ip -n NS netns list-id`, as {nsid, name} (JSON where iproute2 gives it). */
function listIds(ns: string): { nsid: number; name?: string }[] {
  const out = run('ip', ['-n', ns, '-j', 'netns', 'list-id']).trim();
  if (out.startsWith('[')) return JSON.parse(out) as { nsid: number; name?: string }[];
  // Text form: "nsid 0 (iproute2 netns name: B)"
  return run('ip', ['-n', ns, 'netns', 'list-id'])
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^nsid (\d+)(?: \(iproute2 netns name: (.*)\))?/.exec(l);
      if (!m) throw new Error(`unparsed: ${l}`);
      return m[2] ? { nsid: Number(m[1]), name: m[2] } : { nsid: Number(m[1]) };
    });
}

describe('Namespace.attach', () => {
  it('names the namespace of a running process; delete() removes the name, the namespace lives on', async () => {
    const c = await t.create('atc');
    const C = c.name as string;
    await VethPair.create('keep0', { namespace: c, peerName: 'keep1' });
    const child = kids.track(c.spawn('sleep', ['30'], { stdio: 'ignore' }));
    const pid = child.pid as number;
    expect(inodeOfLink(netnsLink(pid))).toBe(c.inode);

    const name = `att${process.pid}`;
    attached.push(name);
    const a = await Namespace.attach(name, pid);
    expect(a.name).toBe(name);
    expect(a.path).toBe(`/run/netns/${name}`);
    expect(oracle.netns()).toContain(name);
    expect(a.equals(c)).toBe(true);
    expect(a.inode).toBe(c.inode);
    expect(fs.statSync(`/run/netns/${name}`).ino).toBe(c.inode);
    // Both names are the process's namespace (iproute2 6.x `netns identify` prints one match only).
    expect(fs.statSync(`/run/netns/${C}`).ino).toBe(fs.statSync(`/run/netns/${name}`).ino);
    expect(identify(pid)).toHaveLength(1);
    expect([C, name]).toContain(identify(pid)[0]);
    // The attached handle works: it sees the links of the namespace.
    expect((await Link.list(a)).map((l) => l.name).sort()).toEqual(['keep0', 'keep1', 'lo']);
    expect(JSON.parse(run('ip', ['-n', name, '-j', 'link', 'show'])).map((l: { ifname: string }) => l.ifname).sort()).toEqual(['keep0', 'keep1', 'lo']);

    await a.delete();
    expect(a.closed).toBe(true);
    expect(oracle.netns()).not.toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
    expect(identify(pid)).toEqual([C]);

    // Remove the other name too: only the process holds the namespace now, and it lives on.
    await c.delete();
    expect(oracle.netns()).not.toContain(C);
    expect(identify(pid)).toEqual([]);
    expect(inodeOfLink(netnsLink(pid))).toBe(c.inode);
    const viaPid = await Namespace.fromPid(pid);
    try {
      expect(viaPid.inode).toBe(c.inode);
      expect((await Link.list(viaPid)).map((l) => l.name).sort()).toEqual(['keep0', 'keep1', 'lo']);
    } finally {
      await viaPid.close();
    }
    child.kill('SIGKILL');
    await exited(child);
  });

  it('attach to a missing pid: ERR_NAMESPACE_NOT_FOUND, no name made', async () => {
    const pid = unusedPid();
    const name = `atm${process.pid}`;
    attached.push(name);
    const e = await rejectionOf(Namespace.attach(name, pid));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_NOT_FOUND');
    expect(oracle.netns()).not.toContain(name);
    expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  });

  it('attach with an existing name: NetlinkError EEXIST, the existing name is untouched', async () => {
    const c = await t.create('ate');
    const d = await t.create('atf');
    const child = kids.track(d.spawn('sleep', ['30'], { stdio: 'ignore' }));
    const pid = child.pid as number;
    const e = await rejectionOf(Namespace.attach(c.name as string, pid));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    // c's name still means c, not d.
    expect(fs.statSync(`/run/netns/${c.name as string}`).ino).toBe(c.inode);
    expect(identify(pid)).toEqual([d.name as string]);
    const again = await Namespace.open(c.name as string);
    try {
      expect(again.equals(c)).toBe(true);
      expect(again.equals(d)).toBe(false);
    } finally {
      await again.close();
    }
    child.kill('SIGKILL');
    await exited(child);
  });
});

describe('namespace ids', () => {
  it('idOf(other) after a veth with its peer in other: the link peerNetnsId and ip netns list-id agree', async () => {
    const a = await t.create('ida');
    const b = await t.create('idb');
    const A = a.name as string;
    const B = b.name as string;
    expect(await a.idOf(b)).toBeUndefined();
    expect(listIds(A)).toEqual([]);

    const pair = await VethPair.create('va', { namespace: a, peerIn: b, peerName: 'vb' });
    const id = await a.idOf(b);
    expect(typeof id).toBe('number');
    const link = await Link.get(a, 'va');
    expect(link.peerNetnsId).toBe(id);
    expect(pair.link.peerNetnsId).toBe(id);
    // Oracle: the id ip shows in a, and the link-netnsid of va.
    expect(listIds(A)).toEqual([{ nsid: id, name: B }]);
    expect(oracle.link(A, 'va')?.link_netnsid).toBe(id);
    // And the other way round.
    const back = await b.idOf(a);
    expect(back).toBe(oracle.link(B, 'vb')?.link_netnsid);
    expect(listIds(B)).toEqual([{ nsid: back, name: A }]);

    // Link.peer finds the other end among the namespaces it is given.
    const c = await t.create('idc');
    const peer = await link.peer([c, b]);
    expect(peer).toBeDefined();
    expect(peer?.name).toBe('vb');
    expect(peer?.index).toBe(oracle.link(B, 'vb')?.ifindex);
    expect(peer?.namespace.equals(b)).toBe(true);
    expect(await link.peer([c])).toBeUndefined();
    expect(await link.peer()).toBeUndefined();
    // A peer in the same namespace needs no search.
    const local = await VethPair.create('la', { namespace: a, peerName: 'lb' });
    const lp = await local.link.peer();
    expect(lp?.name).toBe('lb');
    expect(lp?.namespace).toBe(a);
    // Not a veth: no peer.
    expect(await a.loopback.peer([b])).toBeUndefined();
  });

  it('setId(other, 42) then ip netns list-id shows 42; idOf agrees; a second id is refused', async () => {
    const a = await t.create('ssa');
    const c = await t.create('ssc');
    const A = a.name as string;
    const C = c.name as string;
    expect(await a.idOf(c)).toBeUndefined();
    await a.setId(c, 42);
    expect(listIds(A)).toEqual([{ nsid: 42, name: C }]);
    expect(await a.idOf(c)).toBe(42);
    // The id is per namespace: c has none for a.
    expect(await c.idOf(a)).toBeUndefined();
    // A veth into c now reports 42 as its peer namespace id.
    const pair = await VethPair.create('vx', { namespace: a, peerIn: c, peerName: 'vy' });
    expect(pair.link.peerNetnsId).toBe(42);
    expect(oracle.link(A, 'vx')?.link_netnsid).toBe(42);
    expect((await pair.link.peer([c]))?.name).toBe('vy');

    // An id is assigned once: another id for the same namespace is refused by the kernel.
    const e = await rejectionOf(a.setId(c, 43));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(listIds(A)).toEqual([{ nsid: 42, name: C }]);
    // Same id for another namespace: refused as well.
    const d = await t.create('ssd');
    const e2 = await rejectionOf(a.setId(d, 42));
    expect(e2).toBeInstanceOf(NetlinkError);
    expect(await a.idOf(d)).toBeUndefined();
  });

  it('bad ids are refused before the kernel', async () => {
    const a = await t.create('sba');
    const c = await t.create('sbc');
    for (const id of [-1, 2 ** 31, 1.5]) {
      const e = await rejectionOf(a.setId(c, id));
      expect({ id, name: e.name, code: e.code }).toEqual({ id, name: 'NetplumbError', code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(listIds(a.name as string)).toEqual([]);
  });
});
