// A network that several processes share, with containers that vanish
// without saying goodbye (issue 10): leases under a cross-process lock,
// prune(), a gateway MAC that does not move, a dead container's ports that
// never reach the next holder of its address, specs refused before anything
// is sent, subnets Docker would refuse.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace, NetplumbError, Network, VethPair, Watcher } from '../../lib';
import type { ConnectRaceReport } from '../children/connect-race';
import { DIST_INDEX, ROOT } from '../helpers/child';
import { ipj, oracle, ping, uniq } from '../helpers/oracle';
import { rejectionOf } from '../helpers/ns-link';
import { closeServer, httpFailure, httpGet, netplumbRules, tagServer, udpAsk, udpEcho } from '../helpers/netnat';
import { _setConntrackCleanup } from '../../lib/port-mapping';
import { waitFor } from '../helpers/reliability';

const made: Namespace[] = [];
async function mk(prefix: string, loUp = false): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  if (loUp) await ns.loopback.up();
  return ns;
}
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((ns) => ns.delete()));
  for (const p of prefixes.splice(0)) for (const n of fs.readdirSync('/run/netns').filter((x) => x.startsWith(p))) await Namespace.delete(n).catch(() => undefined);
});
const nm = (ns: Namespace): string => ns.name as string;
const ipv4Of = (ns: string): string[] =>
  (ipj(ns, 'addr', 'show', 'dev', 'eth0') as { addr_info: { family: string; local: string }[] }[]).flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => a.local));
/** Host veths of the network: name -> its lease alias ('' when it has none). */
const hostVeths = (H: string, bridge: string): Map<string, string> =>
  new Map((oracle.links(H) as { ifname: string; master?: string; ifalias?: string }[]).filter((l) => l.master === bridge).map((l) => [l.ifname, l.ifalias ?? '']));
const publishTargets = (H: string): string[] =>
  netplumbRules(H)
    .map((r) => / -> ([\d.]+):\d+/.exec(r.comment ?? '')?.[1])
    .filter((x): x is string => x !== undefined);

/** Reply-direction source addresses of the UDP conntrack entries in namespace `ns` (`conntrack -L`). */
const ctReplySources = (ns: string): string[] => {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'conntrack', '-L', '-p', 'udp'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`conntrack -L: ${r.stderr}`);
  // udp 17 29 src=A dst=B sport=.. dport=.. [UNREPLIED] src=C dst=D ...: the second src= is the reply's.
  return r.stdout.split('\n').flatMap((l) => [...l.matchAll(/src=(\S+)/g)].slice(1, 2).map((m) => m[1] as string));
};

function runConnectRace(args: string[], killAfterMs?: number): Promise<{ report?: ConnectRaceReport; err: string; out: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'children', 'connect-race.js'), ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && out.startsWith('ready\n')) {
        setTimeout(() => c.kill('SIGKILL'), killAfterMs);
        killAfterMs = undefined;
      }
    });
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': stdout may still hold the report when the process has exited.
    c.on('close', (_code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      let report: ConnectRaceReport | undefined;
      try {
        report = JSON.parse(last) as ConnectRaceReport;
      } catch {
        report = undefined;
      }
      resolve({ report, err, out, signal });
    });
  });
}

