/**
 * Source-based routing: a router ("host") with two uplinks, to ISP 1 and ISP 2.
 * By default everything leaves through ISP 1; traffic FROM 10.0.1.0/24 leaves
 * through ISP 2, by a rule that sends it to routing table 100.
 *
 *                  +-- up1 10.255.1.1 --- isp1 10.255.1.2   (198.51.100.1: "the internet")
 *   lan1 10.0.1.10 -- lan0 [host] --+
 *   lan2 10.0.2.10 --  (10.0.1.1,   +-- up2 10.255.2.1 --- isp2 10.255.2.2   (198.51.100.1 too)
 *                       10.0.2.1)
 *
 * Both ISPs own 198.51.100.1 and run a web server there that says which ISP
 * it is: fetching it from lan1 and from lan2 shows, with real traffic, which
 * way each source goes. `ip route get` (Route.get) shows the same decision.
 *
 * The same by hand (after wiring the namespaces and addresses):
 *
 *   ip netns exec host sysctl -w net.ipv4.ip_forward=1
 *   ip -n host route add default via 10.255.1.2                 # main table: ISP 1
 *   ip -n host route add default via 10.255.2.2 dev up2 table 100
 *   ip -n host route add 10.0.0.0/16 dev lan0 table 100         # LAN-to-LAN stays local
 *   ip -n host rule add from 10.0.1.0/24 table 100 pref 100
 *   ip -n host rule show
 *   ip -n host route get 198.51.100.1 from 10.0.1.1             # via 10.255.2.2 dev up2 table 100
 *   ip -n host route get 198.51.100.1 from 10.0.2.1             # via 10.255.1.2 dev up1 (main)
 *   ip -n host route get 198.51.100.1 from 10.0.1.10 iif lan0   # a forwarded packet from lan1
 *   ip netns exec lan1 curl http://198.51.100.1/                # "isp2"
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/policy-routing.js`.
 */
import * as http from 'node:http';
import { Bridge, Namespace, Route, Rule, VethPair } from '../lib';
import { checks, run, step } from './support/run';

