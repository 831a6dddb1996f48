// Big dumps, and dumps under churn.
//  - 10,000 routes (8,000 IPv4, 2,000 IPv6) and 1,000 links (500 veth pairs),
//    made with `ip -batch`: Route.list / Link.list return exactly what `ip -j`
//    shows (same set, same attributes).
//  - Under churn (a separate `ip -force -batch` process adding and deleting
//    routes or links in the same namespace, on the other CPU): every
//    Route.list / Link.list / Address.list either returns a complete,
//    consistent list (everything that existed before the churn and was never
//    touched is there, no duplicates, nothing foreign) or rejects with a
//    NetlinkError ERR_DUMP_INTERRUPTED (dumpInterrupted: true). Never a
//    silently partial list.
//  - How often the kernel interrupts a dump under the same churn is measured
//    with iproute2 (which reports NLM_F_DUMP_INTR and does not retry), and the
//    library's retries are counted from outside with strace (dump requests
//    sent vs. list calls made) in a plain node child on dist/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Address, Link, Namespace, NetlinkError, Route, type RouteInfo } from '../../lib';
import { DIST_INDEX } from '../helpers/child';
import { ip, ipj, uniq } from '../helpers/oracle';

const V4_ROUTES = 8000;
const V6_ROUTES = 2000;
const PAIRS = 500;
const CHURN_MS = 3000;

