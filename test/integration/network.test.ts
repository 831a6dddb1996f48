// Network (Docker-style bridge networks) against the real kernel: links,
// addresses and routes checked with `ip -j -d` / `bridge -j -d`, NAT and
// filter rules with `nft -j list ruleset`, connectivity with ping.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bridge, Namespace, NetlinkError, NetplumbError, Network, type Endpoint } from '../../lib';
import { _setConnectFaultHook } from '../../lib/network';
import { DIST_INDEX } from '../helpers/child';
import { ip, ipj, oracle, ping, uniq } from '../helpers/oracle';
import { rejectionOf } from '../helpers/ns-link';
import { bridgePorts, hasMasquerade, metaMatch, netplumbRules, nftRules, payloadMatch, sysctlOf } from '../helpers/netnat';

const made: Namespace[] = [];
async function mk(prefix: string, loUp = false): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  if (loUp) await ns.loopback.up();
  return ns;
}
afterEach(async () => {
  _setConnectFaultHook(undefined);
  await Promise.allSettled(made.splice(0).map((ns) => ns.delete()));
});

const nm = (ns: Namespace): string => ns.name as string;
const linkNames = (ns: string): string[] => oracle.links(ns).map((l) => l.ifname).sort();
/** 'ifname addr/len' for every IPv4 address of the namespace. */
const addrSet = (ns: string): string[] =>
  (oracle.addrs(ns) as { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }[])
    .flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
/** Every route of every table, as text. */
const routeSet = (ns: string): string[] =>
  (ipj(ns, 'route', 'show', 'table', 'all') as Record<string, unknown>[]).map((r) => `${r.type ?? ''} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''} ${r.table ?? ''}`).sort();
/** Host veths carrying a lease alias of network NAME: ifname -> leased ip. */
function leasedVeths(ns: string, name: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of oracle.links(ns) as { ifname: string; ifalias?: string }[]) {
    const r = /^netplumb (\S+) ([\d.]+) \S+ \S+$/.exec(l.ifalias ?? ''); // NETWORK ADDRESS ID IFNAME
    if (r && r[1] === name) m.set(l.ifname, r[2] as string);
  }
  return m;
}
const publishRulesAll = (ns: string): string[] => netplumbRules(ns).map((r) => r.comment ?? '').filter((c) => c.startsWith('netplumb publish'));
const ipToInt = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

describe('Network.bridge', () => {
  it('creates the bridge with the gateway address, a masquerade rule and ip_forward=1', async () => {
    const host = await mk('wh');
    const H = nm(host);
    expect(sysctlOf(H, 'net/ipv4/ip_forward')).toBe('0'); // a fresh namespace: the control
    expect(oracle.link(H, 'nb0')).toBeUndefined();

    const net = await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host });
    expect([net.name, net.subnet, net.gateway, net.prefixlen]).toEqual(['nb0', '10.88.0.0/24', '10.88.0.1', 24]);
    const br = oracle.link(H, 'nb0');
    expect(br?.linkinfo?.info_kind).toBe('bridge');
    expect(br?.flags).toContain('UP');
    expect(addrSet(H)).toEqual(['nb0 10.88.0.1/24']);
    expect(net.leases).toEqual(['10.88.0.1']);

    const masq = netplumbRules(H).filter((r) => r.comment === 'netplumb masquerade nb0 10.88.0.0/24');
    expect(masq).toHaveLength(1);
    const r = masq[0]!;
    expect(r.chain).toBe('postrouting');
    expect(payloadMatch(r, 'ip', 'saddr')).toEqual({ op: '==', right: { prefix: { addr: '10.88.0.0', len: 24 } } });
    expect(metaMatch(r, 'oifname')).toEqual({ op: '!=', right: 'nb0' });
    expect(hasMasquerade(r)).toBe(true);
    expect(sysctlOf(H, 'net/ipv4/ip_forward')).toBe('1');

    // Opening it again adopts it: no second bridge address, no second rule.
    await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host });
    expect(addrSet(H)).toEqual(['nb0 10.88.0.1/24']);
    expect(netplumbRules(H).filter((x) => x.comment === 'netplumb masquerade nb0 10.88.0.0/24')).toHaveLength(1);
    await net.delete();
  });

  it('masquerade: false installs no rule', async () => {
    const host = await mk('wh');
    const net = await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host, masquerade: false });
    expect(nftRules(nm(host)).filter((r) => (r.comment ?? '').startsWith('netplumb masquerade'))).toEqual([]);
    expect(sysctlOf(nm(host), 'net/ipv4/ip_forward')).toBe('0');
    await net.delete();
  });
});

