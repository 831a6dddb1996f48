/**
 * net.* sysctls are per network namespace: turning a container into a router
 * (ip_forward), letting one interface route 127/8 (route_localnet) or switching
 * IPv6 off on one interface (disable_ipv6) changes that container only.
 *
 * Topology: host (10.70.1.1) --veth-- c1 (10.70.1.2 | 10.70.2.2) --veth-- c2 (10.70.2.1)
 * c1 is the router between the two subnets. The library reads and writes
 * /proc/sys/net from a thread inside c1: no `ip netns exec`, no `sysctl` binary.
 *
 * The same by hand:
 *
 *   ip netns add host; ip netns add c1; ip netns add c2
 *   ... veths, addresses, routes via c1 ...
 *   ip netns exec host sysctl -w net.ipv4.ip_forward=0
 *   ip netns exec c1 sysctl -w net.ipv4.ip_forward=0
 *   ip netns exec host ping 10.70.2.1              # dropped at c1: not a router
 *   ip netns exec c1 sysctl -w net.ipv4.ip_forward=1
 *   ip netns exec host ping 10.70.2.1              # forwarded by c1
 *   ip netns exec host sysctl net.ipv4.ip_forward  # still 0
 *   ip netns exec c1 sysctl -w net.ipv4.conf.eth0.route_localnet=1
 *   ip netns exec c1 sysctl -w net.ipv6.conf.eth0.disable_ipv6=1   # eth0 loses its IPv6 addresses
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/sysctl.js`.
 */
import { execFileSync } from 'node:child_process';
import { Namespace, NetplumbError, Route, VethPair } from '../lib';
import { checks, ping, run, step } from './support/run';

/** The independent view: `ip netns exec NS sysctl -n KEY`. */
function sysctlN(ns: string, key: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', key], { encoding: 'utf8' }).trim();
}

