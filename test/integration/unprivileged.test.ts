// Without privileges: a plain node child on the compiled library (dist/) runs
// as nobody, via setpriv, and tries every kind of operation:
//   run A: uid/gid 65534, no capabilities at all (inheritable, ambient and bounding sets empty);
//   run B: uid/gid 65534 with CAP_SYS_ADMIN only (it can enter namespaces, so
//          the requests do reach rtnetlink / nf_tables / /proc/sys and are refused there).
// Every refusal must be a typed error (NetlinkError EPERM/EACCES, or a
// NetplumbError) whose message names the missing capability; the child must
// not crash; nothing may change. The messages are printed (they go in the
// issue note).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Namespace } from '../../lib';
import { oracle, uniq } from '../helpers/oracle';
import { snapshotOf } from '../helpers/reliability';

const ROOT = path.resolve(__dirname, '..', '..');
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const RUNS = {
  A: [...NOBODY, '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all'],
  B: [...NOBODY, '--inh-caps=-all,+sys_admin', '--ambient-caps=-all,+sys_admin', '--bounding-set=-all,+sys_admin'],
} as const;

/** The child: each operation in its own try; one JSON line of results. */
const CHILD = String.raw`
'use strict';
const np = require(process.env.NP_DIST);
const { Namespace, Link, VethPair, Address, Route, PortMapping, NetplumbError, NetlinkError } = np;
const ROOT_NS = process.env.NP_ROOT_NS;
const RUN = process.env.NP_RUN;
const ops = [
  ['Namespace.create', () => Namespace.create(process.env.NP_CHILD_NS)],
  ['Namespace.open (a namespace root made)', async () => { const ns = await Namespace.open(ROOT_NS); await ns.close(); }],
  ['Link.list (current namespace)', async () => { const ns = await Namespace.current(); try { return (await Link.list(ns)).length + ' links'; } finally { await ns.close(); } }],
  ['VethPair.create', () => VethPair.create('npv0', { peerName: 'npv1' })],
  ['link.up (lo)', async () => { const ns = await Namespace.current(); try { await ns.loopback.up(); } finally { await ns.close(); } }],
  ['Address.add', async () => { const ns = await Namespace.current(); try { await Address.add(ns.loopback, '10.9.9.9/32'); } finally { await ns.close(); } }],
  ['Route.add', () => Route.add({ to: '10.8.0.0/16', dev: 'lo' })],
  ['PortMapping.publish', () => PortMapping.publish({ hostPort: 8080, to: '10.1.1.2:80' })],
  ['Sysctl.set', async () => { const ns = await Namespace.current(); try { await ns.sysctl.set('net.ipv4.ip_forward', 1); } finally { await ns.close(); } }],
];
// Removing a name unmounts it: with CAP_SYS_ADMIN that would succeed, so only run A tries.
if (RUN === 'A') ops.push(['Namespace.delete (a namespace root made)', () => Namespace.delete(ROOT_NS)]);
(async () => {
  const out = [];
  for (const [op, fn] of ops) {
    try {
      const value = await fn();
      out.push({ op, ok: true, value: value === undefined ? null : String(value) });
    } catch (e) {
      out.push({
        op, ok: false, typed: e instanceof NetplumbError || e instanceof NetlinkError, name: e && e.name, code: e && e.code,
        errno: e && e.errno, syscall: e && e.syscall, message: String(e && e.message),
      });
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((e) => { process.stderr.write('child failed: ' + (e && e.stack) + '\n'); process.exit(1); });
`;

interface Result {
  op: string;
  ok: boolean;
  value?: string | null;
  typed?: boolean;
  name?: string;
  code?: string;
  errno?: number;
  syscall?: string;
  message?: string;
}

/** What each run must give, per operation: 'ok' allowed, or the capability the message must name (and the errors allowed). */
type Want = { allowOk?: true; cap: RegExp; codes?: string[]; syscall?: RegExp };
const SYS = /needs\b.*\bCAP_SYS_ADMIN/;
const NET = /needs\b.*\bCAP_NET_ADMIN/;
const PERM = ['EPERM', 'EACCES'];
const WANT: Record<keyof typeof RUNS, Record<string, Want>> = {
  A: {
    // mkdir/open under /run/netns (root's, mode 755): EACCES; the hint names /run/netns and CAP_SYS_ADMIN.
    'Namespace.create': { cap: SYS, codes: PERM },
    'Namespace.open (a namespace root made)': { cap: SYS, codes: PERM, syscall: /^setns$/ },
    // Reading is allowed by the kernel, and the process's own namespace needs no setns: it succeeds.
    'Link.list (current namespace)': { allowOk: true, cap: NET, codes: PERM },
    // Everything else reaches the kernel (or /proc/sys), which refuses without CAP_NET_ADMIN.
    'VethPair.create': { cap: NET, codes: PERM, syscall: /^RTM_NEWLINK$/ },
    'link.up (lo)': { cap: NET, codes: PERM, syscall: /^RTM_(SET|NEW)LINK$/ },
    'Address.add': { cap: NET, codes: PERM, syscall: /^RTM_NEWADDR$/ },
    'Route.add': { cap: NET, codes: PERM, syscall: /^RTM_NEWROUTE$/ },
    'PortMapping.publish': { cap: NET, codes: PERM, syscall: /^NFT_/ },
    'Sysctl.set': { cap: NET, codes: PERM },
    'Namespace.delete (a namespace root made)': { cap: SYS, codes: PERM, syscall: /^umount2$/ },
  },
  B: {
    'Namespace.create': { cap: SYS, codes: PERM },
    'Namespace.open (a namespace root made)': { allowOk: true, cap: SYS },
    'Link.list (current namespace)': { allowOk: true, cap: SYS },
    'VethPair.create': { cap: NET, codes: PERM, syscall: /^RTM_NEWLINK$/ },
    'link.up (lo)': { cap: NET, codes: PERM, syscall: /^RTM_(SET|NEW)LINK$/ },
    'Address.add': { cap: NET, codes: PERM, syscall: /^RTM_NEWADDR$/ },
    'Route.add': { cap: NET, codes: PERM, syscall: /^RTM_NEWROUTE$/ },
    'PortMapping.publish': { cap: NET, codes: PERM, syscall: /^NFT_/ },
    // Writing a net.* sysctl of a namespace needs CAP_NET_ADMIN over it (or root's uid): the hint must say so,
    // not point at /run/netns.
    'Sysctl.set': { cap: NET, codes: PERM },
  },
};

