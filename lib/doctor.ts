// The NAT doctor: why a published port may get no traffic. A port mapping is
// DNAT in our own `ip netplumb` table (`ip6 netplumb` for an IPv6 mapping), and nf_tables runs every base chain
// registered at a hook, ours and everyone else's: a user's forward chain at
// `policy drop` drops the mapped packets after our DNAT, and another table's
// DNAT at prerouting that runs before ours takes them elsewhere. The kernel
// reports neither; `publish` succeeds and the rules are there.
//
// This reads the namespace's WHOLE ruleset (every family and table; read
// only) and reports what it can see, kept honest and simple: a base chain at
// a hook a mapped packet traverses whose policy is drop, rules there (or in
// chains they jump to) whose verdict is drop/reject, and another table's NAT
// chain at prerouting/output with a dnat/redirect rule at a priority that
// can win over ours. It does not evaluate matches, sets or maps; where it
// cannot tell whether a rule matches a mapped packet, the finding is a
// warning and says so.
import { Address } from './address';
import { kernel, NetplumbError, ErrorCodes as C } from './errors';
import { Namespace } from './namespace';
import type { NftExprSummary, NftRuleset } from './native';
import type { PortMapping } from './port-mapping';

/** What a doctor `Finding` is about: a chain's drop policy, a drop rule, or another table's NAT competing with ours. */
export type FindingKind = 'policy-drop' | 'drop-rule' | 'competing-nat';
/** An nf_tables family, as `nft list tables` names it. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

/** One thing in the ruleset that can keep a mapped packet from its container. */
export interface Finding {
  kind: FindingKind;
  /** 'error': drops or diverts mapped packets as far as we can see; 'warning': may, depending on what its rules match. */
  severity: 'error' | 'warning';
  family: NftFamily;
  table: string;
  chain: string;
  /** The hook of the base chain concerned (for a rule in a jumped-to chain: the base chain's). */
  hook: string;
  priority: number;
  /** The chain's policy (base chains). */
  policy?: 'accept' | 'drop';
  /** The rule's handle (drop-rule, competing-nat) or the chain's (policy-drop), as `nft -a list ruleset` shows it. */
  handle?: number;
  /** For a rule in a regular chain: the base chain that jumps to it. */
  via?: string;
  message: string;
}

/** The priority of our NAT chains at prerouting and output (`dstnat`). */
export const OUR_DNAT_PRIORITY = -100;
/** Tables that are netplumb's own (never reported). */
const OURS: ReadonlyArray<[number, string]> = [
  [2, 'netplumb'],
  [10, 'netplumb'],
  [7, 'netplumb'],
];

const FAMILIES: Record<number, NftFamily> = { 1: 'inet', 2: 'ip', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ip6' };
const INET_HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];
const NETDEV_HOOKS = ['ingress', 'egress'];
const NF_DROP = 0;
const NF_ACCEPT = 1;
const NFT_JUMP = -3;
const NFT_GOTO = -4;
const NFT_NAT_DNAT = 1;
const PAYLOAD_TRANSPORT = 2;
const CMP_EQ = 0;

function hookName(family: number, hooknum: number): string {
  const names = family === 5 ? NETDEV_HOOKS : INET_HOOKS;
  return names[hooknum] ?? `hook ${hooknum}`;
}

type Chain = NftRuleset['chains'][number];
type Rule = NftRuleset['rules'][number];

/** What a mapped packet looks like, for the messages and the port checks. */
interface Target {
  text: string;
  /** The mapping's address family; undefined: any published port's, of either family. */
  family?: 4 | 6;
  protocol?: 'tcp' | 'udp';
  /** Destination ports the packet can carry: the host ports before DNAT, the container's after. */
  ports?: number[];
  /** The target address is local to the namespace: the packet goes to input, not forward. */
  local: boolean;
}

