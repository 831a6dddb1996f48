// IPv6 and dual stack on a Network, against the real kernel: addresses are
// checked with `ip -j -6 addr`, the rules with `nft -j list ruleset` (in the
// host namespace), and the NAT with real IPv6 traffic (ping -6, HTTP over
// TCP, a UDP echo) between namespaces made here. Each NAT check has a
// control: the same traffic with the rule deleted (by `nft`, the oracle's
// own tool) fails or shows the untranslated address.
//
// Topology:
//   out (2001:db8:99::2) ==uplink== host (2001:db8:99::1) -- br6 (172.30.0.1/24, fd00:30::1/64) -- c1, c2
import * as dc from 'node:diagnostics_channel';
import * as http from 'node:http';
import type * as dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { Namespace, Network, NetplumbError, PortMapping, Route, trace, VethPair, type TraceMessage } from '../../lib';
import { setPublishCheck } from '../../lib/doctor';
import { _setConntrackCleanup } from '../../lib/port-mapping';
import { ipj, ping, uniq } from '../helpers/oracle';
import { closeServer, dnatOf, httpFailure, httpGet, nftRules, type NftRule } from '../helpers/netnat';

const HOST6 = '2001:db8:99::1';
const OUT6 = '2001:db8:99::2';
const GW6 = 'fd00:30::1';

let host: Namespace, out: Namespace, c1: Namespace, c2: Namespace;
let H: string;
let net: Network;
const made: Namespace[] = [];
const servers: http.Server[] = [];
const udps: dgram.Socket[] = [];

async function mk(prefix: string): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  await ns.loopback.up();
  return ns;
}

const url = (addr: string, port: number) => `http://[${addr}]:${port}/`;
const nft = (...args: string[]) => spawnSync('ip', ['netns', 'exec', H, 'nft', ...args], { encoding: 'utf8' });
/** Our ip6 rules whose comment starts with `prefix`. */
const ip6Rules = (prefix = 'netplumb'): NftRule[] =>
  nftRules(H).filter((r) => r.family === 'ip6' && r.table === 'netplumb' && (r.comment ?? '').startsWith(prefix));
const deleteRule = (r: NftRule) => expect(nft('delete', 'rule', 'ip6', 'netplumb', r.chain, 'handle', String(r.handle)).status).toBe(0);

/** An HTTP server in `ns` on [::]:port answering "TAG PORT REMOTEADDR". */
async function tagServer(ns: Namespace, port: number, tag: string): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    res.setHeader('connection', 'close');
    res.end(`${tag} ${port} ${req.socket.remoteAddress ?? '?'}`);
  });
  await ns.listen(srv, { port, host: '::' });
  return srv;
}

/** A UDP6 echo in `ns` on `port`: "TAG REMOTEADDR PAYLOAD". */
async function udp6Echo(ns: Namespace, port: number, tag: string): Promise<dgram.Socket> {
  const s = await ns.createSocket('udp6', { port, address: '::' });
  s.on('message', (msg, r) => s.send(`${tag} ${r.address} ${msg.toString()}`, r.port, r.address));
  udps.push(s);
  return s;
}

