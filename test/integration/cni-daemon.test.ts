// netplumb-cni's fast path: the native client (build/Release/netplumb-cni-client,
// run by bin/netplumb-cni) hands requests to a resident `netplumb cni-daemon`.
// The daemon runs in a "host" namespace of the test's own (ip netns exec H),
// started here and killed by its pid; every plugin is a process, as a runtime
// execs it. The daemon's --verbose log says which requests it served, so a
// check cannot pass by the client quietly running the plugin itself.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CniDriver, type ConfList, execPlugin } from '../helpers/cni-driver';
import { netplumbRules } from '../helpers/netnat';
import { ip, ipj, IpNetns, run } from '../helpers/oracle';
import { ROOT } from '../helpers/child';

/* eslint-disable @typescript-eslint/no-explicit-any */

const PLUGIN = path.join(ROOT, 'bin', 'netplumb-cni');
const CNI_PATH = [path.join(ROOT, 'bin'), '/usr/lib/cni'];

const nets = new IpNetns();
const netns = (prefix: string): string => nets.add(prefix);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cni-daemon-test-'));
let sockN = 0;
/** A socket path of its own in a root-only (0700) directory, as the daemon requires. */
function sockPath(): string {
  const d = fs.mkdtempSync(path.join(tmp, 's'));
  return path.join(d, `cni${sockN++}.sock`);
}

interface Daemon {
  proc: ChildProcess;
  pid: number;
  socket: string;
  /** Its stderr so far. */
  log(): string;
  /** The requests it ran, as its --verbose lines say: 'ADD id eth0: exit 0'. */
  served(): string[];
  /** served(), once it has `n` lines (the log reaches this process after the client's reply), or after 5 s. */
  servedAt(n: number): Promise<string[]>;
  exited: Promise<void>;
}
const daemons: Daemon[] = [];

