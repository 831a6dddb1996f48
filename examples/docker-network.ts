/**
 * Docker's networking, rebuilt from Node with netplumb: a docker0 bridge
 * network with IPAM, masquerade and a published port, four containers in
 * the bridge, 'none' and 'container:' modes, traffic from an outside machine
 * and back out, then a full teardown. Run it with `npm run demo` (it enters
 * its own sandbox: the machine's network is never touched).
 *
 * The stage: a "host" namespace (uplink 10.99.0.1/24) and an "outside"
 * machine (10.99.0.2/24) joined by their own veth link. The outside has no
 * route to 172.17.0.0/16: it can only reach the containers through the
 * published port, and only sees them as the host.
 *
 * The same by hand (docker commands, then what they amount to):
 *
 *   ip netns add host; ip netns add outside
 *   ip -n host link add uplink up type veth peer name eth0 netns outside
 *   ip -n host addr add 10.99.0.1/24 dev uplink
 *   ip -n outside addr add 10.99.0.2/24 dev eth0; ip -n outside link set eth0 up
 *
 *   # dockerd starting: the default bridge network
 *   ip -n host link add docker0 type bridge
 *   ip -n host addr add 172.17.0.1/16 dev docker0; ip -n host link set docker0 up
 *   ip netns exec host sysctl -w net.ipv4.ip_forward=1
 *   ip netns exec host nft add table ip netplumb    # + nat chains prerouting/output/postrouting
 *   ip netns exec host nft add rule ip netplumb postrouting \
 *       ip saddr 172.17.0.0/16 oifname != docker0 masquerade
 *
 *   # docker run --name c1 -p 8080:80 ...       (c2: the same without -p)
 *   ip netns add c1; ip -n c1 link set lo up
 *   ip -n host link add vethXXXXXXX master docker0 up type veth peer name eth0 netns c1
 *   ip -n c1 addr add 172.17.0.2/16 dev eth0; ip -n c1 link set eth0 up
 *   ip -n c1 route add default via 172.17.0.1
 *   ip netns exec host nft add rule ip netplumb prerouting \
 *       fib daddr type local tcp dport 8080 dnat to 172.17.0.2:80   # + output, + hairpin masquerade
 *
 *   # docker run --name c3 --net=none ...
 *   ip netns add c3; ip -n c3 link set lo up
 *   # docker run --name c4 --net=container:c1 ...
 *   ip netns exec c1 ...                          # c4 *is* c1's network
 *
 *   # docker rm -f c1 c2 c3 c4; dockerd stopping
 *   ip -n host link del vethXXXXXXX ...; nft delete rule ...; ip -n host link del docker0
 *   ip netns del c1 c2 c3 outside host
 *
 * The checks (pings, `nft list table`, `ip link`) are the demo's own, run
 * with `ip netns exec`; the library itself forks nothing. The demo exits
 * non-zero if any check fails.
 */
import * as http from 'node:http';
import { spawnSync } from 'node:child_process';
import { Address, Link, Namespace, Network, PortMapping, Route, VethPair } from '../lib';
import { picture } from './support/picture';

const t0 = process.hrtime.bigint();
let last = t0;
const durations: [string, number][] = [];
/** Prints a step with the time since start and its own duration, and records the duration. */
function step(what: string, label = what): void {
  const now = process.hrtime.bigint();
  const ms = Number(now - last) / 1e6;
  last = now;
  durations.push([label, ms]);
  console.log(`[${(Number(now - t0) / 1e6).toFixed(1).padStart(7)} ms] ${what}  (${ms.toFixed(1)} ms)`);
}

const problems: string[] = [];
function check(ok: boolean, what: string): boolean {
  console.log(`    ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) problems.push(what);
  return ok;
}

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '    ' + r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  console.log(line(headers));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** GET a URL; resolves with the body, rejects on a network error or after 5 s. */
function get(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/** GET through an agent made inside `ns`; the body, or 'ERROR ...' (which the checks then reject). */
async function fetchFrom(ns: Namespace, url: string): Promise<string> {
  const agent = ns.agent();
  try {
    return await get(url, agent);
  } catch (e) {
    return `ERROR ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  } finally {
    agent.destroy();
  }
}

