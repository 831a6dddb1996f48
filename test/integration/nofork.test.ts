// "No process forked": a workload that exercises the whole compiled library
// (dist/, as a user gets it) runs under strace; every process-creating system
// call is recorded. Node itself is the only execve, and every clone is a
// thread (CLONE_THREAD). A positive control proves the check does catch a
// child process.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ipj, oracle, ping, uniq } from '../helpers/oracle';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST_INDEX = path.join(ROOT, 'dist', 'lib', 'index.js');

function hasStrace(): boolean {
  return spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;
}

interface TraceReport {
  /** execve calls, successful or not, as "PID path". */
  execves: string[];
  /** fork/vfork, and clone/clone3 without CLONE_THREAD: new processes. */
  processCreations: string[];
  /** clone/clone3 with CLONE_THREAD. */
  threads: number;
  /** Lines that looked like a traced call but could not be classified. */
  unparsed: string[];
}

/** Classifies `strace -f -o FILE -e trace=execve,clone,clone3,fork,vfork` output. */
function parseTrace(text: string): TraceReport {
  const r: TraceReport = { execves: [], processCreations: [], threads: 0, unparsed: [] };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    // "<... clone3 resumed> ...": the call was already counted on its first line.
    if (/^\d+\s+<\.\.\. \w+ resumed>/.test(line)) continue;
    const m = /^(\d+)\s+(execve|execveat|clone3|clone|fork|vfork)\((.*)$/.exec(line);
    if (!m) {
      if (/^\d+\s+\+\+\+|^\d+\s+---/.test(line)) continue; // exit / signal notes
      r.unparsed.push(line);
      continue;
    }
    const [, pid, call, rest] = m as unknown as [string, string, string, string];
    if (call === 'execve' || call === 'execveat') {
      r.execves.push(`${pid} ${/^"([^"]*)"/.exec(rest)?.[1] ?? rest}`);
    } else if (call === 'fork' || call === 'vfork') {
      r.processCreations.push(line);
    } else {
      const flags = /flags=([A-Z0-9_|]+)/.exec(rest)?.[1];
      if (flags === undefined) r.unparsed.push(line);
      else if (flags.split('|').includes('CLONE_THREAD')) r.threads++;
      else r.processCreations.push(line);
    }
  }
  return r;
}

function traced(args: string[], env: NodeJS.ProcessEnv = process.env): { report: TraceReport; stdout: string; stderr: string; status: number | null } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-strace-')), 'trace.txt');
  const res = spawnSync(
    'strace',
    ['-f', '-qq', '-e', 'trace=execve,execveat,clone,clone3,fork,vfork', '-e', 'signal=none', '-o', out, ...args],
    { encoding: 'utf8', env, timeout: 45_000 },
  );
  const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { report: parseTrace(text), stdout: res.stdout, stderr: res.stderr, status: res.status };
}