describe('several processes connecting to one network', () => {
  it('8 processes x 25 connects at once: 200 distinct addresses (ip -j in every container), each host port published once', async () => {
    const host = await mk('snh');
    const H = nm(host);
    const tag = uniq('r').slice(-6);
    const P = 8;
    const N = 25;
    for (let p = 0; p < P; p++) prefixes.push(`${tag}${p}c`);
    const runs = await Promise.all(Array.from({ length: P }, (_, p) => runConnectRace([H, 'sn0', '10.80.0.0/16', `${tag}${p}c`, String(N), '31000'])));
    const reports = runs.map((r) => {
      expect(r.err).toBe('');
      expect(r.report?.errors).toEqual([]);
      return r.report as ConnectRaceReport;
    });
    const all = reports.flatMap((r) => r.connected);
    expect(all).toHaveLength(P * N);
    // The oracle: the address each container really has.
    const addrs = all.map((c) => {
      const got = ipv4Of(c.ns);
      expect(got).toEqual([c.ip]);
      return got[0];
    });
    expect(new Set(addrs).size).toBe(P * N);
    // Every port i won by exactly one process; the other seven were told ERR_PORT_CONFLICT.
    expect(reports.reduce((n, r) => n + r.conflicts, 0)).toBe((P - 1) * N);
    const ports = netplumbRules(H)
      .filter((r) => r.chain === 'prerouting')
      .map((r) => /\*:(\d+) ->/.exec(r.comment ?? '')?.[1]);
    expect(ports).toHaveLength(N);
    expect(new Set(ports).size).toBe(N);
    // Leases (host veth aliases) agree with the containers.
    const leases = [...hostVeths(H, 'sn0').values()].map((a) => a.split(' ')[2]).sort();
    expect(leases).toEqual([...addrs].sort());
    console.log(`shared-network: ${P} processes x ${N} connects: ${new Set(addrs).size} distinct addresses, ${ports.length} ports each published once`);
  }, 300_000);

  it('SIGKILLed while connecting, containers then gone: prune() from another process leaves no lease, rule or veth without its container', async () => {
    const host = await mk('skn');
    const H = nm(host);
    const tag = uniq('k').slice(-6);
    const net = await Network.bridge({ name: 'sk0', subnet: '10.81.0.0/16', namespace: host });
    const kills = await Promise.all(
      Array.from({ length: 8 }, (_, p) => {
        prefixes.push(`${tag}${p}c`);
        return runConnectRace([H, 'sk0', '10.81.0.0/16', `${tag}${p}c`, '25', String(32000 + p * 100)], 20 + Math.random() * 150);
      }),
    );
    // Most are killed mid-way; one that finished its 25 connects first (they got faster) exits
    // normally, and its containers, gone too, are pruned like the others'.
    const killed = kills.filter((k) => k.signal === 'SIGKILL').length;
    console.log(`shared-network: ${killed} of 8 connecting processes SIGKILLed mid-way`);
    expect(kills.every((k) => k.signal === 'SIGKILL' || (k.signal === null && k.report?.errors.length === 0))).toBe(true);
    expect(killed).toBeGreaterThanOrEqual(4);
    // One more container that dies without disconnect, deterministically with a UDP port and flows.
    const dead = await Namespace.create(`${tag}9c0`);
    prefixes.push(`${tag}9c`);
    const de = await net.connect(dead, { publish: ['32999:53/udp'] });
    await dead.close();
    // Flows from the host to every published port (the killed connects' too): conntrack
    // entries NATed to the containers' addresses, as traffic would leave them.
    const ports = netplumbRules(H).filter((r) => r.chain === 'prerouting').map((r) => Number(/:(\d+) ->/.exec(r.comment ?? '')?.[1]));
    const sock = await host.createSocket('udp4');
    for (const p of ports) sock.send('x', p, '10.81.0.1');
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    const natedHere = () => ctReplySources(H).filter((a) => a.startsWith('10.81.') && a !== '10.81.0.1');
    expect(natedHere()).toContain(de.ip); // control: the entries are there before prune
    const rulesBefore = netplumbRules(H).length;
    // The containers die with their runtime: their namespaces go, and with them their veths.
    for (const n of fs.readdirSync('/run/netns').filter((x) => x.startsWith(tag))) await Namespace.delete(n);
    expect(await waitFor(() => hostVeths(H, 'sk0').size === 0, 5000)).toBe(true);
    const pruned = await net.prune();
    console.log(`shared-network kills: ${rulesBefore} rules left by killed connects, prune removed ${pruned.rules} rules and links ${JSON.stringify(pruned.links)}`);
    expect(publishTargets(H)).toEqual([]);
    expect(net.leases).toEqual(['10.81.0.1']);
    expect(natedHere()).toEqual([]); // no conntrack entry to a container that is gone
    // A connect afterwards is as on a fresh network.
    const c = await mk('skc');
    const ep = await net.connect(c, { publish: ['32000:80'] });
    expect(ipv4Of(nm(c))).toEqual([ep.ip]);
    await net.delete();
  }, 120_000);

  it('a veth a killed connect left without its lease (no alias yet) is removed by prune(); control: a leased one stays', async () => {
    const host = await mk('sph');
    const c = await mk('spc');
    const orphanNs = await mk('spo');
    const H = nm(host);
    const net = await Network.bridge({ name: 'sp0', subnet: '10.82.0.0/24', namespace: host });
    const ep = await net.connect(c);
    // What connect had made when killed between the veth and its alias: a port in the network's group, no lease.
    await VethPair.create('vethdead001', { namespace: host, master: net.bridge, up: true, peerIn: orphanNs, peerName: 'eth0', group: net.group });
    expect([...hostVeths(H, 'sp0').keys()].sort()).toEqual([ep.hostIfname, 'vethdead001'].sort());
    const r = await net.prune();
    expect(r.links).toEqual(['vethdead001']);
    expect([...hostVeths(H, 'sp0').keys()]).toEqual([ep.hostIfname]);
    expect(ping(nm(c), '10.82.0.1')).toBe(true);
    await net.delete();
  });
});

