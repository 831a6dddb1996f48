// Watcher events a controller can trust: snapshot + changes with no gap and no
// duplicate, neighbour and rule events, a resync after an overrun, and
// back-pressure through `for await`. The changes are made by iproute2
// (`ip -batch`, `ip neigh/rule`) in the test's own namespace; the oracles are
// `ip -j` (the final state) and `ip monitor` (the events).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { Watcher, type WatchEvent } from '../../lib';
import { NsTracker } from '../helpers/ns-link';
import { ip, ipj } from '../helpers/oracle';

jest.setTimeout(90_000);

const t = new NsTracker();
const open: Watcher[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) w.close();
  await t.cleanup();
});

const TABLE_NUM: Record<string, number> = { local: 255, main: 254, default: 253, unspec: 0 };
const tableNum = (x: string | number | undefined): number => (x === undefined ? 254 : typeof x === 'number' ? x : (TABLE_NUM[x] ?? Number(x)));

// One normalized line per object, built the same way from a WatchEvent and from `ip -j`.
const linkLine = (index: number, name: string, mtu: number, up: boolean) => `link ${index} ${name} mtu ${mtu} ${up ? 'up' : 'down'}`;
const routeKey = (family: number, table: number, to: string, metric: number, oif: number | undefined) =>
  `route ${family} table ${table} ${to} metric ${metric}${family === 6 ? ` oif ${oif ?? 0}` : ''}`;
const ruleLine = (family: number, priority: number, from: string | undefined, table: number) =>
  `rule ${family} pref ${priority} from ${from ?? 'all'} table ${table}`;

/** What a controller keeps: applies each event to a map of key -> normalized line. */
function apply(view: Map<string, string>, e: WatchEvent): void {
  let key: string;
  let line: string;
  if (e.type === 'link') {
    key = `link ${e.link.index}`;
    line = linkLine(e.link.index, e.link.name, e.link.mtu, e.link.isUp);
  } else if (e.type === 'address') {
    key = line = `address ${e.address.index} ${e.address.cidr}`;
  } else if (e.type === 'route') {
    key = line = routeKey(e.route.family, tableNum(e.route.table), e.route.to, e.route.metric ?? 0, e.route.oif);
  } else if (e.type === 'neighbor') {
    key = `neighbor ${e.neighbor.index} ${e.neighbor.address}`;
    line = `${key} ${e.neighbor.lladdr ?? ''}`;
  } else if (e.type === 'rule') {
    key = line = ruleLine(e.rule.family, e.rule.priority, e.rule.from, tableNum(e.rule.table));
  } else return;
  if (e.action === 'del') view.delete(key);
  else view.set(key, line);
}

