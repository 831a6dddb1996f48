// The netlink message trace against the real kernel: what VethPair.create
// (peerIn) and a publish batch send and get back, decoded, compared with golden
// JSON files (test/golden/trace-*.json; UPDATE_GOLDEN=1 rewrites them). What
// changes from run to run (seq, port ids, ifindexes, fds, handles, timings,
// namespace names, MACs) is normalized first.
import { execFileSync } from 'node:child_process';
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Bridge, Route, trace, VethPair, type Namespace, type TraceAttr, type TraceMessage } from '../../lib';
import { NsTracker } from '../helpers/ns-link';

const GOLDEN = path.join(__dirname, '..', 'golden');
const t = new NsTracker();
afterAll(() => t.cleanup());
afterEach(() => trace.disable());

// Values that differ from run to run, by attribute name.
const VOLATILE: Record<string, string> = {
  IFLA_NET_NS_FD: 'FD',
  IFLA_LINK: 'IFINDEX',
  IFLA_MASTER: 'IFINDEX',
  IFLA_NEW_IFINDEX: 'IFINDEX',
  RTA_OIF: 'IFINDEX',
  IFLA_LINK_NETNSID: 'NSID',
  IFLA_ADDRESS: 'MAC',
  IFLA_PERM_ADDRESS: 'MAC',
  IFLA_BROADCAST: 'MAC',
  NFTA_TABLE_HANDLE: 'HANDLE',
  NFTA_CHAIN_HANDLE: 'HANDLE',
  NFTA_RULE_HANDLE: 'HANDLE',
  NFTA_RULE_POSITION: 'HANDLE',
  NFTA_GEN_ID: 'GEN',
  NFNL_BATCH_GENID: 'GEN',
  NFTA_RULE_USERDATA: 'USERDATA',
  NFTA_TABLE_USERDATA: 'USERDATA',
  NFTA_TABLE_USE: 'N',
};

function normalize(msgs: TraceMessage[], names: Record<string, string>): unknown[] {
  const seqs = new Map<string, number>();
  const seqOf = (m: TraceMessage, seq: number) => {
    const k = `${m.namespace}:${m.protocol}:${m.socket}:${seq}`;
    if (!seqs.has(k)) seqs.set(k, seqs.size + 1);
    return seqs.get(k);
  };
  const attrs = (as: TraceAttr[] | undefined): unknown =>
    as?.map((a) => {
      const out: Record<string, unknown> = { name: a.name };
      if (a.header) out.header = { ...a.header, ...(a.header.index ? { index: 'IFINDEX' } : {}) };
      if (a.attrs) out.attrs = attrs(a.attrs);
      else if (a.value !== undefined) out.value = VOLATILE[a.name] ?? a.value;
      return out;
    });
  // Each namespace has its own I/O thread: their messages interleave as they
  // will. In order within a namespace; the namespaces one after the other.
  const order = (m: TraceMessage) => Object.keys(names).indexOf(m.namespace);
  const sorted = msgs
    .map((m, i) => [m, i] as const)
    .sort((a, b) => order(a[0]) - order(b[0]) || a[1] - b[1])
    .map(([m]) => m);
  return sorted.map((m) => {
    const out: Record<string, unknown> = {
      direction: m.direction,
      namespace: names[m.namespace] ?? m.namespace,
      type: m.type,
      flags: m.flags,
      seq: seqOf(m, m.seq),
    };
    if (m.header) {
      const h: Record<string, unknown> = { ...m.header };
      if (h.index) h.index = 'IFINDEX';
      if (typeof h.request_seq === 'number') h.request_seq = seqOf(m, h.request_seq);
      if (m.protocol === 'netfilter' && 'res_id' in h && m.direction === 'recv') h.res_id = 'GEN';
      // The kernel's link state (carrier, IFF_LOWER_UP) when it answered: not ours to fix.
      if (m.direction === 'recv' && m.attrs && 'flags' in h) h.flags = 'STATE';
      out.header = h;
    }
    // A reply carrying a whole object (the kernel's view, its counters): its attribute names only.
    if (m.direction === 'recv' && m.attrs) out.attrNames = m.attrs.map((a) => a.name);
    else if (m.attrs) out.attrs = attrs(m.attrs);
    if (m.ack) out.ack = true;
    if (m.error) out.error = m.error;
    if (m.ms !== undefined) out.timed = true;
    return out;
  });
}

function golden(name: string, got: unknown): void {
  const file = path.join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
  expect(got).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
}

