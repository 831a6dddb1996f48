// PortMapping / Bridge.publish against the real kernel: the rules are checked
// with `nft -j list ruleset` (run in the host namespace), and the NAT with
// real traffic (HTTP over TCP, a UDP echo) between namespaces.
//
// Topology (all namespaces made here):
//   out (10.99.0.2) ==uplink== host (10.99.0.1, 10.99.0.11) -- br (172.20.0.1/24) -- c1 (172.20.0.2), c2 (172.20.0.3)
import type * as http from 'node:http';
import type * as dgram from 'node:dgram';
import { Bridge, Namespace, NetplumbError, Network, parsePublish, PortMapping, Route, VethPair } from '../../lib';
import { ip, uniq } from '../helpers/oracle';
import { rejectionOf } from '../helpers/ns-link';
import {
  closeServer,
  counterPackets,
  dnatOf,
  hasMasquerade,
  httpFailure,
  httpGet,
  metaMatch,
  netplumbRules,
  nftChains,
  publishRules,
  sysctlOf,
  tagServer,
  udpAsk,
  udpEcho,
  type NftRule,
} from '../helpers/netnat';

const HOST_IP = '10.99.0.1';
const HOST_IP2 = '10.99.0.11';
const OUT_IP = '10.99.0.2';
const GW = '172.20.0.1';
const C1 = '172.20.0.2';
const C2 = '172.20.0.3';

let host: Namespace, out: Namespace, c1: Namespace, c2: Namespace;
let H: string;
let br: Bridge;
const servers: http.Server[] = [];
const udps: dgram.Socket[] = [];
const made: Namespace[] = [];

async function mk(prefix: string): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  await ns.loopback.up();
  return ns;
}

beforeAll(async () => {
  host = await mk('nh');
  out = await mk('no');
  c1 = await mk('nc1');
  c2 = await mk('nc2');
  H = host.name as string;
  const up = await VethPair.create('uplink', { namespace: host, up: true, peerIn: out, peerName: 'eth0', peerUp: true });
  await up.link.addAddress(`${HOST_IP}/24`);
  await up.link.addAddress(`${HOST_IP2}/24`);
  await up.peer.addAddress(`${OUT_IP}/24`);
  // So that un-NATed traffic from the bridge subnet could come back: the masquerade test's negative control.
  await Route.add({ namespace: out, to: '172.20.0.0/24', via: HOST_IP });
  br = await Bridge.create('br0', { namespace: host, address: `${GW}/24`, up: true });
  for (const [c, addr, name] of [[c1, C1, 'v1'], [c2, C2, 'v2']] as const) {
    const p = await VethPair.create(name, { namespace: host, master: br, up: true, peerIn: c, peerName: 'eth0', peerUp: true });
    await p.peer.addAddress(`${addr}/24`, { nodad: true });
    await p.link.setHairpin(true);
    await Route.add({ namespace: c, to: 'default', via: GW });
  }
  await host.sysctl.set('net.ipv4.ip_forward', 1);
  for (const port of [80, 8000, 8001, 8002]) servers.push(await tagServer(c1, port, 'c1'));
  servers.push(await tagServer(c2, 80, 'c2'));
  servers.push(await tagServer(out, 80, 'out'));
  udps.push(await udpEcho(c1, 53, 'c1'));
});

afterAll(async () => {
  for (const s of udps) s.close();
  await Promise.all(servers.map(closeServer));
  await Promise.allSettled(made.map((ns) => ns.delete()));
});

const url = (addr: string, port: number): string => `http://${addr}:${port}/`;
const byChain = (rules: NftRule[], chain: string): NftRule[] => rules.filter((r) => r.chain === chain);
const dport = (r: NftRule, proto: string): unknown => r.expr.find((e) => e.match?.left?.payload?.protocol === proto && e.match.left.payload.field === 'dport')?.match;
const fibLocal = (r: NftRule): boolean =>
  r.expr.some((e) => e.match?.op === '==' && e.match.left?.fib?.result === 'type' && (e.match.left.fib.flags as string[]).includes('daddr') && e.match.right === 'local');
const daddr = (r: NftRule): unknown => r.expr.find((e) => e.match?.left?.payload?.protocol === 'ip' && e.match.left.payload.field === 'daddr')?.match;
const saddr = (r: NftRule): unknown => r.expr.find((e) => e.match?.left?.payload?.protocol === 'ip' && e.match.left.payload.field === 'saddr')?.match;
const handles = (rules: NftRule[]): string[] => rules.map((r) => `${r.chain}/${r.handle}/${r.comment}`).sort();