let dist: string;
let tmp: string;
let rootNs: Namespace;
const results: Partial<Record<keyof typeof RUNS, Result[]>> = {};

function asNobody(args: readonly string[], cmd: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> {
  return spawnSync('setpriv', [...args, ...cmd], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000, cwd: '/' });
}

beforeAll(async () => {
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-unpriv-'));
  fs.chmodSync(tmp, 0o755);
  // Can nobody read the repository (dist/ and the addon)? If not, copy what the child needs.
  // (native() loads the addon through `bindings`.)
  const probe = asNobody(RUNS.A, [process.execPath, '-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'native.js'))}).native()`]);
  if (probe.status === 0) {
    dist = path.join(ROOT, 'dist', 'lib', 'index.js');
  } else {
    console.warn(`unprivileged: nobody cannot load the library from ${ROOT} (${String(probe.stderr).split('\n')[0]}); copying it to ${tmp}`);
    const copy = path.join(tmp, 'netplumb');
    for (const p of ['package.json', 'dist/lib', 'build/Release/netplumb.node', 'node_modules/bindings', 'node_modules/file-uri-to-path'])
      fs.cpSync(path.join(ROOT, p), path.join(copy, p), { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    dist = path.join(copy, 'dist', 'lib', 'index.js');
  }
  fs.writeFileSync(path.join(tmp, 'child.js'), CHILD, { mode: 0o644 });
  rootNs = await Namespace.create(uniq('unp'));
}, 60_000);

afterAll(async () => {
  await rootNs?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  const line = (run: keyof typeof RUNS) =>
    (results[run] ?? []).map((r) => `  [${run}] ${r.op}: ${r.ok ? `ok (${r.value ?? ''})` : `${r.name} ${r.code}${r.syscall ? ` (${r.syscall})` : ''}: ${r.message}`}`).join('\n');
  console.log(`unprivileged: what nobody gets\n${line('A')}\n${line('B')}`);
});

describe.each(Object.keys(RUNS) as (keyof typeof RUNS)[])('run %s', (run) => {
  it(`every operation is refused with a typed error naming the missing capability; no crash; nothing changes`, () => {
    const forwardBefore = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const childNs = uniq('unc');
    // The capabilities are what the run says (read back from the child itself).
    const caps = asNobody(RUNS[run], ['grep', '-E', '^Cap(Eff|Amb):', '/proc/self/status']);
    const capEff = /CapEff:\s+([0-9a-f]+)/.exec(String(caps.stdout))?.[1];
    expect(capEff).toBe(run === 'A' ? '0000000000000000' : '0000000000200000');

    const r = asNobody(RUNS[run], [process.execPath, path.join(tmp, 'child.js')], {
      NP_DIST: dist, NP_ROOT_NS: rootNs.name as string, NP_CHILD_NS: childNs, NP_RUN: run,
    });
    expect(r.signal).toBe(null);
    expect(String(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    const res = JSON.parse(String(r.stdout)) as Result[];
    results[run] = res;
    const want = WANT[run];
    expect(res.map((x) => x.op).sort()).toEqual(Object.keys(want).sort());

    const wrong: string[] = [];
    for (const x of res) {
      const w = want[x.op] as Want;
      if (x.ok) {
        if (!w.allowOk) wrong.push(`${x.op}: succeeded without privileges`);
        continue;
      }
      if (!x.typed) wrong.push(`${x.op}: untyped ${x.name}: ${x.message}`);
      if (typeof x.code !== 'string' || !x.code) wrong.push(`${x.op}: no code`);
      if (x.name === 'NetlinkError' && w.codes && !w.codes.includes(x.code as string)) wrong.push(`${x.op}: code ${x.code}, expected one of ${w.codes.join('/')}`);
      if (w.syscall && !w.syscall.test(String(x.syscall))) wrong.push(`${x.op}: syscall ${x.syscall}, expected ${w.syscall}`);
      if (!w.cap.test(String(x.message))) wrong.push(`${x.op}: the message does not say ${/CAP_\w+/.exec(w.cap.source)?.[0]}: ${x.message}`);
    }
    expect(wrong).toEqual([]);

    // Nothing changed: the namespace root made is still there, the child's was never made, and
    // nothing the child asked for exists in the process namespace (checked item by item: other
    // test files may run in parallel in the same sandbox); ip_forward is as it was.
    expect(oracle.netns()).toContain(rootNs.name);
    expect(oracle.netns()).not.toContain(childNs);
    const here = snapshotOf(undefined);
    expect(here.links.filter((l) => /^npv[01]$/.test(l))).toEqual([]);
    expect(here.addrs.filter((a) => a.includes('10.9.9.9/'))).toEqual([]);
    expect(here.routes.filter((r) => r.includes('10.8.0.0/16'))).toEqual([]);
    expect(spawnSync('nft', ['-j', 'list', 'ruleset'], { encoding: 'utf8' }).stdout).not.toContain('10.1.1.2');
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(forwardBefore);
  });
});
