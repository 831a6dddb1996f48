// The classic Docker `--net=none` recipe, done with the library, every step
// checked with iproute2 in the namespaces, and the result checked with real
// traffic (ping between the namespaces).
//
//   ip netns add c1
//   ip link add name veth0 type veth peer name veth1
//   brctl addif docker0 veth0
//   ip link set up veth0
//   ip link set veth1 netns c1
//   ip netns exec c1 ip link set veth1 name eth0
//   ip netns exec c1 ip link set up eth0
//   ip netns exec c1 ip addr add 172.17.0.100/16 dev eth0
//   ip netns exec c1 ip route add default via 172.17.0.1
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Bridge, Link, Namespace, Route, VethPair } from '../../lib';
import { oracleAddr, sorted } from '../helpers/addr-route';
import { inSandbox, ip, oracle, ping, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

// Namespace names are unique per test process (other test files may run alongside in the same sandbox).
const H = uniq('h');
const C1 = uniq('c1');
const C2 = uniq('c2');
const CX = uniq('cx');
// An address of the "host" outside 172.17.0.0/16: reachable from a container only through its default route.
const OUTSIDE = '10.99.0.1';

let h: Namespace;
let c1: Namespace;
let c2: Namespace | undefined;
let docker0: Bridge;
let pair: VethPair;
let eth0: Link; // c1's eth0 (the moved veth1)

const names = (ns: string): string[] => sorted(oracle.links(ns).map((l) => l.ifname));
const defaultRoute = (ns: string) => oracle.routes(ns).find((r) => r.dst === 'default');

beforeAll(async () => {
  h = await Namespace.create(H);
  await h.loopback.up();
  await h.loopback.addAddress(`${OUTSIDE}/32`);
});

afterAll(async () => {
  await Promise.all([c2?.delete(), c1?.delete(), h?.delete()]);
  // Nothing of ours is left under /run/netns.
  const left = await Namespace.list();
  for (const n of [H, C1, C2, CX]) expect(left).not.toContain(n);
});

describe('docker --net=none recipe, step by step', () => {
  it('host: bridge docker0 172.17.0.1/16, up', async () => {
    docker0 = await Bridge.create('docker0', { namespace: h, address: '172.17.0.1/16', up: true });
    const l = oracle.link(H, 'docker0');
    expect(l?.linkinfo?.info_kind).toBe('bridge');
    expect(l?.flags).toContain('UP');
    expect(oracleAddr(H, 'docker0', '172.17.0.1')?.prefixlen).toBe(16);
  });

  it('container c1: a new namespace with only a loopback', async () => {
    c1 = await Namespace.create(C1);
    expect(oracle.netns()).toContain(C1);
    expect(names(C1)).toEqual(['lo']);
    await c1.loopback.up();
  });

  it('ip link add name veth0 type veth peer name veth1 (in h)', async () => {
    pair = await VethPair.create('veth0', { namespace: h, peerName: 'veth1' });
    const v0 = oracle.link(H, 'veth0');
    const v1 = oracle.link(H, 'veth1');
    expect(v0?.linkinfo?.info_kind).toBe('veth');
    expect(v1?.linkinfo?.info_kind).toBe('veth');
    expect(v0?.link).toBe('veth1');
    expect(pair.link.index).toBe(v0!.ifindex);
    expect(pair.peer.index).toBe(v1!.ifindex);
    expect(names(C1)).toEqual(['lo']);
  });

  it('brctl addif docker0 veth0', async () => {
    expect(oracle.link(H, 'veth0')?.master).toBeUndefined();
    await docker0.addPort(pair.link);
    expect(oracle.link(H, 'veth0')?.master).toBe('docker0');
    expect((await docker0.ports()).map((p) => p.name)).toEqual(['veth0']);
  });

  it('ip link set up veth0', async () => {
    expect(oracle.link(H, 'veth0')?.flags).not.toContain('UP');
    await pair.link.up();
    expect(oracle.link(H, 'veth0')?.flags).toContain('UP');
  });

  it('ip link set veth1 netns c1', async () => {
    eth0 = await pair.peer.moveTo(c1);
    expect(oracle.link(H, 'veth1')).toBeUndefined();
    const moved = oracle.link(C1, 'veth1');
    expect(moved).toBeDefined();
    expect(eth0.namespace.equals(c1)).toBe(true);
    expect(eth0.name).toBe('veth1');
    expect(eth0.index).toBe(moved!.ifindex);
    expect(names(C1)).toEqual(['lo', 'veth1']);
  });

  it('ip netns exec c1 ip link set veth1 name eth0', async () => {
    await eth0.rename('eth0');
    expect(names(C1)).toEqual(['eth0', 'lo']);
    expect(oracle.link(C1, 'eth0')?.ifindex).toBe(eth0.index);
  });

  it('ip netns exec c1 ip link set up eth0; without an address, c1 cannot reach the bridge (negative control)', async () => {
    await eth0.up();
    expect(oracle.link(C1, 'eth0')?.flags).toContain('UP');
    // Negative control: proves the ping check can fail.
    expect(ping(C1, '172.17.0.1', 1)).toBe(false);
  });

  it('ip netns exec c1 ip addr add 172.17.0.100/16 dev eth0: now the bridge answers, but not beyond it', async () => {
    const info = await eth0.addAddress('172.17.0.100/16');
    expect(info.cidr).toBe('172.17.0.100/16');
    expect(oracleAddr(C1, 'eth0', '172.17.0.100')).toMatchObject({ prefixlen: 16, scope: 'global' });
    expect(ping(C1, '172.17.0.1')).toBe(true);
    // No default route yet: the host's other address is unreachable (negative control for the next step).
    expect(defaultRoute(C1)).toBeUndefined();
    expect(ping(C1, OUTSIDE, 1)).toBe(false);
  });

  it('ip netns exec c1 ip route add default via 172.17.0.1: the host is reachable through it', async () => {
    await Route.add({ namespace: c1, to: 'default', via: '172.17.0.1' });
    expect(defaultRoute(C1)).toMatchObject({ dst: 'default', gateway: '172.17.0.1', dev: 'eth0' });
    expect(ping(C1, OUTSIDE)).toBe(true);
    expect(ping(C1, '172.17.0.1')).toBe(true);
  });

  it('a second container c2, wired the fast way (peer born in c2 as eth0), and c1 <-> c2 traffic', async () => {
    c2 = await Namespace.create(C2);
    await c2.loopback.up();
    const pair2 = await VethPair.create('veth2', { namespace: h, master: docker0, up: true, peerIn: c2, peerName: 'eth0', peerUp: true });
    expect(pair2.peer.namespace.equals(c2)).toBe(true);
    expect(oracle.link(H, 'veth2')).toMatchObject({ master: 'docker0' });
    expect(oracle.link(H, 'veth2')?.flags).toContain('UP');
    expect(names(C2)).toEqual(['eth0', 'lo']);
    expect(oracle.link(C2, 'eth0')?.flags).toContain('UP');
    expect(oracle.link(H, 'eth0')).toBeUndefined();

    // Not configured yet: c1 cannot reach c2's future address.
    expect(ping(C1, '172.17.0.101', 1)).toBe(false);

    await pair2.peer.addAddress('172.17.0.101/16');
    await Route.add({ namespace: c2, to: 'default', via: '172.17.0.1' });
    expect(oracleAddr(C2, 'eth0', '172.17.0.101')?.prefixlen).toBe(16);
    expect(defaultRoute(C2)).toMatchObject({ gateway: '172.17.0.1', dev: 'eth0' });
    expect(sorted((await docker0.ports()).map((p) => p.name))).toEqual(['veth0', 'veth2']);

    expect(ping(C1, '172.17.0.101')).toBe(true);
    expect(ping(C2, '172.17.0.100')).toBe(true);
    expect(ping(C2, '172.17.0.1')).toBe(true);
  });
});

/** Resolves when `pid` has entered the namespace mounted at `path` (ip netns exec does setns, then execs). */
async function waitInNamespace(pid: number, path: string): Promise<void> {
  const want = fs.statSync(path).ino;
  for (let i = 0; i < 200; i++) {
    try {
      if (fs.statSync(`/proc/${pid}/ns/net`).ino === want) return;
    } catch {
      /* not there yet, or gone */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never entered ${path}`);
}

describe('moving a link into a namespace known only by a PID', () => {
  it('Namespace.fromPid(pid) and link.moveTo(pid, {name: "eth0"}); then it talks to the bridge', async () => {
    ip(undefined, 'netns', 'add', CX);
    let child: ChildProcess | undefined;
    let byPid: Namespace | undefined;
    let moved: Link | undefined;
    try {
      child = spawn('ip', ['netns', 'exec', CX, 'sleep', '60'], { stdio: 'ignore' });
      const pid = child.pid as number;
      expect(pid).toBeGreaterThan(0);
      await waitInNamespace(pid, `/run/netns/${CX}`);

      byPid = await Namespace.fromPid(pid);
      expect(byPid.inode).toBe(fs.statSync(`/run/netns/${CX}`).ino);
      expect(byPid.equals(h)).toBe(false);
      expect((await Link.list(byPid)).map((l) => l.name)).toEqual(['lo']);
      expect(names(CX)).toEqual(['lo']);

      const p3 = await VethPair.create('veth3', { namespace: h, peerName: 'veth4', master: docker0, up: true });
      moved = await p3.peer.moveTo(pid, { name: 'eth0' });
      // The link is in the process's namespace, renamed in the same request.
      expect(oracle.link(H, 'veth4')).toBeUndefined();
      expect(names(CX)).toEqual(['eth0', 'lo']);
      expect(moved.name).toBe('eth0');
      expect(moved.namespace.equals(byPid)).toBe(true);
      expect(moved.index).toBe(oracle.link(CX, 'eth0')?.ifindex);
      expect((await Link.list(byPid)).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);

      // Configure it through the pid-opened namespace and prove it works with traffic.
      await moved.up();
      await moved.addAddress('172.17.0.102/16');
      expect(oracleAddr(CX, 'eth0', '172.17.0.102')?.prefixlen).toBe(16);
      expect(ping(CX, '172.17.0.1')).toBe(true);
      expect(ping(C1, '172.17.0.102')).toBe(true);
    } finally {
      if (moved && !moved.namespace.closed) await moved.namespace.close(); // opened for us by moveTo(pid)
      await byPid?.close();
      if (child?.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
      ip(undefined, 'netns', 'del', CX);
    }
  });
});
