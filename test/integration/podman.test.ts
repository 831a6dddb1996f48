// A real runtime drives netplumb-cni: Debian's Podman 4 with its CNI backend
// runs busybox containers (an image made offline with `podman import`) on a
// netplumb-cni network, one with `-p 8080:80`; the traffic is checked from the
// host, from outside, between the containers and out of them; `podman rm`
// must leave nothing of netplumb's (veths, leases, publish rules, conntrack),
// no container namespace and no process behind.
//
// Podman runs in a network namespace H of the test's own (behind which an
// "outside" namespace O hangs) and in a mount namespace of the test's own
// (test/helpers/podman.ts), so none of its state reaches the host. Skipped,
// with the reason, where podman cannot run at all: not in the sandbox, tools
// missing, a Podman without CNI, or a container with no network failing.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace } from '../../lib';
import { closeServer, dnatOf, httpGet, netplumbRules, tagServer } from '../helpers/netnat';
import { inSandbox, ip, ipj, IpNetns, run, uniq } from '../helpers/oracle';
import { PodmanHost, podmanToolsMissing } from '../helpers/podman';

/* eslint-disable @typescript-eslint/no-explicit-any */

const IMAGE = 'localhost/np-busybox:latest';
// (busybox 1.35's `wget -T` segfaults: `timeout 5 wget` bounds a wget instead.)
const APPLETS = ['sh', 'httpd', 'wget', 'timeout', 'ip', 'ping', 'cat', 'true'];
const BODY1 = 'served by c1 through netplumb-cni';
const BODY2 = 'served by c2 through netplumb-cni';
const FILES = { 'www1/index.html': BODY1, 'www2/index.html': BODY2 };
const HOST = '192.168.78.1';
const OUT = '192.168.78.2';
const GW = '10.77.0.1';
const CONFLIST = {
  cniVersion: '1.0.0',
  name: 'npnet',
  plugins: [
    {
      type: 'netplumb-cni', bridge: 'np0', isGateway: true, ipMasq: true, hairpinMode: true,
      ipam: { type: 'netplumb', subnet: '10.77.0.0/24', routes: [{ dst: '0.0.0.0/0' }] },
      capabilities: { portMappings: true },
    },
  ],
};
/** What podman must not have created on the host (it would, with its defaults). */
const HOST_PATHS = ['/var/lib/containers', '/var/lib/cni', '/run/containers', '/run/libpod'];

/** Why podman cannot run here, in its own words; undefined if it can. No netplumb involved. */
function cannotRun(): string | undefined {
  if (!inSandbox()) return 'not inside the sandbox as root (run it with npm test)';
  const tools = podmanToolsMissing();
  if (tools) return tools;
  const n = uniq('pmprobe');
  ip(undefined, 'netns', 'add', n);
  let host: PodmanHost | undefined;
  try {
    host = new PodmanHost(n, []);
    host.importImage(IMAGE, APPLETS, {});
    const r = host.runSync(['podman', 'run', '--rm', '--network', 'none', IMAGE, 'true']);
    if (r.status !== 0) return `podman cannot run a container here even with --network none: exit ${r.status}: ${r.stderr.trim()}`;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    host?.destroy();
    ip(undefined, 'netns', 'delete', n);
  }
}

const reason = cannotRun();
if (reason) console.warn(`podman.test.ts skipped: ${reason}`);

const nets = new IpNetns();
const netns = (prefix: string): string => nets.add(prefix);

/** The netplumb leases on np0 in H: host veths whose alias is `netplumb np0 ADDRESS ID IFNAME`. */
function leases(H: string): string[] {
  return (ipj(H, 'link', 'show') as any[]).map((l) => l.ifalias ?? '').filter((a: string) => a.startsWith('netplumb np0 '));
}

