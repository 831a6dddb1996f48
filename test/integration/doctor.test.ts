// The NAT doctor against the real kernel (safety issue 9, finding 7). `nft`
// plays the user who installs a hostile ruleset, and is the oracle for the
// tables, chains and handles; real HTTP between namespaces made here shows
// what the findings claim: the mapping is published, yet its packets are
// dropped, or taken by another table's DNAT.
//
// Topology:
//   out (10.98.0.2) ==uplink== host (10.98.0.1) -- br (172.21.0.1/24) -- c1 (172.21.0.2), c2 (172.21.0.3)
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type * as http from 'node:http';
import { Bridge, Namespace, PortMapping, Route, VethPair, type Finding } from '../../lib';
import { publishCheckIdle } from '../../lib/doctor';
import { run, uniq } from '../helpers/oracle';
import { closeServer, httpFailure, httpGet, tagServer } from '../helpers/netnat';

/* eslint-disable @typescript-eslint/no-explicit-any */

const HOST_IP = '10.98.0.1';
const OUT_IP = '10.98.0.2';
const GW = '172.21.0.1';
const C1 = '172.21.0.2';
const C2 = '172.21.0.3';
const CLI = path.resolve(__dirname, '../../bin/netplumb');

let host: Namespace, out: Namespace, c1: Namespace, c2: Namespace;
let H: string;
let br: Bridge;
const servers: http.Server[] = [];
const made: Namespace[] = [];
const mappings: PortMapping[] = [];
let warnings: jest.SpyInstance;

async function mk(prefix: string): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  await ns.loopback.up();
  return ns;
}