/** The same lines from `ip -j`: links, addresses, routes and rules of both families, neighbours. */
function oracleView(N: string): string[] {
  const out: string[] = [];
  const links = ipj(N, 'link', 'show') as { ifindex: number; ifname: string; mtu: number; flags: string[] }[];
  const index = new Map(links.map((l) => [l.ifname, l.ifindex]));
  for (const l of links) out.push(linkLine(l.ifindex, l.ifname, l.mtu, l.flags.includes('UP')));
  for (const l of ipj(N, 'addr', 'show') as { ifindex: number; addr_info: { local: string; prefixlen: number }[] }[])
    for (const a of l.addr_info) out.push(`address ${l.ifindex} ${a.local}/${a.prefixlen}`);
  for (const family of [4, 6]) {
    for (const r of ipj(N, `-${family}`, 'route', 'show', 'table', 'all') as { dst: string; table?: string; metric?: number; dev?: string }[])
      out.push(routeKey(family, tableNum(r.table), r.dst, r.metric ?? 0, r.dev ? index.get(r.dev) : undefined));
    for (const r of ipj(N, `-${family}`, 'rule', 'show') as { priority: number; src: string; srclen?: number; table: string }[])
      out.push(ruleLine(family, r.priority, r.src === 'all' ? undefined : `${r.src}/${r.srclen ?? (family === 4 ? 32 : 128)}`, tableNum(r.table)));
  }
  for (const n of ipj(N, 'neigh', 'show') as { dst: string; dev: string; lladdr?: string }[])
    out.push(`neighbor ${index.get(n.dev)} ${n.dst} ${n.lladdr ?? ''}`);
  return out.sort();
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** 10,000 `ip -batch` lines: addresses, routes, neighbours, rules added, changed and removed; links changed, one downed, one deleted. */
function changes(): string[] {
  const L: string[] = [];
  for (let i = 0; i < 2000; i++) L.push(`addr add 10.50.${i >> 8}.${i & 255}/32 dev p${i % 8}`);
  for (let i = 0; i < 2000; i++) L.push(`route add 10.60.${i >> 8}.${i & 255}/32 dev p${i % 8}`);
  for (let i = 0; i < 1500; i++)
    L.push(`neigh add 10.8.${i % 8}.${10 + (i >> 3)} lladdr 02:00:00:00:${hex(i >> 8)}:${hex(i & 255)} dev p${i % 8} nud permanent`);
  for (let i = 0; i < 1000; i++) L.push(`rule add from 10.70.${i >> 8}.${i & 255}/32 table ${100 + (i % 10)} pref ${1000 + i}`);
  for (let i = 0; i < 2000; i += 2) L.push(`addr del 10.50.${i >> 8}.${i & 255}/32 dev p${i % 8}`);
  for (let i = 1; i < 2000; i += 2) L.push(`route del 10.60.${i >> 8}.${i & 255}/32 dev p${i % 8}`);
  for (let i = 0; i < 500; i++)
    L.push(`neigh replace 10.8.${i % 8}.${10 + (i >> 3)} lladdr 02:00:00:01:${hex(i >> 8)}:${hex(i & 255)} dev p${i % 8} nud permanent`);
  for (let i = 500; i < 750; i++) L.push(`neigh del 10.8.${i % 8}.${10 + (i >> 3)} dev p${i % 8}`);
  for (let i = 0; i < 1000; i += 2) L.push(`rule del pref ${1000 + i}`);
  for (let i = 0; i < 25; i++) L.push(`rule add from 10.71.${i}.0/24 table 200 pref ${3000 + i}`);
  for (let i = 0; i < 25; i++) L.push(`route add fd00:77:${i}::/64 dev p${i % 6}`);
  for (let i = 0; i < 190; i++) L.push(`link set p${i % 6} mtu ${1300 + i}`);
  // Silent removals: the kernel drops the IPv4 routes of a link going down or away without a message.
  L.push('link set p7 down', 'link del p6');
  while (L.length < 9999) L.push(`link set q${L.length % 6} mtu ${1200 + (L.length % 100)}`);
  L.push('link set lo alias end-of-batch');
  return L;
}

describe('Watcher snapshot', () => {
  it('snapshot + 10,000 ip -batch changes to a slow consumer: overrun, resync, and the view equals ip -j', async () => {
    const ns = await t.create('wsnap');
    const N = ns.name!;
    const setup: string[] = [];
    for (let k = 0; k < 8; k++)
      setup.push(`link add p${k} type veth peer name q${k}`, `link set p${k} up`, `link set q${k} up`, `addr add 10.8.${k}.1/24 dev p${k}`);
    setup.push('link set lo up', 'rule add from 10.99.0.0/16 table 100 pref 500', 'neigh add 10.8.0.2 lladdr 02:aa:00:00:00:02 dev p0 nud permanent');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsnap-'));
    fs.writeFileSync(path.join(dir, 'setup'), setup.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'changes'), changes().join('\n') + '\n');
    ip(N, '-batch', path.join(dir, 'setup'));
    ip(N, '-6', 'rule', 'add', 'from', 'fd00:99::/64', 'table', '100', 'pref', '501');

    // A small socket buffer and a small JS buffer: a slow consumer makes the kernel drop.
    const w = await Watcher.open(ns, { snapshot: true, neighbors: true, rules: true, highWaterMark: 64, receiveBuffer: 16384 });
    open.push(w);
    const view = new Map<string, string>();
    const counts = { events: 0, overrun: 0, resync: 0, synced: 0 };
    let sawEnd = false;
    let last = Date.now();
    const consumer = (async () => {
      for await (const e of w) {
        counts.events++;
        last = Date.now();
        if (e.type === 'overrun' || e.type === 'resync' || e.type === 'synced') counts[e.type]++;
        // The snapshot comes first, before any change.
        if (counts.synced === 0) expect(e.type === 'overrun' || ('action' in e && e.action === 'new')).toBe(true);
        apply(view, e);
        if (e.type === 'link' && e.link.name === 'lo' && e.link.alias === 'end-of-batch') sawEnd = true;
        if (counts.events % 50 === 0) await sleep(5); // slow
      }
    })();

    const batch = spawn('ip', ['-n', N, '-batch', path.join(dir, 'changes')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    batch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => batch.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    // Converged: the end marker seen, then nothing more for a while.
    const deadline = Date.now() + 40_000;
    while ((!sawEnd || Date.now() - last < 700) && Date.now() < deadline) await sleep(100);
    expect(sawEnd).toBe(true);
    expect(counts.synced).toBe(1);
    expect(counts.overrun).toBeGreaterThanOrEqual(1);
    expect(counts.resync).toBeGreaterThanOrEqual(1);
    const want = oracleView(N);
    console.log(
      `watcher-snapshot: ${counts.events} events, ${counts.overrun} overrun(s), ${counts.resync} resync(s); ${want.length} objects compared with ip -j`,
    );
    expect(want.length).toBeGreaterThan(3000);
    expect([...view.values()].sort()).toEqual(want);
    w.close();
    await consumer;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('neighbour and rule events match ip monitor for the same changes', async () => {
    const ns = await t.create('wmon');
    const N = ns.name!;
    ip(N, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1');
    ip(N, 'link', 'set', 'a0', 'up');
    ip(N, 'addr', 'add', '10.5.0.1/24', 'dev', 'a0');
    const w = await Watcher.open(ns, { links: false, addresses: false, routes: false, neighbors: true, rules: true });
    open.push(w);
    const ours: string[] = [];
    w.on('event', (e: WatchEvent) => {
      if (e.type === 'neighbor') ours.push(`neigh ${e.action} ${e.neighbor.address} ${e.neighbor.lladdr ?? ''}`);
      else if (e.type === 'rule') ours.push(`rule ${e.action} ${e.rule.priority} ${e.rule.from ?? 'all'}`);
    });
    const mon = spawn('ip', ['-n', N, 'monitor', 'label', 'neigh', 'rule'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    mon.stdout.on('data', (d: Buffer) => (text += d.toString()));
    try {
      // ip monitor has subscribed once it prints a change: poke until it does.
      for (let i = 0; !text.includes('pref 5 ') && !text.includes('5:') && i < 50; i++) {
        ip(N, 'rule', 'add', 'pref', '5', 'from', '10.250.0.0/16', 'table', '5');
        ip(N, 'rule', 'del', 'pref', '5');
        await sleep(100);
      }
      const start = text.length;
      const from = ours.length;
      ip(N, 'neigh', 'add', '10.5.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'a0', 'nud', 'permanent');
      ip(N, 'neigh', 'replace', '10.5.0.9', 'lladdr', '02:00:00:00:00:0a', 'dev', 'a0', 'nud', 'permanent');
      ip(N, '-6', 'neigh', 'add', 'fe80::9', 'lladdr', '02:00:00:00:00:0b', 'dev', 'a0', 'nud', 'permanent');
      ip(N, 'rule', 'add', 'pref', '100', 'from', '10.6.0.0/16', 'table', '7');
      ip(N, '-6', 'rule', 'add', 'pref', '101', 'from', 'fd00:6::/64', 'table', '7');
      ip(N, 'neigh', 'del', '10.5.0.9', 'dev', 'a0');
      ip(N, '-6', 'neigh', 'del', 'fe80::9', 'dev', 'a0');
      ip(N, 'rule', 'del', 'pref', '100');
      ip(N, '-6', 'rule', 'del', 'pref', '101');
      ip(N, 'rule', 'add', 'pref', '6', 'from', '10.251.0.0/16', 'table', '6'); // end marker
      await w.next((e) => e.type === 'rule' && e.rule.priority === 6);
      for (let i = 0; i < 50 && !/6:\s+from 10\.251/.test(text.slice(start)); i++) await sleep(100);
      // `[NEIGH] 10.5.0.9 dev a0 lladdr 02:.. PERMANENT`, `[RULE] Deleted 100:	from 10.6.0.0/16 lookup 7`...
      const theirs: string[] = [];
      for (const line of text.slice(start).split('\n')) {
        const m = /^\[(NEIGH|RULE)\]\s*(Deleted )?(.*)$/.exec(line.trim());
        if (!m) continue;
        const action = m[2] ? 'del' : 'new';
        const body = m[3] as string;
        if (m[1] === 'NEIGH') {
          const n = /^(\S+) dev \S+(?: lladdr (\S+))?/.exec(body);
          if (n) theirs.push(`neigh ${action} ${n[1]} ${n[2] ?? ''}`);
        } else {
          const r = /^(\d+):\s+from (\S+)/.exec(body);
          if (r) theirs.push(`rule ${action} ${r[1]} ${r[2]}`);
        }
      }
      expect(theirs.length).toBeGreaterThanOrEqual(10);
      expect(ours.slice(from)).toEqual(theirs);
    } finally {
      mon.kill();
    }
  });

  it('refuses bad options before any syscall', async () => {
    const ns = await t.create('wopt');
    await expect(Watcher.open(ns, { snapshot: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Watcher.open(ns, { highWaterMark: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Watcher.open(ns, { neighbours: true } as never)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_OPTION' });
  });
});