async function main(): Promise<number> {
  const { check, report } = checks();

  await using host = await Namespace.create('host');
  await using c1 = await Namespace.create('c1');
  await using c2 = await Namespace.create('c2');
  await Promise.all([host.loopback.up(), c1.loopback.up(), c2.loopback.up()]);
  const left = await VethPair.create('vh0', { namespace: host, up: true, peerIn: c1, peerName: 'eth0', peerUp: true });
  const right = await VethPair.create('eth1', { namespace: c1, up: true, peerIn: c2, peerName: 'eth0', peerUp: true });
  await Promise.all([
    left.link.addAddress('10.70.1.1/24'),
    left.link.addAddress('fd00:70:1::1/64', { nodad: true }),
    left.peer.addAddress('10.70.1.2/24'),
    left.peer.addAddress('fd00:70:1::2/64', { nodad: true }),
    right.link.addAddress('10.70.2.2/24'),
    right.peer.addAddress('10.70.2.1/24'),
  ]);
  await Route.add({ namespace: host, to: '10.70.2.0/24', via: '10.70.1.2' });
  await Route.add({ namespace: c2, to: '10.70.1.0/24', via: '10.70.2.2' });
  step('host 10.70.1.1 -- c1 (router: 10.70.1.2, 10.70.2.2) -- c2 10.70.2.1, routes via c1');

  // --- ip_forward ---------------------------------------------------------------
  // A new namespace inherits IPv4 settings from the machine's: make the start state explicit.
  const self = await Namespace.current();
  const selfBefore = await self.sysctl.get('net.ipv4.ip_forward');
  step(`inherited: net.ipv4.ip_forward = host ${await host.sysctl.get('net.ipv4.ip_forward')}, c1 ${await c1.sysctl.get('net.ipv4.ip_forward')}, this process's namespace ${selfBefore}`);
  await host.sysctl.set('net.ipv4.ip_forward', 0);
  await c1.sysctl.set('net.ipv4.ip_forward', 0);
  step('ip netns exec host sysctl -w net.ipv4.ip_forward=0; same in c1');

  const before = ping('host', '10.70.2.1', 1);
  step(`ip netns exec host ping 10.70.2.1       -> ${before ? 'answered' : 'no answer: c1 does not forward'}`);
  check(!before, 'host reached c2 while c1 had ip_forward=0');

  await c1.sysctl.set('net.ipv4.ip_forward', 1);
  step('ip netns exec c1 sysctl -w net.ipv4.ip_forward=1');
  const after = ping('host', '10.70.2.1', 1);
  step(`ip netns exec host ping 10.70.2.1       -> ${after ? 'answered: forwarded by c1' : 'no answer'}`);
  check(after, 'host did not reach c2 with ip_forward=1 in c1');

  const fwd = { c1: await c1.sysctl.get('net.ipv4.ip_forward'), host: await host.sysctl.get('net.ipv4.ip_forward'), self: await self.sysctl.get('net.ipv4.ip_forward') };
  const oracleFwd = { c1: sysctlN('c1', 'net.ipv4.ip_forward'), host: sysctlN('host', 'net.ipv4.ip_forward') };
  step(`net.ipv4.ip_forward now: c1 ${fwd.c1}, host ${fwd.host}, ours ${fwd.self}  (sysctl -n says c1 ${oracleFwd.c1}, host ${oracleFwd.host})`);
  check(fwd.c1 === '1' && oracleFwd.c1 === '1', 'c1 ip_forward is not 1');
  check(fwd.host === '0' && oracleFwd.host === '0', "host's ip_forward changed");
  check(fwd.self === selfBefore, "this process's namespace's ip_forward changed");

  // --- route_localnet, per interface ----------------------------------------------
  await c1.sysctl.set('net.ipv4.conf.eth0.route_localnet', true);
  const rl = {
    c1eth0: await c1.sysctl.get('net.ipv4.conf.eth0.route_localnet'),
    c1eth1: await c1.sysctl.get('net/ipv4/conf/eth1/route_localnet'), // the slash form works too
    hostVh0: await host.sysctl.get('net.ipv4.conf.vh0.route_localnet'),
  };
  step(`ip netns exec c1 sysctl -w net.ipv4.conf.eth0.route_localnet=1 -> c1 eth0 ${rl.c1eth0}, c1 eth1 ${rl.c1eth1}, host vh0 ${rl.hostVh0}`);
  check(rl.c1eth0 === '1' && sysctlN('c1', 'net.ipv4.conf.eth0.route_localnet') === '1', 'route_localnet on c1 eth0 is not 1');
  check(rl.c1eth1 === '0' && rl.hostVh0 === '0', 'route_localnet leaked to another interface or namespace');

  // --- disable_ipv6, per interface ----------------------------------------------
  const v6before = (await left.peer.addresses({ family: 6 })).map((a) => a.cidr);
  await c1.sysctl.set('net.ipv6.conf.eth0.disable_ipv6', 1);
  const v6after = (await left.peer.addresses({ family: 6 })).map((a) => a.cidr);
  const hostV6 = (await left.link.addresses({ family: 6 })).map((a) => a.cidr);
  step(`ip netns exec c1 sysctl -w net.ipv6.conf.eth0.disable_ipv6=1`);
  console.log(`    c1 eth0 IPv6 before: ${v6before.join(', ') || '-'}; after: ${v6after.join(', ') || '-'}`);
  console.log(`    host vh0 IPv6: ${hostV6.join(', ')} (host disable_ipv6 = ${await host.sysctl.get('net.ipv6.conf.vh0.disable_ipv6')})`);
  check(v6before.includes('fd00:70:1::2/64') && v6after.length === 0, 'disable_ipv6 did not remove c1 eth0 IPv6 addresses');
  check(hostV6.includes('fd00:70:1::1/64') && sysctlN('host', 'net.ipv6.conf.vh0.disable_ipv6') === '0', "host's IPv6 was affected");

  // --- refusals -------------------------------------------------------------------
  for (const key of ['net.ipv4.no_such_setting', 'kernel.hostname']) {
    try {
      await c1.sysctl.get(key);
      check(false, `sysctl ${key} did not fail`);
    } catch (e) {
      step(`sysctl ${key.padEnd(26)} -> ${e instanceof NetplumbError ? e.code : String(e)}`);
      check(e instanceof NetplumbError, `sysctl ${key}: ${String(e)}`);
    }
  }
  await self.close();

  // Leaving the block deletes c2, c1 and host (await using), in reverse order, and their veths with them.
  return report();
}

run(main);