/** One answer to `payload` sent from `ns` (from port `fromPort`, if given) to [addr]:port over UDP6, or the error. */
async function udp6Ask(ns: Namespace, addr: string, port: number, payload: string, fromPort?: number): Promise<string> {
  const s = await ns.createSocket('udp6', fromPort !== undefined ? { port: fromPort, address: '::' } : {});
  try {
    return await new Promise<string>((resolve, reject) => {
      let n = 0;
      let timer: NodeJS.Timeout | undefined;
      const send = (): void => {
        if (n++ >= 3) return reject(new Error(`no UDP answer from [${addr}]:${port}`));
        s.send(payload, port, addr);
        timer = setTimeout(send, 600);
      };
      s.on('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      send();
    });
  } finally {
    s.close();
  }
}

beforeAll(async () => {
  host = await mk('v6h');
  out = await mk('v6o');
  c1 = await mk('v6c1');
  c2 = await mk('v6c2');
  H = host.name as string;
  const up = await VethPair.create('uplink', { namespace: host, up: true, peerIn: out, peerName: 'eth0', peerUp: true });
  await up.link.addAddress(`${HOST6}/64`, { nodad: true });
  await up.peer.addAddress(`${OUT6}/64`, { nodad: true });
  // So that un-NATed traffic from the containers could come back: the masquerade control.
  await Route.add({ namespace: out, to: 'fd00:30::/64', via: HOST6 });
  net = await Network.bridge({ name: 'br6', subnet: ['172.30.0.0/24', 'fd00:30::/64'], namespace: host });
  servers.push(await tagServer(out, 80, 'out'));
});

afterAll(async () => {
  for (const s of udps) s.close();
  await Promise.all(servers.map(closeServer));
  await net?.delete().catch(() => undefined);
  await Promise.allSettled(made.map((ns) => ns.delete()));
});

describe('a dual-stack network (IPv6 traffic, real kernel)', () => {
  it('connect gives one address and one default route per family, none tentative; ping -6 to the gateway and between containers', async () => {
    const e1 = await net.connect(c1, { id: 'c1' });
    // Read at once: nothing may be tentative (DAD) when connect resolves, the link-local address included.
    const v6 = ipj(c1.name, '-6', 'addr', 'show', 'dev', 'eth0')[0].addr_info as { local: string; scope: string; tentative?: boolean }[];
    expect(v6.filter((a) => a.tentative)).toEqual([]);
    expect(v6.map((a) => a.local)).toContain('fd00:30::2');
    // One link-local address, added by connect with nodad (the kernel makes none: addr_gen_mode 1).
    expect(v6.filter((a) => a.scope === 'link')).toHaveLength(1);
    const e2 = await net.connect(c2, { id: 'c2' });
    expect(e1.addresses).toEqual(['172.30.0.2/24', 'fd00:30::2/64']);
    expect(e2.ip6).toBe('fd00:30::3');
    expect(e1.gateway6).toBe(GW6);
    const routes = ipj(c1.name, '-6', 'route', 'show', 'default');
    expect(routes.map((r: { gateway: string }) => r.gateway)).toEqual([GW6]);
    expect(ipj(c1.name, '-4', 'route', 'show', 'default').map((r: { gateway: string }) => r.gateway)).toEqual(['172.30.0.1']);
    // What the kernel needs for IPv6 (oracle: the sysctl files).
    const sys = (ns: string, key: string) => spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', key], { encoding: 'utf8' }).stdout.trim();
    expect(sys(H, 'net.ipv6.conf.br6.accept_ra')).toBe('0');
    expect(sys(H, 'net.ipv6.conf.br6.accept_dad')).toBe('0');
    expect(sys(H, `net.ipv6.conf.${e1.hostIfname}.accept_ra`)).toBe('0');
    expect(sys(H, 'net.ipv6.conf.all.forwarding')).toBe('1');
    expect(sys(c1.name as string, 'net.ipv6.conf.eth0.ndisc_notify')).toBe('1');
    expect(sys(c1.name as string, 'net.ipv4.conf.eth0.arp_notify')).toBe('1');
    expect(ping(c1.name as string, GW6)).toBe(true);
    expect(ping(c1.name as string, 'fd00:30::3')).toBe(true);
    expect(ping(c2.name as string, 'fd00:30::2')).toBe(true);
    const info = await net.endpoint('c1');
    expect(info?.addresses).toEqual(['172.30.0.2/24', 'fd00:30::2/64']);
  });

  it('container -> outside over IPv6 is masqueraded to the host address (control: without the ip6 rule, the outside sees the container)', async () => {
    expect(await httpGet(url(OUT6, 80), c1.agent())).toBe(`out 80 ${HOST6}`);
    const masq = ip6Rules('netplumb masquerade br6 fd00:30::/64');
    expect(masq).toHaveLength(1);
    deleteRule(masq[0] as NftRule);
    try {
      expect(await httpGet(url(OUT6, 80), c1.agent())).toBe('out 80 fd00:30::2');
    } finally {
      // Adopting the network again puts the missing rule back.
      net = await Network.bridge({ name: 'br6', subnet: ['172.30.0.0/24', 'fd00:30::/64'], namespace: host });
    }
    expect(ip6Rules('netplumb masquerade')).toHaveLength(1);
    expect(await httpGet(url(OUT6, 80), c1.agent())).toBe(`out 80 ${HOST6}`);
  });

  it('outside -> a published port over IPv6 (TCP and UDP), and hairpin over IPv6; controls fail without the rules', async () => {
    servers.push(await tagServer(c1, 80, 'c1'));
    await udp6Echo(c1, 53, 'c1');
    // Before publishing: nothing there.
    await httpFailure(url(HOST6, 8080), out.agent());
    await expect(udp6Ask(out, HOST6, 5353, 'x')).rejects.toThrow(/no UDP answer/);
    const ep = await net.connect(c1, { id: 'c1', ifExists: 'reuse' });
    const m6 = await net.bridge.publish({ hostPort: 8080, to: `[${ep.ip6}]:80` });
    const u6 = await net.bridge.publish({ hostPort: 5353, protocol: 'udp', to: `[${ep.ip6}]:53` });
    expect(m6.family).toBe(6);
    expect(String(m6)).toBe(`tcp *:8080 -> [fd00:30::2]:80`);
    expect(await httpGet(url(HOST6, 8080), out.agent())).toBe(`c1 80 ${OUT6}`);
    expect(await udp6Ask(out, HOST6, 5353, 'hi')).toBe(`c1 ${OUT6} hi`);
    // The rules, by the oracle: ip6 netplumb, dnat to the container's IPv6 address.
    const rules = ip6Rules(`netplumb publish ${m6.id} `);
    expect(rules.map((r) => r.chain).sort()).toEqual(['output', 'postrouting', 'prerouting']);
    expect(dnatOf(rules.find((r) => r.chain === 'prerouting') as NftRule)).toEqual({ addr: 'fd00:30::2', port: 80 });
    // Hairpin: c2, and c1 itself, reach c1's port through the host's address, masqueraded to the gateway.
    expect(await httpGet(url(HOST6, 8080), c2.agent())).toBe(`c1 80 ${GW6}`);
    expect(await httpGet(url(HOST6, 8080), c1.agent())).toBe(`c1 80 ${GW6}`);
    expect(await udp6Ask(c1, HOST6, 5353, 'self')).toBe(`c1 ${GW6} self`);
    // Control: without the hairpin masquerade, c1's packet to itself comes back with its own
    // source address, c1 answers itself over lo, and the connection never completes.
    // (c2 is no control here: with br_netfilter, the bridged reply is un-NATed on the way.)
    deleteRule(rules.find((r) => r.chain === 'postrouting') as NftRule);
    await httpFailure(url(HOST6, 8080), c1.agent());
    deleteRule(ip6Rules(`netplumb publish ${u6.id} `).find((r) => r.chain === 'postrouting') as NftRule);
    // (UDP: the unconnected client takes the answer from any source: it shows the untranslated one.)
    expect(await udp6Ask(c1, HOST6, 5353, 'self')).toBe('c1 fd00:30::2 self');
    // Controls: the prerouting DNAT gone, the outside gets nothing (TCP and UDP).
    deleteRule(rules.find((r) => r.chain === 'prerouting') as NftRule);
    await httpFailure(url(HOST6, 8080), out.agent());
    const uRules = ip6Rules(`netplumb publish ${u6.id} `);
    deleteRule(uRules.find((r) => r.chain === 'prerouting') as NftRule);
    await expect(udp6Ask(out, HOST6, 5353, 'x')).rejects.toThrow(/no UDP answer/);
    await m6.unpublish();
    await u6.unpublish();
    expect(ip6Rules('netplumb publish')).toEqual([]);
  });

  it("connect's publish maps both families (same host port), list() reads both back, disconnect and delete leave no rule", async () => {
    const e3ns = await mk('v6c3');
    servers.push(await tagServer(e3ns, 80, 'c3'));
    const e3 = await net.connect(e3ns, { id: 'c3', publish: ['8081:80', '[::]:8082:80', '0.0.0.0:8083:80', '8090-8099:80'] });
    const got = e3.ports.map((p) => `${p.hostAddress} ${p.hostPort}`);
    expect(e3.mappings.map((m) => `${m.family} ${m.hostPort}`)).toEqual(['4 8081', '6 8081', '6 8082', '4 8083', '4 8090', '6 8090']);
    expect(got).toHaveLength(6);
    expect(await httpGet(url(HOST6, 8081), out.agent())).toBe(`c3 80 ${OUT6}`);
    expect(await httpGet(url(HOST6, 8082), out.agent())).toBe(`c3 80 ${OUT6}`);
    await httpFailure(url(HOST6, 8083), out.agent()); // IPv4 only
    const listed = (await PortMapping.list(host)).filter((m) => m.address === e3.ip6);
    expect(listed.map((m) => m.hostPort).sort()).toEqual([8081, 8082, 8090]);
    expect(nftRules(H).some((r) => r.family === 'ip6' && dnatOf(r)?.addr === 'fd00:30::4')).toBe(true);
    await net.disconnect('c3');
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb publish'))).toEqual([]);
  });

  it('bad input is refused with a code before anything is made: not one netlink message sent (trace)', async () => {
    // Every netlink message any namespace's sockets send while the bad calls run (the trace).
    const sent: string[] = [];
    const sub = (m: unknown) => {
      const t = m as TraceMessage;
      if (t.direction === 'send') sent.push(`${t.namespace} ${t.type}`);
    };
    const code = async (p: () => Promise<unknown>) => {
      dc.subscribe('netplumb:trace', sub);
      trace.enable();
      let e: unknown;
      try {
        e = await p().then(
          () => undefined,
          (x: unknown) => x,
        );
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        trace.disable();
        dc.unsubscribe('netplumb:trace', sub);
      }
      expect(e).toBeInstanceOf(NetplumbError);
      expect(sent).toEqual([]);
      return (e as NetplumbError).code;
    };
    const before = nftRules(H).length;
    // A v4 target on an IPv6 mapping (and the reverse).
    expect(await code(() => PortMapping.publish({ namespace: host, hostPort: 9000, hostAddress: HOST6, to: '172.30.0.2:80' }))).toBe('ERR_FAMILY_MISMATCH');
    expect(await code(() => PortMapping.publish({ namespace: host, hostPort: 9000, hostAddress: '10.0.0.1', to: '[fd00:30::2]:80' }))).toBe(
      'ERR_FAMILY_MISMATCH',
    );
    expect(await code(() => PortMapping.publish({ namespace: host, hostPort: 9000, to: 'fd00:30::2:80' }))).toBe('ERR_INVALID_ARGUMENT');
    // An IPv6 subnet longer than /64; two subnets of one family; a range of the other family.
    expect(await code(() => Network.bridge({ name: 'bad0', subnet: 'fd00:40::/80', namespace: host }))).toBe('ERR_INVALID_CIDR');
    expect(await code(() => Network.bridge({ name: 'bad0', subnet: ['172.40.0.0/24', '172.41.0.0/24'], namespace: host }))).toBe('ERR_FAMILY_MISMATCH');
    expect(
      await code(() =>
        Network.bridge({ name: 'bad0', subnet: ['172.40.0.0/24', 'fd00:40::/64'], rangeStart: ['fd00:40::10', '172.40.0.10'], namespace: host }),
      ),
    ).toBe('ERR_FAMILY_MISMATCH');
    // ::1: the kernel routes no answer to it from another interface (see README, "IPv6 and dual stack").
    expect(await code(() => net.connect(c2, { id: 'x', publish: ['[::1]:9000:80'] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(() => net.bridge.publish({ hostPort: 9000, to: '[fd00:30::3]:80', localhost: true }))).toBe('ERR_INVALID_ARGUMENT');
    // An IPv4 address as the container's ip6.
    expect(await code(() => net.connect(c2, { id: 'x', ip6: '172.30.0.9' }))).toBe('ERR_FAMILY_MISMATCH');
    expect(ipj(H, 'link', 'show').map((l: { ifname: string }) => l.ifname)).not.toContain('bad0');
    expect(nftRules(H)).toHaveLength(before);
  });

  it('50 containers on a dual-stack network: 50 distinct addresses per family (ip -j -6 addr), none tentative when connect resolves', async () => {
    const big = await Network.bridge({ name: 'br50', subnet: ['fd00:50::/64', '172.31.0.0/24'], namespace: host });
    const nss: Namespace[] = [];
    try {
      const tentative: string[] = [];
      for (let i = 0; i < 50; i++) {
        const ns = await mk('v6n');
        nss.push(ns);
        await big.connect(ns);
        for (const a of ipj(ns.name, '-6', 'addr', 'show', 'dev', 'eth0')[0].addr_info as { local: string; tentative?: boolean }[])
          if (a.tentative) tentative.push(`${ns.name} ${a.local}`);
        // The bridge too: its link-local address appears when the first port brings its carrier up,
        // and while it is tentative the host sends no neighbour solicitation to any container.
        for (const a of ipj(H, '-6', 'addr', 'show', 'dev', 'br50')[0].addr_info as { local: string; tentative?: boolean }[])
          if (a.tentative) tentative.push(`br50 ${a.local}`);
      }
      expect(tentative).toEqual([]);
      const per = (fam: '-4' | '-6', scope: string) =>
        nss.map((ns) =>
          (ipj(ns.name, fam, 'addr', 'show', 'dev', 'eth0')[0].addr_info as { local: string; scope: string }[])
            .filter((a) => a.scope === scope)
            .map((a) => a.local),
        );
      const v6 = per('-6', 'global').flat();
      const v4 = per('-4', 'global').flat();
      expect(new Set(v6).size).toBe(50);
      expect(v6.every((a) => a.startsWith('fd00:50::'))).toBe(true);
      expect(new Set(v4).size).toBe(50);
      expect(big.subnets).toEqual(['172.31.0.0/24', 'fd00:50::/64']);
      expect(ping(nss[49]?.name as string, 'fd00:50::2')).toBe(true);
    } finally {
      await big.delete();
      await Promise.allSettled(nss.map((ns) => ns.delete()));
    }
  });

  it('IPv6 conntrack: UDP [::]:5360 moved from one container to another, the client keeping its source port, reaches the new one (stale entries deleted); control: without the cleanup the old one still answers', async () => {
    const ca = await mk('v6ca');
    const cb = await mk('v6cb');
    const cc = await mk('v6cc');
    await udp6Echo(ca, 53, 'ca');
    await udp6Echo(cb, 53, 'cb');
    await udp6Echo(cc, 53, 'cc');
    const ea = await net.connect(ca, { id: 'ca' });
    const eb = await net.connect(cb, { id: 'cb' });
    /** The reply-direction sources of the IPv6 UDP entries to host port `port` (conntrack -L -f ipv6, the oracle). */
    const replySources = (port: number): string[] => {
      const r = spawnSync('ip', ['netns', 'exec', H, 'conntrack', '-L', '-f', 'ipv6', '-p', 'udp', '--dport', String(port)], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stdout.split('\n').flatMap((l) => [...l.matchAll(/src=(\S+)/g)].slice(1, 2).map((x) => x[1] as string));
    };
    // The port goes from ca to cb; the client asks again from the same source port.
    const round = async (hostPort: number, fromPort: number): Promise<{ answer: string; left: string[] }> => {
      const ma = await net.bridge.publish({ protocol: 'udp', hostPort, to: `[${ea.ip6}]:53` });
      expect(await udp6Ask(out, HOST6, hostPort, 'q', fromPort)).toBe(`ca ${OUT6} q`);
      expect(replySources(hostPort)).toEqual([ea.ip6]);
      await ma.unpublish();
      const left = replySources(hostPort);
      const mb = await net.bridge.publish({ protocol: 'udp', hostPort, to: `[${eb.ip6}]:53` });
      try {
        return { answer: await udp6Ask(out, HOST6, hostPort, 'q', fromPort).catch((e: Error) => e.message), left };
      } finally {
        await mb.unpublish();
      }
    };
    try {
      _setConntrackCleanup(false);
      const control = await round(5360, 41000);
      _setConntrackCleanup(true);
      const fixed = await round(5361, 41001);
      // Without the flush the entry still NATs the client's flow to ca, which answers.
      expect(control).toEqual({ answer: `ca ${OUT6} q`, left: [ea.ip6] });
      expect(fixed).toEqual({ answer: `cb ${OUT6} q`, left: [] });
      // Disconnect by id (the rules name the target; nothing in memory) flushes too.
      await net.connect(cc, { id: 'cc', publish: ['[::]:5362:53/udp'] });
      expect(await udp6Ask(out, HOST6, 5362, 'q', 41002)).toBe(`cc ${OUT6} q`);
      expect(replySources(5362)).toHaveLength(1);
      await net.disconnect('cc');
      expect(replySources(5362)).toEqual([]);
    } finally {
      _setConntrackCleanup(true);
      await net.disconnect('ca');
      await net.disconnect('cb');
    }
  });

  it("the doctor reads the ip6 tables: a user's ip6 forward chain at policy drop stops an IPv6 mapping and is named; control: without it, traffic passes and nothing is found", async () => {
    const cd = await mk('v6cd');
    servers.push(await tagServer(cd, 80, 'cd'));
    const ed = await net.connect(cd, { id: 'cd', publish: ['8095:80'] }); // both families
    const m = ed.mappings.find((x) => x.family === 6) as PortMapping;
    expect(ed.mappings.map((x) => x.family)).toEqual([4, 6]);
    expect(await httpGet(url(HOST6, 8095), out.agent())).toBe(`cd 80 ${OUT6}`);
    expect(await PortMapping.diagnose(host, m)).toEqual([]);
    const add = spawnSync('ip', ['netns', 'exec', H, 'nft', '-f', '-'], {
      input: 'table ip6 userfw {\n chain forward6 {\n type filter hook forward priority 0; policy drop;\n }\n}\n',
      encoding: 'utf8',
    });
    expect(add.stderr).toBe('');
    try {
      await httpFailure(url(HOST6, 8095), out.agent());
      const found = await PortMapping.diagnose(host, m);
      expect(found.map((f) => `${f.kind} ${f.severity} ${f.family} ${f.table} ${f.chain} ${f.hook}`)).toEqual([
        'policy-drop error ip6 userfw forward6 forward',
      ]);
      expect(found[0]?.message).toContain('[fd00:30::');
      // Our own ip6 table is never a finding; an IPv4 mapping's packets do not cross ip6 chains.
      const v4 = ed.mappings.find((x) => x.family === 4) as PortMapping;
      expect(await PortMapping.diagnose(host, v4)).toEqual([]);
    } finally {
      expect(nft('delete', 'table', 'ip6', 'userfw').status).toBe(0);
    }
    expect(await httpGet(url(HOST6, 8095), out.agent())).toBe(`cd 80 ${OUT6}`);
    expect(await PortMapping.diagnose(host, m)).toEqual([]);
    await net.disconnect('cd');
  });

  it('delete leaves no rule and no netplumb table in either family', async () => {
    await net.delete();
    const tables = JSON.parse(nft('-j', 'list', 'tables').stdout).nftables.filter((o: Record<string, unknown>) => 'table' in o);
    expect(tables).toEqual([]);
  });
});

describe('an IPv4-only network does no IPv6 work (netlink messages counted by the trace)', () => {
  /** The nf_tables requests `fn` sends, by type, and those addressed to family ip6 (NFPROTO_IPV6). */
  async function nftRequests(fn: () => Promise<unknown>): Promise<{ types: Record<string, number>; ip6: number }> {
    const sent: TraceMessage[] = [];
    const sub = (m: unknown) => {
      const t = m as TraceMessage;
      if (t.direction === 'send' && t.protocol === 'netfilter') sent.push(t);
    };
    dc.subscribe('netplumb:trace', sub);
    trace.enable();
    try {
      await fn();
      await new Promise((r) => setTimeout(r, 50)); // the records of the last replies
    } finally {
      trace.disable();
      dc.unsubscribe('netplumb:trace', sub);
    }
    const types: Record<string, number> = {};
    for (const m of sent) types[m.type] = (types[m.type] ?? 0) + 1;
    return { types, ip6: sent.filter((m) => m.header?.family === 10).length };
  }

  it('connect, publish, unpublish, connect with publish, disconnect: one table read each (the ip table), none of ip6', async () => {
    setPublishCheck(false); // the doctor's background read would land in the counts
    const h = await mk('v4h');
    const c = await mk('v4c');
    const d = await mk('v4d');
    const v4 = await Network.bridge({ name: 'br4', subnet: '172.29.0.0/24', namespace: h });
    try {
      // Each transaction reads the tables it may change: GETGEN, GETTABLE (then GETCHAIN and
      // GETRULE when the table exists). Before, every one read ip, ip6 and bridge.
      let ep: Awaited<ReturnType<Network['connect']>> | undefined;
      const connect = await nftRequests(async () => (ep = await v4.connect(c)));
      expect(connect).toEqual({ types: { NFT_MSG_GETGEN: 1, NFT_MSG_GETTABLE: 1, NFT_MSG_GETCHAIN: 1, NFT_MSG_GETRULE: 1 }, ip6: 0 });
      let m: PortMapping | undefined;
      const publish = await nftRequests(async () => (m = await v4.bridge.publish({ hostPort: 8080, to: `${ep!.ip}:80` })));
      expect(publish.ip6).toBe(0);
      expect(publish.types.NFT_MSG_GETTABLE).toBe(1);
      expect(publish.types.NFT_MSG_NEWRULE).toBe(3); // prerouting, output, hairpin
      const unpublish = await nftRequests(() => m!.unpublish());
      expect(unpublish.ip6).toBe(0);
      expect(unpublish.types.NFT_MSG_GETTABLE).toBe(1);
      expect(unpublish.types.NFT_MSG_DELRULE).toBe(3);
      // connect's publish: the conflict check, the lease's prune, the publish batch.
      const both = await nftRequests(() => v4.connect(d, { publish: ['8081:80'] }));
      expect(both.ip6).toBe(0);
      expect(both.types.NFT_MSG_GETTABLE).toBe(3);
      const gone = await nftRequests(() => v4.disconnect(ep!));
      expect(gone).toEqual({ types: {}, ip6: 0 });
      // list() reads both NAT tables, so it sees IPv6 mappings: two reads, as many as before ip6 (ip and bridge).
      const list = await nftRequests(() => PortMapping.list(h));
      expect(list.types.NFT_MSG_GETTABLE).toBe(2);
      expect(list.ip6).toBe(1);
    } finally {
      setPublishCheck(true);
      await v4.delete();
    }
  });
});