let tmp: string;
const made: Namespace[] = [];
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-dumps-'));
});
afterAll(async () => {
  await Promise.allSettled(made.map((ns) => ns.delete()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function batch(ns: string, lines: string[], force = false): void {
  const file = path.join(tmp, `${uniq('b')}.txt`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  ip(ns, ...(force ? ['-force'] : []), '-batch', file);
}

/** Starts `ip -n NS -force -batch FILE` over `lines` repeated `times` times; stopped by stopChurn(). */
function startChurn(ns: string, lines: string[], times: number): ChildProcess {
  const file = path.join(tmp, `${uniq('churn')}.txt`);
  const body = lines.join('\n') + '\n';
  fs.writeFileSync(file, body.repeat(times)); // far more than CHURN_MS needs: it is killed at the end
  return spawn('ip', ['-n', ns, '-force', '-batch', file], { stdio: 'ignore' });
}
async function stopChurn(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

const v4dst = (k: number): string => `100.${64 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
const v6dst = (k: number): string => `fd10::${(k + 1).toString(16)}`;
const routeKey = (r: { to: string; dev?: string; via?: string }): string => `${r.to} ${r.via ?? '-'} ${r.dev ?? '?'}`;
const oracleRoutes = (ns: string): string[] =>
  [...(ipj(ns, 'route', 'show') as Record<string, string>[]), ...(ipj(ns, '-6', 'route', 'show') as Record<string, string>[])].map((r) =>
    routeKey({ to: r.dst as string, via: r.gateway, dev: r.dev }),
  );

/** A namespace with veth r0/r0p up and V4_ROUTES + V6_ROUTES routes via r0. */
async function routeNamespace(): Promise<{ ns: Namespace; name: string }> {
  const name = uniq('dr');
  const ns = await Namespace.create(name);
  made.push(ns);
  const lines = ['link add r0 type veth peer name r0p', 'link set r0 up', 'link set r0p up', 'addr add 10.200.0.1/16 dev r0'];
  for (let k = 0; k < V4_ROUTES; k++) lines.push(`route add ${v4dst(k)}/32 dev r0`);
  for (let k = 0; k < V6_ROUTES; k++) lines.push(`route add ${v6dst(k)}/128 dev r0`);
  batch(name, lines);
  return { ns, name };
}

/** A namespace with PAIRS veth pairs la<k>/lb<k>. */
async function linkNamespace(): Promise<{ ns: Namespace; name: string }> {
  const name = uniq('dl');
  const ns = await Namespace.create(name);
  made.push(ns);
  batch(name, Array.from({ length: PAIRS }, (_, k) => `link add la${k} type veth peer name lb${k}`));
  return { ns, name };
}

describe('big dumps are complete and correct', () => {
  it(`Route.list of ${V4_ROUTES + V6_ROUTES} routes is the set ip -j shows`, async () => {
    const { ns, name } = await routeNamespace();
    const t0 = Date.now();
    const list = await Route.list(ns);
    const ms = Date.now() - t0;
    const want = oracleRoutes(name);
    expect(want.length).toBeGreaterThanOrEqual(V4_ROUTES + V6_ROUTES);
    const got = list.map(routeKey);
    expect(new Set(got).size).toBe(got.length); // no duplicates
    expect(got.sort()).toEqual(want.sort());
    // Spot checks against the fixture itself (not only against ip).
    for (const k of [0, 1, 255, 256, 4095, V4_ROUTES - 1]) expect(got).toContain(`${v4dst(k)} - r0`);
    for (const k of [0, 15, 16, V6_ROUTES - 1]) expect(got).toContain(`${v6dst(k)} - r0`);
    console.log(`dumps: Route.list of ${list.length} routes in ${ms} ms`);
  });

  it(`Link.list of ${2 * PAIRS + 1} links (${PAIRS} veth pairs) is the set ip -j -d shows, attribute by attribute`, async () => {
    const { ns, name } = await linkNamespace();
    const t0 = Date.now();
    const list = await Link.list(ns);
    const ms = Date.now() - t0;
    const oracle = ipj(name, 'link', 'show') as { ifindex: number; ifname: string; mtu: number; address: string; link?: string; link_index?: number; flags: string[]; linkinfo?: { info_kind?: string } }[];
    expect(oracle.length).toBe(2 * PAIRS + 1);
    // ip names a peer in the same namespace ("link": "lb4") and gives its index only otherwise.
    const indexOf = new Map(oracle.map((l) => [l.ifname, l.ifindex]));
    const fmt = (l: { index: number; name: string; mtu: number; mac: string; kind: string; peer?: number; up: boolean }) =>
      `${l.index} ${l.name} ${l.mtu} ${l.mac} ${l.kind} ${l.peer ?? '-'} ${l.up}`;
    const got = list.map((l) => fmt({ index: l.index, name: l.name, mtu: l.mtu, mac: l.mac, kind: l.kind, peer: l.peerIndex, up: l.isUp }));
    const want = oracle.map((l) =>
      fmt({ index: l.ifindex, name: l.ifname, mtu: l.mtu, mac: l.address, kind: l.linkinfo?.info_kind ?? '', peer: l.link_index ?? (l.link ? indexOf.get(l.link) : undefined), up: l.flags.includes('UP') }),
    );
    expect(got.sort()).toEqual(want.sort());
    const veths = await Link.list(ns, { kind: 'veth' });
    expect(veths.length).toBe(2 * PAIRS);
    console.log(`dumps: Link.list of ${list.length} links in ${ms} ms`);
  });
});

interface ChurnReport {
  calls: number;
  complete: number;
  /** Complete lists that held churned entries too (the churn really overlapped the dumps). */
  withChurn: number;
  interrupted: number;
  /** Plain dumps by `ip` under the same churn, and how many of them the kernel flagged NLM_F_DUMP_INTR. */
  ipDumps: number;
  ipInterrupted: number;
}

/**
 * Calls `list` again and again for CHURN_MS while `churn` runs; each result goes through `verify`
 * (which throws on an incomplete or inconsistent list). Interleaved, `ip ... show` measures how often
 * a plain dump is interrupted.
 */
async function underChurn(churn: ChildProcess, list: () => Promise<unknown>, verify: (r: unknown) => boolean, ipArgs: string[]): Promise<ChurnReport> {
  const rep: ChurnReport = { calls: 0, complete: 0, withChurn: 0, interrupted: 0, ipDumps: 0, ipInterrupted: 0 };
  const bad: string[] = [];
  const deadline = Date.now() + CHURN_MS;
  try {
    while (Date.now() < deadline) {
      rep.calls++;
      try {
        const r = await list();
        try {
          if (verify(r)) rep.withChurn++;
          rep.complete++;
        } catch (e) {
          bad.push(`call ${rep.calls}: ${(e as Error).message}`);
        }
      } catch (e) {
        if (e instanceof NetlinkError && e.code === 'ERR_DUMP_INTERRUPTED' && e.dumpInterrupted === true) rep.interrupted++;
        else bad.push(`call ${rep.calls}: rejected with ${String(e)}`);
      }
      if (rep.calls % 2 === 0) {
        const r = spawnSync('ip', ipArgs, { encoding: 'utf8', maxBuffer: 64 << 20 });
        rep.ipDumps++;
        if (/Dump was interrupted/.test(r.stderr)) rep.ipInterrupted++;
      }
    }
    // The churn may finish its (large) batch before the deadline on a fast run; the overlap that
    // matters is asserted below: some complete lists held churned entries.
    if (churn.exitCode !== null) console.log(`dumps: the churn finished its batch before the ${CHURN_MS} ms deadline`);
  } finally {
    await stopChurn(churn);
  }
  expect(bad).toEqual([]);
  expect(rep.calls).toBe(rep.complete + rep.interrupted);
  expect(rep.calls).toBeGreaterThan(3);
  expect(rep.withChurn).toBeGreaterThan(0);
  return rep;
}

describe('dumps under churn: complete, or ERR_DUMP_INTERRUPTED, never partial', () => {
  it('Route.list while another process adds and deletes routes in the same namespace', async () => {
    const { ns, name } = await routeNamespace();
    const stable = new Set(oracleRoutes(name));
    const lines: string[] = [];
    for (let k = 0; k < 200; k++) lines.push(`route add 100.99.${k >> 8}.${k & 255}/32 dev r0`, `route add fd99::${(k + 1).toString(16)}/128 dev r0`);
    for (let k = 0; k < 200; k++) lines.push(`route del 100.99.${k >> 8}.${k & 255}/32 dev r0`, `route del fd99::${(k + 1).toString(16)}/128 dev r0`);
    const churn = startChurn(name, lines, 4000);
    const rep = await underChurn(
      churn,
      () => Route.list(ns),
      (r) => {
        const got = (r as RouteInfo[]).map(routeKey);
        if (new Set(got).size !== got.length) throw new Error('duplicate routes in one list');
        const have = new Set(got);
        const missing = [...stable].filter((x) => !have.has(x));
        if (missing.length) throw new Error(`${missing.length} stable routes missing, e.g. ${missing.slice(0, 3).join(', ')}`);
        const foreign = got.filter((x) => !stable.has(x) && !/^(100\.99\.|fd99::)/.test(x));
        if (foreign.length) throw new Error(`routes neither stable nor churned: ${foreign.slice(0, 3).join(', ')}`);
        return got.length > stable.size;
      },
      ['-n', name, 'route', 'show'],
    );
    console.log(`dumps under route churn: ${JSON.stringify(rep)}`);
  });

  it('Link.list while another process adds and deletes veth pairs in the same namespace', async () => {
    const { ns, name } = await linkNamespace();
    const stable = new Map((ipj(name, 'link', 'show') as { ifindex: number; ifname: string }[]).map((l) => [l.ifname, l.ifindex]));
    const lines: string[] = [];
    for (let k = 0; k < 20; k++) lines.push(`link add cz${k} type veth peer name cy${k}`);
    for (let k = 0; k < 20; k++) lines.push(`link del cz${k}`);
    const churn = startChurn(name, lines, 2000);
    const rep = await underChurn(
      churn,
      () => Link.list(ns),
      (r) => {
        const ls = r as Link[];
        if (new Set(ls.map((l) => l.index)).size !== ls.length) throw new Error('duplicate ifindex in one list');
        if (new Set(ls.map((l) => l.name)).size !== ls.length) throw new Error('duplicate name in one list');
        const byName = new Map(ls.map((l) => [l.name, l.index]));
        const missing = [...stable].filter(([n, i]) => byName.get(n) !== i);
        if (missing.length) throw new Error(`${missing.length} stable links missing or changed, e.g. ${missing.slice(0, 3).map(([n]) => n).join(', ')}`);
        const foreign = ls.filter((l) => !stable.has(l.name) && !/^c[zy]\d+$/.test(l.name));
        if (foreign.length) throw new Error(`links neither stable nor churned: ${foreign.map((l) => l.name).join(', ')}`);
        return ls.length > stable.size;
      },
      ['-n', name, 'link', 'show'],
    );
    console.log(`dumps under link churn: ${JSON.stringify(rep)}`);
  });

  it('Address.list while another process adds and deletes addresses in the same namespace', async () => {
    const name = uniq('da');
    const ns = await Namespace.create(name);
    made.push(ns);
    const setup = ['link add a0 type veth peer name a0p', 'link set a0 up'];
    for (let k = 0; k < 2000; k++) setup.push(`addr add 10.${100 + (k >> 8)}.${k & 255}.1/32 dev a0`);
    batch(name, setup);
    const stable = new Set(
      (ipj(name, '-4', 'addr', 'show') as { addr_info: { local: string; prefixlen: number }[] }[]).flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)),
    );
    expect(stable.size).toBe(2000);
    const lines: string[] = [];
    for (let k = 0; k < 100; k++) lines.push(`addr add 10.99.${k}.1/32 dev a0p`);
    for (let k = 0; k < 100; k++) lines.push(`addr del 10.99.${k}.1/32 dev a0p`);
    const churn = startChurn(name, lines, 1000);
    const rep = await underChurn(
      churn,
      () => Address.list(ns, { family: 4 }),
      (r) => {
        const got = (r as { cidr: string }[]).map((a) => a.cidr);
        if (new Set(got).size !== got.length) throw new Error('duplicate addresses in one list');
        const have = new Set(got);
        const missing = [...stable].filter((x) => !have.has(x));
        if (missing.length) throw new Error(`${missing.length} stable addresses missing, e.g. ${missing.slice(0, 3).join(', ')}`);
        const foreign = got.filter((x) => !stable.has(x) && !x.startsWith('10.99.'));
        if (foreign.length) throw new Error(`addresses neither stable nor churned: ${foreign.slice(0, 3).join(', ')}`);
        return got.length > stable.size;
      },
      ['-n', name, '-4', 'addr', 'show'],
    );
    console.log(`dumps under address churn: ${JSON.stringify(rep)}`);
  });
});

// The retries themselves, seen from outside: a plain node child on dist/ lists links while the
// churn runs; strace counts the RTM_GETLINK dump requests it sends.
const CHILD = String.raw`
'use strict';
const { Namespace, Link } = require(process.env.NP_DIST);
(async () => {
  const ns = await Namespace.open(process.env.NP_NS);
  const out = { calls: 0, complete: 0, interrupted: 0, other: [] };
  const until = Date.now() + Number(process.env.NP_MS);
  while (Date.now() < until) {
    out.calls++;
    try { await Link.list(ns); out.complete++; }
    catch (e) { if (e.code === 'ERR_DUMP_INTERRUPTED') out.interrupted++; else out.other.push(String(e)); }
  }
  await ns.close();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('interrupted dumps are retried (seen with strace)', () => {
  it('under link churn: dump requests sent = list calls + retries; every ERR_DUMP_INTERRUPTED comes after 5 retries', async () => {
    if (spawnSync('strace', ['-V']).status !== 0) throw new Error('strace is not installed: this test needs it (apt-get install strace)');
    const { ns, name } = await linkNamespace();
    await ns.close();
    const script = path.join(tmp, 'child.js');
    fs.writeFileSync(script, CHILD);
    const lines: string[] = [];
    for (let k = 0; k < 20; k++) lines.push(`link add cz${k} type veth peer name cy${k}`);
    for (let k = 0; k < 20; k++) lines.push(`link del cz${k}`);
    const churn = startChurn(name, lines, 2000);
    const trace = path.join(tmp, 'trace.txt');
    let res: { status: number | null; stdout: string; stderr: string };
    try {
      res = await new Promise((resolve) => {
        const c = spawn('strace', ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=sendmsg,sendto', '-e', 'signal=none', '-s', '64', '-o', trace, process.execPath, script], {
          env: { ...process.env, NP_DIST: DIST_INDEX, NP_NS: name, NP_MS: String(CHURN_MS) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    } finally {
      await stopChurn(churn);
    }
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout) as { calls: number; complete: number; interrupted: number; other: string[] };
    const text = fs.readFileSync(trace, 'utf8');
    // strace decodes netlink only for sockets of its own namespace: elsewhere the type is 0x12
    // (RTM_GETLINK) and the flags NLM_F_REQUEST|0x300 (NLM_F_DUMP).
    const dumpRequests = text.split('\n').filter((l) => /nlmsg_type=(RTM_GETLINK|0x12 )/.test(l) && /NLM_F_DUMP|NLM_F_REQUEST\|0x300/.test(l)).length;
    const retries = dumpRequests - out.calls;
    console.log(`dumps (strace): ${out.calls} Link.list calls of ${2 * PAIRS + 1} links under churn: ${out.complete} complete, ${out.interrupted} ERR_DUMP_INTERRUPTED; ${dumpRequests} RTM_GETLINK dump requests sent, so ${retries} retries`);
    expect(out.other).toEqual([]);
    expect(out.calls).toBe(out.complete + out.interrupted);
    expect(out.calls).toBeGreaterThan(3);
    // Each call sends at least one dump request; each typed interruption is 1 + 5 retries.
    expect(retries).toBeGreaterThanOrEqual(5 * out.interrupted);
  });
});
