/**
 * Static neighbour entries and a static bridge forwarding entry: how a
 * container runtime pins addresses it already knows instead of letting ARP,
 * NDP and MAC learning find them.
 *
 * c1 and c2 hang off br0 in the "host" namespace. c2 is told never to answer
 * ARP requests (arp_ignore=8), so nobody can find 10.80.0.12 by asking:
 * the bridge's ping goes unanswered, but c1, given a permanent ARP entry for
 * c2, reaches it. On the bridge, c2's MAC is pinned to its port with a static
 * fdb entry (made before c2's eth0 is even up), which learning does not age out
 * or replace.
 *
 * The same by hand:
 *
 *   ip netns add host; ip netns add c1; ip netns add c2
 *   ip -n host link add br0 type bridge; ip -n host addr add 10.80.0.1/24 dev br0; ip -n host link set br0 up
 *   ip -n host link add vh-c1 master br0 up type veth peer name eth0 netns c1   (same for c2, address 02:00:00:80:00:12)
 *   bridge -n host fdb add 02:00:00:80:00:12 dev vh-c2 master static
 *   ip netns exec c2 sysctl -w net.ipv4.conf.eth0.arp_ignore=8
 *   ip netns exec host ping 10.80.0.12                   # no answer: c2 never answers ARP
 *   ip -n c1 neigh add 10.80.0.12 lladdr 02:00:00:80:00:12 dev eth0 nud permanent
 *   ip -n c1 neigh add fd00:80::12 lladdr 02:00:00:80:00:12 dev eth0 nud permanent router
 *   ip netns exec c1 ping 10.80.0.12                     # answered
 *   ip -n c1 neigh show; bridge -n host fdb show br br0
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/neighbors-and-fdb.js`.
 */
import { execFileSync } from 'node:child_process';
import { Bridge, Fdb, Namespace, Neighbor, VethPair } from '../lib';
import { checks, ping, run, step } from './support/run';

