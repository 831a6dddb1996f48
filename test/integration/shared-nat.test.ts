// Safety of shared state (issue 9): nf_tables objects that are not ours are
// never touched; several processes publishing in one namespace never lose each
// other's mappings; a SIGKILL never leaves the ruleset between two operations;
// large ranges fit; a namespace argument is pinned before any await;
// concurrent Network.bridge calls with one name adopt instead of failing.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace, NetplumbError, Network, PortMapping } from '../../lib';
import { OWNER_MARK, TABLE } from '../../lib/nft';
import type { RaceReport } from '../children/nat-race';
import { ROOT } from '../helpers/child';
import { ip, oracle, uniq } from '../helpers/oracle';
import { rejectionOf } from '../helpers/ns-link';
import { netplumbRules, nftChains } from '../helpers/netnat';

const made: Namespace[] = [];
async function mk(prefix: string): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  return ns;
}
afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((ns) => ns.delete()));
});
const nm = (ns: Namespace): string => ns.name as string;
const nft = (ns: string, ...args: string[]): string => ip(undefined, 'netns', 'exec', ns, 'nft', ...args);
const ruleset = (ns: string): unknown => JSON.parse(nft(ns, '-j', 'list', 'ruleset'));
/** Tables as 'family name comment' (nft -j leaves table comments out: read them from the text listing). */
const tables = (ns: string): string[] =>
  (ruleset(ns) as { nftables: { table?: { family: string; name: string } }[] }).nftables
    .flatMap((o) => (o.table ? [o.table] : []))
    .map((t) => `${t.family} ${t.name} ${/^\s*comment "(.*)"$/m.exec(nft(ns, 'list', 'table', t.family, t.name))?.[1]}`)
    .sort();

describe('a table of our name that netplumb did not create', () => {
  it('ip netplumb with a user set and chain: Network.bridge and publish refuse with ERR_FOREIGN_TABLE; delete() leaves it whole', async () => {
    const host = await mk('sfh');
    const H = nm(host);
    nft(H, 'add', 'table', 'ip', TABLE);
    nft(H, 'add', 'set', 'ip', TABLE, 'users', '{ type ipv4_addr; elements = { 10.1.2.3 } }');
    nft(H, 'add', 'chain', 'ip', TABLE, 'mine', '{ type filter hook input priority 0; policy accept; }');
    // A rule that looks like one of ours, in their table: not ours either.
    nft(H, 'add', 'rule', 'ip', TABLE, 'mine', 'tcp', 'dport', '8080', 'counter', 'comment', '"netplumb publish 0badc0de tcp *:8080 -> 10.1.0.2:80"');
    const before = JSON.stringify(ruleset(H));

    const e1 = await rejectionOf(Network.bridge({ name: 'sf0', subnet: '10.70.0.0/24', namespace: host }));
    expect(e1).toBeInstanceOf(NetplumbError);
    expect(e1.code).toBe('ERR_FOREIGN_TABLE');
    expect(e1.message).toContain(`table ip ${TABLE}`);
    expect(e1.message).toContain(OWNER_MARK);
    expect(oracle.link(H, 'sf0')).toBeUndefined(); // the bridge it made was undone

    const e2 = await rejectionOf(PortMapping.publish({ namespace: host, hostPort: 8080, to: '10.1.0.2:80' }));
    expect(e2.code).toBe('ERR_FOREIGN_TABLE');
    expect(await PortMapping.list(host)).toEqual([]);

    // A network that needs no NAT works beside it, and its delete() leaves their table as it was.
    const net = await Network.bridge({ name: 'sf0', subnet: '10.70.0.0/24', namespace: host, masquerade: false });
    await net.delete();
    expect(JSON.stringify(ruleset(H))).toBe(before);
  });

  it('bridge netplumb of a user: icc: false refuses; control: our own tables carry the mark', async () => {
    const host = await mk('sfh');
    const H = nm(host);
    nft(H, 'add', 'table', 'bridge', TABLE);
    nft(H, 'add', 'chain', 'bridge', TABLE, 'theirs');
    const e = await rejectionOf(Network.bridge({ name: 'sf1', subnet: '10.71.0.0/24', namespace: host, icc: false }));
    expect(e.code).toBe('ERR_FOREIGN_TABLE');
    expect(e.message).toContain(`table bridge ${TABLE}`);
    expect(nftChains(H).map((c) => `${c.family} ${c.table} ${c.name}`)).toEqual([`bridge ${TABLE} theirs`]);
    nft(H, 'delete', 'table', 'bridge', TABLE);

    const net = await Network.bridge({ name: 'sf1', subnet: '10.71.0.0/24', namespace: host, icc: false });
    expect(tables(H)).toEqual([`bridge ${TABLE} ${OWNER_MARK}`, `ip ${TABLE} ${OWNER_MARK}`]);
    await net.delete();
    expect(tables(H)).toEqual([]); // the last rule's removal took the tables with it
  });
});