const isVerdict = (e: NftExprSummary, v: number): boolean => e.name === 'immediate' && e.verdict === v;
const isVerdictMap = (e: NftExprSummary): boolean => e.name === 'lookup' && e.hasDreg === true && !e.dreg;
/** Could this rule accept a packet (accept, or hand it to another chain or a verdict map)? */
const mayAccept = (r: Rule): boolean => r.exprs.some((e) => isVerdict(e, NF_ACCEPT) || isVerdict(e, NFT_JUMP) || isVerdict(e, NFT_GOTO) || isVerdictMap(e));
const drops = (r: Rule): boolean => r.exprs.some((e) => isVerdict(e, NF_DROP) || e.name === 'reject');
/** Nothing but the verdict and side effects that match everything: drops every packet that reaches it. */
const UNCONDITIONAL = new Set(['immediate', 'reject', 'counter', 'log', 'notrack']);
const unconditional = (r: Rule): boolean => r.exprs.every((e) => UNCONDITIONAL.has(e.name));
const diverts = (r: Rule): boolean => r.exprs.some((e) => (e.name === 'nat' && e.natType === NFT_NAT_DNAT) || e.name === 'redir');

/** The constant destination ports a rule compares with `==` (payload th dport, then cmp eq); empty if none. */
function dportsOf(r: Rule): number[] {
  const out: number[] = [];
  r.exprs.forEach((e, i) => {
    if (e.name !== 'payload' || e.base !== PAYLOAD_TRANSPORT || e.offset !== 2 || e.len !== 2) return;
    const cmp = r.exprs[i + 1];
    if (cmp?.name === 'cmp' && (cmp.op ?? 0) === CMP_EQ && cmp.sreg === e.dreg && cmp.data?.length === 2) out.push(cmp.data.readUInt16BE(0));
  });
  return out;
}
/** True when the rule only matches destination ports the mapped packet cannot have. */
function missesPorts(r: Rule, t: Target): boolean {
  if (!t.ports) return false;
  const d = dportsOf(r);
  return d.length > 0 && !d.some((p) => t.ports!.includes(p));
}

/**
 * The analysis itself, on a ruleset already read (pure; unit-tested).
 * `mapping` narrows it to one mapping's packets; without it, to any published port's.
 */