/** GET a URL through `agent`; the body, or the error's message. */
function fetchText(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

async function main(): Promise<number> {
  const { check, report } = checks();

  await using host = await Namespace.create('host');
  await using isp1 = await Namespace.create('isp1');
  await using isp2 = await Namespace.create('isp2');
  await using lan1 = await Namespace.create('lan1');
  await using lan2 = await Namespace.create('lan2');
  await Promise.all([host, isp1, isp2, lan1, lan2].map((ns) => ns.loopback.up()));
  await host.sysctl.set('net.ipv4.ip_forward', 1);
  step('ip netns add host isp1 isp2 lan1 lan2; host: net.ipv4.ip_forward=1');

  // Uplinks: host upN <-> ispN eth0. Each ISP also owns 198.51.100.1 ("the internet").
  for (const [n, isp] of [[1, isp1], [2, isp2]] as const) {
    const up = await VethPair.create(`up${n}`, { namespace: host, up: true, peerIn: isp, peerName: 'eth0', peerUp: true });
    await up.link.addAddress(`10.255.${n}.1/24`);
    await up.peer.addAddress(`10.255.${n}.2/24`);
    await isp.loopback.addAddress('198.51.100.1/32');
    await Route.add({ namespace: isp, to: '10.0.0.0/16', via: `10.255.${n}.1` });
  }
  step('uplinks: up1 10.255.1.1 <-> isp1 10.255.1.2, up2 10.255.2.1 <-> isp2 10.255.2.2; both ISPs have 198.51.100.1');

  // The LAN: one bridge, two subnets.
  await using lan0 = await Bridge.create('lan0', { namespace: host, address: ['10.0.1.1/24', '10.0.2.1/24'], up: true });
  for (const [n, ns] of [[1, lan1], [2, lan2]] as const) {
    const p = await VethPair.create(`vl${n}`, { namespace: host, master: lan0, up: true, peerIn: ns, peerName: 'eth0', peerUp: true });
    await p.peer.addAddress(`10.0.${n}.10/24`);
    await Route.add({ namespace: ns, to: 'default', via: `10.0.${n}.1` });
  }
  step('LAN: lan0 10.0.1.1/24 + 10.0.2.1/24; lan1 10.0.1.10, lan2 10.0.2.10, default via the router');

  // The policy.
  await Route.add({ namespace: host, to: 'default', via: '10.255.1.2' });
  step('ip -n host route add default via 10.255.1.2');
  await Route.add({ namespace: host, to: 'default', via: '10.255.2.2', dev: 'up2', table: 100 });
  step('ip -n host route add default via 10.255.2.2 dev up2 table 100');
  await Route.add({ namespace: host, to: '10.0.0.0/16', dev: 'lan0', table: 100 });
  step('ip -n host route add 10.0.0.0/16 dev lan0 table 100');
  await Rule.add({ namespace: host, from: '10.0.1.0/24', table: 100, priority: 100 });
  step('ip -n host rule add from 10.0.1.0/24 table 100 pref 100');

  console.log('\nip -n host rule show:');
  const rules = await Rule.list(host, { family: 4 });
  // The kernel leaves out the priority of pref 0 (the `local` rule); ip prints it as 0.
  for (const r of rules) console.log(`    ${String(r.priority ?? 0).padStart(5)}: from ${r.from ?? 'all'}${r.to ? ` to ${r.to}` : ''} lookup ${r.table}`);
  check(rules.some((r) => r.priority === 100 && r.from === '10.0.1.0/24' && r.table === 100), 'the rule is not listed');
  console.log('ip -n host route show table 100:');
  for (const r of await Route.list(host, { table: 100, family: 4 })) console.log(`    ${r.to}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);

  // What would the kernel do? (ip route get)
  console.log('');
  const cases: [string, { from: string; iif?: string }, string][] = [
    ['from 10.0.1.1 (the router itself, LAN 1 address)', { from: '10.0.1.1' }, 'up2'],
    ['from 10.0.2.1 (the router itself, LAN 2 address)', { from: '10.0.2.1' }, 'up1'],
    ['from 10.0.1.10 iif lan0 (forwarded from lan1)', { from: '10.0.1.10', iif: 'lan0' }, 'up2'],
    ['from 10.0.2.10 iif lan0 (forwarded from lan2)', { from: '10.0.2.10', iif: 'lan0' }, 'up1'],
  ];
  for (const [label, opts, want] of cases) {
    const r = await Route.get(host, '198.51.100.1', opts);
    step(`ip route get 198.51.100.1 ${label.padEnd(50)} -> via ${r.via} dev ${r.dev} table ${r.table}`);
    check(r.dev === want, `route get ${label}: dev ${r.dev}, expected ${want}`);
  }
  const local = await Route.get(host, '10.0.2.10', { from: '10.0.1.10', iif: 'lan0' });
  step(`ip route get 10.0.2.10 from 10.0.1.10 iif lan0 (LAN to LAN)                  -> dev ${local.dev} table ${local.table}`);
  check(local.dev === 'lan0', `LAN-to-LAN traffic from lan1 leaves by ${local.dev}`);

  // Real traffic: each ISP's web server says who it is.
  const servers = await Promise.all(
    [['isp1', isp1], ['isp2', isp2]].map(([name, ns]) =>
      (ns as Namespace).listen(http.createServer((req, res) => res.end(`${name as string} (saw ${req.socket.remoteAddress})\n`)), { port: 80, host: '198.51.100.1' }),
    ),
  );
  console.log('');
  for (const [name, ns, want] of [['lan1', lan1, 'isp2'], ['lan2', lan2, 'isp1']] as const) {
    const agent = ns.agent();
    const body = await fetchText('http://198.51.100.1/', agent);
    agent.destroy();
    step(`ip netns exec ${name} curl http://198.51.100.1/   -> ${body}`);
    check(body.startsWith(want), `${name} reached ${body}, expected ${want}`);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));

  // Leaving the block deletes lan0 and the five namespaces (await using), in reverse order.
  return report();
}

run(main);