/** The independent view: `ip -j ...` / `bridge -j ...` run in namespace `ns`, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json(ns: string, cmd: 'ip' | 'bridge', ...args: string[]): any[] {
  const out = execFileSync('ip', ['netns', 'exec', ns, cmd, '-j', ...args], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

const C2_MAC = '02:00:00:80:00:12';

async function main(): Promise<number> {
  const { check, report } = checks();

  await using host = await Namespace.create('host');
  await using c1 = await Namespace.create('c1');
  await using c2 = await Namespace.create('c2');
  await Promise.all([host.loopback.up(), c1.loopback.up(), c2.loopback.up()]);
  await using br0 = await Bridge.create('br0', { namespace: host, address: ['10.80.0.1/24', 'fd00:80::1/64'], up: true });
  const p1 = await VethPair.create('vh-c1', { namespace: host, master: br0, up: true, peerIn: c1, peerName: 'eth0', peerUp: true });
  // c2's eth0 stays down for now: it must not send a frame before its MAC is pinned.
  const p2 = await VethPair.create('vh-c2', { namespace: host, master: br0, up: true, peerIn: c2, peerName: 'eth0', peerMac: C2_MAC });
  await Promise.all([
    p1.peer.addAddress('10.80.0.11/24'),
    p1.peer.addAddress('fd00:80::11/64', { nodad: true }),
    p2.peer.addAddress('10.80.0.12/24'),
    p2.peer.addAddress('fd00:80::12/64', { nodad: true }),
  ]);
  step(`host/br0 10.80.0.1/24; c1 eth0 10.80.0.11 (${p1.peer.mac}); c2 eth0 10.80.0.12 (${C2_MAC}), still down`);

  // --- bridge fdb: pin c2's MAC to its port ---------------------------------------
  await Fdb.add({ dev: p2.link, lladdr: C2_MAC, target: 'master', state: 'static' });
  step(`bridge fdb add ${C2_MAC} dev vh-c2 master static`);

  // --- c2 answers no ARP request ---------------------------------------------------
  await c2.sysctl.set('net.ipv4.conf.eth0.arp_ignore', 8);
  await c2.sysctl.set('net.ipv4.conf.all.arp_ignore', 0);
  await c1.sysctl.set('net.ipv4.conf.all.arp_ignore', 0);
  await c1.sysctl.set('net.ipv4.conf.eth0.arp_ignore', 0);
  await p2.peer.up();
  step('ip netns exec c2 sysctl -w net.ipv4.conf.eth0.arp_ignore=8; ip -n c2 link set eth0 up');

  const fromBridge = ping('host', '10.80.0.12', 1);
  step(`ip netns exec host ping 10.80.0.12          -> ${fromBridge ? 'answered' : 'no answer: ARP for 10.80.0.12 goes unanswered'}`);
  check(!fromBridge, 'the bridge reached c2 although c2 answers no ARP');

  // --- static neighbours in c1 -------------------------------------------------------
  await Neighbor.add({ dev: p1.peer, address: '10.80.0.12', lladdr: C2_MAC, state: 'permanent' });
  step(`ip -n c1 neigh add 10.80.0.12 lladdr ${C2_MAC} dev eth0 nud permanent`);
  await Neighbor.add({ dev: p1.peer, address: 'fd00:80::12', lladdr: C2_MAC, state: 'permanent', router: true });
  step(`ip -n c1 neigh add fd00:80::12 lladdr ${C2_MAC} dev eth0 nud permanent router`);

  const v4 = ping('c1', '10.80.0.12', 1);
  const v6 = ping('c1', 'fd00:80::12', 1);
  step(`ip netns exec c1 ping 10.80.0.12 / fd00:80::12 -> ${v4 ? 'answered' : 'no answer'} / ${v6 ? 'answered' : 'no answer'}`);
  check(v4, 'c1 could not reach c2 over IPv4 with a permanent ARP entry');
  check(v6, 'c1 could not reach c2 over IPv6 with a permanent neighbour entry');

  console.log('\nip -n c1 neigh show (from Neighbor.list):');
  const neigh = await Neighbor.list(c1);
  for (const n of neigh) console.log(`    ${n.address.padEnd(26)} dev ${n.dev} lladdr ${n.lladdr ?? '-'} ${n.state.join(',')}${n.flags.length ? ' ' + n.flags.join(',') : ''}`);
  const n4 = neigh.find((n) => n.address === '10.80.0.12');
  const n6 = neigh.find((n) => n.address === 'fd00:80::12');
  check(n4?.lladdr === C2_MAC && n4.state.includes('permanent') && n4.dev === 'eth0', `Neighbor.list: 10.80.0.12 is ${JSON.stringify(n4)}`);
  check(n6?.lladdr === C2_MAC && n6.state.includes('permanent') && n6.flags.includes('router'), `Neighbor.list: fd00:80::12 is ${JSON.stringify(n6)}`);
  // ...and as iproute2 sees them.
  const o4 = json('c1', 'ip', 'neigh', 'show', '10.80.0.12').at(0);
  const o6 = json('c1', 'ip', '-6', 'neigh', 'show', 'fd00:80::12').at(0);
  check(o4?.lladdr === C2_MAC && o4?.state?.includes('PERMANENT'), `ip neigh: 10.80.0.12 is ${JSON.stringify(o4)}`);
  check(o6?.lladdr === C2_MAC && o6?.state?.includes('PERMANENT') && o6?.router !== undefined, `ip neigh: fd00:80::12 is ${JSON.stringify(o6)}`);

  console.log('\nbridge -n host fdb show br br0 (from Fdb.list, after the traffic; unicast entries):');
  const fdb = await Fdb.list(host, { bridge: br0 });
  const unicast = fdb.filter((f) => (parseInt(f.lladdr.slice(0, 2), 16) & 1) === 0);
  for (const f of unicast)
    console.log(`    ${f.lladdr} dev ${f.dev}${f.vlan ? ` vlan ${f.vlan}` : ''}${f.master === br0.index ? ' master br0' : ''} ${[...f.flags, ...f.state].join(' ')}`);
  const mine = fdb.find((f) => f.lladdr === C2_MAC && f.dev === 'vh-c2');
  check(mine !== undefined && mine.state.includes('static'), `Fdb.list: ${C2_MAC} is ${JSON.stringify(mine)}`);
  check(fdb.some((f) => f.lladdr === p1.peer.mac && f.dev === 'vh-c1'), "the bridge did not learn c1's MAC: was there traffic?");
  const oracleFdb = json('host', 'bridge', 'fdb', 'show', 'br', 'br0').filter((f: { mac: string }) => f.mac === C2_MAC);
  console.log(`    bridge -j says: ${JSON.stringify(oracleFdb)}`);
  check(oracleFdb.length === 1 && oracleFdb[0].ifname === 'vh-c2' && oracleFdb[0].state === 'static', `bridge fdb: ${C2_MAC} is ${JSON.stringify(oracleFdb)}`);

  // Leaving the block deletes br0, c2, c1 and host (await using), in reverse order.
  return report();
}

run(main);