export function analyze(rs: Pick<NftRuleset, 'chains' | 'rules'>, mapping?: MappingShape, opts: { targetLocal?: boolean } = {}): Finding[] {
  const ep = (addr: string, port: string): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
  const t: Target = mapping
    ? {
        text: `a mapped packet to ${ep(mapping.address, String(mapping.port))} (${mapping.protocol} ${ep(mapping.hostAddress, `${mapping.hostPort}${mapping.hostPortEnd !== mapping.hostPort ? `-${mapping.hostPortEnd}` : ''}`)})`,
        family: mapping.address.includes(':') ? 6 : 4,
        protocol: mapping.protocol,
        ports: ports(mapping),
        local: opts.targetLocal ?? false,
      }
    : { text: "a published port's packet", local: opts.targetLocal ?? false };
  const ours = (family: number, table: string): boolean => OURS.some(([f, n]) => f === family && n === table);
  const rulesOf = new Map<string, Rule[]>();
  for (const r of rs.rules) {
    const k = `${r.family} ${r.table} ${r.chain}`;
    rulesOf.set(k, [...(rulesOf.get(k) ?? []), r]);
  }
  const findings: Finding[] = [];
  const where = (c: Chain): string => `chain ${c.name} of table ${FAMILIES[c.family] ?? c.family} ${c.table}`;

  for (const c of rs.chains) {
    if (c.hooknum === undefined || ours(c.family, c.table)) continue;
    const family = FAMILIES[c.family];
    if (!family) continue;
    const hook = hookName(c.family, c.hooknum);
    if (!traversed(family, hook, t)) continue;
    const base = { family, table: c.table, chain: c.name, hook, priority: c.priority, ...(c.policy !== undefined ? { policy: c.policy === NF_DROP ? ('drop' as const) : ('accept' as const) } : {}) };
    const dev = c.dev ? ` (device ${c.dev})` : '';
    const own = rulesOf.get(`${c.family} ${c.table} ${c.name}`) ?? [];

    // 1. The policy.
    if (c.policy === NF_DROP) {
      const maybe = own.filter(mayAccept).map((r) => Number(r.handle));
      findings.push({
        kind: 'policy-drop',
        severity: maybe.length === 0 && !dev ? 'error' : 'warning',
        ...base,
        handle: Number(c.handle),
        message:
          `${where(c)} (handle ${c.handle}) at hook ${hook}${dev}, priority ${c.priority}, policy drop: ${t.text} is dropped unless a rule accepts it` +
          (maybe.length ? `; rules that may: handle ${maybe.join(', ')}` : '; no rule of this chain accepts anything'),
      });
    }

    // 2. Drop/reject rules: in the chain and in the regular chains it jumps or goes to.
    const seen = new Set<string>();
    const walk = (table: string, name: string, via: string | undefined): void => {
      const key = `${c.family} ${table} ${name}`;
      if (seen.has(key)) return;
      seen.add(key);
      for (const r of rulesOf.get(key) ?? []) {
        for (const e of r.exprs) if ((isVerdict(e, NFT_JUMP) || isVerdict(e, NFT_GOTO)) && e.chain) walk(table, e.chain, via ?? c.name);
        if (!drops(r) || missesPorts(r, t)) continue;
        const all = unconditional(r);
        const verb = r.exprs.some((e) => e.name === 'reject') ? 'rejects' : 'drops';
        findings.push({
          kind: 'drop-rule',
          severity: all && !dev ? 'error' : 'warning',
          ...base,
          chain: name,
          handle: Number(r.handle),
          ...(via ? { via: c.name } : {}),
          message:
            `rule handle ${r.handle} in chain ${name} of table ${family} ${table}${via ? ` (jumped to from base chain ${c.name})` : ''} at hook ${hook}${dev}, priority ${c.priority}, ` +
            (all ? `${verb} every packet that reaches it, ${t.text} included` : `${verb} the packets it matches: check that it does not match ${t.text}`),
        });
      }
    };
    walk(c.table, c.name, undefined);

    // 3. Competing NAT: another table's DNAT/redirect where ours runs (prerouting, output).
    if (c.type === 'nat' && (family === 'ip' || family === 'ip6' || family === 'inet') && (hook === 'prerouting' || hook === 'output') && c.priority <= OUR_DNAT_PRIORITY) {
      for (const r of own) {
        if (!diverts(r) || missesPorts(r, { ...t, ports: mapping ? hostPorts(mapping) : undefined })) continue;
        const before = c.priority < OUR_DNAT_PRIORITY;
        const what = r.exprs.some((e) => e.name === 'redir') ? 'redirect' : 'dnat';
        findings.push({
          kind: 'competing-nat',
          severity: before ? 'error' : 'warning',
          ...base,
          handle: Number(r.handle),
          message:
            `rule handle ${r.handle} (${what}) in ${where(c)} at hook ${hook}, priority ${c.priority} ` +
            (before
              ? `runs before ours (priority ${OUR_DNAT_PRIORITY}): a packet it matches is NATed by it, and our mapping never sees it`
              : `has the same priority as ours (${OUR_DNAT_PRIORITY}): which NAT wins depends on the order the chains were registered`) +
            (dportsOf(r).length ? '' : ` (it matches no fixed destination port, so it may take ${t.text})`),
        });
      }
    }
  }
  return findings;
}