describe('several processes, one namespace', () => {
  const raceChild = (ns: string, base: number, n: number): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'children', 'nat-race.js'), 'race', ns, String(base), String(n)], { cwd: ROOT });
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => resolve({ code, out, err })); // 'close': all of stdout read, not just exited
    });

  it('two processes publishing/unpublishing 5,000 times each: no mapping of one is lost by the other, no call fails', async () => {
    const host = await mk('srh');
    const H = nm(host);
    const N = Number(process.env.NETPLUMB_RACE_N ?? 5000);
    const [a, b] = await Promise.all([raceChild(H, 10000, N), raceChild(H, 20000, N)]);
    const reports = [a, b].map((r) => {
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.out.trim().split('\n').pop() as string) as RaceReport;
    });
    console.log(`shared-nat race: ${JSON.stringify(reports)}`);
    for (const r of reports) {
      expect(r.errors).toEqual({});
      expect(r.lost).toBe(0);
      expect(r.published).toBe(N);
      expect(r.unpublished).toBe(N);
    }
    // Everything was unpublished: the table went with the last rule.
    expect(tables(H)).toEqual([]);
  }, 600_000);

  it('SIGKILL at 100 random points of publish/unpublish: the ruleset is always between two operations (nft -j)', async () => {
    const host = await mk('skh');
    const H = nm(host);
    const KILLS = Number(process.env.NETPLUMB_KILLS ?? 100);
    const seen = { none: 0, single: 0, range: 0 };
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'children', 'nat-race.js'), 'loop', H, '30000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code} before ready: ${err}`)));
      });
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const t = tables(H);
      const rules = netplumbRules(H);
      if (t.length === 0) {
        seen.none++;
        continue;
      }
      // At least one rule: never an empty table; our mark, our three chains.
      expect(rules.length).toBeGreaterThan(0);
      expect(t).toEqual([`ip ${TABLE} ${OWNER_MARK}`]);
      expect(nftChains(H).map((c) => c.name).sort()).toEqual(['output', 'postrouting', 'prerouting']);
      // Exactly one mapping, whole: a single port is 2 rules, the 20-port shifted range 40.
      const ids = new Set(rules.map((r) => (r.comment ?? '').split(' ')[2]));
      expect(ids.size).toBe(1);
      const range = (rules[0]?.comment ?? '').includes('-30019');
      expect(rules).toHaveLength(range ? 40 : 2);
      seen[range ? 'range' : 'single']++;
    }
    console.log(`shared-nat kills: ${KILLS} kills, after each: ${JSON.stringify(seen)} (no table / one single-port mapping / one range mapping)`);
  }, 600_000);
});

