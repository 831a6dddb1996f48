// W5: a container attached and detached the way a runtime does it with CNI:
// every plugin a process of its own. netplumb-cni alone (it brings loopback
// up and publishes the port itself) against the reference chain (loopback,
// bridge + host-local, portmap), one 8080+i -> 80 mapping each, per
// container, interleaved so all see the same load. netplumb-cni twice: its
// native client handing the request to a resident `netplumb cni-daemon`
// (started here, killed by its pid at the end), and the same client with no
// daemon to answer, which runs the Node plugin itself (fallback). Every ADD
// is verified (the container has the address the result gives), and the
// daemon's log must show it served exactly the daemon rows' requests. Also
// what a process costs before any work: `node -e 0`, netplumb-cni VERSION
// with and without the daemon, and a node process that loads the addon.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CniDriver } from '../test/helpers/cni-driver';
import { check, ipj, ROOT, run } from './util';
import type { Ctx } from './workloads';

export const W5_N = Math.max(20, Number(process.env.BENCH_CNI_N ?? 20) || 20);
const REF_DIR = '/usr/lib/cni';

function timed(cmd: string, args: string[], input = '', env: Record<string, string> = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, CNI_COMMAND: 'VERSION', ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function w5(ctx: Ctx): Promise<void> {
  if (!['bridge', 'host-local', 'portmap', 'loopback'].every((p) => fs.existsSync(path.join(REF_DIR, p)))) {
    ctx.log(`  W5 skipped: the reference plugins are not in ${REF_DIR} (apt-get install containernetworking-plugins)`);
    return;
  }
  const W = `W5 CNI container x${W5_N}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cni-'));
  const cniPath = [path.join(ROOT, 'bin'), REF_DIR];
  const sock = path.join(tmp, 'cni.sock');
  const viaDaemon = { NETPLUMB_CNI_SOCKET: sock };
  const noDaemon = { NETPLUMB_CNI_SOCKET: path.join(tmp, 'no-daemon.sock') };
  const npConf = (bridge: string, subnet: string) => ({
    cniVersion: '1.0.0', name: `bench${bridge}`,
    plugins: [{ type: 'netplumb-cni', bridge, isGateway: true, ipMasq: true, hairpinMode: true, capabilities: { portMappings: true }, ipam: { type: 'netplumb', subnet, routes: [{ dst: '0.0.0.0/0' }] } }],
  });
  const np = {
    daemon: new CniDriver(npConf('npb0', '10.88.0.0/16'), { path: cniPath, cacheDir: path.join(tmp, 'npd'), env: viaDaemon }),
    fallback: new CniDriver(npConf('npb1', '10.87.0.0/16'), { path: cniPath, cacheDir: path.join(tmp, 'npf'), env: noDaemon }),
  };
  const ref = new CniDriver(
    {
      cniVersion: '1.0.0', name: 'benchref',
      plugins: [
        { type: 'bridge', bridge: 'cnirefb0', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', subnet: '10.89.0.0/16', routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(tmp, 'host-local') } },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    },
    { path: cniPath, cacheDir: path.join(tmp, 'ref') },
  );
  const lo = new CniDriver({ cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] }, { path: cniPath, cacheDir: path.join(tmp, 'lo') });
  const peer = { daemon: 'netplumb-cni via daemon', fallback: 'netplumb-cni fallback (no daemon)', reference: 'reference chain' } as const;

  // The resident daemon, in this (the bench's host) namespace, warm before the first request.
  const daemon = spawn(process.execPath, [path.join(ROOT, 'bin', 'netplumb'), 'cni-daemon', '--socket', sock, '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let dlog = '';
  daemon.stderr.setEncoding('utf8').on('data', (c: string) => (dlog += c));
  const names: string[] = [];
  try {
    for (const t0 = Date.now(); !/serving on/.test(dlog); await new Promise((r) => setTimeout(r, 20)))
      if (daemon.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`W5: netplumb cni-daemon did not start: ${dlog}`);

    // What a process costs before any work.
    for (let i = 0; i < W5_N; i++) {
      ctx.R.add(W, 'process start', 'node -e 0', 1, timed(process.execPath, ['-e', '0']));
      ctx.R.add(W, 'process start', 'netplumb-cni VERSION via daemon', 1, timed(path.join(ROOT, 'bin', 'netplumb-cni'), [], '{"cniVersion":"1.0.0"}', viaDaemon));
      ctx.R.add(W, 'process start', 'netplumb-cni VERSION, no daemon', 1, timed(path.join(ROOT, 'bin', 'netplumb-cni'), [], '{"cniVersion":"1.0.0"}', noDaemon));
      ctx.R.add(W, 'process start', 'node + addon load', 1, timed(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'native.js'))}).native()`]));
      ctx.R.add(W, 'process start', 'reference loopback VERSION', 1, timed(path.join(REF_DIR, 'loopback'), [], '{"cniVersion":"1.0.0"}'));
    }

    const order = ['daemon', 'fallback', 'reference'] as const;
    for (let i = 0; i < W5_N; i++) {
      // Rotated, so that no kind always runs right after another.
      for (const kind of [...order.slice(i % 3), ...order.slice(0, i % 3)]) {
        const ns = `b5${kind[0]}${i}`;
        run('ip', ['netns', 'add', ns]);
        names.push(ns);
        const a = { containerId: `bench-${kind}-${i}`, netns: `/run/netns/${ns}`, ifname: 'eth0', capabilityArgs: { portMappings: [{ hostPort: 8080 + i, containerPort: 80, protocol: 'tcp' }] } };
        const times: { plugin: string; ms: number }[] = [];
        let result: { ips: { address: string }[] };
        if (kind !== 'reference') result = await np[kind].add(a, times);
        else {
          await lo.add({ ...a, ifname: 'lo' }, times);
          result = await ref.add(a, times);
        }
        ctx.R.add(W, 'ADD', peer[kind], 1, times.reduce((s, t) => s + t.ms, 0));
        const live = (ipj(ns, 'addr', 'show', 'dev', 'eth0')[0]?.addr_info ?? []).filter((x: { family: string }) => x.family === 'inet').map((x: { local: string; prefixlen: number }) => `${x.local}/${x.prefixlen}`);
        check(live.includes(result.ips[0]?.address as string), `${kind} container ${i} has ${result.ips[0]?.address} (has ${live.join(', ')})`);
        const dt: { plugin: string; ms: number }[] = [];
        if (kind !== 'reference') await np[kind].del(a, dt);
        else {
          await ref.del(a, dt);
          await lo.del({ ...a, ifname: 'lo' }, dt);
        }
        ctx.R.add(W, 'DEL', peer[kind], 1, dt.reduce((s, t) => s + t.ms, 0));
        check(ipj(ns, 'link', 'show').length === 1, `${kind} container ${i}: only lo left after DEL`);
      }
    }
    // The daemon rows were the daemon's, and the fallback rows were not.
    await new Promise((r) => setTimeout(r, 200));
    const served = (cmd: string, kind: string) => [...dlog.matchAll(new RegExp(`^netplumb cni-daemon: ${cmd} bench-${kind}-\\d+ eth0 pid \\d+: exit 0`, 'gm'))].length;
    check(served('ADD', 'daemon') === W5_N && served('DEL', 'daemon') === W5_N, `the daemon served ${served('ADD', 'daemon')} ADDs and ${served('DEL', 'daemon')} DELs of ${W5_N}`);
    check(served('(ADD|DEL)', 'fallback') === 0, 'the fallback rows reached no daemon');
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise((r) => daemon.once('exit', r));
      process.kill(daemon.pid as number, 'SIGTERM');
      await gone;
    }
    for (const n of names) spawnSync('ip', ['netns', 'delete', n]);
    for (const b of ['npb0', 'npb1', 'cnirefb0']) spawnSync('ip', ['link', 'delete', b]);
    // The networks' NAT stays after the last DEL (CNI has no network delete; Docker keeps a
    // network's MASQUERADE too). Removed here so that W6 does not run beside it: with it,
    // Go's address deletes in W6 took 46-160 µs/op against 30-109 without (each IPv4
    // address delete then queues a conntrack walk, nf_ct_iterate_cleanup, on a kworker).
    for (const t of [['ip', 'netplumb'], ['ip6', 'netplumb'], ['ip', 'nat'], ['ip6', 'nat']]) spawnSync('nft', ['delete', 'table', ...t]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
