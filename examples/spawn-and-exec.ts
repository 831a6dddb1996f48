/**
 * Run programs inside a container's network namespace from Node: what
 * `ip netns exec c1 CMD` does, without `ip` or `nsenter` in between. The
 * child is born inside c1 (the forking thread enters c1 for the instant of
 * the fork); this process never leaves its own namespace.
 *
 * The same by hand:
 *
 *   ip netns add host; ip netns add c1
 *   ip -n host link add veth-c1 type veth peer name eth0 netns c1
 *   ip -n c1 addr add 10.50.0.2/24 dev eth0; ip -n c1 link set eth0 up
 *   ip netns exec c1 ip addr                   # c1's interfaces, not ours
 *   ip netns exec c1 sh -c 'exit 3'            # exit codes come back
 *   ip netns exec c1 sleep 60 & kill $!        # a long-running process, then killed
 *   readlink /proc/self/ns/net                 # we are still where we were
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/spawn-and-exec.js`.
 */
import * as fs from 'node:fs';
import { once } from 'node:events';
import { Namespace, VethPair } from '../lib';
import { checks, run, step } from './support/run';

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => '    ' + l).join('\n');
}

/** The namespace of a process as `readlink /proc/PID/ns/net` shows it: "net:[INODE]". */
function nsOf(pid: number | 'self'): string {
  return fs.readlinkSync(`/proc/${pid}/ns/net`);
}

async function main(): Promise<number> {
  const { check, report } = checks();

  const ours = nsOf('self');
  step(`this process runs in ${ours}`);

  await using host = await Namespace.create('host');
  await using c1 = await Namespace.create('c1');
  await Promise.all([host.loopback.up(), c1.loopback.up()]);
  step(`ip netns add host; ip netns add c1             -> c1 is net:[${c1.inode}]`);

  const pair = await VethPair.create('veth-c1', { namespace: host, peerIn: c1, peerName: 'eth0', up: true, peerUp: true });
  await pair.peer.addAddress('10.50.0.2/24');
  step('veth-c1 in host, eth0 in c1 with 10.50.0.2/24, both up');

  // 1. Run to completion, collect the output: `ip netns exec c1 ip addr`.
  const addr = await c1.exec('ip', ['addr']);
  step(`ip netns exec c1 ip addr                        -> exit ${addr.code}`);
  console.log(indent(addr.stdout));
  check(addr.code === 0, `ip addr exited ${addr.code}: ${addr.stderr}`);
  check(/\beth0\b/.test(addr.stdout) && addr.stdout.includes('10.50.0.2/24'), "c1's ip addr does not show eth0 with 10.50.0.2/24");
  check(!addr.stdout.includes('veth-c1'), "c1's ip addr shows the host's veth-c1");

  // The child's own view of where it runs.
  const where = await c1.exec('readlink', ['/proc/self/ns/net']);
  step(`ip netns exec c1 readlink /proc/self/ns/net     -> ${where.stdout.trim()}`);
  check(where.stdout.trim() === `net:[${c1.inode}]`, `the child ran in ${where.stdout.trim()}, not c1 (net:[${c1.inode}])`);

  // Exit codes and stdin.
  const failing = await c1.exec('sh', ['-c', 'exit 3']);
  step(`ip netns exec c1 sh -c 'exit 3'                 -> exit ${failing.code}`);
  check(failing.code === 3, `sh -c 'exit 3' exited ${failing.code}`);
  const piped = await c1.exec('tr', ['a-z', 'A-Z'], { input: 'piped through c1\n' });
  step(`echo 'piped through c1' | ip netns exec c1 tr a-z A-Z -> ${piped.stdout.trim()}`);
  check(piped.stdout === 'PIPED THROUGH C1\n', `tr printed ${JSON.stringify(piped.stdout)}`);

  // A program that does not exist: Node's own spawn error.
  try {
    await c1.exec('no-such-program-xyz');
    check(false, 'a missing program did not reject');
  } catch (e) {
    step(`ip netns exec c1 no-such-program-xyz            -> ${(e as NodeJS.ErrnoException).code}`);
    check((e as NodeJS.ErrnoException).code === 'ENOENT', `missing program: ${String(e)}`);
  }

  // 2. A long-running process: started, inspected while it runs, killed.
  const sleeper = c1.spawn('sleep', ['60'], { stdio: 'ignore' });
  await once(sleeper, 'spawn');
  const pid = sleeper.pid as number;
  step(`ip netns exec c1 sleep 60 &                     -> pid ${pid}, in ${nsOf(pid)}`);
  check(nsOf(pid) === `net:[${c1.inode}]`, `sleep runs in ${nsOf(pid)}, not c1`);
  step(`parent still in ${nsOf('self')} while its child is in c1`);
  check(nsOf('self') === ours, `the parent moved to ${nsOf('self')}`);

  const exited = once(sleeper, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  sleeper.kill('SIGTERM');
  const [code, signal] = await exited;
  step(`kill ${pid}                                      -> exit code ${code}, signal ${signal}`);
  check(signal === 'SIGTERM', `sleep ended with code ${code}, signal ${signal}`);

  // 3. The parent never moved: same namespace, same interfaces (no eth0 here).
  const self = await Namespace.current();
  const sameAsC1 = self.equals(c1);
  const ownLinks = (await self.links()).map((l) => l.name);
  await self.close();
  step(`readlink /proc/self/ns/net                      -> ${nsOf('self')} (is c1: ${sameAsC1}); our links: ${ownLinks.join(', ')}`);
  check(nsOf('self') === ours && !sameAsC1, 'the parent is not in its own namespace any more');
  check(!ownLinks.includes('eth0') && !ownLinks.includes('veth-c1'), `our namespace has links of c1 or host: ${ownLinks.join(', ')}`);

  // Leaving the block deletes c1 and host (await using), in reverse order.
  return report();
}

run(main);