describe('Bridge.publish tcp 8080 -> c1:80', () => {
  let m: PortMapping;

  it('negative control: before publishing, the outside cannot reach host:8080', async () => {
    expect(netplumbRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb publish'))).toEqual([]);
    await httpFailure(url(HOST_IP, 8080), out.agent());
    // ... while the container itself serves (the server is not the problem).
    expect(await httpGet(url(C1, 80), c2.agent())).toBe(`c1 80 ${C2}`);
  });

  it('installs prerouting + output dnat and a postrouting hairpin masquerade in table ip netplumb', async () => {
    m = await br.publish({ hostPort: 8080, to: `${C1}:80` });
    expect(m.id).toMatch(/^[0-9a-f]{8}$/);
    expect(m.toJSON()).toEqual({ id: m.id, family: 4, protocol: 'tcp', hostAddress: '*', hostPort: 8080, hostPortEnd: 8080, address: C1, port: 80, localhost: false });

    const chains = nftChains(H).filter((c) => c.family === 'ip' && c.table === 'netplumb');
    expect(chains.map((c) => `${c.name}:${c.type}:${c.hook}`).sort()).toEqual(['output:nat:output', 'postrouting:nat:postrouting', 'prerouting:nat:prerouting']);

    const rules = publishRules(H, m.id);
    for (const r of rules) {
      expect(r.family).toBe('ip');
      expect(r.table).toBe('netplumb');
      expect(r.comment).toBe(`netplumb publish ${m.id} tcp *:8080 -> ${C1}:80`);
    }
    const [pre, ...morePre] = byChain(rules, 'prerouting');
    const [outp, ...moreOut] = byChain(rules, 'output');
    const [post, ...morePost] = byChain(rules, 'postrouting');
    expect([morePre, moreOut, morePost]).toEqual([[], [], []]);
    expect(rules).toHaveLength(3);

    for (const r of [pre!, outp!]) {
      expect(dport(r, 'tcp')).toEqual({ op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 8080 });
      expect(dnatOf(r)).toEqual({ addr: C1, port: 80 });
      expect(fibLocal(r)).toBe(true);
    }
    // The host's own connections to 127.0.0.0/8 are not DNATed (no localhost publishing asked).
    expect(daddr(outp!)).toEqual({ op: '!=', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '127.0.0.0', len: 8 } } });
    expect(daddr(pre!)).toBeUndefined();

    // Hairpin: from the bridge subnet, to the container's port, DNATed, out through the bridge.
    expect(hasMasquerade(post!)).toBe(true);
    expect(dnatOf(post!)).toBeUndefined();
    expect(metaMatch(post!, 'oifname')).toEqual({ op: '==', right: 'br0' });
    expect(saddr(post!)).toEqual({ op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '172.20.0.0', len: 24 } } });
    expect(daddr(post!)).toEqual({ op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: C1 });
    expect(dport(post!, 'tcp')).toEqual({ op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 80 });
    expect(post!.expr.some((e) => e.match?.left?.ct?.key === 'status' && e.match.right === 'dnat')).toBe(true);

    const listed = (await PortMapping.list(host)).find((x) => x.id === m.id);
    expect(listed?.toJSON()).toEqual(m.toJSON());
  });

  it('TCP from the outside namespace reaches the container (source kept)', async () => {
    expect(await httpGet(url(HOST_IP, 8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    // Any local address of the host: the second uplink address too.
    expect(await httpGet(url(HOST_IP2, 8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    expect(counterPackets(byChain(publishRules(H, m.id), 'prerouting')[0]!)).toBeGreaterThan(0);
  });

  it("from the host namespace to its own address (output chain)", async () => {
    const before = counterPackets(byChain(publishRules(H, m.id), 'output')[0]!);
    expect(await httpGet(url(HOST_IP, 8080), host.agent())).toMatch(/^c1 80 /);
    expect(counterPackets(byChain(publishRules(H, m.id), 'output')[0]!)).toBeGreaterThan(before);
  });

  it('hairpin: c1 reaches its own published port through the host address (masqueraded to the gateway)', async () => {
    expect(await httpGet(url(HOST_IP, 8080), c1.agent())).toBe(`c1 80 ${GW}`);
    expect(counterPackets(byChain(publishRules(H, m.id), 'postrouting')[0]!)).toBeGreaterThan(0);
  });

  it('another container (c2) reaches c1 through the host address', async () => {
    expect(await httpGet(url(HOST_IP, 8080), c2.agent())).toBe(`c1 80 ${GW}`);
  });

  it('conflict: the same tcp port again is ERR_PORT_CONFLICT and adds nothing; overlapping range / address too', async () => {
    const before = handles(netplumbRules(H));
    for (const attempt of [
      () => br.publish({ hostPort: 8080, to: `${C2}:80` }),
      () => br.publish({ protocol: 'tcp', hostPort: [8079, 8081], to: `${C2}:80` }),
      () => br.publish({ hostPort: 8080, hostAddress: HOST_IP, to: `${C2}:80` }),
      () => PortMapping.publish({ namespace: host, hostPort: 8080, to: `${C2}:80` }),
    ]) {
      const e = await rejectionOf(attempt());
      expect(e).toBeInstanceOf(NetplumbError);
      expect(e.code).toBe('ERR_PORT_CONFLICT');
      expect(handles(netplumbRules(H))).toEqual(before);
    }
    // Still c1 that answers.
    expect(await httpGet(url(HOST_IP, 8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
  });

  it('a different protocol on the same port is fine', async () => {
    const u = await br.publish({ protocol: 'udp', hostPort: 8080, to: `${C1}:53` });
    try {
      const rules = publishRules(H, u.id);
      expect(rules).toHaveLength(3);
      for (const r of byChain(rules, 'prerouting')) expect(dport(r, 'udp')).toMatchObject({ op: '==', right: 8080 });
      expect(await udpAsk(out, HOST_IP, 8080, 'x')).toBe(`c1 53 ${OUT_IP} x`);
      expect(await httpGet(url(HOST_IP, 8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    } finally {
      await u.unpublish();
    }
    expect(publishRules(H, u.id)).toEqual([]);
  });

  it('unpublish removes exactly its rules; other mappings are untouched; traffic stops', async () => {
    const other = await br.publish({ hostPort: 8086, to: `${C2}:80` });
    const otherRules = handles(publishRules(H, other.id));
    expect(otherRules).toHaveLength(3);
    await m.unpublish();
    expect(publishRules(H, m.id)).toEqual([]);
    expect(netplumbRules(H).some((r) => (r.comment ?? '').includes(m.id))).toBe(false);
    expect(handles(publishRules(H, other.id))).toEqual(otherRules);
    expect((await PortMapping.list(host)).map((x) => x.id)).not.toContain(m.id);
    await httpFailure(url(HOST_IP, 8080), out.agent());
    expect(await httpGet(url(HOST_IP, 8086), out.agent())).toBe(`c2 80 ${OUT_IP}`);
    await m.unpublish(); // twice: no-op
    expect(handles(publishRules(H, other.id))).toEqual(otherRules);
    await other.unpublish();
    expect(publishRules(H, other.id)).toEqual([]);
  });
});

describe('UDP', () => {
  it('echo through a published udp port: from outside, and hairpin from c2', async () => {
    await expect(udpAsk(out, HOST_IP, 5353, 'before', 2, 400)).rejects.toThrow(/no UDP answer/);
    const u = await br.publish({ protocol: 'udp', hostPort: 5353, to: `${C1}:53` });
    try {
      const rules = publishRules(H, u.id);
      expect(rules.map((r) => r.chain).sort()).toEqual(['output', 'postrouting', 'prerouting']);
      for (const r of [...byChain(rules, 'prerouting'), ...byChain(rules, 'output')]) {
        expect(dport(r, 'udp')).toEqual({ op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: 5353 });
        expect(dnatOf(r)).toEqual({ addr: C1, port: 53 });
      }
      expect(await udpAsk(out, HOST_IP, 5353, 'hello')).toBe(`c1 53 ${OUT_IP} hello`);
      expect(await udpAsk(c2, HOST_IP, 5353, 'hairpin')).toBe(`c1 53 ${GW} hairpin`);
    } finally {
      await u.unpublish();
    }
  });
});

describe('port ranges', () => {
  it('8000-8002 -> c1:8000: one rule per chain, a port range kept one to one; traffic to 8001 reaches port 8001', async () => {
    expect(parsePublish('8000-8002:8000-8002')).toEqual({ hostPort: [8000, 8002], containerPort: [8000, 8002], protocol: 'tcp' });
    const m = await br.publish({ hostPort: [8000, 8002], to: `${C1}:8000` });
    try {
      const rules = publishRules(H, m.id);
      for (const chain of ['prerouting', 'output', 'postrouting']) expect(byChain(rules, chain)).toHaveLength(1);
      for (const chain of ['prerouting', 'output']) {
        const [r] = byChain(rules, chain) as [NftRule];
        // The same port numbers: the range is matched at once and the port is kept (no port in the dnat).
        expect([(dport(r, 'tcp') as { right: unknown }).right, dnatOf(r)]).toEqual([{ range: [8000, 8002] }, { addr: C1 }]);
      }
      expect((dport(byChain(rules, 'postrouting')[0] as NftRule, 'tcp') as { right: unknown }).right).toEqual({ range: [8000, 8002] });
      expect(await httpGet(url(HOST_IP, 8001), out.agent())).toBe(`c1 8001 ${OUT_IP}`);
      expect(await httpGet(url(HOST_IP, 8002), out.agent())).toBe(`c1 8002 ${OUT_IP}`);
      expect(await httpGet(url(HOST_IP, 8001), c2.agent())).toBe(`c1 8001 ${GW}`);
      // One past the range is not published.
      await httpFailure(url(HOST_IP, 8003), out.agent());
    } finally {
      await m.unpublish();
    }
  });

  it('9000-9001 -> c1:8001 maps 9001 onto 8002', async () => {
    const m = await br.publish({ hostPort: [9000, 9001], to: `${C1}:8001` });
    try {
      expect(await httpGet(url(HOST_IP, 9000), out.agent())).toBe(`c1 8001 ${OUT_IP}`);
      expect(await httpGet(url(HOST_IP, 9001), out.agent())).toBe(`c1 8002 ${OUT_IP}`);
    } finally {
      await m.unpublish();
    }
  });
});

describe('hostAddress', () => {
  it('restricts the DNAT to that host address', async () => {
    const m = await br.publish({ hostPort: 8090, hostAddress: HOST_IP, to: `${C1}:80` });
    try {
      for (const r of byChain(publishRules(H, m.id), 'prerouting').concat(byChain(publishRules(H, m.id), 'output'))) {
        expect(daddr(r)).toEqual({ op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: HOST_IP });
        expect(fibLocal(r)).toBe(false);
      }
      expect(await httpGet(url(HOST_IP, 8090), out.agent())).toBe(`c1 80 ${OUT_IP}`);
      await httpFailure(url(HOST_IP2, 8090), out.agent());
      await httpFailure(url(HOST_IP2, 8090), host.agent());
      // Another address, same port: no overlap, so no conflict.
      const m2 = await br.publish({ hostPort: 8090, hostAddress: HOST_IP2, to: `${C2}:80` });
      try {
        expect(await httpGet(url(HOST_IP2, 8090), out.agent())).toBe(`c2 80 ${OUT_IP}`);
        expect(await httpGet(url(HOST_IP, 8090), out.agent())).toBe(`c1 80 ${OUT_IP}`);
      } finally {
        await m2.unpublish();
      }
    } finally {
      await m.unpublish();
    }
  });
});

describe('localhost', () => {
  it('without localhost: true, 127.0.0.1:PORT from the host does not reach the container', async () => {
    const m = await br.publish({ hostPort: 8091, to: `${C1}:80` });
    try {
      expect(await httpGet(url(HOST_IP, 8091), host.agent())).toMatch(/^c1 80 /); // positive control
      await httpFailure(url('127.0.0.1', 8091), host.agent());
    } finally {
      await m.unpublish();
    }
  });

  it('with localhost: true, http://127.0.0.1:PORT from the host reaches the container', async () => {
    const m = await br.publish({ hostPort: 8092, to: `${C1}:80`, localhost: true });
    try {
      expect(m.localhost).toBe(true);
      expect(sysctlOf(H, 'net/ipv4/conf/br0/route_localnet')).toBe('1');
      const outRules = byChain(publishRules(H, m.id), 'output');
      expect(outRules).toHaveLength(1);
      expect(daddr(outRules[0]!)).toBeUndefined();
      expect(await httpGet(url('127.0.0.1', 8092), host.agent())).toBe(`c1 80 ${GW}`);
    } finally {
      await m.unpublish();
    }
    expect(publishRules(H, m.id)).toEqual([]);
    await httpFailure(url('127.0.0.1', 8092), host.agent());
  });
});

describe('outgoing connections (Network masquerade)', () => {
  it('a container on a Network reaches the outside with the host uplink address as source', async () => {
    // Negative control: c1's bridge has no masquerade, so the outside sees c1's own address.
    expect(await httpGet(url(OUT_IP, 80), c1.agent())).toBe(`out 80 ${C1}`);
    const net = await Network.bridge({ name: 'nb1', subnet: '172.21.0.0/24', namespace: host });
    const c3 = await mk('nc3');
    try {
      const masq = netplumbRules(H).filter((r) => r.comment === 'netplumb masquerade nb1 172.21.0.0/24');
      expect(masq).toHaveLength(1);
      const ep = await net.connect(c3);
      expect(ep.ip).toBe('172.21.0.2');
      expect(await httpGet(url(OUT_IP, 80), c3.agent())).toBe(`out 80 ${HOST_IP}`);
      expect(counterPackets(netplumbRules(H).find((r) => r.comment === 'netplumb masquerade nb1 172.21.0.0/24')!)).toBeGreaterThan(0);
      // The other bridge's subnet is not masqueraded by this network's rule.
      expect(await httpGet(url(OUT_IP, 80), c1.agent())).toBe(`out 80 ${C1}`);
    } finally {
      await net.delete();
    }
    expect(netplumbRules(H).filter((r) => (r.comment ?? '').includes('nb1'))).toEqual([]);
    expect(ip(H, '-j', 'link', 'show')).not.toContain('"nb1"');
  });
});