async function traced(fn: () => Promise<unknown>): Promise<TraceMessage[]> {
  const msgs: TraceMessage[] = [];
  const sub = (m: unknown) => msgs.push(m as TraceMessage);
  dc.subscribe('netplumb:trace', sub);
  trace.enable();
  try {
    await fn();
    // The tap's messages cross from the I/O thread: let the last ones arrive.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    trace.disable();
    dc.unsubscribe('netplumb:trace', sub);
  }
  return msgs;
}

describe('message trace', () => {
  let host: Namespace;
  let c: Namespace;
  let names: Record<string, string>;
  beforeAll(async () => {
    host = await t.create('trh');
    c = await t.create('trc');
    names = { [host.name!]: 'host', [c.name!]: 'container' };
  });

  it('another copy of the library enabled first (a second module instance): the copy enabled last gets the records', async () => {
    // First in this file: the other copy is the first to enable the trace in this process,
    // as an earlier test file of the same process (jest --runInBand loads lib/ once per file), or a
    // second netplumb in node_modules, would: the addon is one per process, its trace tap too.
    let other: typeof import('../../lib/trace') | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      other = require('../../lib/trace') as typeof import('../../lib/trace');
    });
    expect(other!.trace).not.toBe(trace);
    other!.trace.enable();
    other!.trace.disable();
    const msgs = await traced(() => host.loopback.up());
    expect(msgs.filter((m) => m.direction === 'send').map((m) => m.type)).toContain('RTM_SETLINK');
  });

  it('VethPair.create with peerIn: one RTM_NEWLINK, the peer nested with its namespace fd, its ACK and time', async () => {
    const msgs = await traced(() => VethPair.create('vt0', { namespace: host, peerIn: c, peerName: 'eth0', up: true, peerUp: true }));
    const newlink = msgs.find((m) => m.type === 'RTM_NEWLINK' && m.direction === 'send')!;
    expect(newlink.namespace).toBe(host.name);
    expect(newlink.flags).toEqual(expect.arrayContaining(['REQUEST', 'ACK', 'CREATE', 'EXCL']));
    const ack = msgs.find((m) => m.ack && m.seq === newlink.seq && m.socket === newlink.socket && m.namespace === newlink.namespace)!;
    expect(ack.ms).toBeGreaterThan(0);
    golden('trace-veth-peerin', normalize(msgs, names));
  });

  it('a publish batch: BATCH_BEGIN, the table, chains and rules (expressions by name), BATCH_END, and the ACKs', async () => {
    const br = await Bridge.create('br0', { namespace: host, address: '172.30.0.1/24', up: true });
    const msgs = await traced(() => br.publish({ protocol: 'tcp', hostPort: 8080, to: '172.30.0.2:80' }));
    expect(msgs.some((m) => m.type === 'NFNL_MSG_BATCH_BEGIN')).toBe(true);
    expect(JSON.stringify(msgs)).toContain('"NFTA_EXPR_NAME","value":"nat"');
    golden('trace-publish', normalize(msgs, names));
  });

  it("an error: the kernel's errno and extended ACK message, with the time", async () => {
    const msgs = await traced(() => Route.add({ namespace: host, to: '10.77.0.0/16', via: '10.99.99.99' }).catch(() => undefined));
    const err = msgs.find((m) => m.error)!;
    expect(err.error).toMatchObject({ errno: 101, code: 'ENETUNREACH' });
    expect(err.error!.message).toMatch(/gateway|nexthop/i);
    expect(err.ms).toBeGreaterThan(0);
  });

  it('a namespace is labelled by the name it has now, not by a name it had (the name removed, the namespace named again)', async () => {
    const ns = await t.create('trr');
    const before = await traced(() => ns.loopback.up());
    expect(before.find((m) => m.direction === 'send')!.namespace).toBe(ns.name);
    // The same namespace under a new name, the old one removed (what `ip netns` sees as a rename).
    const again = `${ns.name}b`;
    fs.writeFileSync(`/run/netns/${again}`, '');
    execFileSync('mount', ['--bind', `/run/netns/${ns.name}`, `/run/netns/${again}`]);
    execFileSync('umount', [`/run/netns/${ns.name}`]);
    fs.rmSync(`/run/netns/${ns.name}`);
    try {
      const after = await traced(() => ns.loopback.up());
      expect(after.filter((m) => m.direction === 'send').map((m) => m.namespace)).toEqual([again]);
    } finally {
      execFileSync('umount', [`/run/netns/${again}`]);
      fs.rmSync(`/run/netns/${again}`);
    }
  });

  it('off: nothing is handed over', async () => {
    const msgs: unknown[] = [];
    const sub = (m: unknown) => msgs.push(m);
    trace.enable();
    trace.disable();
    dc.subscribe('netplumb:trace', sub);
    try {
      await host.loopback.up();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      dc.unsubscribe('netplumb:trace', sub);
    }
    expect(msgs).toEqual([]);
  });
});