describe('large port ranges fit in one batch', () => {
  it('1-65535 onto the same ports is one rule per chain; 1,024 shifted ports through a bridge are 3,072 rules in one batch', async () => {
    const host = await mk('sbh');
    const H = nm(host);
    const all = await PortMapping.publish({ namespace: host, protocol: 'udp', hostPort: [1, 65535], to: '10.72.0.2:1' });
    expect(netplumbRules(H).filter((r) => (r.comment ?? '').includes(all.id))).toHaveLength(2);
    const net = await Network.bridge({ name: 'sb0', subnet: '10.72.0.0/24', namespace: host });
    const shifted = await net.bridge.publish({ hostPort: [20000, 21023], to: '10.72.0.3:30000' });
    // prerouting + output + hairpin postrouting, per port.
    expect(netplumbRules(H).filter((r) => (r.comment ?? '').includes(shifted.id))).toHaveLength(3 * 1024);
    const e = await rejectionOf(net.bridge.publish({ hostPort: [40000, 41024], to: '10.72.0.3:1000' }));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toMatch(/limited to 1024 ports/);
    await shifted.unpublish();
    await all.unpublish();
    await net.delete();
    expect(tables(H)).toEqual([]);
  });
});

describe('a namespace argument is pinned before any await', () => {
  it('Network.mode(ns) then ns.close(): 10,000 times it resolves to ns (by inode), never to the namespace that reused its fd', async () => {
    const c = await mk('smc');
    const want = fs.statSync(`/run/netns/${nm(c)}`).ino;
    const root = fs.statSync('/proc/self/ns/net').ino;
    let wrong = 0;
    let typed = 0;
    const N = Number(process.env.NETPLUMB_MODE_N ?? 10000);
    for (let i = 0; i < N; i++) {
      const copy = await Namespace.open(nm(c));
      const p = Network.mode(copy);
      await copy.close();
      const cur = await Namespace.current(); // may take the fd number copy had
      try {
        const got = await p;
        if (got.inode !== want) wrong++;
        await got.close();
      } catch (e) {
        if (e instanceof NetplumbError || (e as { code?: string }).code) typed++;
        else throw e;
      } finally {
        await cur.close();
      }
    }
    expect(root).not.toBe(want);
    expect(wrong).toBe(0);
    console.log(`shared-nat mode race: ${wrong} of ${N} resolved elsewhere, ${typed} typed errors`);
  }, 600_000);
});

describe('Network.bridge with one name at once', () => {
  it('4 concurrent calls: one creates, the others adopt; all see one bridge', async () => {
    const host = await mk('sah');
    const H = nm(host);
    const nets = await Promise.all([0, 1, 2, 3].map(() => Network.bridge({ name: 'sa0', subnet: '10.73.0.0/24', namespace: host })));
    expect(new Set(nets.map((n) => n.bridge.index)).size).toBe(1);
    expect(oracle.link(H, 'sa0')?.linkinfo?.info_kind).toBe('bridge');
    // One masquerade rule, not four.
    expect(netplumbRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb masquerade sa0'))).toHaveLength(1);
    for (const n of nets) await n.delete();
    expect(oracle.link(H, 'sa0')).toBeUndefined();
  });
});

describe('one container connected twice at once', () => {
  it('two connects of one namespace in parallel (two Network objects, as two processes hold): one wins, the other is ERR_IFNAME_IN_USE naming eth0', async () => {
    const host = await mk('sch');
    const c = await mk('scc');
    const [n1, n2] = await Promise.all([0, 1].map(() => Network.bridge({ name: 'sc0', subnet: '10.74.0.0/24', namespace: host })));
    const r = await Promise.allSettled([n1!.connect(c), n2!.connect(c)]);
    const failed = r.filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => x.reason as NetplumbError);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.code).toBe('ERR_IFNAME_IN_USE');
    expect(failed[0]!.message).toContain(`interface eth0 already exists in namespace ${nm(c)}`);
    expect(oracle.links(nm(c)).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    await n1!.delete();
    await n2!.delete();
  });
});