describe("a dead container's published port", () => {
  it('never reaches the next holder of its address: the container is deleted without disconnect, a new one gets its address, 8080 is refused', async () => {
    const host = await mk('sdh', true);
    const H = nm(host);
    const c1 = await mk('sd1', true);
    const c2 = await mk('sd2', true);
    const net = await Network.bridge({ name: 'sd0', subnet: '10.83.0.0/24', namespace: host });
    const e1 = await net.connect(c1, { publish: ['8080:80'] });
    const s1 = await tagServer(c1, 80, 'c1');
    const hostAgent = host.agent(); // connections made from inside the host namespace
    // Control: published, it answers from c1 (the host's own connection to its gateway address).
    expect(await httpGet('http://10.83.0.1:8080/', hostAgent)).toMatch(/^c1 80 /);
    await closeServer(s1);
    // c1 vanishes without disconnect (its runtime crashed): its veth goes with it.
    made.splice(made.indexOf(c1), 1);
    await c1.delete();
    expect(await waitFor(() => hostVeths(H, 'sd0').size === 0, 5000)).toBe(true);
    expect(new Set(publishTargets(H))).toEqual(new Set([e1.ip])); // its rules are still there
    // The next container is given the same address and publishes nothing.
    const e2 = await net.connect(c2, { ip: e1.ip });
    expect(e2.ip).toBe(e1.ip);
    const s2 = await tagServer(c2, 80, 'c2');
    try {
      expect(publishTargets(H)).toEqual([]); // connect pruned them before leasing
      await httpFailure('http://10.83.0.1:8080/', hostAgent);
      // Control: c2 does answer on its own address.
      expect(await httpGet(`http://${e2.ip}:80/`, hostAgent)).toMatch(/^c2 80 /);
    } finally {
      await closeServer(s2);
    }
    await net.delete();
  });
});

describe('the gateway MAC', () => {
  it('stays the bridge own through joins and leaves: the container with the lowest host-veth MAC leaves, the others reach the gateway within 1 s', async () => {
    const host = await mk('sgh');
    const H = nm(host);
    const net = await Network.bridge({ name: 'sg0', subnet: '10.84.0.0/24', namespace: host });
    const mac0 = oracle.link(H, 'sg0')?.address;
    expect(mac0).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/); // locally administered, unicast
    const cs = await Promise.all([0, 1, 2, 3].map(() => mk('sgc')));
    const eps = [];
    for (const c of cs) {
      eps.push(await net.connect(c));
      expect(oracle.link(H, 'sg0')?.address).toBe(mac0);
    }
    for (const c of cs) expect(ping(nm(c), '10.84.0.1')).toBe(true); // every container has the gateway in its ARP cache
    const lowest = [...eps].sort((a, b) => (a.hostLink.mac < b.hostLink.mac ? -1 : 1))[0]!;
    await lowest.disconnect();
    expect(oracle.link(H, 'sg0')?.address).toBe(mac0);
    for (const ep of eps.filter((e) => e !== lowest)) {
      const t0 = Date.now();
      expect(ping(nm(ep.namespace), '10.84.0.1', 1)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(1000);
      const neigh = (ipj(nm(ep.namespace), 'neigh', 'show', '10.84.0.1') as { lladdr?: string }[])[0];
      expect(neigh?.lladdr).toBe(mac0);
    }
    await net.delete();
  });
});