/** Does a mapped packet (or its reply) traverse this family's hook? (ip: IPv4 mappings' packets; ip6: IPv6 ones'.) */
function traversed(family: NftFamily, hook: string, t: Target): boolean {
  switch (family) {
    case 'ip':
    case 'ip6':
      if (t.family !== undefined && t.family !== (family === 'ip' ? 4 : 6)) return false;
    // falls through: the hooks are the same for both families
    case 'inet':
      // From outside: prerouting (DNAT), forward, postrouting; the host's own
      // connections: output, postrouting. A local target: input instead of forward.
      if (hook === 'forward') return !t.local;
      if (hook === 'input') return t.local;
      return ['prerouting', 'output', 'postrouting', 'ingress'].includes(hook);
    case 'bridge':
      // The bridged leg to and from the container (forward: container to container, hairpin).
      return ['prerouting', 'input', 'forward', 'output', 'postrouting'].includes(hook);
    case 'netdev':
      return hook === 'ingress';
    default:
      // arp: no IP packet goes there.
      return false;
  }
}

/** The fields of a PortMapping the analysis reads. */
export type MappingShape = Pick<PortMapping, 'protocol' | 'hostPort' | 'hostPortEnd' | 'hostAddress' | 'address' | 'port'>;

function hostPorts(m: MappingShape): number[] {
  const out: number[] = [];
  for (let p = m.hostPort; p <= m.hostPortEnd; p++) out.push(p);
  return out;
}
function ports(m: MappingShape): number[] {
  return [...hostPorts(m), ...hostPorts(m).map((p) => p - m.hostPort + m.port)];
}

/** Stable identity of a finding (for "warn once"): what it is about, not its wording. */
export function findingKey(f: Finding): string {
  return `${f.kind} ${f.family} ${f.table} ${f.chain} ${f.handle ?? ''}`;
}

/** Reads the namespace's whole ruleset (read only; our own tables' rules are not needed). */
async function readRuleset(ns: Namespace): Promise<NftRuleset> {
  ns.assertOpen();
  return kernel(ns.handle.nftRuleset({ skipRules: OURS.map(([family, table]) => ({ family, table })) }), `nf_tables ruleset of namespace ${ns}`);
}

/** The namespace's own addresses, both families (a mapping to one of them, or to 127/8, goes to input, not forward). */
async function localAddresses(ns: Namespace): Promise<Set<string>> {
  return new Set((await Address.list(ns)).map((a) => a.address));
}

/**
 * What in `ns`'s nf_tables ruleset can keep mapped packets from their
 * container: `PortMapping.diagnose(ns, mapping?)`. With a mapping, the
 * findings are about its packets (rules on other fixed ports are left out);
 * without, about any published port's. Read only.
 */
export async function diagnose(ns: Namespace, mapping?: MappingShape): Promise<Finding[]> {
  if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { argument: 'namespace' });
  const rs = await readRuleset(ns);
  const targetLocal = mapping ? mapping.address.startsWith('127.') || (await localAddresses(ns)).has(mapping.address) : false;
  return analyze(rs, mapping, { targetLocal });
}

// ---------------------------------------------------------------- after publish

/** The `code` of the warnings publish emits (process.emitWarning). */
export const WARNING_CODES = { 'policy-drop': 'NETPLUMB_NAT_DROPPED', 'drop-rule': 'NETPLUMB_NAT_DROPPED', 'competing-nat': 'NETPLUMB_NAT_SHADOWED' } as const;

/** The warning publish emits: a Warning with the finding attached. */
export interface DoctorWarning extends Error {
  code: (typeof WARNING_CODES)[FindingKind];
  finding: Finding;
  namespace: string;
}

interface NsState {
  /** Findings already warned about (findingKey). */
  warned: Set<string>;
  /** The generation of the last ruleset looked at, and the mappings looked at in it. */
  gen?: number;
  checked: Set<string>;
  pending: MappingShape[];
  /** When the oldest pending mapping was queued, and the timer that starts the check. */
  since: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}
// Per kernel namespace (two Namespace objects may open the same one), as withNatLock keys it.
const states = new Map<string, NsState>();
const nsKey = (ns: Namespace): string => `${ns.dev}:${ns.inode}`;
let enabled = process.env.NETPLUMB_NO_DOCTOR !== '1';