/** `netplumb cni-daemon` in host namespace H, serving once it says so. */
async function startDaemon(H: string, socket = sockPath()): Promise<Daemon> {
  const proc = spawn('ip', ['netns', 'exec', H, process.execPath, path.join(ROOT, 'bin', 'netplumb'), 'cni-daemon', '--socket', socket, '--verbose'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const d: Daemon = {
    proc,
    pid: proc.pid as number,
    socket,
    exited,
    log: () => err,
    served: () => [...err.matchAll(/^netplumb cni-daemon: (\S+ \S+ \S+) pid \d+: (exit \d+|handed back)/gm)].map((m) => `${m[1]}: ${m[2]}`),
    servedAt: async (n) => {
      for (const t0 = Date.now(); d.served().length < n && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 10));
      return d.served();
    },
  };
  daemons.push(d);
  const t0 = Date.now();
  while (!/serving on/.test(err)) {
    if (proc.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`the daemon did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return d;
}

async function kill(d: Daemon, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (d.proc.exitCode === null && d.proc.signalCode === null) process.kill(d.pid, signal);
  await d.exited;
}

afterAll(async () => {
  for (const d of daemons) await kill(d);
  nets.deleteAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function netConf(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'npnet',
    type: 'netplumb-cni',
    bridge: 'np0',
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: { type: 'netplumb', subnet: '10.88.0.0/16', routes: [{ dst: '0.0.0.0/0' }] },
    ...over,
  };
}

/** One plugin process (the client) in host namespace H, with the runtime's extra environment. */
function plugin(H: string, env: Record<string, string>, conf: unknown, wrap: string[] = []) {
  return execPlugin(PLUGIN, { CNI_PATH: CNI_PATH.join(':'), ...env }, typeof conf === 'string' ? conf : JSON.stringify(conf), [
    'ip',
    'netns',
    'exec',
    H,
    ...wrap,
  ]);
}

/** Host veths on the bridge carrying a lease, per the oracle (none when there is no bridge). */
function leases(H: string, bridge = 'np0'): string[] {
  return (ipj(H, 'link', 'show') as any[])
    .filter((l) => l.master === bridge)
    .map((l) => l.ifalias as string | undefined)
    .filter((a): a is string => !!a && a.startsWith('netplumb '));
}

function inet(C: string): string[] {
  return ((ipj(C, 'addr', 'show') as any[]).flatMap((l) => l.addr_info) as any[])
    .filter((a) => a.family === 'inet' && a.local !== '127.0.0.1')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** What a refusal must leave as it was: H's links, addresses and ruleset, and the container's links and addresses. */
function snapshot(H: string, C: string): string {
  const strip = (x: any[]) => x.map((l) => ({ ifname: l.ifname, flags: l.flags, master: l.master, address: l.address, ifalias: l.ifalias }));
  return JSON.stringify([
    strip(ipj(H, 'link', 'show')),
    ipj(H, 'addr', 'show'),
    run('ip', ['netns', 'exec', H, 'nft', '-j', 'list', 'ruleset']),
    strip(ipj(C, 'link', 'show')),
    ipj(C, 'addr', 'show'),
  ]);
}

/** A result with what differs between two hosts (MACs, veth names, the container's netns path) masked. */
function shape(r: any, C: string): any {
  return JSON.parse(
    JSON.stringify(r)
      .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"MAC"')
      .replace(/veth[0-9a-f]+/g, 'VETH')
      .replaceAll(`/run/netns/${C}`, 'NETNS'),
  );
}

describe('through the daemon: what the plugin alone gives', () => {
  it('ADD, CHECK (passing and failing), DEL: the same results, the same host state, served by the daemon', async () => {
    const list = (): ConfList => ({
      cniVersion: '1.1.0',
      name: 'npnet',
      plugins: [netConf({ cniVersion: undefined, name: undefined, capabilities: { portMappings: true } }) as any],
    });
    const H1 = netns('cdh');
    const C1 = netns('cdc');
    const H2 = netns('cdh');
    const C2 = netns('cdc');
    const d = await startDaemon(H1);
    const via = new CniDriver(list(), {
      path: CNI_PATH,
      cacheDir: path.join(tmp, 'via'),
      wrap: ['ip', 'netns', 'exec', H1],
      env: { NETPLUMB_CNI_SOCKET: d.socket },
    });
    // No daemon on that socket: the client runs the plugin itself.
    const alone = new CniDriver(list(), {
      path: CNI_PATH,
      cacheDir: path.join(tmp, 'alone'),
      wrap: ['ip', 'netns', 'exec', H2],
      env: { NETPLUMB_CNI_SOCKET: path.join(tmp, 'none.sock') },
    });
    const att = (C: string) => ({
      containerId: 'same',
      netns: `/run/netns/${C}`,
      ifname: 'eth0',
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
    });
    const r1 = await via.add(att(C1));
    const r2 = await alone.add(att(C2));
    expect(shape(r1, C1)).toEqual(shape(r2, C2));
    expect(r1.ips[0].address).toBe('10.88.0.2/16');
    expect(inet(C1)).toEqual(['10.88.0.2/16']);
    expect(leases(H1)).toEqual(leases(H2));
    // A publish rule's comment carries an id of its own per host.
    const publish = (H: string) =>
      netplumbRules(H)
        .map((x) => (x.comment ?? '').replace(/^netplumb publish [0-9a-f]+ /, 'netplumb publish ID '))
        .filter((c) => c.startsWith('netplumb '))
        .sort();
    expect(publish(H1)).toEqual(publish(H2));
    expect(publish(H1)).not.toHaveLength(0);
    await via.check(att(C1));
    await alone.check(att(C2));
    ip(C1, 'addr', 'del', '10.88.0.2/16', 'dev', 'eth0');
    ip(C2, 'addr', 'del', '10.88.0.2/16', 'dev', 'eth0');
    const e1 = await via.check(att(C1)).then(
      () => undefined,
      (e: any) => e.exec.json,
    );
    const e2 = await alone.check(att(C2)).then(
      () => undefined,
      (e: any) => e.exec.json,
    );
    expect(e1).toMatchObject({ code: 101, msg: expect.stringMatching(/^CHECK: eth0 lacks address 10.88.0.2\/16/) });
    expect(shape(e1, C1)).toEqual(shape(e2, C2));
    await via.del(att(C1));
    await alone.del(att(C2));
    for (const [H, C] of [
      [H1, C1],
      [H2, C2],
    ] as const) {
      expect(leases(H)).toEqual([]);
      expect(ipj(C, 'link', 'show').map((l: any) => l.ifname)).toEqual(['lo']);
      expect(publish(H).filter((c) => c.startsWith('netplumb publish '))).toEqual([]);
    }
    expect(await d.servedAt(4)).toEqual(['ADD same eth0: exit 0', 'CHECK same eth0: exit 0', 'CHECK same eth0: exit 1', 'DEL same eth0: exit 0']);
  });

  it('refusals: the same error JSON, nothing changed; a CNI_NETNS that is not a namespace is refused from its fd', async () => {
    const H = netns('cdr');
    const C = netns('cdc');
    const d = await startDaemon(H);
    const notNs = path.join(tmp, 'not-a-netns');
    fs.writeFileSync(notNs, 'x');
    const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0' };
    const cases: [Record<string, string>, unknown, number, boolean][] = [
      // [env, configuration, code, served by the daemon]
      [{ ...base, CNI_NETNS: notNs }, netConf(), 4, true],
      [{ ...base, CNI_NETNS: '/proc/self/ns/mnt' }, netConf(), 4, true],
      [{ ...base, CNI_NETNS: '/run/netns/no-such-ns' }, netConf(), 3, false], // cannot be opened: the client runs the plugin
      [{ ...base, CNI_IFNAME: 'eth0123456789abc' }, netConf(), 4, true],
      [base, '{"cniVersion": "1.0.0",', 6, true],
      [base, netConf({ cniVersion: '0.3.1' }), 1, true],
      [{ ...base, CNI_COMMAND: 'ATTACH' }, netConf(), 4, true],
    ];
    for (const [env, conf, code, served] of cases) {
      const before = snapshot(H, C);
      const n = d.served().length;
      const x = await plugin(H, { ...env, NETPLUMB_CNI_SOCKET: d.socket }, conf);
      const y = await plugin(H, { ...env, NETPLUMB_CNI_DAEMON: '0' }, conf);
      expect([x.status, x.json?.code]).toEqual([1, code]);
      expect(x.stdout).toBe(y.stdout);
      expect((await d.servedAt(n + 1)).length - n).toBe(served ? 1 : 0);
      expect(snapshot(H, C)).toBe(before);
    }
    expect(d.served()[0]).toBe('ADD c0ffee eth0: exit 1');
    const nsErr = JSON.parse((await plugin(H, { ...base, CNI_NETNS: notNs, NETPLUMB_CNI_SOCKET: d.socket }, netConf())).stdout);
    expect(nsErr.msg).toMatch(new RegExp(`^CNI_NETNS ${notNs} is not a network namespace: .*a regular file`));
  });

  it("CNI_NETNS is the runtime's: a path bind-mounted only in the client's mount namespace still names the container", async () => {
    const H = netns('cdm');
    const C = netns('cdc');
    const d = await startDaemon(H);
    // `ip netns exec` gives the client a mount namespace of its own: the bind mount is there only.
    const priv = path.join(tmp, 'private-netns');
    fs.writeFileSync(priv, '');
    const wrap = ['sh', '-c', `mount --bind /run/netns/${C} ${priv} && exec "$0"`];
    const x = await plugin(
      H,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'private', CNI_NETNS: priv, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
      wrap,
    );
    expect([x.status, x.json?.msg]).toEqual([0, undefined]);
    expect(await d.servedAt(1)).toEqual(['ADD private eth0: exit 0']);
    expect(inet(C)).toEqual([x.json.ips[0].address]);
    expect(fs.statSync(priv).size).toBe(0); // outside the client's mount namespace it is the empty file
    const del = await plugin(
      H,
      { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'private', CNI_NETNS: '', CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
    );
    expect(del.status).toBe(0);
    expect(ipj(C, 'link', 'show').map((l: any) => l.ifname)).toEqual(['lo']);
  });

  it('a client in another network namespace, and a delegated IPAM, are handed back: the plugin runs where the client is', async () => {
    const H = netns('cdo');
    const H2 = netns('cdo');
    const C = netns('cdc');
    const C2 = netns('cdc');
    const d = await startDaemon(H);
    const x = await plugin(
      H2,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'other', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
    );
    expect(x.status).toBe(0);
    expect(await d.servedAt(1)).toEqual(['ADD other eth0: handed back']);
    expect(leases(H2)).toEqual(['netplumb np0 10.88.0.2 other eth0']);
    expect(ipj(H, 'link', 'show').map((l: any) => l.ifname)).toEqual(['lo']); // nothing in the daemon's namespace
    const dir = path.join(tmp, 'host-local');
    const y = await plugin(
      H,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'deleg', CNI_NETNS: `/run/netns/${C2}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf({ ipam: { type: 'host-local', subnet: '10.90.0.0/24', dataDir: dir } }),
    );
    expect([y.status, y.json?.ips?.[0]?.address]).toEqual([0, '10.90.0.2/24']);
    expect(await d.servedAt(2)).toEqual(['ADD other eth0: handed back', 'ADD deleg eth0: handed back']);
    expect(inet(C2)).toEqual(['10.90.0.2/24']);
  });
});