describe('connect / disconnect', () => {
  it('wires a container like Docker: vethXXXXXXX on the bridge (hairpin, lease alias), eth0 + address, default route, lo up; pings work', async () => {
    const host = await mk('wh');
    const H = nm(host);
    const c1 = await mk('wc');
    const c2 = await mk('wc');
    const net = await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host });
    const e1 = await net.connect(c1);
    const e2 = await net.connect(c2);
    const ports = bridgePorts(H);
    for (const [e, c] of [[e1, c1], [e2, c2]] as const) {
      const C = nm(c);
      expect(e.hostIfname).toMatch(/^veth[0-9a-f]{7}$/);
      expect(e.ifname).toBe('eth0');
      const h = oracle.link(H, e.hostIfname) as unknown as { master: string; flags: string[]; ifalias?: string; linkinfo: { info_kind: string } };
      expect(h.master).toBe('nb0');
      expect(h.flags).toContain('UP');
      expect(h.linkinfo.info_kind).toBe('veth');
      expect(h.ifalias).toBe(`netplumb nb0 ${e.ip} ${e.id} eth0`);
      expect(ports.get(e.hostIfname)?.hairpin).toBe(true);

      expect(linkNames(C)).toEqual(['eth0', 'lo']);
      const eth0 = oracle.link(C, 'eth0')!;
      expect(eth0.flags).toContain('UP');
      expect(eth0.address).toBe(e.mac);
      expect(oracle.link(C, 'lo')!.flags).toContain('UP');
      expect(e.address).toBe(`${e.ip}/24`);
      expect(e.gateway).toBe('10.88.0.1');
      expect(addrSet(C)).toEqual(['eth0 ' + e.address, 'lo 127.0.0.1/8'].sort());
      const defaults = (oracle.routes(C) as { dst: string; gateway?: string; dev: string }[]).filter((r) => r.dst === 'default');
      expect(defaults).toEqual([expect.objectContaining({ dst: 'default', gateway: '10.88.0.1', dev: 'eth0' })]);
      const n = ipToInt(e.ip);
      expect(n).toBeGreaterThan(ipToInt('10.88.0.1'));
      expect(n).toBeLessThan(ipToInt('10.88.0.255'));
    }
    expect(e1.ip).not.toBe(e2.ip);
    expect(net.leases).toEqual(['10.88.0.1', e1.ip, e2.ip].sort((a, b) => ipToInt(a) - ipToInt(b)));
    expect(ping(nm(c1), '10.88.0.1')).toBe(true);
    expect(ping(nm(c1), e2.ip)).toBe(true);
    expect(ping(nm(c2), e1.ip)).toBe(true);
    await net.delete();
  });

  it('disconnect removes the veth (both ends), its port mappings and the lease', async () => {
    const host = await mk('wh');
    const H = nm(host);
    const c1 = await mk('wc');
    const c2 = await mk('wc');
    const net = await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host });
    const e1 = await net.connect(c1, { publish: ['8080:80', '5353:53/udp'] });
    const e2 = await net.connect(c2, { publish: ['8081:80'] });
    expect(e1.mappings).toHaveLength(2);
    const e2rules = publishRulesAll(H).filter((c) => c.includes(e2.mappings[0]!.id));
    expect(e2rules.length).toBeGreaterThan(0);
    for (const m of e1.mappings) expect(publishRulesAll(H).filter((c) => c.startsWith(`netplumb publish ${m.id} `)).length).toBeGreaterThan(0);
    expect(publishRulesAll(H).filter((c) => c.includes(`-> ${e1.ip}:`)).length).toBeGreaterThan(0);

    await e1.disconnect();
    expect(oracle.link(H, e1.hostIfname)).toBeUndefined();
    expect(linkNames(nm(c1))).toEqual(['lo']);
    expect(publishRulesAll(H).filter((c) => c.includes(`-> ${e1.ip}:`))).toEqual([]);
    expect(publishRulesAll(H).filter((c) => c.includes(e2.mappings[0]!.id))).toEqual(e2rules);
    expect(net.leases).not.toContain(e1.ip);
    expect(net.leases).toContain(e2.ip);
    expect(oracle.link(H, e2.hostIfname)).toBeDefined();
    // The address is free again: a fixed-ip connect may take it.
    const e3 = await net.connect(c1, { ip: e1.ip });
    expect(addrSet(nm(c1))).toContain(`eth0 ${e1.ip}/24`);
    expect(ping(nm(c1), e2.ip)).toBe(true);
    await net.disconnect(e3);
    await net.delete();
  });
});