/** The workload: plain JS against dist/, run by node under strace. */
const WORKLOAD = String.raw`
'use strict';
const np = require(process.env.NP_DIST);
const { Namespace, Link, VethPair, Bridge, Address, Route } = np;
const [HOST, C1, C2, TMP] = JSON.parse(process.env.NP_NAMES);

(async () => {
  const host = await Namespace.create(HOST);
  const c1 = await Namespace.create(C1);
  const c2 = await Namespace.create(C2);
  await Promise.all([host.loopback.up(), c1.loopback.up(), c2.loopback.up()]);

  const br = await Bridge.create('br0', { namespace: host, address: ['10.88.0.1/24', 'fd00:88::1/64'], up: true });

  // c1: the peer is born in c1 as eth0.
  const v1 = await VethPair.create('vh1', { namespace: host, peerIn: c1, peerName: 'eth0', master: br, up: true, peerUp: true });
  // c2: the hand-wired recipe: create, attach, move + rename, up.
  const v2 = await VethPair.create('vh2', { namespace: host, peerName: 'tmp2' });
  await br.addPort(v2.link);
  await v2.link.up();
  const eth0c2 = await v2.peer.moveTo(c2, { name: 'eth0' });
  await eth0c2.up();

  await v1.peer.addAddress('10.88.0.2/24');
  await v1.peer.addAddress('fd00:88::2/64', { nodad: true });
  await eth0c2.addAddress('10.88.0.3/24');
  await Route.add({ namespace: c1, to: 'default', via: '10.88.0.1' });
  await Route.add({ namespace: c2, to: 'default', via: '10.88.0.1' });
  await Route.add({ namespace: c1, to: '10.99.0.0/16', via: '10.88.0.3', metric: 50 });

  // Change things, then undo some of them.
  await v1.link.setMtu(1400);
  await v1.link.setMtu(1500);
  await eth0c2.setMac('02:00:00:88:00:03');
  const scratch = await VethPair.create('sx0', { namespace: host, peerName: 'sx1' });
  await scratch.link.rename('sx2');
  await scratch.link.addAddress('10.123.0.1/24');
  await scratch.link.removeAddress('10.123.0.1/24');
  await scratch.delete();
  await Route.add({ namespace: c2, to: '10.98.0.0/16', via: '10.88.0.2' });
  await Route.delete({ namespace: c2, to: '10.98.0.0/16', via: '10.88.0.2' });
  await v1.peer.addAddress('10.88.0.20/24');
  await Address.delete(v1.peer, '10.88.0.20/24');

  // A namespace made and deleted, one opened by name, by pid and by path.
  const tmp = await Namespace.create(TMP);
  await VethPair.create('t0', { namespace: tmp, peerName: 't1' });
  await tmp.delete();
  const again = await Namespace.open(C1);
  const self = await Namespace.fromPid(process.pid);
  const byPath = await Namespace.fromPath('/proc/self/ns/net');

  // Lists.
  const summary = {
    hostLinks: (await Link.list(host)).map((l) => l.name).sort(),
    ports: (await br.ports()).map((l) => l.name).sort(),
    c1Links: (await again.links()).map((l) => l.name).sort(),
    c1Addrs: (await Address.list(c1)).map((a) => a.cidr).sort(),
    c1Routes: (await Route.list(c1, { family: 4 })).map((r) => r.to + (r.via ? ' via ' + r.via : '')).sort(),
    c2Routes: (await Route.list(c2, { family: 4 })).map((r) => r.to + (r.via ? ' via ' + r.via : '')).sort(),
    bridges: (await Bridge.listBridges(host)).map((b) => b.name),
    namespaces: await Namespace.list(),
    selfIsByPath: self.equals(byPath),
  };
  await Promise.all([again.close(), self.close(), byPath.close()]);
  // Leave HOST, C1 and C2 for the test's oracle; close our handles.
  await Promise.all([host.close(), c1.close(), c2.close()]);
  process.stdout.write(JSON.stringify(summary) + '\n');
})().catch((e) => {
  process.stderr.write('workload failed: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
`;

let dir: string;