/** The user: `nft -f -` in the host namespace. */
function nft(script: string): void {
  const r = spawnSync('ip', ['netns', 'exec', H, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr}`);
}
/** The oracle: `nft -a -j list ruleset`, its chains and rules. */
function oracle(): { chains: any[]; rules: any[] } {
  const doc = JSON.parse(run('ip', ['netns', 'exec', H, 'nft', '-a', '-j', 'list', 'ruleset'])) as { nftables: any[] };
  return { chains: doc.nftables.filter((o) => 'chain' in o).map((o) => o.chain), rules: doc.nftables.filter((o) => 'rule' in o).map((o) => o.rule) };
}
async function publish(hostPort: number, to: string): Promise<PortMapping> {
  const m = await br.publish({ hostPort, to });
  mappings.push(m);
  return m;
}
/** The doctor warnings publish emitted so far (process.emitWarning calls with our codes). */
function doctorWarnings(): { code: string; finding: Finding }[] {
  return warnings.mock.calls.map((c) => c[0] as any).filter((w) => w && typeof w.code === 'string' && w.code.startsWith('NETPLUMB_NAT_'));
}
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const url = (port: number): string => `http://${HOST_IP}:${port}/`;

beforeAll(async () => {
  host = await mk('dh');
  out = await mk('do');
  c1 = await mk('dc1');
  c2 = await mk('dc2');
  H = host.name as string;
  const up = await VethPair.create('uplink', { namespace: host, up: true, peerIn: out, peerName: 'eth0', peerUp: true });
  await up.link.addAddress(`${HOST_IP}/24`);
  await up.peer.addAddress(`${OUT_IP}/24`);
  br = await Bridge.create('br0', { namespace: host, address: `${GW}/24`, up: true });
  for (const [c, addr, name] of [[c1, C1, 'v1'], [c2, C2, 'v2']] as const) {
    const p = await VethPair.create(name, { namespace: host, master: br, up: true, peerIn: c, peerName: 'eth0', peerUp: true });
    await p.peer.addAddress(`${addr}/24`, { nodad: true });
    await Route.add({ namespace: c, to: 'default', via: GW });
  }
  await host.sysctl.set('net.ipv4.ip_forward', 1);
  servers.push(await tagServer(c1, 80, 'c1'));
  servers.push(await tagServer(c2, 80, 'c2'));
  warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});

afterAll(async () => {
  warnings?.mockRestore();
  for (const m of mappings) await m.unpublish().catch(() => undefined);
  await Promise.all(servers.map(closeServer));
  await Promise.allSettled(made.map((ns) => ns.delete()));
});

describe('control: no hostile ruleset', () => {
  it('traffic passes, diagnose reports nothing, publish warns nothing, the CLI says so and exits 0', async () => {
    const m = await publish(8080, `${C1}:80`);
    expect(await httpGet(url(8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    expect(await PortMapping.diagnose(host, m)).toEqual([]);
    expect(await PortMapping.diagnose(host)).toEqual([]);
    await publishCheckIdle(host);
    expect(doctorWarnings()).toEqual([]);
    const r = cli('--ns', H);
    expect(r.stdout).toBe(`netplumb doctor: namespace ${H}: no problems found\n`);
    expect(r.status).toBe(0);
  });
});

describe('a user forward chain at policy drop', () => {
  afterAll(() => nft('delete table inet filter'));

  it('the mapping is published and listed, but no packet reaches the container; diagnose names the chain; publish warned once', async () => {
    nft('table inet filter {\n chain forward {\n  type filter hook forward priority 0; policy drop;\n }\n}\n');
    const chain = oracle().chains.find((c) => c.family === 'inet' && c.table === 'filter' && c.name === 'forward');
    expect(chain).toMatchObject({ hook: 'forward', prio: 0, policy: 'drop' });

    const m = await publish(8081, `${C1}:80`);
    expect((await PortMapping.list(host)).map((x) => x.id)).toContain(m.id);
    await httpFailure(url(8081), out.agent());
    await httpFailure(url(8080), out.agent()); // the control's mapping too

    const expected = {
      kind: 'policy-drop', severity: 'error', family: 'inet', table: 'filter', chain: 'forward',
      hook: 'forward', priority: 0, policy: 'drop', handle: chain.handle,
    };
    const found = await PortMapping.diagnose(host, m);
    expect(found).toEqual([{ ...expected, message: expect.any(String) }]);
    expect(found[0]!.message).toBe(
      `chain forward of table inet filter (handle ${chain.handle}) at hook forward, priority 0, policy drop: ` +
        `a mapped packet to ${C1}:80 (tcp *:8081) is dropped unless a rule accepts it; no rule of this chain accepts anything`,
    );

    // Another publish in the same namespace: the same finding is not warned about again.
    await publishCheckIdle(host);
    await publish(8082, `${C1}:80`);
    await publishCheckIdle(host);
    // ... nor through another Namespace object opened on the same namespace.
    const again = await Namespace.open(H);
    const m3 = await PortMapping.publish({ namespace: again, hostPort: 8084, to: `${C1}:80` });
    await publishCheckIdle(again);
    await m3.unpublish();
    await again.close();
    const w = doctorWarnings();
    expect(w.map((x) => [x.code, x.finding.table, x.finding.chain, x.finding.handle])).toEqual([['NETPLUMB_NAT_DROPPED', 'filter', 'forward', chain.handle]]);
  });

  it('with an accept rule the chain is only a warning, and names the rule that may accept', async () => {
    nft('add rule inet filter forward ip daddr 192.0.2.1 accept\n');
    const rule = oracle().rules.find((r) => r.family === 'inet' && r.table === 'filter' && r.chain === 'forward');
    const [f, ...more] = await PortMapping.diagnose(host);
    expect(more).toEqual([]);
    expect(f).toMatchObject({ kind: 'policy-drop', severity: 'warning', table: 'filter', chain: 'forward' });
    expect(f!.message).toContain(`rules that may: handle ${rule.handle}`);
    await httpFailure(url(8081), out.agent()); // (it does not accept ours)
  });

  it('the CLI prints the finding and exits 1', () => {
    const chain = oracle().chains.find((c) => c.family === 'inet' && c.table === 'filter' && c.name === 'forward');
    const r = cli('--ns', H);
    expect(r.status).toBe(3); // an accept rule is there now: a warning only
    expect(r.stdout).toContain(`warning: [policy-drop] inet filter forward handle ${chain.handle}: chain forward of table inet filter`);
    nft('flush chain inet filter forward\n');
    const e = cli('--ns', H);
    expect(e.status).toBe(1);
    expect(e.stdout).toContain(`error: [policy-drop] inet filter forward handle ${chain.handle}:`);
    const j = cli('--ns', H, '--json');
    expect(JSON.parse(j.stdout)).toEqual([expect.objectContaining({ kind: 'policy-drop', family: 'inet', table: 'filter', chain: 'forward', handle: chain.handle })]);
  });

  it('a drop rule instead of the policy: reported with its handle, traffic dropped', async () => {
    nft('table inet filter {\n chain forward {\n  type filter hook forward priority 0; policy accept;\n  counter drop\n }\n}\n');
    const rule = oracle().rules.find((r) => r.family === 'inet' && r.table === 'filter' && r.chain === 'forward');
    await httpFailure(url(8081), out.agent());
    expect(await PortMapping.diagnose(host)).toEqual([
      expect.objectContaining({ kind: 'drop-rule', severity: 'error', table: 'filter', chain: 'forward', hook: 'forward', policy: 'accept', handle: rule.handle }),
    ]);
  });

  it('control: without the chain, traffic passes again and diagnose reports nothing', async () => {
    nft('delete table inet filter\n');
    nft('table inet filter {\n}\n'); // (the afterAll deletes it)
    expect(await httpGet(url(8081), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    expect(await PortMapping.diagnose(host)).toEqual([]);
  });
});

describe('a competing DNAT in another table, before ours', () => {
  afterAll(() => nft('delete table ip hijack'));

  it('takes the port to another container; diagnose names it, with its priority against ours', async () => {
    const m = mappings.find((x) => x.hostPort === 8080)!;
    expect(await httpGet(url(8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
    nft(`table ip hijack {\n chain pre {\n  type nat hook prerouting priority -150; policy accept;\n  tcp dport 8080 dnat to ${C2}:80\n }\n}\n`);
    const rule = oracle().rules.find((r) => r.family === 'ip' && r.table === 'hijack' && r.chain === 'pre');
    // Published, listed, and answered by c2.
    expect((await PortMapping.list(host)).map((x) => x.id)).toContain(m.id);
    expect(await httpGet(url(8080), out.agent())).toBe(`c2 80 ${OUT_IP}`);

    const found = await PortMapping.diagnose(host, m);
    expect(found).toEqual([
      {
        kind: 'competing-nat', severity: 'error', family: 'ip', table: 'hijack', chain: 'pre', hook: 'prerouting',
        priority: -150, policy: 'accept', handle: rule.handle,
        message: `rule handle ${rule.handle} (dnat) in chain pre of table ip hijack at hook prerouting, priority -150 runs before ours (priority -100): a packet it matches is NATed by it, and our mapping never sees it`,
      },
    ]);
    // It matches port 8080 only: the mapping of 8081 is not concerned.
    expect(await PortMapping.diagnose(host, mappings.find((x) => x.hostPort === 8081))).toEqual([]);
    expect(await httpGet(url(8081), out.agent())).toBe(`c1 80 ${OUT_IP}`);
  });

  it('publish warns about it (NETPLUMB_NAT_SHADOWED) for a mapping it can take', async () => {
    nft('add rule ip hijack pre tcp dport 8083 redirect to :9\n');
    const rule = oracle().rules.find((r) => r.family === 'ip' && r.table === 'hijack' && r.expr.some((e: any) => 'redirect' in e));
    await publish(8083, `${C1}:80`);
    await publishCheckIdle(host);
    const w = doctorWarnings().filter((x) => x.code === 'NETPLUMB_NAT_SHADOWED');
    expect(w.map((x) => [x.finding.table, x.finding.chain, x.finding.handle])).toEqual([['hijack', 'pre', rule.handle]]);
    expect(w[0]!.finding.message).toContain('(redirect)');
  });

  it('at the same priority as ours: a warning; after ours: nothing (ours runs first)', async () => {
    nft('delete table ip hijack\n');
    nft(`table ip hijack {\n chain pre {\n  type nat hook prerouting priority -100; policy accept;\n  tcp dport 8080 dnat to ${C2}:80\n }\n}\n`);
    expect(await PortMapping.diagnose(host)).toEqual([expect.objectContaining({ kind: 'competing-nat', severity: 'warning', priority: -100 })]);
    nft('delete table ip hijack\n');
    nft(`table ip hijack {\n chain pre {\n  type nat hook prerouting priority -50; policy accept;\n  tcp dport 8080 dnat to ${C2}:80\n }\n}\n`);
    expect(await PortMapping.diagnose(host)).toEqual([]);
    expect(await httpGet(url(8080), out.agent())).toBe(`c1 80 ${OUT_IP}`);
  });

  it('the CLI names it', () => {
    nft('delete table ip hijack\n');
    nft(`table ip hijack {\n chain pre {\n  type nat hook prerouting priority dstnat - 10; policy accept;\n  tcp dport 8080 dnat to ${C2}:80\n }\n}\n`);
    const rule = oracle().rules.find((r) => r.family === 'ip' && r.table === 'hijack');
    const r = cli('--ns', H);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`error: [competing-nat] ip hijack pre handle ${rule.handle}: rule handle ${rule.handle} (dnat) in chain pre of table ip hijack at hook prerouting, priority -110 runs before ours`);
  });
});

describe('read only', () => {
  it('diagnose and the CLI change nothing (the ruleset generation stays)', async () => {
    nft('table inet filter {\n chain forward {\n  type filter hook forward priority 0; policy drop;\n }\n}\n');
    const before = run('ip', ['netns', 'exec', H, 'nft', '-a', 'list', 'ruleset']);
    const gen = (await host.handle.nftRuleset({ genOnly: true })).gen;
    await PortMapping.diagnose(host);
    expect(cli('--ns', H).status).toBe(1);
    expect((await host.handle.nftRuleset({ genOnly: true })).gen).toBe(gen);
    expect(run('ip', ['netns', 'exec', H, 'nft', '-a', 'list', 'ruleset'])).toBe(before);
    nft('delete table inet filter\n');
  });

  it('the CLI: usage (2) and a namespace that does not exist (4)', () => {
    expect(cli('--bogus').status).toBe(2);
    const r = cli('--ns', 'no-such-namespace-here');
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('netplumb doctor:');
  });
});