describe('refused before anything is sent', () => {
  it('bad publish specs and a conflict: refused with a code, and a Watcher on the host sees no event', async () => {
    const host = await mk('svh');
    const c = await mk('svc');
    const c0 = await mk('svc');
    const net = await Network.bridge({ name: 'sv0', subnet: '10.85.0.0/24', namespace: host });
    await net.connect(c0, { publish: ['8080:80'] });
    const w = await Watcher.open(host);
    const events: unknown[] = [];
    w.on('event', (e: unknown) => events.push(e));
    try {
      for (const [spec, code] of [
        ['70000:80', 'ERR_INVALID_ARGUMENT'],
        ['8080:0', 'ERR_INVALID_ARGUMENT'],
        ['8090-8080:80', 'ERR_INVALID_ARGUMENT'],
        ['65535-65536:80-81', 'ERR_INVALID_ARGUMENT'],
        ['999.1.1.1:8080:80', 'ERR_INVALID_IP'],
        ['8080:80/sctp', 'ERR_INVALID_ARGUMENT'],
        ['8080-8081:80-82', 'ERR_INVALID_ARGUMENT'],
        ['1000-2999:3000-4999', 'ERR_INVALID_ARGUMENT'],
        ['1000-3000', 'ERR_INVALID_ARGUMENT'],
        ['-5:80', 'ERR_INVALID_ARGUMENT'],
        ['8080:80', 'ERR_PORT_CONFLICT'],
        ['8080-8080:80', 'ERR_PORT_CONFLICT'],
        [['9000:80', '9000:81'], 'ERR_PORT_CONFLICT'],
        [['9000-9001:80', '9000:81', '9001:82'], 'ERR_PORT_CONFLICT'],
      ] as const) {
        const e = await rejectionOf(net.connect(c, { publish: typeof spec === 'string' ? [spec] : [...spec] }));
        expect([spec, e.code]).toEqual([spec, code]);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(events).toEqual([]);
      // Control: the same watcher does see a connect.
      await net.connect(c);
      expect(await waitFor(() => events.length > 0, 2000)).toBe(true);
    } finally {
      await w.close();
    }
    await net.delete();
  });

  it('a subnet with host bits set, and one overlapping a route of the host: ERR_INVALID_CIDR (saying which was meant), ERR_SUBNET_OVERLAP', async () => {
    const host = await mk('soh');
    const H = nm(host);
    const e1 = await rejectionOf(Network.bridge({ name: 'so0', subnet: '10.6.0.5/24', namespace: host }));
    expect(e1).toBeInstanceOf(NetplumbError);
    expect(e1.code).toBe('ERR_INVALID_CIDR');
    expect(e1.message).toContain('did you mean 10.6.0.0/24?');
    const net = await Network.bridge({ name: 'so0', subnet: '10.6.0.0/24', namespace: host });
    const e2 = await rejectionOf(Network.bridge({ name: 'so1', subnet: '10.6.0.0/16', namespace: host }));
    expect(e2.code).toBe('ERR_SUBNET_OVERLAP');
    expect(e2.message).toContain('10.6.0.0/24 dev so0');
    expect(oracle.link(H, 'so1')).toBeUndefined();
    // Adopting the same network again is no overlap (its own route).
    await Network.bridge({ name: 'so0', subnet: '10.6.0.0/24', namespace: host });
    await net.delete();
  });
});

describe('publish specs through connect', () => {
  it("'127.0.0.1:9090:80' reaches the container from the host's 127.0.0.1; control: '9091:80' does not (loopback is left out of a plain publish)", async () => {
    const host = await mk('slh', true);
    const c = await mk('slc', true);
    const net = await Network.bridge({ name: 'sl0', subnet: '10.86.0.0/24', namespace: host });
    const ep = await net.connect(c, { publish: ['127.0.0.1:9090:80', '9091:80'] });
    const srv = await tagServer(c, 80, 'c');
    const agent = host.agent();
    try {
      expect(await httpGet('http://127.0.0.1:9090/', agent)).toBe(`c 80 ${net.gateway}`); // masqueraded to the bridge address
      await httpFailure('http://127.0.0.1:9091/', agent);
      expect(await httpGet('http://10.86.0.1:9091/', agent)).toMatch(/^c 80 /); // the plain one does work on the host's address
    } finally {
      await closeServer(srv);
    }
    await ep.disconnect();
    await net.delete();
  });
});

describe("Docker's host ports: a range for one container port, ephemeral ports", () => {
  it("'8100-8110:80' takes the first free port of the range; '80' and '127.0.0.1::81' take ephemeral ones; ep.ports and endpoints() say which; each reachable", async () => {
    const host = await mk('seh', true);
    const H = nm(host);
    const [c1, c2] = [await mk('sec', true), await mk('sec', true)];
    const net = await Network.bridge({ name: 'se0', subnet: '10.88.0.0/24', namespace: host });
    await host.sysctl.set('net.ipv4.ip_local_port_range', '40000 40009');
    const e1 = await net.connect(c1, { publish: ['8100-8110:80'] });
    const e2 = await net.connect(c2, { id: 'ctr-e2', publish: ['8100-8110:80', '80', '127.0.0.1::81/udp'] });
    expect(e1.ports).toEqual([{ protocol: 'tcp', hostAddress: '*', hostPort: 8100, hostPortEnd: 8100, containerPort: 80, containerPortEnd: 80 }]);
    expect(e2.ports).toEqual([
      { protocol: 'tcp', hostAddress: '*', hostPort: 8101, hostPortEnd: 8101, containerPort: 80, containerPortEnd: 80 },
      { protocol: 'tcp', hostAddress: '*', hostPort: 40000, hostPortEnd: 40000, containerPort: 80, containerPortEnd: 80 },
      { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 40000, hostPortEnd: 40000, containerPort: 81, containerPortEnd: 81 },
    ]);
    // The kernel's view (nft) holds exactly these host ports, once each.
    const comments = netplumbRules(H).filter((r) => r.chain === 'prerouting').map((r) => / (tcp|udp) (\S+) ->/.exec(r.comment ?? '')?.slice(1).join(' '));
    expect(comments.sort()).toEqual(['tcp *:40000', 'tcp *:8100', 'tcp *:8101', 'udp 127.0.0.1:40000']);
    expect((await net.endpoint('ctr-e2'))?.ports).toEqual(e2.ports);
    const [s1, s2] = [await tagServer(c1, 80, 'c1'), await tagServer(c2, 80, 'c2')];
    const echo = await udpEcho(c2, 81, 'c2');
    const agent = host.agent();
    try {
      expect(await httpGet(`http://${net.gateway}:8100/`, agent)).toMatch(/^c1 80 /);
      expect(await httpGet(`http://${net.gateway}:8101/`, agent)).toMatch(/^c2 80 /);
      expect(await httpGet(`http://${net.gateway}:40000/`, agent)).toMatch(/^c2 80 /);
      expect(await udpAsk(host, '127.0.0.1', 40000, 'hi')).toMatch(/^c2 81 .* hi$/);
      await httpFailure(`http://${net.gateway}:8102/`, agent);
    } finally {
      await Promise.all([closeServer(s1), closeServer(s2)]);
      echo.close();
    }
    // A range with every port taken: ERR_PORT_CONFLICT, nothing made.
    await net.connect(await mk('sec'), { publish: ['8102-8110:80'] });
    for (let p = 8103; p <= 8110; p++) await net.connect(await mk('sec'), { publish: [`${p}:80`] });
    const veths = hostVeths(H, 'se0').size;
    const e = await rejectionOf(net.connect(await mk('sec'), { publish: ['8100-8110:80'] }));
    expect([e.code, e.message]).toEqual(['ERR_PORT_CONFLICT', expect.stringContaining('no tcp port of 8100-8110 is free')]);
    expect(hostVeths(H, 'se0').size).toBe(veths);
    await net.delete();
  });

  it("4 processes x 5 connects publishing '32100-32119:80' at once: 20 distinct host ports, each in nft once", async () => {
    const host = await mk('sph');
    const H = nm(host);
    const tag = uniq('q').slice(-6);
    for (let p = 0; p < 4; p++) prefixes.push(`${tag}${p}c`);
    const runs = await Promise.all(Array.from({ length: 4 }, (_, p) => runConnectRace([H, 'sp0', '10.89.0.0/24', `${tag}${p}c`, '5', '32100-32119'])));
    const ports = runs.flatMap((r) => {
      expect([r.err, r.signal, r.report ? 'report' : r.out]).toEqual(['', null, 'report']);
      expect(r.report?.errors).toEqual([]);
      return (r.report as ConnectRaceReport).connected.map((c) => c.port);
    });
    expect(ports.sort()).toEqual(Array.from({ length: 20 }, (_, i) => 32100 + i));
    const pre = netplumbRules(H).filter((r) => r.chain === 'prerouting').map((r) => /\*:(\d+) ->/.exec(r.comment ?? '')?.[1]);
    expect(pre.sort()).toEqual(ports.map(String).sort());
  });
});

describe('endpoints have an identity: (network, container id, ifname)', () => {
  it('connect { id } twice is ERR_ENDPOINT_EXISTS (nothing made) or, with ifExists: reuse, the same endpoint; another process lists it and disconnects it by id; twice is a no-op', async () => {
    const host = await mk('sih');
    const H = nm(host);
    const c = await mk('sic', true);
    const c2 = await mk('sic', true);
    const net = await Network.bridge({ name: 'si0', subnet: '10.87.0.0/24', namespace: host });
    const ep = await net.connect(c, { id: 'ctr-1', publish: ['8080:80'] });
    expect(ep.id).toBe('ctr-1');
    expect(hostVeths(H, 'si0').get(ep.hostIfname)).toBe(`netplumb si0 ${ep.ip} ctr-1 eth0`);
    const before = [...hostVeths(H, 'si0').keys()];
    const e = await rejectionOf(net.connect(c2, { id: 'ctr-1' }));
    expect(e.code).toBe('ERR_ENDPOINT_EXISTS');
    expect(e.message).toContain(`container ctr-1 is connected to network si0 as eth0 already (${ep.ip}, ${ep.hostIfname})`);
    expect([...hostVeths(H, 'si0').keys()]).toEqual(before);
    const again = await net.connect(c, { id: 'ctr-1', ifExists: 'reuse' });
    expect([again.ip, again.hostIfname, again.mappings.map((m) => m.id)]).toEqual([ep.ip, ep.hostIfname, ep.mappings.map((m) => m.id)]);
    // The same id on a second interface is another endpoint.
    const eth1 = await net.connect(c, { id: 'ctr-1', ifname: 'eth1' });
    expect(eth1.ip).not.toBe(ep.ip);
    expect((await rejectionOf(net.connect(c, { id: 'bad id' }))).code).toBe('ERR_INVALID_ARGUMENT');

    // Another process, with nothing in memory: lists, then disconnects by id.
    const script = `
      const { Namespace, Network } = require(${JSON.stringify(DIST_INDEX)});
      (async () => {
        const host = await Namespace.open(${JSON.stringify(H)});
        const net = await Network.bridge({ name: 'si0', subnet: '10.87.0.0/24', namespace: host });
        const eps = await net.endpoints();
        await net.disconnect('ctr-1');
        await net.disconnect('ctr-1'); // twice: a no-op
        console.log(JSON.stringify(eps.map((e) => [e.id, e.ifname, e.ip, e.mappings.map((m) => m.hostPort)]).sort()));
        await host.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(
      [
        ['ctr-1', 'eth0', ep.ip, [8080]],
        ['ctr-1', 'eth1', eth1.ip, []],
      ].sort(),
    );
    // eth0's veth and its rules are gone; eth1 stays.
    expect([...hostVeths(H, 'si0').keys()]).toEqual([eth1.hostIfname]);
    expect(publishTargets(H)).toEqual([]);
    expect(await net.endpoint('ctr-1')).toBeUndefined();
    expect((await net.endpoint('ctr-1', 'eth1'))?.ip).toBe(eth1.ip);
    await net.disconnect('ctr-1', 'eth1');
    expect(await net.endpoints()).toEqual([]);
    await net.delete();
  });
});

describe('a container on several networks', () => {
  /** The gateway the container's traffic to the outside takes (`ip route get`, no packet sent). */
  const via = (C: string): string => (ipj(C, 'route', 'get', '192.0.2.1') as { gateway?: string; dev: string }[]).map((r) => `${r.gateway} ${r.dev}`)[0] as string;

  it('reaches both subnets; the first network keeps the default route; disconnecting it moves the default to the other, which keeps working', async () => {
    const host = await mk('s2h');
    const c = await mk('s2c', true);
    const C = nm(c);
    const a = await Network.bridge({ name: 's2a', subnet: '10.88.1.0/24', namespace: host });
    const b = await Network.bridge({ name: 's2b', subnet: '10.88.2.0/24', namespace: host });
    const ea = await a.connect(c);
    const eb = await b.connect(c, { ifname: 'eth1' });
    expect(ping(C, '10.88.1.1')).toBe(true);
    expect(ping(C, '10.88.2.1')).toBe(true);
    const defaults = (ipj(C, 'route', 'show', 'default') as { gateway: string; dev: string; metric?: number }[]).map((r) => `${r.gateway} ${r.dev} ${r.metric}`);
    expect(defaults).toEqual(['10.88.1.1 eth0 1000000', '10.88.2.1 eth1 1000001']);
    expect(via(C)).toBe('10.88.1.1 eth0');
    await ea.disconnect();
    expect(via(C)).toBe('10.88.2.1 eth1');
    expect(ping(C, '10.88.2.1')).toBe(true);
    expect(oracle.links(C).map((l) => l.ifname).sort()).toEqual(['eth1', 'lo']); // eth0 went with its veth
    await eb.disconnect();
    await a.delete();
    await b.delete();
  });

  it('gatewayPriority: the highest gives the default route, a tie goes to the first; disconnecting by id (nothing in memory) hands it to the next', async () => {
    const host = await mk('s3h');
    const c = await mk('s3c', true);
    const C = nm(c);
    const [a, b, d] = await Promise.all(['a', 'b', 'd'].map((x, i) => Network.bridge({ name: `s3${x}`, subnet: `10.88.${11 + i}.0/24`, namespace: host })));
    await a!.connect(c, { id: 'k', ifname: 'eth0' });
    expect(via(C)).toBe('10.88.11.1 eth0');
    await b!.connect(c, { id: 'k', ifname: 'eth1', gatewayPriority: 10 });
    expect(via(C)).toBe('10.88.12.1 eth1'); // the higher priority wins, although it came second
    await d!.connect(c, { id: 'k', ifname: 'eth2', gatewayPriority: 10 });
    expect(via(C)).toBe('10.88.12.1 eth1'); // a tie: the first connected keeps it
    await b!.disconnect('k', 'eth1');
    expect(via(C)).toBe('10.88.13.1 eth2');
    expect(ping(C, '10.88.13.1')).toBe(true);
    await d!.disconnect('k', 'eth2');
    expect(via(C)).toBe('10.88.11.1 eth0');
    expect(ping(C, '10.88.11.1')).toBe(true);
    const e = await rejectionOf(a!.connect(c, { ifname: 'eth9', gatewayPriority: 1000 }));
    expect([e.code, e.message]).toEqual(['ERR_INVALID_ARGUMENT', expect.stringContaining('gatewayPriority')]);
    for (const n of [a, b, d]) await n!.delete();
  });
});

describe('conntrack', () => {
  it('UDP 5353 moved from c1 to c3, the client keeping its source port: c3 answers (stale entries deleted over ctnetlink); control: without the cleanup c3 never does', async () => {
    const host = await mk('sch', true);
    const out = await mk('sco', true);
    const c1 = await mk('sc1', true);
    const c3 = await mk('sc3', true);
    const up = await VethPair.create('uplink', { namespace: host, up: true, peerIn: out, peerName: 'eth0', peerUp: true });
    await up.link.addAddress('10.91.0.1/24');
    await up.peer.addAddress('10.91.0.2/24');
    const net = await Network.bridge({ name: 'sc0', subnet: '10.92.0.0/24', namespace: host });
    const echoes = [await udpEcho(c1, 53, 'c1'), await udpEcho(c3, 53, 'c3')];
    const round = async (hostPort: number, fromPort: number): Promise<string> => {
      const e1 = await net.connect(c1, { publish: [`${hostPort}:53/udp`] });
      expect(await udpAsk(out, '10.91.0.1', hostPort, 'q', 3, 700, fromPort)).toMatch(/^c1 53 /);
      await e1.disconnect();
      const e3 = await net.connect(c3, { publish: [`${hostPort}:53/udp`] });
      try {
        return await udpAsk(out, '10.91.0.1', hostPort, 'q', 3, 700, fromPort);
      } catch (e) {
        return (e as Error).message;
      } finally {
        await e3.disconnect();
      }
    };
    try {
      _setConntrackCleanup(false);
      const control = await round(5353, 40000);
      _setConntrackCleanup(true);
      const fixed = await round(5354, 40001);
      console.log(`conntrack: without the cleanup: ${control}; with it: ${fixed}`);
      expect(control).toBe('no UDP answer from 10.91.0.1:5353');
      expect(fixed).toMatch(/^c3 53 /);
    } finally {
      _setConntrackCleanup(true);
      for (const s of echoes) s.close();
    }
    await net.delete();
  });
});