(reason ? describe.skip : describe)(`Podman (CNI backend) runs containers on a netplumb-cni network${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let host: PodmanHost | undefined;
  const hostPathsBefore = new Map(HOST_PATHS.map((p) => [p, fs.existsSync(p)]));

  afterAll(() => {
    host?.destroy();
    nets.deleteAll();
  });

  it('podman run -p: addresses, the published port, traffic; podman rm leaves nothing', async () => {
    const H = netns('pmh');
    const O = netns('pmo');
    ip(H, 'link', 'set', 'lo', 'up');
    ip(H, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'out0', 'netns', O);
    ip(H, 'addr', 'add', `${HOST}/24`, 'dev', 'up0');
    ip(H, 'link', 'set', 'up0', 'up');
    ip(O, 'addr', 'add', `${OUT}/24`, 'dev', 'out0');
    ip(O, 'link', 'set', 'out0', 'up');
    const h = new PodmanHost(H, [CONFLIST]);
    host = h;
    h.importImage(IMAGE, APPLETS, FILES);
    expect(await h.podman('network', 'ls', '--format', '{{.Name}} {{.Driver}}')).toBe('npnet netplumb-cni');

    const id1 = await h.podman('run', '-d', '--name', 'np-c1', '--network', 'npnet', '-p', '8080:80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www1');
    const id2 = await h.podman('run', '-d', '--name', 'np-c2', '--network', 'npnet', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www2');
    const inspect = async (id: string): Promise<any> => (JSON.parse(await h.podman('inspect', id)) as any[])[0];
    const [i1, i2] = [await inspect(id1), await inspect(id2)];
    const ip1 = i1.NetworkSettings.Networks.npnet.IPAddress as string;
    const ip2 = i2.NetworkSettings.Networks.npnet.IPAddress as string;
    const keys = [i1.NetworkSettings.SandboxKey as string, i2.NetworkSettings.SandboxKey as string];

    // What podman says: addresses in the subnet, the gateway, the published port.
    expect([ip1, ip2].every((a) => /^10\.77\.0\.\d+$/.test(a)) && ip1 !== ip2).toBe(true);
    expect(i1.NetworkSettings.Networks.npnet).toMatchObject({ Gateway: GW, IPPrefixLen: 24 });
    expect(i1.NetworkSettings.Ports).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] });

    // What the kernel says, in each container's namespace (the path podman reports) and on the host.
    for (const [k, addr] of [[keys[0], ip1], [keys[1], ip2]] as [string, string][]) {
      expect(path.dirname(k)).toBe('/run/netns');
      const x = h.runSync(['ip', '-j', '-n', path.basename(k), 'addr', 'show', 'dev', 'eth0']);
      expect(x.stderr).toBe('');
      const inet = (JSON.parse(x.stdout) as any[])[0].addr_info.filter((a: any) => a.family === 'inet');
      expect(inet.map((a: any) => `${a.local}/${a.prefixlen}`)).toEqual([`${addr}/24`]);
    }
    expect((ipj(H, 'link', 'show', 'master', 'np0') as any[]).length).toBe(2);
    expect(leases(H).sort()).toEqual([`netplumb np0 ${ip1} ${id1} eth0`, `netplumb np0 ${ip2} ${id2} eth0`].sort());
    const publish = netplumbRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb publish '));
    expect([...new Set(publish.map((r) => (r.comment as string).replace(/ [0-9a-f]{8} /, ' ID ')))]).toEqual([`netplumb publish ID tcp *:8080 -> ${ip1}:80 lo`]);
    // The DNAT itself (prerouting, and output for the host's own connections), per nft, not per netplumb's comment.
    expect(publish.filter((r) => dnatOf(r)).map((r) => `${dnatOf(r)?.addr}:${dnatOf(r)?.port}`)).toEqual([`${ip1}:80`, `${ip1}:80`]);

    // Traffic.
    const [hostNs, outNs] = await Promise.all([Namespace.open(H), Namespace.open(O)]);
    const outSrv = await tagServer(outNs, 7000, 'out');
    const exec = async (id: string, ...args: string[]): Promise<string> => {
      const r = await h.run(['podman', 'exec', id, ...args], 20_000);
      return r.status === 0 ? `ok: ${r.stdout.trim()}` : `fail (${r.status}): ${r.stderr.trim()}`;
    };
    const get = async (url: string, ns: Namespace): Promise<string> => {
      try {
        return `ok: ${(await httpGet(url, ns.agent())).trim()}`;
      } catch (e) {
        return `fail: ${(e as Error).message}`;
      }
    };
    const results: Record<string, string> = {};
    try {
      results['host -> gateway:8080'] = await get(`http://${GW}:8080/`, hostNs);
      results['host -> its own address:8080'] = await get(`http://${HOST}:8080/`, hostNs);
      results['host -> 127.0.0.1:8080'] = await get('http://127.0.0.1:8080/', hostNs);
      results['outside -> host:8080'] = await get(`http://${HOST}:8080/`, outNs);
      results['c2 -> c1:80'] = await exec(id2, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ip1}/`);
      results['c1 ping c2'] = (await exec(id1, 'ping', '-c', '1', '-W', '2', ip2)).startsWith('ok') ? 'ok' : 'fail';
      results['c1 -> outside (source seen)'] = await exec(id1, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${OUT}:7000/`);
      results['hairpin: c1 -> host:8080'] = await exec(id1, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${HOST}:8080/`);
    } finally {
      await closeServer(outSrv);
      await Promise.all([hostNs.close(), outNs.close()]);
    }
    expect(results).toEqual({
      'host -> gateway:8080': `ok: ${BODY1}`,
      'host -> its own address:8080': `ok: ${BODY1}`,
      'host -> 127.0.0.1:8080': `ok: ${BODY1}`,
      'outside -> host:8080': `ok: ${BODY1}`,
      'c2 -> c1:80': `ok: ${BODY1}`,
      'c1 ping c2': 'ok',
      'c1 -> outside (source seen)': `ok: out 7000 ${HOST}`,
      'hairpin: c1 -> host:8080': `ok: ${BODY1}`,
    });

    // A container that exits by itself: conmon's `podman container cleanup` must run DEL (the
    // veth would go with the namespace anyway; the publish rules only go with DEL).
    const id3 = await h.podman('run', '-d', '--name', 'np-c3', '--network', 'npnet', '-p', '8081:80', IMAGE, 'true');
    const of3 = (): string[] => [...leases(H).filter((a) => a.includes(id3)), ...netplumbRules(H).map((r) => r.comment ?? '').filter((c) => c.includes(':8081 '))];
    let left = of3();
    for (let i = 0; i < 100 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = of3();
    }
    expect([await h.podman('inspect', '--format', '{{.State.Status}}', id3), left]).toEqual(['exited', []]);
    // And one run attached with --rm: its address is one of the network's.
    expect(await h.podman('run', '--rm', '--network', 'npnet', IMAGE, 'ip', '-4', '-o', 'addr', 'show', 'eth0')).toMatch(/ inet 10\.77\.0\.\d+\/24 /);

    // podman rm: nothing of the containers is left.
    await h.podman('rm', '--force', '--time', '0', id1, id2, id3);
    expect(await h.podman('ps', '--all', '--quiet')).toBe('');
    expect(ipj(H, 'link', 'show', 'master', 'np0')).toEqual([]);
    expect(leases(H)).toEqual([]);
    expect((ipj(H, 'addr', 'show', 'dev', 'np0') as any[])[0].addr_info.filter((a: any) => a.family === 'inet').map((a: any) => a.local)).toEqual([GW]);
    expect(netplumbRules(H).map((r) => r.comment)).toEqual(['netplumb masquerade np0 10.77.0.0/24']);
    // The published port's flows went with its mapping (DEL deletes them; plain forwarded flows age out as usual).
    const ct = run('ip', ['netns', 'exec', H, 'conntrack', '-L']);
    expect(ct.split('\n').filter((l) => l.includes('dport=8080'))).toEqual([]);
    // Container namespaces: gone from podman's view of /run/netns and from the sandbox's.
    const nsLeft = h.runSync(['ls', '/run/netns']).stdout.split('\n').filter((f) => f.startsWith('netns-'));
    expect([nsLeft, fs.readdirSync('/run/netns').filter((f) => f.startsWith('netns-'))]).toEqual([[], []]);
    expect(h.runSync(['ls', '/var/lib/cni/results']).stdout.trim()).toBe('');
    // No conmon, no container process: nothing runs in podman's mount namespace any more.
    expect(h.processes()).toEqual([]);
    // cgroups = "disabled": podman made no cgroup (the cgroup2 mounted for crun is the host's hierarchy).
    expect(h.runSync(['ls', '/sys/fs/cgroup']).stdout.split('\n').filter((f) => /libpod|machine\.slice|conmon/.test(f))).toEqual([]);
    // And nothing of podman's reached the host's filesystem.
    expect(HOST_PATHS.filter((p) => fs.existsSync(p) && !hostPathsBefore.get(p))).toEqual([]);
  }, 90_000);
});