/** A command of the demo's own (the oracle): status and output, nothing on our stderr. */
function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function closeServer(s: http.Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

async function linkRows(label: string, ns: Namespace): Promise<(string | number)[][]> {
  const links = await Link.list(ns);
  const byIndex = new Map(links.map((l) => [l.index, l.name]));
  return links.map((l) => [label, l.index, l.name, l.kind || '-', l.isUp ? 'UP' : 'DOWN', l.master ? byIndex.get(l.master) ?? l.master : '-', l.mac || '-', l.alias || '-']);
}

async function main(): Promise<number> {
  // This process's own (sandbox) namespace: what it looks like before, to compare at the end.
  await using self = await Namespace.current();
  const selfLinksBefore = (await Link.list(self)).map((l) => `${l.index}:${l.name}`);
  const selfForwardBefore = await self.sysctl.get('net.ipv4.ip_forward');
  const namespacesBefore = await Namespace.list();

  // ---- the stage: host and an outside machine, on their own link --------------------------
  await using host = await Namespace.create('host');
  await using outside = await Namespace.create('outside');
  await Promise.all([host.loopback.up(), outside.loopback.up()]);
  const uplink = await VethPair.create('uplink', { namespace: host, up: true, peerIn: outside, peerName: 'eth0', peerUp: true });
  await Promise.all([uplink.link.addAddress('10.99.0.1/24', { nodad: true }), uplink.peer.addAddress('10.99.0.2/24', { nodad: true })]);
  step('ip netns add host outside; uplink 10.99.0.1/24 (host) <-> eth0 10.99.0.2/24 (outside)', 'host + outside + uplink');

  // ---- docker0 ------------------------------------------------------------------------------
  await using net = await Network.bridge({ name: 'docker0', subnet: '172.17.0.0/16', namespace: host });
  step(`Network.bridge({ name: 'docker0', subnet: '172.17.0.0/16' })  -> gateway ${net.gateway}, masquerade, ip_forward`, 'Network.bridge docker0');

  // ---- containers ---------------------------------------------------------------------------
  await using c1 = await Namespace.create('c1');
  const e1 = await net.connect(c1, { publish: ['8080:80/tcp'] });
  step(`docker run --name c1 -p 8080:80   -> ${e1.ifname} ${e1.address} (host end ${e1.hostIfname}), ${e1.mappings.join(', ')}`, 'connect c1 (publish 8080:80)');

  await using c2 = await Namespace.create('c2');
  const e2 = await net.connect(c2);
  step(`docker run --name c2              -> ${e2.ifname} ${e2.address} (host end ${e2.hostIfname})`, 'connect c2');

  await using c3 = await Network.mode('none', { name: 'c3' });
  step(`docker run --name c3 --net=none   -> namespace ${c3}, loopback only`, "Network.mode('none')");

  await using c4 = await Network.mode('container:c1');
  step(`docker run --name c4 --net=container:c1  -> opened ${c4} (the same namespace as c1: ${c4.equals(c1)})`, "Network.mode('container:c1')");

  check(e1.ip === '172.17.0.2' && e2.ip === '172.17.0.3', `IPAM: c1 = ${e1.ip}, c2 = ${e2.ip} (the first free addresses after the gateway)`);
  check(net.leases.join(',') === '172.17.0.1,172.17.0.2,172.17.0.3', `leases: ${net.leases.join(', ')}`);

  // ---- servers: in c1 (port 80) and on the outside machine (port 8000) ---------------------
  const web = http.createServer((req, res) => res.end(`c1 sees you as ${req.socket.remoteAddress}\n`));
  const ext = http.createServer((req, res) => res.end(`outside sees you as ${req.socket.remoteAddress}\n`));
  try {
    await c1.listen(web, { port: 80 });
    await outside.listen(ext, { host: '10.99.0.2', port: 8000 });
    step('c1.listen(http server, { port: 80 }); outside.listen(http server, { host: 10.99.0.2, port: 8000 })', 'servers listening');

    // The outside machine has no route to the containers: only the published port gets in.
    let direct: string;
    try {
      direct = `route ${JSON.stringify(await Route.get(outside, e1.ip))}`;
    } catch (e) {
      direct = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    check(direct === 'ENETUNREACH', `outside has no route to ${e1.ip} (ip -n outside route get ${e1.ip}: ${direct})`);

    // In through the published port: DNAT to c1, which sees the real client.
    const inbound = await fetchFrom(outside, 'http://10.99.0.1:8080/');
    step(`outside: curl http://10.99.0.1:8080/  -> "${inbound}"`, 'outside -> host:8080 -> c1:80');
    check(inbound === 'c1 sees you as 10.99.0.2', 'the published port reaches c1, which sees the outside client 10.99.0.2');

    // Out through masquerade: the outside sees the host, not 172.17.0.2.
    const outbound = await fetchFrom(c1, 'http://10.99.0.2:8000/');
    step(`c1: curl http://10.99.0.2:8000/  -> "${outbound}"`, 'c1 -> outside (masquerade)');
    check(outbound === 'outside sees you as 10.99.0.1', `c1 leaves masqueraded as the host's 10.99.0.1, not ${e1.ip}`);

    // c4 is c1's network: the same eth0, and c1's server on its loopback.
    const c4eth0 = await c4.link('eth0');
    const local = await fetchFrom(c4, 'http://127.0.0.1:80/');
    step(`c4 (container:c1): eth0 #${c4eth0.index} ${c4eth0.mac}; curl http://127.0.0.1:80/  -> "${local}"`, 'c4 -> 127.0.0.1:80 (c1 server)');
    check(c4.equals(c1) && c4eth0.index === e1.link.index && c4eth0.mac === e1.mac, `c4 sees c1's eth0 (#${e1.link.index} ${e1.mac})`);
    check(local === 'c1 sees you as 127.0.0.1', "c4 reaches c1's server on 127.0.0.1:80");

    // c3 (none): loopback only.
    const c3links = await Link.list(c3);
    check(c3links.length === 1 && c3links[0]?.name === 'lo' && c3links[0].isUp, `c3 (none) has only lo, up: ${c3links.map((l) => `${l.name} ${l.isUp ? 'UP' : 'DOWN'}`).join(', ')}`);

    // c1 -> c2 across docker0 (the demo's own ping).
    const ping = sh('ip', ['netns', 'exec', 'c1', 'ping', '-c1', '-W2', e2.ip]);
    step(`ip netns exec c1 ping -c1 -W2 ${e2.ip}  -> ${ping.out.split('\n').find((l) => l.includes('bytes from')) ?? ping.out.split('\n')[0]}`, 'ping c1 -> c2');
    check(ping.ok, `c1 pings c2 (${e2.ip}) over docker0`);
  } finally {
    await Promise.all([web, ext].filter((s) => s.listening).map(closeServer));
  }

  // ---- what exists -------------------------------------------------------------------------
  const all: [string, Namespace][] = [['host', host], ['outside', outside], ['c1', c1], ['c2', c2], ['c3', c3], ['c4=c1', c4]];
  console.log(`\nnamespaces (ip netns list): ${(await Namespace.list()).join(' ')}   (c4 has no name: it is c1's)`);
  console.log('\nlinks (ip link):');
  table(['netns', '#', 'name', 'kind', 'state', 'master', 'mac', 'alias (lease)'], (await Promise.all(all.map(([n, ns]) => linkRows(n, ns)))).flat());
  console.log('\naddresses (ip -4 addr):');
  const addrRows: (string | number)[][] = [];
  for (const [n, ns] of all) {
    const names = new Map((await Link.list(ns)).map((l) => [l.index, l.name]));
    for (const a of await Address.list(ns, { family: 4 })) addrRows.push([n, names.get(a.index) ?? a.index, a.cidr, String(a.scope)]);
  }
  table(['netns', 'dev', 'address', 'scope'], addrRows);
  console.log('\nroutes (ip -4 route):');
  const routeRows: (string | number)[][] = [];
  for (const [n, ns] of all) for (const r of await Route.list(ns, { family: 4 })) routeRows.push([n, r.to, r.via ?? '-', r.dev ?? '-', String(r.protocol), r.src ?? '-']);
  table(['netns', 'to', 'via', 'dev', 'proto', 'src'], routeRows);
  check(!routeRows.some(([n, to]) => n === 'outside' && String(to).startsWith('172.17.')), 'outside has no route to 172.17.0.0/16');

  console.log('\nport mappings (PortMapping.list(host)):');
  const mappings = await PortMapping.list(host);
  table(['id', 'proto', 'host', 'ports', '-> container'], mappings.map((m) => [m.id, m.protocol, m.hostAddress, m.hostPortEnd !== m.hostPort ? `${m.hostPort}-${m.hostPortEnd}` : m.hostPort, `${m.address}:${m.port}`]));
  check(mappings.length === 1 && `${mappings[0]}` === `tcp *:8080 -> ${e1.ip}:80`, `one mapping: ${mappings.join('; ')}`);
  const nft = sh('ip', ['netns', 'exec', 'host', 'nft', 'list', 'table', 'ip', 'netplumb']);
  console.log('\nip netns exec host nft list table ip netplumb:\n' + nft.out.split('\n').map((l) => '    ' + l).join('\n'));
  check(nft.ok && nft.out.includes(`dnat to ${e1.ip}:80`) && nft.out.includes('tcp dport 8080') && /ip saddr 172\.17\.0\.0\/16 oifname != "docker0".*masquerade/.test(nft.out), 'nft shows the DNAT 8080 -> c1:80 and the docker0 masquerade');

  step('inventory: Namespace.list, Link.list, Address.list, Route.list, PortMapping.list (+ nft, for the record)', 'inventory (tables above)');

  // ---- the picture (netplumb show) ----------------------------------------------------------
  const t = await picture('docker-network', [host, outside, c1, c2, c3]);
  const docker0 = t.networks.find((n) => n.name === 'docker0');
  check(docker0?.endpoints.length === 2 && t.ports.length === 1 && t.vethPairs.length === 3, `the topology shows docker0's 2 endpoints, 1 published port, 3 veth pairs (${t.vethPairs.length})`);
  step('topology([host, outside, c1, c2, c3]): text above, picture saved', 'topology picture');

  // ---- teardown ----------------------------------------------------------------------------
  await c4.close();
  step('docker rm c4: close the handle on c1 (c1 stays)', 'teardown: close c4');
  await c3.delete();
  step('docker rm c3: ip netns del c3', 'teardown: delete c3');
  await e1.disconnect();
  await e2.disconnect();
  step(`docker network disconnect: veths ${e1.hostIfname}, ${e2.hostIfname} deleted, 8080 unpublished`, 'teardown: disconnect c1, c2');
  check((await PortMapping.list(host)).length === 0, 'no port mapping left in host');
  await net.delete();
  step('net.delete(): masquerade rule and docker0 deleted', 'teardown: net.delete()');
  const hostLinks = (await Link.list(host)).map((l) => l.name).sort();
  check(hostLinks.join(',') === 'lo,uplink', `host is back to lo + uplink: ${hostLinks.join(', ')}`);
  const nftAfter = sh('ip', ['netns', 'exec', 'host', 'nft', 'list', 'table', 'ip', 'netplumb']);
  // Our rules are gone; the table may stay behind with its empty base chains (harmless, and gone with the namespace).
  const rulesLeft = nftAfter.out.split('\n').filter((l) => / comment "netplumb |masquerade|dnat to/.test(l));
  const chainsLeft = nftAfter.out.split('\n').filter((l) => /^\s*chain /.test(l)).length;
  check(
    nftAfter.ok ? rulesLeft.length === 0 && chainsLeft > 0 : /No such file or directory/.test(nftAfter.out),
    `no NAT rule left in host (nft: ${nftAfter.ok ? `table ip netplumb with ${chainsLeft} chains, ${rulesLeft.length} rules` : nftAfter.out.split('\n')[0]})`,
  );
  await c1.delete();
  await c2.delete();
  await outside.delete();
  await host.delete();
  step('ip netns del c1 c2 outside host', 'teardown: delete namespaces');

  // ---- nothing left ------------------------------------------------------------------------
  const namespacesAfter = await Namespace.list();
  console.log(`\nnamespaces left: ${JSON.stringify(namespacesAfter)}`);
  check(JSON.stringify(namespacesAfter) === JSON.stringify(namespacesBefore), `ip netns list is as before: ${JSON.stringify(namespacesBefore)}`);
  const selfNft = sh('nft', ['list', 'table', 'ip', 'netplumb']);
  check(!selfNft.ok, `no netplumb table in this process's namespace (nft: ${selfNft.out.split('\n')[0]})`);
  const selfLinksAfter = (await Link.list(self)).map((l) => `${l.index}:${l.name}`);
  check(selfLinksAfter.join(' ') === selfLinksBefore.join(' '), `this process's links unchanged: ${selfLinksAfter.join(' ')}`);
  const selfForwardAfter = await self.sysctl.get('net.ipv4.ip_forward');
  check(selfForwardAfter === selfForwardBefore, `this process's ip_forward unchanged (${selfForwardAfter}); only host's was set`);

  console.log('\nstep durations:');
  table(['step', 'ms'], durations.map(([s, ms]) => [s, ms.toFixed(1).padStart(7)]));
  const total = durations.reduce((a, [, ms]) => a + ms, 0);
  console.log(`    total ${total.toFixed(1)} ms`);

  if (problems.length) console.log(`\nFAILED ${problems.length} check(s):\n` + problems.map((p) => '  - ' + p).join('\n'));
  else console.log('\nall checks passed');
  // Anything not torn down above (after an exception) is deleted by `await using` when leaving.
  return problems.length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
