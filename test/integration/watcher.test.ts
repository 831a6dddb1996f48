// Watcher (`ip monitor link address route`) against the real kernel. The
// changes are made with iproute2, independently of the library, and what the
// watcher reports is compared with `ip -j` afterwards.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Address, Namespace, NetplumbError, Route, Watcher, type WatchEvent } from '../../lib';
import { NsTracker, rejectionOf } from '../helpers/ns-link';
import { fdCount, ip, oracle, run } from '../helpers/oracle';

const t = new NsTracker();
const open: Watcher[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) w.close();
  await t.cleanup();
});

async function watch(ns: Namespace, opts?: Parameters<typeof Watcher.open>[1]): Promise<{ w: Watcher; seen: WatchEvent[] }> {
  const w = await Watcher.open(ns, opts);
  open.push(w);
  const seen: WatchEvent[] = [];
  w.on('event', (e: WatchEvent) => seen.push(e));
  return { w, seen };
}

const brief = (e: WatchEvent): string =>
  e.type === 'link' ? `link ${e.action} ${e.link.name}` : e.type === 'address' ? `address ${e.action} ${e.address.cidr}` : e.type === 'route' ? `route ${e.action} ${e.route.to} ${e.route.table}` : e.type;

describe('Watcher', () => {
  it('reports links, addresses and routes made and removed with ip, as ip -j shows them', async () => {
    const ns = await t.create('wa');
    const N = ns.name!;
    const { w, seen } = await watch(ns);
    ip(N, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1');
    ip(N, 'addr', 'add', '10.1.1.1/24', 'dev', 'a0');
    ip(N, 'link', 'set', 'a0', 'up');
    ip(N, 'link', 'set', 'a1', 'up');
    ip(N, 'route', 'add', '10.9.0.0/16', 'via', '10.1.1.2');
    await w.next((e) => e.type === 'route' && e.route.to === '10.9.0.0/16');
    const a0 = oracle.link(N, 'a0')!;
    const link = seen.find((e) => e.type === 'link' && e.action === 'new' && e.link.name === 'a0') as Extract<WatchEvent, { type: 'link' }>;
    expect(link.link.index).toBe(a0.ifindex);
    expect(link.link.kind).toBe('veth');
    expect(link.link.namespace.equals(ns)).toBe(true);
    // The later change (up) arrives as another 'new' for the same link, now up.
    expect(seen.some((e) => e.type === 'link' && e.link.name === 'a0' && e.link.isUp)).toBe(true);
    const addr = seen.find((e) => e.type === 'address') as Extract<WatchEvent, { type: 'address' }>;
    expect(addr).toMatchObject({ action: 'new', address: { cidr: '10.1.1.1/24', index: a0.ifindex, family: 4 } });
    const route = seen.find((e) => e.type === 'route' && e.route.to === '10.9.0.0/16') as Extract<WatchEvent, { type: 'route' }>;
    expect(route).toMatchObject({ action: 'new', route: { via: '10.1.1.2', oif: a0.ifindex, table: 'main' } });
    expect(oracle.routes(N).map((r: { dst: string }) => r.dst)).toContain('10.9.0.0/16');

    const before = seen.length;
    ip(N, 'link', 'del', 'a0');
    await w.next((e) => e.type === 'link' && e.action === 'del' && e.link.name === 'a1');
    const after = seen.slice(before).map(brief);
    // (IPv4 routes that go with a deleted device are removed without a notification: the kernel's way.)
    expect(after).toEqual(expect.arrayContaining(['link del a0', 'link del a1', 'address del 10.1.1.1/24']));
    expect(oracle.links(N).map((l) => l.ifname)).toEqual(['lo']);
  });

  it("sees the library's own changes too, and only its own namespace's", async () => {
    const [ns, other] = await Promise.all([t.create('wb'), t.create('wc')]);
    const { w, seen } = await watch(ns);
    // Asked before the change: its notification may be read before Route.add's promise settles.
    const last = w.next((e) => e.type === 'route' && e.route.to === '10.3.0.0/16');
    ip(other.name!, 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1');
    await ns.loopback.up();
    await Address.add(ns.loopback, '10.2.2.2/32');
    await Route.add({ namespace: ns, to: '10.3.0.0/16', dev: ns.loopback });
    await last;
    expect(seen.map(brief)).toEqual(expect.arrayContaining(['address new 10.2.2.2/32', 'route new 10.3.0.0/16 main']));
    expect(seen.some((e) => e.type === 'link' && (e.link.name === 'x0' || e.link.name === 'x1'))).toBe(false);
  });

  it('filters: no link events with links: false; only IPv6 with family: 6', async () => {
    const ns = await t.create('wf');
    const N = ns.name!;
    const { w: nolinks, seen: s1 } = await watch(ns, { links: false });
    const { w: six, seen: s2 } = await watch(ns, { links: false, routes: false, family: 6 });
    const { w: every, seen: all } = await watch(ns);
    ip(N, 'link', 'add', 'f0', 'type', 'veth', 'peer', 'name', 'f1');
    ip(N, 'addr', 'add', '10.4.4.4/24', 'dev', 'f0');
    ip(N, 'addr', 'add', 'fd00:4::4/64', 'dev', 'f0', 'nodad');
    const v6 = (e: WatchEvent) => e.type === 'address' && e.address.address === 'fd00:4::4';
    // (ip ran synchronously: nothing has been read yet when the three wait.)
    await Promise.all([nolinks.next(v6), six.next(v6), every.next(v6)]);
    expect(s1.some((e) => e.type === 'link')).toBe(false);
    expect(s1.map(brief)).toEqual(expect.arrayContaining(['address new 10.4.4.4/24', 'address new fd00:4::4/64']));
    // The family-6 address watcher saw that one address and nothing else.
    expect(s2.map(brief)).toEqual(['address new fd00:4::4/64']);
    // The control: the same changes did make link events, for the watcher that asked for everything.
    expect(all.map(brief)).toEqual(expect.arrayContaining(['link new f0', 'link new f1', 'address new 10.4.4.4/24']));
  });

  it('overrun: when JS is blocked while 20,000 routes change, the kernel drops notifications and says so', async () => {
    const ns = await t.create('wo');
    const N = ns.name!;
    ip(N, 'link', 'set', 'lo', 'up');
    const { w, seen } = await watch(ns, { links: false, addresses: false, family: 4 });
    const file = path.join(os.tmpdir(), `netplumb-watch-${process.pid}.batch`);
    fs.writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `route add 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dev lo`).join('\n') + '\n');
    try {
      run('ip', ['-n', N, '-batch', file]); // synchronous: the JS thread reads nothing meanwhile
    } finally {
      fs.rmSync(file, { force: true });
    }
    const overrun = await w.next((e) => e.type === 'overrun');
    expect(overrun).toEqual({ type: 'overrun' });
    // Some were delivered, not all of them: the reason to re-read state after an overrun.
    const routes = seen.filter((e) => e.type === 'route').length;
    expect(routes).toBeLessThan(20_000);
    const shown = spawnSync('ip', ['-n', N, 'route', 'show', 'table', 'main'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(shown.stdout.trim().split('\n')).toHaveLength(20_000);
    // And it keeps watching afterwards (libuv stops a poll handle on a socket error). Until what
    // was queued has been read, the kernel keeps dropping silently (one overrun per episode):
    // wait for the backlog to be read first.
    for (let before = -1; before !== seen.length; ) {
      before = seen.length;
      await new Promise((r) => setTimeout(r, 100));
    }
    const later = w.next((e) => e.type === 'route' && e.route.to === '10.250.0.0/16');
    ip(N, 'route', 'add', '10.250.0.0/16', 'dev', 'lo');
    expect(await later).toMatchObject({ type: 'route', action: 'new' });
    expect(seen.filter((e) => e.type === 'overrun').length).toBeGreaterThanOrEqual(1);
  });

  it('next(): ERR_TIMEOUT with nothing matching, ERR_WATCHER_CLOSED when closed; close() frees the socket', async () => {
    const ns = await t.create('wn');
    const fds = fdCount();
    const w = await Watcher.open(ns);
    expect(fdCount()).toBe(fds + 1);
    const timeout = await rejectionOf(w.next((e) => e.type === 'route', 100));
    expect(timeout).toBeInstanceOf(NetplumbError);
    expect(timeout.code).toBe('ERR_TIMEOUT');
    const pending = w.next();
    w.close();
    const closed = await rejectionOf(pending);
    expect(closed.code).toBe('ERR_WATCHER_CLOSED');
    expect(w.closed).toBe(true);
    expect(fdCount()).toBe(fds);
    // Closed for good: later changes are not delivered, next() refuses at once.
    let late = 0;
    w.on('event', () => late++);
    ip(ns.name!, 'link', 'add', 'n0', 'type', 'veth', 'peer', 'name', 'n1');
    await new Promise((r) => setTimeout(r, 50));
    expect(late).toBe(0);
    expect((await rejectionOf(w.next())).code).toBe('ERR_WATCHER_CLOSED');
    w.close(); // twice: a no-op
  });

  it('closing (or deleting) the namespace closes its watchers and their sockets', async () => {
    const ns = await Namespace.create(`wq${process.pid}`);
    const fds = fdCount();
    const [a, b] = await Promise.all([Watcher.open(ns), Watcher.open(ns, { links: false })]);
    expect(fdCount()).toBe(fds + 2);
    const closed: string[] = [];
    a.on('close', () => closed.push('a'));
    b.on('close', () => closed.push('b'));
    await ns.delete();
    expect([a.closed, b.closed, closed.sort()]).toEqual([true, true, ['a', 'b']]);
    expect(fdCount()).toBeLessThan(fds);
  });

  it('bad options are refused before any socket is made', async () => {
    const ns = await t.create('wv');
    const fds = fdCount();
    const cases: [Promise<unknown>, string][] = [
      [Watcher.open(ns, { links: false, addresses: false, routes: false }), 'ERR_INVALID_ARGUMENT'],
      [Watcher.open(ns, { family: 5 as never }), 'ERR_INVALID_ARGUMENT'],
      [Watcher.open(ns, { links: 'yes' as never }), 'ERR_INVALID_ARGUMENT'],
      [Watcher.open('ns' as never), 'ERR_INVALID_ARGUMENT'],
      [Watcher.open(ns, 7 as never), 'ERR_INVALID_ARGUMENT'],
    ];
    for (const [p, code] of cases) {
      const e = await rejectionOf(p);
      expect([e instanceof NetplumbError, e.code]).toEqual([true, code]);
    }
    expect(fdCount()).toBe(fds);
  });
});
