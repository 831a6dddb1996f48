// Bridge port flags and per-port VLANs against the real kernel, checked with
// `bridge -j -d link show`, `bridge -j vlan show`, and pings between
// namespaces that work only when the VLAN configuration allows them.
//
//   B: br0 (vlan_filtering) ── p1 ── H1 eth0 10.80.0.1/24         (untagged)
//                           ├─ p2 ── H2 eth0 10.80.0.2/24         (untagged)
//                           └─ p3 ── H3 eth0.10 10.80.0.3/24      (tagged, VLAN 10)
import { Bridge, BridgePort, type Link, Namespace, VethPair } from '../../lib';
import { spawnSync } from 'node:child_process';
import { inSandbox, ip, ping, run, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

// Per-port VLANs need CONFIG_BRIDGE_VLAN_FILTERING: ask the kernel (in a
// throwaway namespace) and skip the VLAN tests with its refusal when it says no.
const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'add', 'b0', 'type', 'bridge', 'vlan_filtering', '1'], { encoding: 'utf8' });
const NO_VLANS = probe.status === 0 ? undefined : `ip link add type bridge vlan_filtering 1: ${(probe.stderr || String(probe.error)).trim()}`;

const B = uniq('bpb');
const H = [uniq('bph'), uniq('bph'), uniq('bph')];
let b: Namespace;
let hosts: Namespace[];
let br: Bridge;
let p: Link[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const bridgeJ = (...args: string[]): Json[] => {
  const out = run('ip', ['netns', 'exec', B, 'bridge', '-j', ...args]);
  return out.trim() ? JSON.parse(out) : [];
};
const linkShow = (dev: string): Json => bridgeJ('-d', 'link', 'show', 'dev', dev)[0]!;
/** `bridge vlan show dev D` as [vid, 'PVID'?, 'untagged'?] strings. */
const vlanShow = (dev: string): string[] =>
  (bridgeJ('vlan', 'show', 'dev', dev)[0]?.vlans ?? []).map((x: Json) =>
    [x.vlan, ...(x.flags ?? []).map((f: string) => (f === 'Egress Untagged' ? 'untagged' : f))].join(' '),
  );
const reach = (from: number, to: string): boolean => ping(H[from]!, to, 1);

beforeAll(async () => {
  b = await Namespace.create(B);
  hosts = await Promise.all(H.map((n) => Namespace.create(n)));
  br = await Bridge.create('br0', { namespace: b, up: true });
  p = [];
  for (let i = 0; i < 3; i++) {
    const pair = await VethPair.create(`p${i + 1}`, { namespace: b, master: br, up: true, peerIn: hosts[i]!, peerName: 'eth0', peerUp: true });
    p.push(pair.link);
    await hosts[i]!.loopback.up();
    if (i < 2) await pair.peer.addAddress(`10.80.0.${i + 1}/24`);
  }
  if (NO_VLANS) return;
  await BridgePort.setVlanFiltering(br, true);
  // H3 speaks VLAN 10 tagged (an 802.1Q device made the iproute2 way).
  ip(H[2], 'link', 'add', 'link', 'eth0', 'name', 'eth0.10', 'type', 'vlan', 'id', '10');
  ip(H[2], 'addr', 'add', '10.80.0.3/24', 'dev', 'eth0.10');
  ip(H[2], 'link', 'set', 'eth0.10', 'up');
});

afterAll(async () => {
  await Promise.all([b?.delete(), ...(hosts ?? []).map((h) => h.delete())]);
});

describe('BridgePort flags', () => {
  const names = {
    learning: 'learning',
    flood: 'flood',
    isolated: 'isolated',
    guard: 'guard',
    fastLeave: 'fastleave',
    neighSuppress: 'neigh_suppress',
  } as const;

  it('kernel defaults read back as bridge -d link show reports them', async () => {
    const o = linkShow('p1');
    const mine = await BridgePort.get(p[0]!);
    for (const [k, oracleKey] of Object.entries(names)) expect([k, mine[k as keyof typeof names]]).toEqual([k, o[oracleKey]]);
    expect(mine).toMatchObject({ index: p[0]!.index, name: 'p1', master: br.index, learning: true, flood: true, isolated: false });
    expect(mine.state).toBe(o.state);
  });

  it('each flag set on, then off, as bridge -d link show sees it', async () => {
    for (const [k, oracleKey] of Object.entries(names)) {
      const before = linkShow('p1')[oracleKey];
      await BridgePort.set(p[0]!, { [k]: !before });
      expect([k, linkShow('p1')[oracleKey]]).toEqual([k, !before]);
      expect((await BridgePort.get(p[0]!))[k as keyof typeof names]).toBe(!before);
      await BridgePort.set(p[0]!, { [k]: before });
      expect([k, linkShow('p1')[oracleKey]]).toEqual([k, before]);
    }
  });

  it('several flags in one request; list() reports every port', async () => {
    await BridgePort.set(p[1]!, { learning: false, flood: false, neighSuppress: true });
    expect(linkShow('p2')).toMatchObject({ learning: false, flood: false, neigh_suppress: true, isolated: false });
    const all = await BridgePort.list(b);
    expect(
      all
        .filter((x) => x.master === br.index)
        .map((x) => x.name)
        .sort(),
    ).toEqual(['p1', 'p2', 'p3']);
    expect(all.find((x) => x.name === 'p2')).toMatchObject({ learning: false, flood: false, neighSuppress: true });
    await BridgePort.set(p[1]!, { learning: true, flood: true, neighSuppress: false });
  });

  it('a Link that is not a bridge port: the kernel refuses flags, get says not a port', async () => {
    const lo = (await b.links()).find((l) => l.name === 'lo')!;
    await expect(BridgePort.set(lo, { learning: false })).rejects.toMatchObject({ name: 'NetlinkError', syscall: 'RTM_SETLINK' });
    await expect(BridgePort.get(lo)).rejects.toMatchObject({ code: 'ERR_LINK_NOT_FOUND' });
  });
});

describe('BridgePort isolation', () => {
  it('isolated ports do not reach each other (real pings)', async () => {
    // Default VLAN 1 untagged on every port: H1 and H2 talk.
    expect(reach(0, '10.80.0.2')).toBe(true);
    await BridgePort.set(p[0]!, { isolated: true });
    await BridgePort.set(p[1]!, { isolated: true });
    expect(reach(0, '10.80.0.2')).toBe(false);
    await BridgePort.set(p[1]!, { isolated: false });
    expect(reach(0, '10.80.0.2')).toBe(true);
    await BridgePort.set(p[0]!, { isolated: false });
  });

  // Only where the kernel lacks VLAN filtering (the VLAN tests below run instead).
  (NO_VLANS ? it : it.skip)('a kernel without VLAN filtering refuses vlan_filtering and VLANs with its own error', async () => {
    await expect(BridgePort.setVlanFiltering(br, true)).rejects.toMatchObject({ name: 'NetlinkError', code: 'EOPNOTSUPP', syscall: 'RTM_NEWLINK' });
    await expect(BridgePort.addVlan(p[0]!, 10)).rejects.toMatchObject({ name: 'NetlinkError', code: 'EOPNOTSUPP', syscall: 'RTM_SETLINK' });
  });
});

(NO_VLANS ? describe.skip : describe)(
  `BridgePort VLANs and traffic${NO_VLANS ? ` (skipped: this kernel has no bridge VLAN filtering: ${NO_VLANS})` : ''}`,
  () => {
    it('untagged: pvid 10 on p1 and p2 connects them; p2 moved to VLAN 20 cuts it', async () => {
      for (const port of [p[0]!, p[1]!]) {
        await BridgePort.addVlan(port, 10, { pvid: true, untagged: true });
        await BridgePort.deleteVlan(port, 1);
      }
      expect(vlanShow('p1')).toEqual(['10 PVID untagged']);
      expect(vlanShow('p2')).toEqual(['10 PVID untagged']);
      expect(await BridgePort.vlans(p[0]!)).toEqual([{ vid: 10, pvid: true, untagged: true }]);
      expect(reach(0, '10.80.0.2')).toBe(true);
      await BridgePort.addVlan(p[1]!, 20, { pvid: true, untagged: true });
      await BridgePort.deleteVlan(p[1]!, 10);
      expect(vlanShow('p2')).toEqual(['20 PVID untagged']);
      expect(reach(0, '10.80.0.2')).toBe(false);
      await BridgePort.addVlan(p[1]!, 10, { pvid: true, untagged: true });
      await BridgePort.deleteVlan(p[1]!, 20);
      expect(reach(0, '10.80.0.2')).toBe(true);
    });

    it('tagged: H3 (802.1Q VLAN 10) reaches H1 only while p3 carries VLAN 10 tagged', async () => {
      await BridgePort.deleteVlan(p[2]!, 1);
      await BridgePort.addVlan(p[2]!, 20, { pvid: true, untagged: true });
      expect(reach(0, '10.80.0.3')).toBe(false);
      await BridgePort.addVlan(p[2]!, 10);
      expect(vlanShow('p3')).toEqual(['10', '20 PVID untagged']);
      expect(await BridgePort.vlans(p[2]!)).toEqual([
        { vid: 10, pvid: false, untagged: false },
        { vid: 20, pvid: true, untagged: true },
      ]);
      expect(reach(0, '10.80.0.3')).toBe(true);
      expect(reach(2, '10.80.0.2')).toBe(true);
      // Untagged on p3, the frames leave without their tag: H3's eth0.10 no longer hears them.
      await BridgePort.addVlan(p[2]!, 10, { untagged: true });
      expect(vlanShow('p3')).toEqual(['10 untagged', '20 PVID untagged']);
      expect(reach(0, '10.80.0.3')).toBe(false);
      await BridgePort.deleteVlan(p[2]!, 10);
      expect(vlanShow('p3')).toEqual(['20 PVID untagged']);
      expect(reach(0, '10.80.0.3')).toBe(false);
    });

    it('a range of VLANs, and the bridge its own VLANs (self)', async () => {
      await BridgePort.addVlan(p[2]!, [100, 103]);
      expect((await BridgePort.vlans(p[2]!)).map((x) => x.vid)).toEqual([20, 100, 101, 102, 103]);
      const raw = bridgeJ('-c', 'vlan', 'show', 'dev', 'p3')[0]!.vlans as Json[];
      expect(raw.some((x) => x.vlan === 100 && x.vlanEnd === 103)).toBe(true);
      await BridgePort.deleteVlan(p[2]!, [100, 103]);
      expect(vlanShow('p3')).toEqual(['20 PVID untagged']);
      await BridgePort.addVlan(br, 30);
      expect(vlanShow('br0')).toContain('30');
      expect((await BridgePort.vlans(br)).some((x) => x.vid === 30)).toBe(true);
      await BridgePort.deleteVlan(br, 30);
      expect(vlanShow('br0')).not.toContain('30');
    });

    it('vlan_filtering off: VLAN membership no longer separates the ports', async () => {
      await BridgePort.addVlan(p[1]!, 20, { pvid: true, untagged: true });
      await BridgePort.deleteVlan(p[1]!, 10);
      expect(reach(0, '10.80.0.2')).toBe(false);
      await BridgePort.setVlanFiltering(br, false);
      expect(JSON.parse(run('ip', ['-n', B, '-j', '-d', 'link', 'show', 'br0']))[0].linkinfo.info_data.vlan_filtering).toBe(0);
      expect(reach(0, '10.80.0.2')).toBe(true);
      await BridgePort.setVlanFiltering(br, true);
      expect(JSON.parse(run('ip', ['-n', B, '-j', '-d', 'link', 'show', 'br0']))[0].linkinfo.info_data.vlan_filtering).toBe(1);
      expect(reach(0, '10.80.0.2')).toBe(false);
    });
  },
);
