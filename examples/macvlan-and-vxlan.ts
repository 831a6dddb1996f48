/**
 * Two network drivers besides the bridge. macvlan: containers get their own
 * MAC address directly on a host's device (Docker's macvlan driver). VXLAN:
 * a layer-2 overlay between two hosts over UDP (the underlay of multi-host
 * networks). Here the "hosts" are namespaces joined by a veth, the underlay.
 *
 * The same by hand:
 *
 *   ip netns add h1; ip netns add h2; ip netns add c1; ip netns add c2
 *   ip -n h1 link add u0 type veth peer name u0 netns h2
 *   ip -n h1 addr add 10.60.0.1/24 dev u0; ip -n h1 link set u0 up
 *   ip -n h2 addr add 10.60.0.2/24 dev u0; ip -n h2 link set u0 up
 *   # macvlan: two containers on h1's u0, each born in its namespace as eth0
 *   ip -n h1 link add eth0 link u0 netns c1 type macvlan mode bridge
 *   ip -n h1 link add eth0 link u0 netns c2 type macvlan mode bridge
 *   ip -n c1 addr add 10.60.0.11/24 dev eth0; ip -n c1 link set eth0 up   # same for c2 with .12
 *   ip netns exec c1 ping 10.60.0.12         # container to container
 *   ip netns exec c1 ping 10.60.0.2          # container to the other host, over the wire
 *   # vxlan: VNI 42 between h1 and h2
 *   ip -n h1 link add vx0 type vxlan id 42 dstport 4789 remote 10.60.0.2 local 10.60.0.1 dev u0
 *   ip -n h2 link add vx0 type vxlan id 42 dstport 4789 remote 10.60.0.1 local 10.60.0.2 dev u0
 *   ip -n h1 addr add 192.168.42.1/24 dev vx0; ip -n h1 link set vx0 up   # same on h2 with .2
 *   ip netns exec h1 ping 192.168.42.2
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/macvlan-and-vxlan.js`.
 */
import { execFileSync } from 'node:child_process';
import { Macvlan, Namespace, VethPair, Vxlan } from '../lib';
import { checks, ping, run, step } from './support/run';

function ipj(ns: string, ...args: string[]): { linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> } }[] {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-d', ...args], { encoding: 'utf8' }));
}

async function main(): Promise<number> {
  const { check, report } = checks();

  await using h1 = await Namespace.create('h1');
  await using h2 = await Namespace.create('h2');
  await using c1 = await Namespace.create('c1');
  await using c2 = await Namespace.create('c2');
  const u = await VethPair.create('u0', { namespace: h1, peerIn: h2, peerName: 'u0', up: true, peerUp: true });
  await Promise.all([u.link.addAddress('10.60.0.1/24'), u.peer.addAddress('10.60.0.2/24')]);
  step('hosts h1 and h2, joined by u0 (10.60.0.1/24 - 10.60.0.2/24); containers c1, c2');

  // macvlan: born in the container, as eth0, on h1's u0.
  const [e1, e2] = await Promise.all([
    Macvlan.create('eth0', { parent: u.link, in: c1, mode: 'bridge', up: true }),
    Macvlan.create('eth0', { parent: u.link, in: c2, mode: 'bridge', up: true }),
  ]);
  await Promise.all([e1.addAddress('10.60.0.11/24'), e2.addAddress('10.60.0.12/24')]);
  const mode = ipj('c1', 'link', 'show', 'eth0')[0]?.linkinfo?.info_data?.mode;
  step(`Macvlan.create x2 -> eth0 in c1 and c2 (ip -d: ${ipj('c1', 'link', 'show', 'eth0')[0]?.linkinfo?.info_kind} mode ${String(mode)}), 10.60.0.11 and .12`);
  check(mode === 'bridge', `macvlan mode is ${String(mode)}`);
  const cc = ping('c1', '10.60.0.12');
  const out = ping('c2', '10.60.0.2');
  step(`ping c1 -> c2 (same parent, bridge mode): ${cc ? 'ok' : 'FAILED'}; ping c2 -> h2 over the wire: ${out ? 'ok' : 'FAILED'}`);
  check(cc && out, 'no traffic through the macvlans');

  // VXLAN: VNI 42 over the underlay.
  const [v1, v2] = await Promise.all([
    Vxlan.create('vx0', { id: 42, remote: '10.60.0.2', local: '10.60.0.1', dev: u.link, up: true }),
    Vxlan.create('vx0', { id: 42, remote: '10.60.0.1', local: '10.60.0.2', dev: u.peer, up: true }),
  ]);
  await Promise.all([v1.addAddress('192.168.42.1/24'), v2.addAddress('192.168.42.2/24')]);
  const d = ipj('h1', 'link', 'show', 'vx0')[0]?.linkinfo?.info_data ?? {};
  step(`Vxlan.create x2 -> vx0 on h1 and h2 (ip -d: id ${String(d.id)}, port ${String(d.port)}, remote ${String(d.remote)}, local ${String(d.local)})`);
  check(d.id === 42 && d.port === 4789 && d.remote === '10.60.0.2', 'vx0 is not what was asked');
  const over = ping('h1', '192.168.42.2');
  step(`ping h1 -> 192.168.42.2 across the overlay: ${over ? 'ok' : 'FAILED'}`);
  check(over, 'no traffic across the overlay');

  // Leaving the block deletes the four namespaces (await using), and every link in them.
  return report();
}

run(main);
