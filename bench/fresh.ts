// W6: fresh processes, as a CNI plugin or a short script runs: N = 200 /32
// addresses or routes added (one process), checked with `ip -j`, deleted (a
// second process), checked again. netplumb awaited one at a time (the loop a
// newcomer writes) and all in flight, beside Go's vishvananda/netlink plain
// sequential loop and the C floor (one at a time, and pipelined); and the
// start-up of each: require, the first call, the whole process. The Go column is skipped, saying why, when `go` or the
// library is missing (Debian: apt-get install golang-go
// golang-github-vishvananda-netlink-dev).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { VethPair } from '../lib';
import { floor, ROOT, runTimed } from './util';
import { type Ctx, type Kind, verifyCount } from './workloads';

export const W6_N = 200;
/** The peer row of a bare `node -e 0`, beside the whole-process rows. */
export const NODE_ALONE = 'node -e 0 (Node alone)';
const GO_BIN = path.join(ROOT, 'dist', 'bench', 'go-seq');
const CHILD = path.join(ROOT, 'dist', 'bench', 'fresh-child.js');

/** Builds bench/go/seq.go offline against Debian's packaged library; why not, if it cannot. */
function ensureGo(): string | undefined {
  const src = path.join(ROOT, 'bench', 'go', 'seq.go');
  if (fs.existsSync(GO_BIN) && fs.statSync(GO_BIN).mtimeMs > fs.statSync(src).mtimeMs) return undefined;
  const gopath = '/usr/share/gocode';
  if (spawnSync('go', ['version']).error) return 'go is not installed (apt-get install golang-go)';
  if (!fs.existsSync(path.join(gopath, 'src', 'github.com', 'vishvananda', 'netlink')))
    return `vishvananda/netlink is not in ${gopath} (apt-get install golang-github-vishvananda-netlink-dev)`;
  const r = spawnSync('go', ['build', '-o', GO_BIN, src], {
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '-mod=mod', GOCACHE: path.join(ROOT, 'dist', 'bench', 'gocache') },
  });
  return r.status === 0 ? undefined : `go build failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`;
}

interface Fresh {
  requireMs?: number;
  firstMs: number;
  loopUs: number;
  wholeMs: number;
}

/** A fresh process, timed whole by the bench's helper (util.ts, startForker), which starts it. */
function fresh(cmd: string, args: string[]): Fresh {
  const r = runTimed(cmd, args);
  return { ...(JSON.parse(r.out.trim().split('\n').pop() as string) as Omit<Fresh, 'wholeMs'>), wholeMs: r.ms };
}

export async function w6(c: Ctx): Promise<void> {
  const { R, host } = c;
  const N = W6_N;
  const goWhy = ensureGo();
  if (goWhy) c.log(`  W6: no Go column: ${goWhy}`);
  const pair = await VethPair.create('w6a', { namespace: host, peerName: 'w6b', up: true, peerUp: true });
  const dev = pair.link.name;
  try {
    for (const kind of ['addr', 'route'] as Kind[]) {
      const W = `W6 fresh process ${kind} x${N}`;
      const peers: [string, (op: string) => Fresh][] = [
        ['netplumb awaited', (op) => fresh(process.execPath, [CHILD, kind, op, 'awaited', dev, String(N)])],
        ['netplumb in flight', (op) => fresh(process.execPath, [CHILD, kind, op, 'inflight', dev, String(N)])],
      ];
      if (!goWhy) peers.push(['go sequential (vishvananda/netlink)', (op) => fresh(GO_BIN, [kind, op, dev, String(N)])]);
      for (let run = 0; run < c.runs; run++) {
        for (const [peer, go] of [...peers.slice(run % peers.length), ...peers.slice(0, run % peers.length)]) {
          const a = go('add');
          verifyCount(kind, dev, N); // mid-run: every add is in the kernel
          const d = go('del');
          verifyCount(kind, dev, 0); // after: none left
          // The loop: N - 1 operations after the first (which carries the start-up).
          R.add(W, 'add', peer, N - 1, (a.loopUs * (N - 1)) / 1000);
          R.add(W, 'del', peer, N - 1, (d.loopUs * (N - 1)) / 1000);
          R.add(W, 'add+del', peer, 2 * (N - 1), ((a.loopUs + d.loopUs) * (N - 1)) / 1000);
          R.add(W, 'whole add process', peer, 1, a.wholeMs, 'process');
          R.add(W, 'first call', peer, 1, a.firstMs, 'call');
          if (a.requireMs !== undefined) R.add(W, 'require', peer, 1, a.requireMs, 'call');
        }
        // Node alone, started the same way and doing nothing: what any Node
        // program pays before its first line (the whole-process rows include it).
        R.add(W, 'whole add process', NODE_ALONE, 1, runTimed(process.execPath, ['-e', '0']).ms, 'process');
        // The C floor, a fresh process too (bench/native_floor.cpp, no start-up to speak of):
        // one request at a time, and pipelined (256 per sendmsg).
        for (const [peer, mode] of [
          ['native floor one-at-a-time', 'one'],
          ['native floor pipelined', 'batch'],
        ] as const) {
          const t = await floor([`${kind}-${mode}`, dev, N], () => verifyCount(kind, dev, N));
          verifyCount(kind, dev, 0);
          R.add(W, 'add', peer, N, (t.add_us ?? NaN) / 1000);
          R.add(W, 'del', peer, N, (t.del_us ?? NaN) / 1000);
          R.add(W, 'add+del', peer, 2 * N, ((t.add_us ?? NaN) + (t.del_us ?? NaN)) / 1000);
        }
      }
    }
  } finally {
    await pair.link.delete();
  }
}