describe('IPAM', () => {
  it('200 concurrent connects on a /24 get distinct host addresses; the full /24 (253) then ERR_SUBNET_EXHAUSTED; fixed ip in use is ERR_ADDRESS_IN_USE', async () => {
    const host = await Namespace.create(uniq('wi'));
    made.push(host);
    const H = nm(host);
    const net = await Network.bridge({ name: 'ni0', subnet: '10.77.0.0/24', namespace: host });
    const ctrs: Namespace[] = [];
    try {
      const BATCH = 50;
      for (let i = 0; i < 254; i += BATCH)
        ctrs.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, 254 - i) }, () => Namespace.create(uniq('ip'))))));
      const connectRange = async (from: number, to: number): Promise<Endpoint[]> => {
        const eps: Endpoint[] = [];
        for (let i = from; i < to; i += BATCH) eps.push(...(await Promise.all(ctrs.slice(i, Math.min(i + BATCH, to)).map((c) => net.connect(c)))));
        return eps;
      };
      const first = await connectRange(0, 200);
      const ips = first.map((e) => e.ip);
      expect(new Set(ips).size).toBe(200);
      for (const a of ips) {
        expect(a.startsWith('10.77.0.')).toBe(true);
        expect(['10.77.0.0', '10.77.0.1', '10.77.0.255']).not.toContain(a);
      }
      // The kernel agrees: 200 leased host veths, with exactly those addresses.
      expect([...leasedVeths(H, 'ni0').values()].sort()).toEqual([...ips].sort());
      expect(new Set(first.map((e) => e.hostIfname)).size).toBe(200);

      const rest = await connectRange(200, 253);
      const all = [...ips, ...rest.map((e) => e.ip)];
      expect(new Set(all).size).toBe(253);
      expect(all.every((a) => /^10\.77\.0\.(\d+)$/.test(a) && !['0', '1', '255'].includes(a.split('.')[3] as string))).toBe(true);
      expect(net.leases).toHaveLength(254); // + the gateway

      const extra = ctrs[253]!;
      const hostLinks = linkNames(H);
      const leases = net.leases;
      const e = await rejectionOf(net.connect(extra));
      expect(e).toBeInstanceOf(NetplumbError);
      expect(e.code).toBe('ERR_SUBNET_EXHAUSTED');
      expect(linkNames(H)).toEqual(hostLinks);
      expect(linkNames(nm(extra))).toEqual(['lo']);
      expect(net.leases).toEqual(leases);

      for (const fixed of [all[17]!, '10.77.0.1']) {
        const f = await rejectionOf(net.connect(extra, { ip: fixed }));
        expect(f).toBeInstanceOf(NetplumbError);
        expect(f.code).toBe('ERR_ADDRESS_IN_USE');
        expect(linkNames(H)).toEqual(hostLinks);
        expect(linkNames(nm(extra))).toEqual(['lo']);
      }
      expect(net.leases).toEqual(leases);

      // Freeing one address makes room again, for exactly that address.
      await net.disconnect(first[42]!);
      const again = await net.connect(extra);
      expect(again.ip).toBe(first[42]!.ip);
    } finally {
      await Promise.allSettled(ctrs.map((c) => c.delete()));
      await net.delete();
    }
  });

  it('ERR_ADDRESS_IN_USE on a fixed ip held by another container, leaving nothing behind', async () => {
    const host = await mk('wh');
    const c1 = await mk('wc', true);
    const c2 = await mk('wc', true);
    const net = await Network.bridge({ name: 'nb0', subnet: '10.88.0.0/24', namespace: host });
    const e1 = await net.connect(c1, { ip: '10.88.0.50' });
    expect(addrSet(nm(c1))).toContain('eth0 10.88.0.50/24');
    const hostLinks = linkNames(nm(host));
    const e = await rejectionOf(net.connect(c2, { ip: '10.88.0.50' }));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_ADDRESS_IN_USE');
    expect(linkNames(nm(host))).toEqual(hostLinks);
    expect(linkNames(nm(c2))).toEqual(['lo']);
    await net.disconnect(e1);
    await net.delete();
  });
});

