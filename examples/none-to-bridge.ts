/**
 * Give a network to a container started with `--net=none`, step by step,
 * from Node — the classic hand-wiring recipe, with no process forked by the
 * library. Run it with `npm run demo` (it enters its own sandbox).
 *
 * The same by hand (docker0 = a bridge with 172.17.0.1/16, up):
 *
 *   ip netns add c1
 *   ip link add name veth0 type veth peer name veth1
 *   brctl addif docker0 veth0              # ip link set veth0 master docker0
 *   ip link set up veth0
 *   ip link set veth1 netns c1
 *   ip netns exec c1 ip link set veth1 name eth0
 *   ip netns exec c1 ip link set up eth0
 *   ip netns exec c1 ip addr add 172.17.0.100/16 dev eth0
 *   ip netns exec c1 ip route add default via 172.17.0.1
 *
 * A second container, c2, is wired the fast way: its end of the veth is
 * created directly inside c2 and named eth0 at birth (one RTM_NEWLINK, no move).
 * Then c1 pings the bridge and c2 (the pings are the demo's own check, run
 * with `ip netns exec`, not part of the library).
 */
import { execFileSync } from 'node:child_process';
import { Bridge, Link, Namespace, Route, VethPair } from '../lib';
import { picture } from './support/picture';
import { run, step } from './support/run';

function ping(ns: string, target: string): boolean {
  try {
    const out = execFileSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', target], { encoding: 'utf8' });
    console.log('    ' + (out.split('\n').find((l) => l.includes('bytes from')) ?? out.trim()));
    return true;
  } catch (e) {
    console.log(`    ping ${target} from ${ns} failed: ${(e as Error).message.split('\n')[0]}`);
    return false;
  }
}

async function main(): Promise<number> {
  // The "host": a namespace of its own, so the demo never touches the machine's network.
  await using host = await Namespace.create('host');
  await host.loopback.up();
  step('ip netns add host                          -> the "host" namespace');

  await using docker0 = await Bridge.create('docker0', { namespace: host, address: '172.17.0.1/16', up: true });
  step('ip link add docker0 type bridge; ip addr add 172.17.0.1/16 dev docker0; ip link set docker0 up');

  // Container 1: the recipe, one step at a time.
  await using c1 = await Namespace.create('c1');
  await c1.loopback.up();
  step('ip netns add c1                            -> a --net=none container: loopback only');

  const pair = await VethPair.create('veth0', { namespace: host, peerName: 'veth1' });
  step('ip link add name veth0 type veth peer name veth1');

  await docker0.addPort(pair.link);
  step('brctl addif docker0 veth0');

  await pair.link.up();
  step('ip link set up veth0');

  const eth0 = await pair.peer.moveTo(c1);
  step(`ip link set veth1 netns c1                 -> now #${eth0.index} in c1`);

  await eth0.rename('eth0');
  step('ip netns exec c1 ip link set veth1 name eth0');

  await eth0.up();
  step('ip netns exec c1 ip link set up eth0');

  await eth0.addAddress('172.17.0.100/16');
  step('ip netns exec c1 ip addr add 172.17.0.100/16 dev eth0');

  await Route.add({ namespace: c1, to: 'default', via: '172.17.0.1' });
  step('ip netns exec c1 ip route add default via 172.17.0.1');

  // Container 2: the fast path, peer born inside c2 as eth0.
  await using c2 = await Namespace.create('c2');
  await c2.loopback.up();
  const pair2 = await VethPair.create('veth2', { namespace: host, master: docker0, up: true, peerIn: c2, peerName: 'eth0', peerUp: true });
  await pair2.peer.addAddress('172.17.0.101/16');
  await Route.add({ namespace: c2, to: 'default', via: '172.17.0.1' });
  step('c2: veth2 on docker0, eth0 created inside c2, up, 172.17.0.101/16, default via 172.17.0.1');

  console.log('\nc1 now has:');
  for (const l of await Link.list(c1)) console.log(`    ${l.index}: ${l.name.padEnd(6)} ${l.isUp ? 'UP  ' : 'DOWN'} ${l.mac} mtu ${l.mtu}`);
  for (const a of await eth0.addresses({ family: 4 })) console.log(`    inet ${a.cidr} dev eth0`);
  for (const r of await Route.list(c1, { family: 4 })) console.log(`    route ${r.to}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);
  console.log(`docker0 ports: ${(await docker0.ports()).map((p) => p.name).join(', ')}`);

  console.log('\nping from c1:');
  const ok = ping('c1', '172.17.0.1') && ping('c1', '172.17.0.101');
  step(ok ? 'c1 reaches the bridge and c2' : 'c1 could NOT reach the bridge or c2');

  // The picture of what was built: docker0 with its two ports, each joined to its container's eth0.
  const t = await picture('none-to-bridge', [host, c1, c2]);
  const pictured = t.vethPairs.length === 2 && t.bridges[0]?.ports.length === 2;
  step(pictured ? 'topology: docker0 with 2 ports, 2 veth pairs into c1 and c2' : 'topology does NOT show docker0 with its 2 containers');

  // Leaving the block deletes c2, c1, docker0 and host (await using), in reverse order.
  return ok && pictured ? 0 : 1;
}

run(main);
