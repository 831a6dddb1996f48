// lib/doctor.ts's analysis on rulesets written here (no kernel): which chains
// and rules it reports, with what severity, and what it leaves out.
import { analyze, findingKey, type MappingShape } from '../../lib/doctor';
import type { NftExprSummary, NftRuleset } from '../../lib/native';

type Chain = NftRuleset['chains'][number];
type Rule = NftRuleset['rules'][number];

const INET = 1, IP = 2, NETDEV = 5, BRIDGE = 7, IP6 = 10;
const FORWARD = 2, INPUT = 1, PREROUTING = 0;
const DROP = 0, ACCEPT = 1;
let handle = 100;

function chain(family: number, table: string, name: string, hook?: number, policy?: number, extra: Partial<Chain> = {}): Chain {
  return { family, table, name, handle: BigInt(++handle), type: hook === undefined ? '' : 'filter', priority: 0, flags: 0, ...(hook !== undefined ? { hooknum: hook } : {}), ...(policy !== undefined ? { policy } : {}), ...extra };
}
function rule(family: number, table: string, chainName: string, exprs: NftExprSummary[]): Rule {
  return { family, table, chain: chainName, handle: BigInt(++handle), userdata: Buffer.alloc(0), exprs };
}
const verdict = (v: number, target?: string): NftExprSummary => ({ name: 'immediate', verdict: v, ...(target ? { chain: target } : {}) });
const dport = (p: number): NftExprSummary[] => [
  { name: 'payload', base: 2, offset: 2, len: 2, dreg: 1 },
  { name: 'cmp', sreg: 1, data: Buffer.from([p >> 8, p & 0xff]) },
];
const dnat: NftExprSummary[] = [{ name: 'immediate', dreg: 1, data: Buffer.from([10, 0, 0, 9]) }, { name: 'nat', natType: 1, family: 2 }];
const mapping: MappingShape = { protocol: 'tcp', hostAddress: '*', hostPort: 8080, hostPortEnd: 8080, address: '172.20.0.2', port: 80 };

