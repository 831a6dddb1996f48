// netplumb-cni beside the reference chain (Debian's containernetworking-plugins:
// bridge + host-local + portmap, and loopback) on one scenario, in one run:
// a bridge with gateway .1, masquerade, hairpin, two containers, 8080 -> 80 on
// the first, an "outside" namespace behind the host. Each kind gets a host
// namespace of its own (netplumb 10.88.0.0/16, reference 10.89.0.0/16); the
// same traffic checks must give the same answers for both.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Namespace } from '../../lib';
import { CniDriver, type ConfList } from '../helpers/cni-driver';
import { closeServer, httpGet, netplumbRules, tagServer } from '../helpers/netnat';
import { ip, ipj, IpNetns, ping, run } from '../helpers/oracle';
import { ROOT } from '../helpers/child';

/* eslint-disable @typescript-eslint/no-explicit-any */

const REF_DIR = '/usr/lib/cni';
const CNI_PATH = [path.join(ROOT, 'bin'), REF_DIR];
const missing = ['bridge', 'host-local', 'portmap', 'loopback'].filter((p) => !fs.existsSync(path.join(REF_DIR, p)));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cni-ref-'));

const nets = new IpNetns();
const netns = (prefix: string): string => nets.add(prefix);
afterAll(() => nets.deleteAll());

const HOST = '192.168.77.1';
const OUT = '192.168.77.2';

interface Kind {
  name: 'netplumb' | 'reference';
  bridge: string;
  net: string;
  list: ConfList;
  /** Plugins whose CHECK is skipped (a known bug of theirs). */
  skipCheck: string[];
}