describe('re-open after a restart', () => {
  let dir: string;
  beforeAll(() => {
    expect(fs.existsSync(DIST_INDEX)).toBe(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-network-'));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const CHILD = String.raw`
'use strict';
const { Namespace, Network } = require(process.env.NP_DIST);
const { host, ctrs, opts } = JSON.parse(process.env.NP_ARGS);
(async () => {
  const h = await Namespace.open(host);
  const net = await Network.bridge({ ...opts, namespace: h });
  const ips = [];
  for (const [i, name] of ctrs.entries()) {
    const ep = await net.connect(await Namespace.open(name), i === 0 ? { publish: ['8080:80'] } : {});
    ips.push(ep.ip);
  }
  process.stdout.write(JSON.stringify(ips));
  process.exit(0); // no disconnect, no close: as if the process died
})().catch((e) => { console.error(e); process.exit(1); });
`;

  it('a new process sees the leases of the old one (kernel-held), and a new connect gets a different address; delete() removes them all', async () => {
    const host = await mk('wr');
    const H = nm(host);
    const ctrs = [await mk('wr'), await mk('wr'), await mk('wr')];
    const opts = { name: 'nr0', subnet: '10.66.0.0/24' };
    fs.writeFileSync(path.join(dir, 'child.js'), CHILD);
    const res = spawnSync(process.execPath, [path.join(dir, 'child.js')], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NP_DIST: DIST_INDEX, NP_ARGS: JSON.stringify({ host: H, ctrs: ctrs.map(nm), opts }) },
    });
    if (res.status !== 0) throw new Error(`child failed (${res.status}):\n${res.stdout}${res.stderr}`);
    const ips = JSON.parse(res.stdout) as string[];
    expect(new Set(ips).size).toBe(3);
    // The child's work outlives it: per the oracle.
    ctrs.forEach((c, i) => expect(addrSet(nm(c))).toContain(`eth0 ${ips[i]}/24`));
    expect([...leasedVeths(H, 'nr0').values()].sort()).toEqual([...ips].sort());

    const net = await Network.bridge({ ...opts, namespace: host });
    for (const a of ips) expect(net.leases).toContain(a);
    expect(net.leases).toContain('10.66.0.1');
    const c4 = await mk('wr');
    const e4 = await net.connect(c4);
    expect(ips).not.toContain(e4.ip);
    expect(e4.ip).not.toBe('10.66.0.1');
    expect(ping(nm(c4), ips[0]!)).toBe(true);

    // delete() takes every leased veth of the network, whoever connected it, and its rules.
    await net.delete();
    expect(leasedVeths(H, 'nr0').size).toBe(0);
    for (const c of [...ctrs, c4]) expect(linkNames(nm(c))).toEqual(['lo']);
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb masquerade nr0'))).toEqual([]);
    // Including the port published by the dead process for its container (DNAT to an address now free).
    expect(publishRulesAll(H).filter((c) => c.includes(`-> ${ips[0]}:80`))).toEqual([]);
    // The bridge was created by the (dead) child: its alias marks it netplumb's, so this
    // process's delete() removes it too, as the network's creator would have.
    expect(oracle.link(H, 'nr0')).toBeUndefined();
  });
});

describe('connect rolls back on failure', () => {
  interface Snap {
    hostLinks: string[];
    ctrLinks: string[];
    ctrAddrs: string[];
    ctrRoutes: string[];
    leases: string[];
    publish: string[];
    hostAddrs: string[];
  }
  const snap = (H: string, C: string, net: Network): Snap => ({
    hostLinks: linkNames(H),
    ctrLinks: linkNames(C),
    ctrAddrs: addrSet(C),
    ctrRoutes: routeSet(C),
    leases: net.leases,
    publish: publishRulesAll(H),
    hostAddrs: addrSet(H),
  });

  it.each(['lease', 'veth', 'address', 'route', 'publish'])('a failure at step %s: the original error, nothing left, lease free', async (stepName) => {
    const host = await mk('wf');
    const H = nm(host);
    const c = await mk('wc', true); // lo up beforehand: connect brings it up and does not undo that
    const C = nm(c);
    const net = await Network.bridge({ name: 'nf0', subnet: '10.55.0.0/24', namespace: host });
    const before = snap(H, C, net);
    expect(before.publish).toEqual([]);
    const boom = new Error(`injected failure at ${stepName}`);
    let leased: string | undefined;
    const seen: string[] = [];
    _setConnectFaultHook((s) => {
      seen.push(s);
      if (s === 'lease') leased = net.leases.find((a) => !before.leases.includes(a));
      if (s === stepName) throw boom;
    });
    const err = await rejectionOf(net.connect(c, { publish: ['8080:80'] }));
    _setConnectFaultHook(undefined);
    expect(err).toBe(boom);
    expect(seen[seen.length - 1]).toBe(stepName);
    expect(leased).toMatch(/^10\.55\.0\.\d+$/);
    expect(snap(H, C, net)).toEqual(before);
    expect(leasedVeths(H, 'nf0').size).toBe(0);
    // The lease is free: a connect may take exactly that address, and publish the port.
    const ep = await net.connect(c, { ip: leased!, publish: ['8080:80'] });
    expect(addrSet(C)).toContain(`eth0 ${leased}/24`);
    expect(publishRulesAll(H).filter((x) => x.includes(`-> ${leased}:80`)).length).toBeGreaterThan(0);
    await ep.disconnect();
    await net.delete();
  });

  it('an ifname that already exists in the container: ERR_IFNAME_IN_USE naming it (the kernel\'s EEXIST as cause), nothing left', async () => {
    const host = await mk('wf');
    const H = nm(host);
    const c = await mk('wc', true);
    const C = nm(c);
    ip(C, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    const net = await Network.bridge({ name: 'nf0', subnet: '10.55.0.0/24', namespace: host });
    const before = snap(H, C, net);
    let leased: string | undefined;
    _setConnectFaultHook((s) => {
      if (s === 'lease') leased = net.leases.find((a) => !before.leases.includes(a));
    });
    const err = await rejectionOf(net.connect(c, { publish: ['8080:80'] }));
    _setConnectFaultHook(undefined);
    expect(err).toBeInstanceOf(NetplumbError);
    expect(err.code).toBe('ERR_IFNAME_IN_USE');
    expect(err.message).toContain(`interface eth0 already exists in namespace ${C}`);
    expect(err.cause).toBeInstanceOf(NetlinkError);
    expect((err.cause as NetlinkError).code).toBe('EEXIST');
    expect((err.cause as NetlinkError).errno).toBe(-17);
    expect(snap(H, C, net)).toEqual(before);
    const other = await mk('wc');
    const ep = await net.connect(other, { ip: leased! });
    expect(ep.ip).toBe(leased);
    await net.delete();
  });

  it('a port conflict: ERR_PORT_CONFLICT before anything is made (no lease, no veth), the existing mapping untouched', async () => {
    const host = await mk('wf');
    const H = nm(host);
    const c1 = await mk('wc', true);
    const c = await mk('wc', true);
    const C = nm(c);
    const net = await Network.bridge({ name: 'nf0', subnet: '10.55.0.0/24', namespace: host });
    const e1 = await net.connect(c1, { publish: ['8080:80'] });
    const before = snap(H, C, net);
    expect(before.publish.length).toBeGreaterThan(0);
    let leased: string | undefined;
    _setConnectFaultHook((s) => {
      if (s === 'lease') leased = net.leases.find((a) => !before.leases.includes(a));
    });
    const err = await rejectionOf(net.connect(c, { publish: ['9090:90', '8080:80'] }));
    _setConnectFaultHook(undefined);
    expect(err).toBeInstanceOf(NetplumbError);
    expect(err.code).toBe('ERR_PORT_CONFLICT');
    expect(snap(H, C, net)).toEqual(before);
    expect(leased).toBeUndefined(); // refused before the lease step
    const ep = await net.connect(c, { publish: ['9090:90'] });
    expect(net.leases).toContain(ep.ip);
    await net.disconnect(e1);
    await net.delete();
  });
});

describe('icc: false', () => {
  it('containers on the bridge cannot reach each other, but reach the gateway; nft shows the bridge-family drop rule', async () => {
    const host = await mk('wk');
    const H = nm(host);
    const net = await Network.bridge({ name: 'nk0', subnet: '10.44.0.0/24', namespace: host, icc: false });
    const c1 = await mk('wc');
    const c2 = await mk('wc');
    const e1 = await net.connect(c1);
    const e2 = await net.connect(c2);
    const icc = nftRules(H).filter((r) => r.comment === 'netplumb icc nk0');
    expect(icc).toHaveLength(1);
    expect(icc[0]).toMatchObject({ family: 'bridge', table: 'netplumb', chain: 'forward' });
    expect(icc[0]!.expr.some((x) => 'drop' in x)).toBe(true);
    expect(ping(nm(c1), '10.44.0.1')).toBe(true);
    expect(ping(nm(c2), '10.44.0.1')).toBe(true);
    expect(ping(nm(c1), e2.ip, 1)).toBe(false);
    expect(ping(nm(c2), e1.ip, 1)).toBe(false);
    await net.delete();
    expect(nftRules(H).filter((r) => (r.comment ?? '').includes('nk0'))).toEqual([]);
  });
});

describe('Network.mode', () => {
  it("'host' is the process's own namespace", async () => {
    const ns = await Network.mode('host');
    const cur = await Namespace.current();
    try {
      expect(ns.equals(cur)).toBe(true);
      expect(ns.inode).toBe(fs.statSync('/proc/self/ns/net').ino);
    } finally {
      await ns.close();
      await cur.close();
    }
  });

  it("'none' is a new namespace with only lo, up", async () => {
    const name = uniq('wn');
    const ns = await Network.mode('none', { name });
    made.push(ns);
    expect(ns.name).toBe(name);
    const links = oracle.links(name);
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(links[0]!.flags).toContain('UP');
    const cur = await Namespace.current();
    expect(ns.equals(cur)).toBe(false);
    await cur.close();
  });

  it("'container:NAME' and 'container:PID' are the other container's namespace; 'foo' is ERR_INVALID_MODE", async () => {
    const c1 = await mk('wm');
    const other = await mk('wm');
    const byName = await Network.mode(`container:${nm(c1)}`);
    const child = c1.spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(byName.equals(c1)).toBe(true);
      expect(byName.equals(other)).toBe(false);
      expect(byName.inode).toBe(fs.statSync(`/run/netns/${nm(c1)}`).ino);
      const pid = child.pid!;
      expect(fs.statSync(`/proc/${pid}/ns/net`).ino).toBe(fs.statSync(`/run/netns/${nm(c1)}`).ino); // oracle: the child is in c1
      const byPid = await Network.mode(`container:${pid}`);
      expect(byPid.equals(c1)).toBe(true);
      expect(byPid.equals(other)).toBe(false);
      await byPid.close();
      const byObj = await Network.mode(c1);
      expect(byObj.equals(c1)).toBe(true);
      await byObj.close();
    } finally {
      child.kill('SIGKILL');
      await byName.close();
    }
    for (const bad of ['foo', 'bridge', 'container']) {
      const e = await rejectionOf(Network.mode(bad as 'host'));
      expect(e).toBeInstanceOf(NetplumbError);
      expect(e.code).toBe('ERR_INVALID_MODE');
    }
  });
});

describe('delete()', () => {
  it('a created network: bridge gone, rules gone, host veths gone', async () => {
    const host = await mk('wd');
    const H = nm(host);
    const c1 = await mk('wc');
    const c2 = await mk('wc');
    const net = await Network.bridge({ name: 'nd0', subnet: '10.33.0.0/24', namespace: host });
    const e1 = await net.connect(c1, { publish: ['8080:80'] });
    await net.connect(c2, { publish: ['53:53/udp'] });
    expect(publishRulesAll(H).length).toBeGreaterThan(0);
    await net.delete();
    expect(oracle.link(H, 'nd0')).toBeUndefined();
    expect(oracle.link(H, e1.hostIfname)).toBeUndefined();
    expect(leasedVeths(H, 'nd0').size).toBe(0);
    expect(linkNames(H)).toEqual(['lo']);
    expect(linkNames(nm(c1))).toEqual(['lo']);
    expect(linkNames(nm(c2))).toEqual(['lo']);
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb'))).toEqual([]);
  });

  it('an adopted bridge stays (with its address), without our veths and rules', async () => {
    const host = await mk('wd');
    const H = nm(host);
    const c1 = await mk('wc');
    await Bridge.create('nd1', { namespace: host, address: '10.34.0.1/24', up: true });
    const net = await Network.bridge({ name: 'nd1', subnet: '10.34.0.0/24', namespace: host });
    expect(addrSet(H)).toEqual(['nd1 10.34.0.1/24']); // adopted, not readdressed
    const e1 = await net.connect(c1, { publish: ['8080:80'] });
    expect(ping(nm(c1), '10.34.0.1')).toBe(true);
    await net.delete();
    expect(oracle.link(H, 'nd1')?.linkinfo?.info_kind).toBe('bridge');
    expect(addrSet(H)).toEqual(['nd1 10.34.0.1/24']);
    expect(oracle.link(H, e1.hostIfname)).toBeUndefined();
    expect(oracle.links(H).filter((l) => l.master === 'nd1')).toEqual([]);
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb'))).toEqual([]);
    // "This network is mine": delete({ bridge: true }) removes the adopted bridge too.
    const again = await Network.bridge({ name: 'nd1', subnet: '10.34.0.0/24', namespace: host });
    await again.delete({ bridge: true });
    expect(oracle.link(H, 'nd1')).toBeUndefined();
  });

  it("a bridge netplumb made carries the alias 'netplumb network SUBNET': any process's delete() removes it, a user's is never marked", async () => {
    const host = await mk('wm');
    const H = nm(host);
    const made = await Network.bridge({ name: 'nm1', subnet: '10.35.0.0/24', namespace: host });
    expect(oracle.link(H, 'nm1')?.ifalias).toBe('netplumb network 10.35.0.0/24');
    // Another process (here: another Network object, as after a restart) adopts it and deletes it.
    const adopted = await Network.bridge({ name: 'nm1', subnet: '10.35.0.0/24', namespace: host });
    await adopted.delete();
    expect(oracle.link(H, 'nm1')).toBeUndefined();
    await made.delete(); // and the creator's own delete after that is a no-op
    await Bridge.create('nm2', { namespace: host, up: true });
    await (await Network.bridge({ name: 'nm2', subnet: '10.36.0.0/24', namespace: host })).delete();
    expect(oracle.link(H, 'nm2')?.ifalias).toBeUndefined();
  });
});