/** Turns the after-publish check on or off (default on; NETPLUMB_NO_DOCTOR=1 turns it off). */
export function setPublishCheck(on: boolean): void {
  enabled = on;
}

const mappingKey = (m: MappingShape): string => `${m.protocol} ${m.hostAddress}:${m.hostPort}-${m.hostPortEnd} ${m.address}:${m.port}`;

/** The check starts once publishing in a namespace has paused this long... */
const QUIET_MS = 50;
/** ...or this long after the first mapping it has to check, whichever comes first. */
const MAX_WAIT_MS = 1000;

/**
 * Called by publish once its batch succeeded (not awaited by it). Queues the
 * mapping; the check starts when publishing in the namespace has paused for
 * QUIET_MS (at most MAX_WAIT_MS after the first queued mapping), so that it
 * never competes with a burst of publishes for the namespace's I/O thread,
 * and the mappings published meanwhile are checked together, on one read of
 * the ruleset. A check first reads the ruleset generation (NFT_MSG_GETGEN)
 * and skips the read when neither it nor the mappings changed. Each finding
 * is warned about once per namespace. Failures are ignored: this is advice.
 */
export function afterPublish(ns: Namespace, mapping: MappingShape): void {
  if (!enabled) return;
  let s = states.get(nsKey(ns));
  if (!s) states.set(nsKey(ns), (s = { warned: new Set(), checked: new Set(), pending: [], since: 0 }));
  if (!s.pending.length) s.since = Date.now();
  s.pending.push(mapping);
  schedule(ns, s);
}

function schedule(ns: Namespace, s: NsState): void {
  if (s.running) return; // the running check picks the pending mappings up when it ends
  if (s.timer) clearTimeout(s.timer);
  const wait = Math.max(0, Math.min(QUIET_MS, s.since + MAX_WAIT_MS - Date.now()));
  s.timer = setTimeout(() => {
    s.timer = undefined;
    s.running = run(ns, s);
  }, wait);
  // Advice must not keep a short-lived process (a CNI plugin) alive: it is skipped if the process ends first.
  s.timer.unref();
}

async function run(ns: Namespace, s: NsState): Promise<void> {
  try {
    while (s.pending.length && !ns.closed) {
      const batch = s.pending.splice(0);
      const { gen } = await ns.handle.nftRuleset({ genOnly: true });
      if (gen !== s.gen) s.checked.clear();
      const todo = batch.filter((m) => !s.checked.has(mappingKey(m)));
      if (!todo.length) continue;
      const rs = await readRuleset(ns);
      s.gen = rs.gen;
      const local = await localAddresses(ns);
      for (const m of todo) {
        s.checked.add(mappingKey(m));
        for (const f of analyze(rs, m, { targetLocal: m.address.startsWith('127.') || local.has(m.address) })) {
          const key = findingKey(f);
          if (s.warned.has(key)) continue;
          s.warned.add(key);
          const w = new Error(f.message) as DoctorWarning;
          w.name = 'NetplumbWarning';
          w.code = WARNING_CODES[f.kind];
          w.finding = f;
          w.namespace = String(ns);
          process.emitWarning(w);
        }
      }
    }
  } catch {
    // Advice only: a closed namespace or a failed read must not surface as an unhandled rejection.
  } finally {
    s.running = undefined;
    if (ns.closed) {
      // Closed (or deleted): forget it, so that a namespace born later with the same inode starts afresh.
      s.pending.length = 0;
      if (states.get(nsKey(ns)) === s) states.delete(nsKey(ns));
    } else if (s.pending.length) schedule(ns, s);
  }
}

/** Resolves when the after-publish check of `ns` (if any, scheduled or running) has finished: for tests. */
export async function publishCheckIdle(ns: Namespace): Promise<void> {
  for (;;) {
    const s = states.get(nsKey(ns));
    if (s?.running) await s.running;
    else if (s?.timer) await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    else return;
  }
}