describe('analyze', () => {
  it('policy drop with no accepting rule is an error; a jump, an accept or a verdict map makes it a warning', () => {
    const c = chain(INET, 'filter', 'forward', FORWARD, DROP);
    expect(analyze({ chains: [c], rules: [] }, mapping)).toEqual([expect.objectContaining({ kind: 'policy-drop', severity: 'error', handle: Number(c.handle) })]);
    for (const e of [verdict(ACCEPT), verdict(-3, 'x'), { name: 'lookup', set: '__map0', sreg: 1, hasDreg: true } as NftExprSummary]) {
      const r = rule(INET, 'filter', 'forward', [e]);
      const [f] = analyze({ chains: [c], rules: [r] }, mapping);
      expect(f).toMatchObject({ kind: 'policy-drop', severity: 'warning' });
      expect(f!.message).toContain(`rules that may: handle ${r.handle}`);
    }
  });

  it('a drop in a chain the base chain jumps to is reported with the base chain as via', () => {
    const c = chain(IP, 'f', 'forward', FORWARD, ACCEPT);
    const sub = chain(IP, 'f', 'sub');
    const r = rule(IP, 'f', 'sub', [{ name: 'counter' }, verdict(DROP)]);
    expect(analyze({ chains: [c, sub], rules: [rule(IP, 'f', 'forward', [verdict(-3, 'sub')]), r] }, mapping)).toEqual([
      expect.objectContaining({ kind: 'drop-rule', severity: 'error', chain: 'sub', via: 'forward', hook: 'forward', handle: Number(r.handle) }),
    ]);
  });

  it('a conditional drop is a warning; one on another fixed port is left out for a mapping', () => {
    const c = chain(INET, 'filter', 'forward', FORWARD, ACCEPT);
    const cond = rule(INET, 'filter', 'forward', [{ name: 'ct', key: 0, dreg: 1 }, { name: 'cmp', sreg: 1, data: Buffer.from([1, 0, 0, 0]) }, verdict(DROP)]);
    const other = rule(INET, 'filter', 'forward', [...dport(22), { name: 'reject' }]);
    const ours = rule(INET, 'filter', 'forward', [...dport(80), { name: 'reject' }]);
    const found = analyze({ chains: [c], rules: [cond, other, ours] }, mapping);
    expect(found.map((f) => [f.handle, f.severity])).toEqual([[Number(cond.handle), 'warning'], [Number(ours.handle), 'warning']]);
    expect(found[1]!.message).toContain('rejects the packets it matches');
    // Without a mapping, the port-22 rule may concern some published port.
    expect(analyze({ chains: [c], rules: [cond, other, ours] })).toHaveLength(3);
  });

  it('competing NAT: before ours an error, at ours a warning, after ours nothing; another fixed port is left out', () => {
    const at = (priority: number) => chain(IP, 'h', 'pre', PREROUTING, ACCEPT, { type: 'nat', priority });
    for (const [prio, sev] of [[-150, 'error'], [-100, 'warning']] as const) {
      const r = rule(IP, 'h', 'pre', [...dport(8080), ...dnat]);
      expect(analyze({ chains: [at(prio)], rules: [r] }, mapping)).toEqual([expect.objectContaining({ kind: 'competing-nat', severity: sev, priority: prio, handle: Number(r.handle) })]);
    }
    expect(analyze({ chains: [at(-50)], rules: [rule(IP, 'h', 'pre', [...dport(8080), ...dnat])] }, mapping)).toEqual([]);
    expect(analyze({ chains: [at(-150)], rules: [rule(IP, 'h', 'pre', [...dport(9090), ...dnat])] }, mapping)).toEqual([]);
    const redir = rule(IP, 'h', 'pre', [{ name: 'redir' }]);
    const [f] = analyze({ chains: [at(-150)], rules: [redir] }, mapping);
    expect(f!.message).toContain('(redirect)');
    expect(f!.message).toContain('matches no fixed destination port');
    // An SNAT is no competition for a DNAT.
    expect(analyze({ chains: [at(-150)], rules: [rule(IP, 'h', 'pre', [{ name: 'nat', natType: 0 }])] }, mapping)).toEqual([]);
  });

  it('leaves out our own tables, ip6, and hooks the packet does not traverse; input only for a local target', () => {
    const chains = [
      chain(IP, 'netplumb', 'prerouting', PREROUTING, DROP),
      chain(IP6, 'netplumb', 'prerouting', PREROUTING, DROP),
      chain(BRIDGE, 'netplumb', 'forward', FORWARD, DROP),
      chain(IP6, 'filter', 'forward', FORWARD, DROP),
      chain(INET, 'filter', 'input', INPUT, DROP),
    ];
    expect(analyze({ chains, rules: [] }, mapping)).toEqual([]);
    const local = analyze({ chains: [...chains, chain(INET, 'filter', 'forward', FORWARD, DROP)], rules: [] }, mapping, { targetLocal: true });
    expect(local.map((f) => f.hook)).toEqual(['input']);
  });

  it('an IPv6 mapping: ip6 and inet chains are reported, ip ones and our ip6 table left out; competing ip6 NAT', () => {
    const m6: MappingShape = { protocol: 'tcp', hostAddress: '*', hostPort: 8080, hostPortEnd: 8080, address: 'fd00:30::2', port: 80 };
    const chains = [
      chain(IP6, 'netplumb', 'prerouting', PREROUTING, DROP),
      chain(IP, 'filter', 'forward', FORWARD, DROP),
      chain(IP6, 'filter', 'forward', FORWARD, DROP),
      chain(INET, 'filter', 'forward', FORWARD, DROP),
      chain(IP6, 'nat', 'pre', PREROUTING, ACCEPT, { type: 'nat', priority: -150 }),
    ];
    const rules = [rule(IP6, 'nat', 'pre', [...dport(8080), ...dnat])];
    const found = analyze({ chains, rules }, m6);
    expect(found.map((f) => `${f.kind} ${f.family} ${f.table} ${f.chain} ${f.severity}`)).toEqual([
      'policy-drop ip6 filter forward error',
      'policy-drop inet filter forward error',
      'competing-nat ip6 nat pre error',
    ]);
    expect(found[0]!.message).toContain('[fd00:30::2]:80');
    // The same ruleset for an IPv4 mapping: the ip6 chains are not on its path.
    expect(analyze({ chains, rules }, mapping).map((f) => `${f.family} ${f.table}`)).toEqual(['ip filter', 'inet filter']);
    // Without a mapping (any published port's): both families.
    expect(analyze({ chains, rules }).map((f) => f.family)).toEqual(['ip', 'ip6', 'inet', 'ip6']);
  });

  it('bridge forward and a device-bound netdev ingress chain are reported; the latter as a warning', () => {
    const found = analyze({ chains: [chain(BRIDGE, 'b', 'f', FORWARD, DROP), chain(NETDEV, 'nd', 'ing', 0, DROP, { dev: 'eth0' })], rules: [] });
    expect(found.map((f) => [f.family, f.hook, f.severity])).toEqual([['bridge', 'forward', 'error'], ['netdev', 'ingress', 'warning']]);
    expect(found[1]!.message).toContain('(device eth0)');
  });

  it('findingKey: about the object, not the wording', () => {
    const c = chain(INET, 'filter', 'forward', FORWARD, DROP);
    const [a] = analyze({ chains: [c], rules: [] }, mapping);
    const [b] = analyze({ chains: [c], rules: [] }, { ...mapping, hostPort: 9, hostPortEnd: 9 });
    expect(a!.message).not.toBe(b!.message);
    expect(findingKey(a!)).toBe(findingKey(b!));
  });
});
