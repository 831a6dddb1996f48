// ns.spawn / ns.exec: real child processes born inside a namespace, with the
// calling thread back in its own namespace afterwards, whatever happened.
// Oracles: /proc/PID/ns/net (read here), `ip netns identify`, `ip -n NS -j link`.
import * as child_process from 'node:child_process';
import * as fs from 'node:fs';

import { Link, Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { ipj } from '../helpers/oracle';
import { NsTracker, rejectionOf } from '../helpers/ns-link';
import { alive, Children, exited, identify, inodeOfLink, netnsLink, readAll } from '../helpers/inside';

const t = new NsTracker();
const kids = new Children();

let ns: Namespace;
let NAME: string;

beforeAll(async () => {
  ns = await t.create('sp');
  NAME = ns.name as string;
  // Make the namespace unmistakable: a veth pair that exists only inside it.
  await VethPair.create('marker0', { namespace: ns, peerName: 'marker1' });
});

afterAll(async () => {
  await kids.reap();
  await t.cleanup();
});

/** What this thread and this process see as "their" network, several ways. */
async function ownView(): Promise<{ thread: string; self: string; links: string[]; child: string[] }> {
  const cur = await Namespace.current();
  let links: string[];
  try {
    links = (await Link.list(cur)).map((l) => `${l.index}:${l.name}`).sort();
  } finally {
    await cur.close();
  }
  // A process started the plain Node way inherits the forking (main) thread's namespace.
  const out = child_process.execFileSync('ip', ['-j', 'link'], { encoding: 'utf8' });
  const child = (JSON.parse(out) as { ifindex: number; ifname: string }[]).map((l) => `${l.ifindex}:${l.ifname}`).sort();
  return { thread: netnsLink('thread-self'), self: netnsLink('self'), links, child };
}

let before: Awaited<ReturnType<typeof ownView>>;

beforeAll(async () => {
  before = await ownView();
  // Sanity of the baseline: the sandbox is not the test namespace, and has no marker.
  expect(inodeOfLink(before.thread)).not.toBe(ns.inode);
  expect(before.links.some((l) => l.endsWith(':marker0'))).toBe(false);
  expect(before.child.some((l) => l.endsWith(':marker0'))).toBe(false);
  expect(before.links).toEqual(before.child);
  expect(before.links.length).toBeGreaterThan(0);
});

async function expectHome(): Promise<void> {
  const now = await ownView();
  expect(now).toEqual(before);
}

describe('ns.spawn', () => {
  it('returns a ChildProcess living in the namespace (/proc/PID/ns/net, ip netns identify)', async () => {
    const child = kids.track(ns.spawn('sleep', ['30'], { stdio: 'ignore' }));
    expect(child).toBeInstanceOf(child_process.ChildProcess);
    expect(typeof child.pid).toBe('number');
    const pid = child.pid as number;
    // Same pid is `sleep` right away (spawn execs in the child): its namespace is fixed at fork.
    const link = netnsLink(pid);
    expect(inodeOfLink(link)).toBe(ns.inode);
    expect(fs.statSync(`/proc/${pid}/ns/net`).ino).toBe(ns.inode);
    expect(fs.statSync(`/run/netns/${NAME}`).ino).toBe(ns.inode);
    expect(identify(pid)).toEqual([NAME]);
    // The parent is not in it.
    expect(inodeOfLink(netnsLink('self'))).not.toBe(ns.inode);
    expect(identify(process.pid)).toEqual([]);

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(alive(pid)).toBe(false);
    await expectHome();
  });

  it('stdio is piped like child_process.spawn', async () => {
    const child = kids.track(ns.spawn('sh', ['-c', 'read x; echo "out:$x"; echo "err:$x" >&2; exit 0']));
    const out = readAll(child.stdout);
    const err = readAll(child.stderr);
    child.stdin?.end('hello\n');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await out).toBe('out:hello\n');
    expect(await err).toBe('err:hello\n');
  });

  it('reports exit codes', async () => {
    const child = kids.track(ns.spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' }));
    expect(await exited(child)).toEqual({ code: 3, signal: null });
  });

  it('reports the signal that ended the child', async () => {
    const child = kids.track(ns.spawn('sleep', ['30'], { stdio: 'ignore' }));
    const pid = child.pid as number;
    expect(alive(pid)).toBe(true);
    expect(child.kill('SIGTERM')).toBe(true);
    const r = await exited(child);
    expect(r).toEqual({ code: null, signal: 'SIGTERM' });
    expect(child.signalCode).toBe('SIGTERM');
    expect(alive(pid)).toBe(false);
  });

  it('options pass through (env, cwd)', async () => {
    const child = kids.track(ns.spawn('sh', ['-c', 'echo "$NP_X $(pwd)"'], { env: { ...process.env, NP_X: 'x42' }, cwd: '/tmp' }));
    const out = readAll(child.stdout);
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await out).toBe('x42 /tmp\n');
  });

  it('the thread is back home after a successful spawn (links, /proc/thread-self, a plain child)', async () => {
    const child = kids.track(ns.spawn('sleep', ['30'], { stdio: 'ignore' }));
    // Synchronously after spawn returned: nothing async has had a chance to run.
    expect(netnsLink('thread-self')).toBe(before.thread);
    expect(netnsLink('self')).toBe(before.self);
    const plain = child_process.spawnSync('ip', ['-j', 'link'], { encoding: 'utf8' });
    const names = (JSON.parse(plain.stdout) as { ifname: string }[]).map((l) => l.ifname);
    expect(names).not.toContain('marker0');
    expect(inodeOfLink(netnsLink(child.pid as number))).toBe(ns.inode);
    await expectHome();
    child.kill('SIGKILL');
    await exited(child);
  });

  it('many spawns in a row all land in the namespace, the parent never does', async () => {
    const children = Array.from({ length: 10 }, () => kids.track(ns.spawn('sleep', ['30'], { stdio: 'ignore' })));
    for (const c of children) expect(inodeOfLink(netnsLink(c.pid as number))).toBe(ns.inode);
    expect(netnsLink('thread-self')).toBe(before.thread);
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => exited(c)));
    for (const c of children) expect(alive(c.pid as number)).toBe(false);
    await expectHome();
  });
});

