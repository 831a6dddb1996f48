// W5: a container attached and detached the way a runtime does it with CNI:
// every plugin a process of its own. netplumb-cni alone (it brings loopback
// up and publishes the port itself) against the reference chain (loopback,
// bridge + host-local, portmap), one 8080+i -> 80 mapping each, per
// container, interleaved so both see the same load. Every ADD is verified
// (the container has the address the result gives). Also what a process
// costs before any work: `node -e 0`, netplumb-cni VERSION (no addon), and
// a node process that loads the addon.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CniDriver } from '../test/helpers/cni-driver';
import { check, ipj, ROOT, run } from './util';
import type { Ctx } from './workloads';

export const W5_N = Math.max(20, Number(process.env.BENCH_CNI_N ?? 20) || 20);
const REF_DIR = '/usr/lib/cni';

function timed(cmd: string, args: string[], input = ''): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, CNI_COMMAND: 'VERSION' } });
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
  const np = new CniDriver(
    { cniVersion: '1.0.0', name: 'benchnp', plugins: [{ type: 'netplumb-cni', bridge: 'npb0', isGateway: true, ipMasq: true, hairpinMode: true, capabilities: { portMappings: true }, ipam: { type: 'netplumb', subnet: '10.88.0.0/16', routes: [{ dst: '0.0.0.0/0' }] } }] },
    { path: cniPath, cacheDir: path.join(tmp, 'np') },
  );
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

  // What a process costs before any work.
  for (let i = 0; i < W5_N; i++) {
    ctx.R.add(W, 'process start', 'node -e 0', 1, timed(process.execPath, ['-e', '0']));
    ctx.R.add(W, 'process start', 'netplumb-cni VERSION', 1, timed(path.join(ROOT, 'bin', 'netplumb-cni'), [], '{"cniVersion":"1.0.0"}'));
    ctx.R.add(W, 'process start', 'node + addon load', 1, timed(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'native.js'))}).native()`]));
    ctx.R.add(W, 'process start', 'reference loopback VERSION', 1, timed(path.join(REF_DIR, 'loopback'), [], '{"cniVersion":"1.0.0"}'));
  }

  const names: string[] = [];
  try {
    for (let i = 0; i < W5_N; i++) {
      for (const kind of i % 2 ? (['reference', 'netplumb'] as const) : (['netplumb', 'reference'] as const)) {
        const ns = `b5${kind[0]}${i}`;
        run('ip', ['netns', 'add', ns]);
        names.push(ns);
        const a = { containerId: `bench-${kind}-${i}`, netns: `/run/netns/${ns}`, ifname: 'eth0', capabilityArgs: { portMappings: [{ hostPort: 8080 + i, containerPort: 80, protocol: 'tcp' }] } };
        const times: { plugin: string; ms: number }[] = [];
        let result: { ips: { address: string }[] };
        if (kind === 'netplumb') result = await np.add(a, times);
        else {
          await lo.add({ ...a, ifname: 'lo' }, times);
          result = await ref.add(a, times);
        }
        ctx.R.add(W, 'ADD', kind === 'netplumb' ? 'netplumb-cni' : 'reference chain', 1, times.reduce((s, t) => s + t.ms, 0));
        const live = (ipj(ns, 'addr', 'show', 'dev', 'eth0')[0]?.addr_info ?? []).filter((x: { family: string }) => x.family === 'inet').map((x: { local: string; prefixlen: number }) => `${x.local}/${x.prefixlen}`);
        check(live.includes(result.ips[0]?.address as string), `${kind} container ${i} has ${result.ips[0]?.address} (has ${live.join(', ')})`);
        const dt: { plugin: string; ms: number }[] = [];
        if (kind === 'netplumb') await np.del(a, dt);
        else {
          await ref.del(a, dt);
          await lo.del({ ...a, ifname: 'lo' }, dt);
        }
        ctx.R.add(W, 'DEL', kind === 'netplumb' ? 'netplumb-cni' : 'reference chain', 1, dt.reduce((s, t) => s + t.ms, 0));
        check(ipj(ns, 'link', 'show').length === 1, `${kind} container ${i}: only lo left after DEL`);
      }
    }
  } finally {
    for (const n of names) spawnSync('ip', ['netns', 'delete', n]);
    for (const b of ['npb0', 'cnirefb0']) spawnSync('ip', ['link', 'delete', b]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