beforeAll(() => {
  if (!hasStrace()) throw new Error('strace is not installed: this test needs it (apt-get install strace); CI installs it');
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  expect(fs.existsSync(DIST_INDEX)).toBe(true);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-nofork-'));
  fs.writeFileSync(path.join(dir, 'workload.js'), WORKLOAD);
}, 60_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the library forks no process', () => {
  it('parser: classifies threads, processes and execs', () => {
    const r = parseTrace(
      [
        '10 execve("/usr/bin/node", ["node"], 0x7ffc /* 3 vars */) = 0',
        '10 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0} => {parent_tid=[11]}, 88) = 11',
        '10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 12',
        '10 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f, stack_size=0x9000} <unfinished ...>',
        '13 <... clone3 resumed> => {parent_tid=[0]}, 88) = 0',
        '12 execve("/usr/bin/true", ["true"], 0x39 /* 40 vars */) = 0',
        '10 vfork() = 14',
      ].join('\n'),
    );
    expect(r.threads).toBe(1);
    expect(r.processCreations).toHaveLength(3);
    expect(r.execves).toEqual(['10 /usr/bin/node', '12 /usr/bin/true']);
    expect(r.unparsed).toEqual([]);
  });

  it('positive control: a child process is detected', () => {
    const { report, status } = traced([process.execPath, '-e', "require('child_process').execFileSync('true')"]);
    expect(status).toBe(0);
    expect(report.unparsed).toEqual([]);
    expect(report.processCreations.length).toBeGreaterThanOrEqual(1);
    expect(report.execves.length).toBeGreaterThan(1);
  });

  it('a full workload over dist/ makes threads only, and execs nothing but node', () => {
    // Threads node makes on its own, for comparison.
    const bare = traced([process.execPath, '-e', '']);
    expect(bare.status).toBe(0);
    expect(bare.report.processCreations).toEqual([]);

    const names = [uniq('nfh'), uniq('nfa'), uniq('nfb'), uniq('nft')];
    const [HOST, C1, C2, TMP] = names as [string, string, string, string];
    const t0 = Date.now();
    const { report, stdout, stderr, status } = traced([process.execPath, path.join(dir, 'workload.js')], {
      ...process.env,
      NP_DIST: DIST_INDEX,
      NP_NAMES: JSON.stringify(names),
    });
    try {
      console.log(`nofork workload: ${Date.now() - t0} ms under strace; ${report.threads} threads created (bare node: ${bare.report.threads})`);
      expect(stderr.replace(/^strace: .*$/gm, '').trim()).toBe('');
      expect(status).toBe(0);

      // The workload really did its work (so the trace is of a real run)...
      const s = JSON.parse(stdout.trim().split('\n').at(-1) as string);
      expect(s.hostLinks).toEqual(['br0', 'lo', 'vh1', 'vh2']);
      expect(s.ports).toEqual(['vh1', 'vh2']);
      expect(s.c1Links).toEqual(['eth0', 'lo']);
      expect(s.c1Addrs).toEqual(expect.arrayContaining(['10.88.0.2/24', 'fd00:88::2/64']));
      expect(s.c1Addrs).not.toContain('10.88.0.20/24');
      expect(s.c1Routes).toEqual(['10.88.0.0/24', '10.99.0.0/16 via 10.88.0.3', 'default via 10.88.0.1']);
      expect(s.c2Routes).toEqual(['10.88.0.0/24', 'default via 10.88.0.1']);
      expect(s.bridges).toEqual(['br0']);
      expect(s.namespaces).toEqual(expect.arrayContaining([HOST, C1, C2]));
      expect(s.namespaces).not.toContain(TMP);
      expect(s.selfIsByPath).toBe(true);

      // ...as the independent oracle and real traffic confirm.
      expect(oracle.netns()).toEqual(expect.arrayContaining([HOST, C1, C2]));
      expect(oracle.netns()).not.toContain(TMP);
      expect(oracle.link(C2, 'eth0')?.address).toBe('02:00:00:88:00:03');
      expect(oracle.link(HOST, 'vh1')?.master).toBe('br0');
      expect(oracle.link(HOST, 'sx2')).toBeUndefined();
      expect(ipj(C1, 'route', 'show', 'default')).toEqual([expect.objectContaining({ gateway: '10.88.0.1', dev: 'eth0' })]);
      expect(ping(C1, '10.88.0.3')).toBe(true);
      expect(ping(C2, '10.88.0.1')).toBe(true);

      // The trace.
      expect(report.unparsed).toEqual([]);
      expect(report.processCreations).toEqual([]);
      expect(report.execves).toHaveLength(1);
      expect(report.execves[0]).toMatch(new RegExp(` ${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      // The library's shared I/O threads (at least one; not one per handle) were seen: the trace covers them.
      expect(report.threads).toBeGreaterThanOrEqual(bare.report.threads + 1);
    } finally {
      for (const n of names) spawnSync('ip', ['netns', 'del', n]);
    }
  });
});