describe('ns.exec', () => {
  it("shows only the namespace's links (ip -j link vs ip -n NAME -j link)", async () => {
    const r = await ns.exec('ip', ['-j', 'link']);
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    const inside = (JSON.parse(r.stdout) as { ifindex: number; ifname: string; address?: string }[]).map((l) => [l.ifindex, l.ifname, l.address]);
    const oracle = (ipj(NAME, 'link') as { ifindex: number; ifname: string; address?: string }[]).map((l) => [l.ifindex, l.ifname, l.address]);
    expect(inside).toEqual(oracle);
    expect(inside.map((l) => l[1]).sort()).toEqual(['lo', 'marker0', 'marker1']);
    await expectHome();
  });

  it('collects stdout, stderr, exit code; input goes to stdin', async () => {
    const r = await ns.exec('sh', ['-c', 'cat; echo E >&2; exit 5'], { input: 'abc' });
    expect(r).toEqual({ stdout: 'abc', stderr: 'E\n', code: 5, signal: null });
  });

  it('reports a signal', async () => {
    const r = await ns.exec('sh', ['-c', 'kill -TERM $$']);
    expect(r.code).toBeNull();
    expect(r.signal).toBe('SIGTERM');
  });

  it('runs in the namespace: readlink /proc/self/ns/net from inside', async () => {
    const r = await ns.exec('readlink', ['/proc/self/ns/net']);
    expect(r.code).toBe(0);
    expect(inodeOfLink(r.stdout.trim())).toBe(ns.inode);
  });
});

describe('failure leaves the thread at home', () => {
  it('a missing program: exec rejects with ENOENT, the parent is untouched', async () => {
    const e = await rejectionOf(ns.exec('/nonexistent/netplumb-no-such-program', ['x']));
    expect(e.code).toBe('ENOENT');
    expect(e).not.toBeInstanceOf(NetplumbError);
    expect(e).not.toBeInstanceOf(NetlinkError);
    expect(netnsLink('thread-self')).toBe(before.thread);
    await expectHome();
  });

  it('a missing program with spawn: the error event says ENOENT, the parent is untouched', async () => {
    const child = kids.track(ns.spawn('netplumb-no-such-program-xyz', [], { stdio: 'ignore' }));
    expect(netnsLink('thread-self')).toBe(before.thread);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    expect(err.code).toBe('ENOENT');
    await expectHome();
  });

  it('args not an array: NetplumbError ERR_INVALID_ARGUMENT, thrown before entering', async () => {
    let caught: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      ns.spawn('ip', 'link' as any);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetplumbError);
    expect((caught as NetplumbError).code).toBe('ERR_INVALID_ARGUMENT');
    expect(netnsLink('thread-self')).toBe(before.thread);
    // exec rejects with the same error.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const e = await rejectionOf(ns.exec('ip', [1 as any]));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    await expectHome();
  });

  it('Node refusing the options inside the window (cwd: 42) still restores the thread', async () => {
    let caught: unknown;
    try {
      // Passes netplumb's checks (an object), then child_process.spawn throws synchronously,
      // while the thread is inside the namespace.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      ns.spawn('true', [], { cwd: 42 as any });
    } catch (e) {
      caught = e;
    }
    // Node's own TypeError (from another realm than jest's, so no instanceof).
    expect(caught).toBeDefined();
    expect(caught).not.toBeInstanceOf(NetplumbError);
    expect((caught as NodeJS.ErrnoException).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(netnsLink('thread-self')).toBe(before.thread);
    await expectHome();
  });

  it('a closed namespace: ERR_NAMESPACE_CLOSED, nothing spawned', async () => {
    const other = await Namespace.open(NAME);
    await other.close();
    let caught: unknown;
    try {
      other.spawn('true');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetplumbError);
    expect((caught as NetplumbError).code).toBe('ERR_NAMESPACE_CLOSED');
    await expectHome();
  });

  it('nothing left running', async () => {
    const pids = kids.pids;
    expect(pids.length).toBeGreaterThan(10); // the tests above did spawn
    await kids.reap();
    expect(pids.filter(alive)).toEqual([]);
    // No child of ours remains (zombie or not): /proc/*/stat with our pid as ppid.
    const mine = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === process.pid;
        } catch {
          return false;
        }
      })
      .map((d) => `${d}:${fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim()}`);
    expect(mine).toEqual([]);
  });
});