const kinds: Kind[] = [
  {
    name: 'netplumb', bridge: 'np0', net: '10.88',
    list: { cniVersion: '1.0.0', name: 'npnet', plugins: [{ type: 'netplumb-cni', bridge: 'np0', isGateway: true, ipMasq: true, hairpinMode: true, capabilities: { portMappings: true }, ipam: { type: 'netplumb', subnet: '10.88.0.0/16', routes: [{ dst: '0.0.0.0/0' }] } }] },
    skipCheck: [],
  },
  {
    name: 'reference', bridge: 'cniref0', net: '10.89',
    list: {
      cniVersion: '1.0.0', name: 'refnet',
      plugins: [
        { type: 'bridge', bridge: 'cniref0', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', subnet: '10.89.0.0/16', routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(tmp, 'host-local') } },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    },
    // portmap 1.1.1 fails its own CHECK on IPv4-only containers (containernetworking/plugins#819).
    skipCheck: ['portmap'],
  },
];

/** Runs `fn`; 'ok: BODY' or 'fail'. */
async function probe(fn: () => Promise<string>): Promise<string> {
  try {
    return `ok: ${await fn()}`;
  } catch {
    return 'fail';
  }
}

async function scenario(k: Kind): Promise<{ results: Record<string, string>; H: string; ips: string[] }> {
  const H = netns('crh');
  const O = netns('cro');
  const cs = [netns('crc'), netns('crc')];
  ip(H, 'link', 'set', 'lo', 'up'); // a host's loopback is up
  ip(H, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'out0', 'netns', O);
  ip(H, 'addr', 'add', `${HOST}/24`, 'dev', 'up0');
  ip(H, 'link', 'set', 'up0', 'up');
  ip(O, 'addr', 'add', `${OUT}/24`, 'dev', 'out0');
  ip(O, 'link', 'set', 'out0', 'up');
  const wrap = ['ip', 'netns', 'exec', H];
  const d = new CniDriver(k.list, { path: CNI_PATH, cacheDir: path.join(tmp, k.name), wrap });
  const lo = new CniDriver({ cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] }, { path: CNI_PATH, cacheDir: path.join(tmp, `${k.name}-lo`), wrap });
  const att = cs.map((c, i) => ({
    containerId: `${k.name}-c${i}`, netns: `/run/netns/${c}`, ifname: 'eth0',
    ...(i === 0 ? { capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } } : {}),
  }));
  const ips: string[] = [];
  for (const a of att) {
    if (k.name === 'reference') await lo.add({ ...a, ifname: 'lo' });
    const r = await d.add(a);
    ips.push(r.ips[0].address.split('/')[0]);
  }
  const [c1, c2, out, host] = await Promise.all([Namespace.open(cs[0] as string), Namespace.open(cs[1] as string), Namespace.open(O), Namespace.open(H)]);
  const servers = await Promise.all([tagServer(c1, 80, 'c1'), tagServer(c2, 80, 'c2'), tagServer(out, 7000, 'out')]);
  const gw = `${k.net}.0.1`;
  // Addresses differ between the kinds only by the subnet: write them as the netplumb one's.
  const norm = (s: string) => s.split(`${k.net}.`).join('NET.');
  const results: Record<string, string> = {};
  try {
    results['container -> gateway (ping)'] = ping(cs[0] as string, gw) ? 'ok' : 'fail';
    results['container -> container'] = norm(await probe(() => httpGet(`http://${ips[1]}/`, c1.agent())));
    results['container -> outside (source seen)'] = await probe(() => httpGet(`http://${OUT}:7000/`, c1.agent()));
    results['outside -> published port'] = await probe(() => httpGet(`http://${HOST}:8080/`, out.agent()));
    results['host -> published port via its address'] = norm(await probe(() => httpGet(`http://${HOST}:8080/`, host.agent())));
    results['host -> published port via 127.0.0.1'] = norm(await probe(() => httpGet('http://127.0.0.1:8080/', host.agent())));
    results['hairpin: the container to its own published port'] = norm(await probe(() => httpGet(`http://${HOST}:8080/`, c1.agent())));
    results['hairpin: the other container to the published port'] = norm(await probe(() => httpGet(`http://${HOST}:8080/`, c2.agent())));
    for (const a of att) await d.check(a, k.skipCheck);
    results.CHECK = 'ok';
  } finally {
    await Promise.all(servers.map((s) => closeServer(s as any)));
    await Promise.all([c1, c2, out, host].map((n) => n.close()));
  }
  for (const a of [...att].reverse()) {
    await d.del(a);
    if (k.name === 'reference') await lo.del({ ...a, ifname: 'lo' });
  }
  return { results, H, ips };
}

(missing.length ? describe.skip : describe)(`netplumb-cni and the reference chain side by side${missing.length ? ` (skipped: ${missing.join(', ')} missing in ${REF_DIR})` : ''}`, () => {
  it('the same traffic results, CHECK passing, and nothing of netplumb left after DEL', async () => {
    const np = await scenario(kinds[0] as Kind);
    const ref = await scenario(kinds[1] as Kind);
    // What the scenario must give, for both.
    expect(np.results).toEqual({
      'container -> gateway (ping)': 'ok',
      'container -> container': 'ok: c2 80 NET.0.2',
      'container -> outside (source seen)': `ok: out 7000 ${HOST}`,
      'outside -> published port': `ok: c1 80 ${OUT}`,
      'host -> published port via its address': expect.stringMatching(/^ok: c1 80 /),
      'host -> published port via 127.0.0.1': expect.stringMatching(/^ok: c1 80 /),
      'hairpin: the container to its own published port': expect.stringMatching(/^ok: c1 80 /),
      'hairpin: the other container to the published port': expect.stringMatching(/^ok: c1 80 /),
      CHECK: 'ok',
    });
    expect(Object.keys(ref.results)).toEqual(Object.keys(np.results));
    for (const key of Object.keys(np.results)) expect([key, ref.results[key]?.startsWith('ok')]).toEqual([key, true]);
    expect(ref.results['container -> outside (source seen)']).toBe(np.results['container -> outside (source seen)']);
    expect(ref.results['outside -> published port']).toBe(np.results['outside -> published port']);
    expect(ref.results['container -> container']).toBe(np.results['container -> container']);

    // After DEL: no veth on the bridge, no lease, no address but the gateway's, no rule to a container, no conntrack entry of theirs.
    const H = np.H;
    expect(ipj(H, 'link', 'show', 'master', 'np0')).toEqual([]);
    // No lease (host veth alias 'netplumb NET ADDR ID IFNAME'); the bridge stays, marked as netplumb's, as the reference leaves its bridge.
    expect((ipj(H, 'link', 'show') as any[]).filter((l) => (l.ifalias ?? '').startsWith('netplumb ')).map((l) => `${l.ifname} ${l.ifalias}`)).toEqual(['np0 netplumb network 10.88.0.0/16']);
    expect((ipj(H, 'addr', 'show', 'dev', 'np0') as any[])[0].addr_info.filter((a: any) => a.family === 'inet').map((a: any) => a.local)).toEqual(['10.88.0.1']);
    expect(netplumbRules(H).map((r) => r.comment)).toEqual(['netplumb masquerade np0 10.88.0.0/16']);
    const ct = run('ip', ['netns', 'exec', H, 'conntrack', '-L']);
    for (const addr of np.ips) expect(ct.split('\n').filter((l) => l.includes(`=${addr} `) && l.includes('dport=8080'))).toEqual([]);
  }, 120_000);
});