describe('the daemon under load and when it goes', () => {
  it('20 ADDs at once through it: 20 distinct addresses, all served by it; 20 DELs leave nothing; no descriptor kept', async () => {
    const H = netns('cdn');
    const N = 20;
    const cs = Array.from({ length: N }, () => netns('cdx'));
    const d = await startDaemon(H);
    const fds = () => fs.readdirSync(`/proc/${d.pid}/fd`).length;
    const env = (i: number, cmd: string) => ({
      CNI_COMMAND: cmd,
      CNI_CONTAINERID: `many-${i}`,
      CNI_NETNS: `/run/netns/${cs[i]}`,
      CNI_IFNAME: 'eth0',
      NETPLUMB_CNI_SOCKET: d.socket,
    });
    const conf = (i: number) => netConf({ runtimeConfig: { portMappings: [{ hostPort: 9000 + i, containerPort: 80, protocol: 'tcp' }] } });
    // One ADD and DEL first: what the first ones open for good (a netlink socket of the host namespace) is not a leak.
    expect((await plugin(H, env(0, 'ADD'), conf(0))).status).toBe(0);
    expect((await plugin(H, env(0, 'DEL'), conf(0))).status).toBe(0);
    const before = fds();
    const adds = await Promise.all(cs.map((_, i) => plugin(H, env(i, 'ADD'), conf(i))));
    for (const x of adds) expect([x.status, x.json?.msg]).toEqual([0, undefined]);
    const live = cs.map((c) => inet(c)[0]);
    expect(new Set(live).size).toBe(N);
    expect([...live].sort()).toEqual(adds.map((x) => x.json.ips[0].address).sort());
    expect(leases(H)).toHaveLength(N);
    expect((await d.servedAt(N + 2)).filter((s) => /^ADD many-\d+ eth0: exit 0$/.test(s))).toHaveLength(N + 1);
    const dels = await Promise.all(cs.map((_, i) => plugin(H, env(i, 'DEL'), conf(i))));
    for (const x of dels) expect([x.status, x.stdout]).toEqual([0, '']);
    expect(leases(H)).toEqual([]);
    expect(ipj(H, 'link', 'show', 'master', 'np0')).toEqual([]);
    for (const c of cs) expect(ipj(c, 'link', 'show').map((l: any) => l.ifname)).toEqual(['lo']);
    expect((await d.servedAt(2 * N + 2)).filter((s) => /^DEL many-\d+ eth0: exit 0$/.test(s))).toHaveLength(N + 1);
    // Each connection is closed right after its reply: give the last ones a moment.
    for (const t0 = Date.now(); fds() !== before && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 20));
    expect(fds()).toBe(before);
  }, 180_000);

  it('killed between requests: the next ADD runs the plugin itself and succeeds; a new daemon takes the stale socket over', async () => {
    const H = netns('cdk');
    const C = netns('cdc');
    const C2 = netns('cdc');
    const d = await startDaemon(H);
    expect((await plugin(H, { CNI_COMMAND: 'VERSION', NETPLUMB_CNI_SOCKET: d.socket }, { cniVersion: '1.0.0' })).status).toBe(0);
    await kill(d);
    expect(fs.existsSync(d.socket)).toBe(true); // left behind: connect() says ECONNREFUSED
    const x = await plugin(
      H,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'after-kill', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
    );
    expect([x.status, x.json?.msg, x.stderr]).toEqual([0, undefined, '']);
    expect(inet(C)).toEqual([x.json.ips[0].address]);
    const d2 = await startDaemon(H, d.socket);
    const y = await plugin(
      H,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'new-daemon', CNI_NETNS: `/run/netns/${C2}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
    );
    expect(y.status).toBe(0);
    expect(await d2.servedAt(1)).toEqual(['ADD new-daemon eth0: exit 0']);
    expect(leases(H).sort()).toEqual(
      [`netplumb np0 ${x.json.ips[0].address.split('/')[0]} after-kill eth0`, `netplumb np0 ${y.json.ips[0].address.split('/')[0]} new-daemon eth0`].sort(),
    );
    // A second daemon on a live socket refuses to start.
    const third = spawn('ip', ['netns', 'exec', H, process.execPath, path.join(ROOT, 'bin', 'netplumb'), 'cni-daemon', '--socket', d.socket], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    third.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise((r) => third.once('exit', r));
    expect([code, err]).toEqual([1, expect.stringMatching(/a daemon answers on .* already/)]);
  });

  it('killed with the request sent but not taken: the client runs the plugin itself, once', async () => {
    const H = netns('cds');
    const C = netns('cdc');
    const d = await startDaemon(H);
    process.kill(d.pid, 'SIGSTOP');
    const client = spawn('ip', ['netns', 'exec', H, PLUGIN], {
      env: {
        PATH: process.env.PATH,
        CNI_PATH: CNI_PATH.join(':'),
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'stopped',
        CNI_NETNS: `/run/netns/${C}`,
        CNI_IFNAME: 'eth0',
        NETPLUMB_CNI_SOCKET: d.socket,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    client.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const done = new Promise<number | null>((r) => client.once('exit', (c) => r(c)));
    client.stdin!.end(JSON.stringify(netConf()));
    // Connected (a socket among its fds) and still the native client: its request waits in the backlog.
    const t0 = Date.now();
    const connected = () => {
      try {
        return (
          fs.readlinkSync(`/proc/${client.pid}/exe`).endsWith('netplumb-cni-client') &&
          fs.readdirSync(`/proc/${client.pid}/fd`).some((f) => fs.readlinkSync(`/proc/${client.pid}/fd/${f}`).startsWith('socket:'))
        );
      } catch {
        return false;
      }
    };
    while (!connected()) {
      if (Date.now() - t0 > 30_000) throw new Error('the client never connected');
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    await kill(d);
    expect(await done).toBe(0);
    expect(JSON.parse(out).ips[0].address).toBe('10.88.0.2/16');
    expect(leases(H)).toEqual(['netplumb np0 10.88.0.2 stopped eth0']);
    expect(await d.servedAt(1)).toEqual([]);
  });

  it('killed while it runs an ADD: CNI error 11 (outcome unknown), and DEL afterwards cleans up', async () => {
    const H = netns('cdw');
    const C = netns('cdc');
    const d = await startDaemon(H);
    // The network's lock held by another process: the daemon's ADD waits for it, after its ack.
    const st = fs.statSync(`/run/netns/${H}`);
    const lockFile = `/run/netplumb/network-${st.dev}-${st.ino}-np0.lock`;
    const lock = spawn('flock', ['-x', lockFile, 'sleep', '120'], { stdio: 'ignore' });
    const cNs = fs.statSync(`/run/netns/${C}`);
    try {
      // Held once a non-blocking flock of the same file is refused (/proc/locks names a file
      // by device and inode only, which another tmpfs's file can share).
      for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() - t0 > 30_000) throw new Error(`flock never took ${lockFile}`);
        if (fs.existsSync(lockFile) && spawnSync('flock', ['-n', '-x', lockFile, 'true']).status === 1) break;
      }
      const x = plugin(
        H,
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'midway', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
        netConf(),
      );
      // The daemon has the request once it holds the container's namespace: an fd that
      // stats as the namespace (nsfs device and inode). Not by readlink's text: for an fd
      // received over SCM_RIGHTS, opened by the client in its own mount namespace (ip netns
      // exec), the kernel writes the path from that namespace's root, which is the reader's
      // "/run/netns/C" only when the reader is not in a chroot. In test:fresh's chroot it
      // reads as the rootfs's full path on the host, so the probe never matched.
      // (The daemon's lock polling opens and closes files meanwhile: an fd may be gone.)
      const fdsOf = () =>
        fs.readdirSync(`/proc/${d.pid}/fd`).map((f) => {
          const p = `/proc/${d.pid}/fd/${f}`;
          try {
            return { link: fs.readlinkSync(p), st: fs.statSync(p) as fs.Stats | undefined };
          } catch {
            return { link: '(gone)', st: undefined };
          }
        });
      const holds = () => fdsOf().some(({ st }) => st !== undefined && st.dev === cNs.dev && st.ino === cNs.ino);
      for (const t0 = Date.now(); !holds();) {
        if (Date.now() - t0 > 30_000)
          throw new Error(
            `the daemon never took the request: none of its fds is /run/netns/${C} (dev ${cNs.dev}, inode ${cNs.ino}): ${fdsOf()
              .map(({ link, st }) => `${link}${st ? ` [${st.dev}:${st.ino}]` : ''}`)
              .join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 300));
      await kill(d);
      const r = await x;
      expect([r.status, r.json?.code, r.json?.msg]).toEqual([1, 11, expect.stringMatching(/^the netplumb daemon ended while it ran this ADD/)]);
    } finally {
      process.kill(lock.pid as number, 'SIGKILL');
    }
    expect(leases(H)).toEqual([]);
    const del = await plugin(
      H,
      { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'midway', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
    );
    expect(del.status).toBe(0);
    expect(ipj(C, 'link', 'show').map((l: any) => l.ifname)).toEqual(['lo']);
  });
});

describe('who is served', () => {
  it('a peer that is not root is refused before anything is read: nothing done for it', async () => {
    const H = netns('cdu');
    const C = netns('cdc');
    const d = await startDaemon(H);
    // Open the socket to everyone (the daemon makes it 0600 in a 0700 directory): only SO_PEERCRED is left to refuse.
    fs.chmodSync(tmp, 0o755);
    fs.chmodSync(path.dirname(d.socket), 0o755);
    fs.chmodSync(d.socket, 0o666);
    const before = snapshot(H, C);
    const x = await plugin(
      H,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'nobody', CNI_NETNS: `/run/netns/${C}`, CNI_IFNAME: 'eth0', NETPLUMB_CNI_SOCKET: d.socket },
      netConf(),
      ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    );
    expect(x.stderr).toMatch(/the daemon at .* refused this process: uid 65534 is not root/);
    expect(d.log()).toMatch(/refused pid \d+ \(uid 65534\): only root is served/);
    expect(await d.servedAt(1)).toEqual([]);
    // It ran the plugin itself, as nobody: refused by the kernel, as without a daemon.
    expect(x.status).not.toBe(0);
    expect(snapshot(H, C)).toBe(before);
    expect(leases(H)).toEqual([]);
  });
});
