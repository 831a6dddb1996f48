// Concurrent connects on one network, counted in kernel work by the message
// trace (bench W3): the connects one process has waiting share one hold of the
// network's lock and one reconcile with the kernel (one host link dump, one
// address dump, one nf_tables read), not one each, so the work no longer grows
// with the square of the connects in flight. The dump is filtered by the
// kernel (IFLA_MASTER): it carries the bridge's ports and nothing else. And
// the guarantees stand: each connect of a hold fails alone, and a lease that
// another process wrote between two holds is seen by the next one. The kernel
// state is checked with `ip -j`.
import { spawn } from 'node:child_process';
import * as dc from 'node:diagnostics_channel';

import { Link, type Namespace, NetlinkError, NetplumbError, Network, trace, type Endpoint, type TraceMessage } from '../../lib';
import { RUN_DIR } from '../../lib/lock';
import { ip, oracle } from '../helpers/oracle';
import { NsTracker, rejectionOf } from '../helpers/ns-link';

const t = new NsTracker();
const mk = (prefix: string): Promise<Namespace> => t.create(prefix);
afterEach(async () => {
  trace.disable();
  await t.cleanup();
});
const nm = (ns: Namespace): string => ns.name as string;
const linkNames = (ns: string): string[] =>
  oracle
    .links(ns)
    .map((l) => l.ifname)
    .sort();

/** Host veths carrying a lease of network `name` (`ip -j`): their leased addresses, sorted. */
const leasedIps = (H: string, name: string): string[] =>
  (oracle.links(H) as { ifalias?: string }[])
    .map((l) => /^netplumb (\S+) ([\d.]+) \S+ \S+$/.exec(l.ifalias ?? ''))
    .filter((r): r is RegExpExecArray => r !== null && r[1] === name)
    .map((r) => r[2] as string)
    .sort();

interface Work {
  /** RTM_GETLINK dump requests sent in the host namespace. */
  linkDumps: number;
  /** RTM_NEWLINK messages those dumps returned. */
  linkDumpMsgs: number;
  /** RTM_GETADDR dump requests sent in the host namespace. */
  addrDumps: number;
  /** nf_tables generation reads (one per transaction attempt). */
  nftReads: number;
}

/**
 * The kernel work `fn` makes in namespace `host`, counted from the message
 * trace. Its messages are told by the trace's name for the namespace, taken
 * from a request for `bridge` (a link only it has; not a dump, so not
 * counted): the trace names a namespace once per inode, and a deleted
 * namespace's inode may come back.
 */
async function workIn(host: Namespace, bridge: string, fn: () => Promise<unknown>): Promise<Work> {
  const all: TraceMessage[] = [];
  const sub = (m: unknown) => all.push(m as TraceMessage);
  dc.subscribe('netplumb:trace', sub);
  trace.enable();
  try {
    await Link.get(host, bridge);
    await fn();
    await new Promise((r) => setTimeout(r, 50)); // the records of the last replies
  } finally {
    trace.disable();
    dc.unsubscribe('netplumb:trace', sub);
  }
  const label = all.find(
    (m) => m.direction === 'send' && m.type === 'RTM_GETLINK' && m.attrs?.some((a) => a.name === 'IFLA_IFNAME' && a.value === bridge),
  )?.namespace;
  const msgs = all.filter((m) => m.namespace === label);
  const sent = (type: string) => msgs.filter((m) => m.direction === 'send' && m.type === type);
  const isDump = (m: TraceMessage) => m.flags.includes('ROOT') && m.flags.includes('MATCH');
  const dumps = sent('RTM_GETLINK').filter(isDump);
  const dumpKeys = new Set(dumps.map((m) => `${m.socket}:${m.seq}`));
  return {
    linkDumps: dumps.length,
    linkDumpMsgs: msgs.filter((m) => m.direction === 'recv' && m.type === 'RTM_NEWLINK' && dumpKeys.has(`${m.socket}:${m.seq}`)).length,
    addrDumps: sent('RTM_GETADDR').filter(isDump).length,
    nftReads: sent('NFT_MSG_GETGEN').length,
  };
}

const N = 16;

describe('concurrent connects of one process share one hold of the lock and one read of the kernel', () => {
  it(`${N} connects at once: one host link dump (carrying only the bridge's ports: filtered by the kernel), one address dump, one nf_tables read`, async () => {
    const host = await mk('bh');
    const H = nm(host);
    const net = await Network.bridge({ name: 'nb1', subnet: '10.61.0.0/24', namespace: host, masquerade: false });
    try {
      // Three ports already, and a link of the host namespace that is not a port (nor are lo and the bridge).
      for (let i = 0; i < 3; i++) await net.connect(await mk('bp'));
      ip(H, 'link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other1');
      const ctrs = await Promise.all(Array.from({ length: N }, () => mk('bc')));
      let eps: Endpoint[] = [];
      const work = await workIn(host, 'nb1', async () => (eps = await Promise.all(ctrs.map((c) => net.connect(c)))));
      console.log(`network-batch: ${N} connects at once: ${JSON.stringify(work)}`);
      // Before: each connect reconciled on its own (two link dumps, an address dump, an nf_tables read): 2N, N, N.
      expect(work).toEqual({ linkDumps: 1, linkDumpMsgs: 3, addrDumps: 1, nftReads: 1 });
      expect(new Set(eps.map((e) => e.ip)).size).toBe(N);
      expect(leasedIps(H, 'nb1')).toHaveLength(N + 3);
      expect(leasedIps(H, 'nb1')).toEqual(expect.arrayContaining(eps.map((e) => e.ip)));
    } finally {
      await net.delete();
    }
  });

  it('connects that arrive while another process holds the lock all wait for one hold, then one read of the kernel serves them', async () => {
    const host = await mk('bh');
    const H = nm(host);
    const net = await Network.bridge({ name: 'nb2', subnet: '10.62.0.0/24', namespace: host, masquerade: false });
    const ctrs = await Promise.all(Array.from({ length: N }, () => mk('bc')));
    // flock(1) holds the network's lock (the file every process's connect flocks) for a second.
    const holder = spawn('flock', ['-x', `${RUN_DIR}/network-${host.dev}-${host.inode}-nb2.lock`, '-c', 'echo held; sleep 1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('error', reject); // no flock(1): scripts/tools.js names util-linux
        holder.once('exit', (code) => reject(new Error(`flock exited (${code}) before taking the lock`)));
      });
      let eps: Endpoint[] = [];
      const work = await workIn(host, 'nb2', async () => {
        // Half now, half 100 ms later, both while the other process holds the lock.
        const first = ctrs.slice(0, N / 2).map((c) => net.connect(c));
        await new Promise((r) => setTimeout(r, 100));
        const second = ctrs.slice(N / 2).map((c) => net.connect(c));
        eps = await Promise.all([...first, ...second]);
      });
      console.log(`network-batch: ${N} connects behind another process's lock: ${JSON.stringify(work)}`);
      expect(work).toEqual({ linkDumps: 1, linkDumpMsgs: 0, addrDumps: 1, nftReads: 1 });
      expect(new Set(eps.map((e) => e.ip)).size).toBe(N);
      expect(leasedIps(H, 'nb2')).toEqual(eps.map((e) => e.ip).sort());
    } finally {
      holder.kill();
      await net.delete();
    }
  });

  it('in one hold, each connect fails alone and leaves nothing: a taken fixed ip, a host veth name in use, the same endpoint twice (the second waits for the next hold)', async () => {
    const host = await mk('bh');
    const H = nm(host);
    const net = await Network.bridge({ name: 'nb3', subnet: '10.63.0.0/24', namespace: host, masquerade: false });
    try {
      const old = await net.connect(await mk('bp'));
      ip(H, 'link', 'add', 'taken0', 'type', 'veth', 'peer', 'name', 'taken1');
      const [a, b, c, d, e, f] = await Promise.all(Array.from({ length: 6 }, () => mk('bc')));
      const hostBefore = linkNames(H);
      let results: PromiseSettledResult<Endpoint>[] = [];
      const work = await workIn(host, 'nb3', async () => {
        results = await Promise.allSettled([
          net.connect(a!, { id: 'dup' }),
          net.connect(b!, { ip: old.ip }),
          net.connect(c!, { hostIfname: 'taken0' }),
          net.connect(d!, { id: 'dup' }),
          net.connect(a!, { id: 'dup', ifExists: 'reuse' }),
          net.connect(e!),
          net.connect(f!),
        ]);
      });
      const [rDup, rFixed, rName, rDup2, rReuse, rE, rF] = results;
      const ok = (r: PromiseSettledResult<Endpoint> | undefined): Endpoint => {
        if (r?.status !== 'fulfilled') throw r?.reason ?? new Error('no result');
        return r.value;
      };
      const err = (r: PromiseSettledResult<Endpoint> | undefined): Error & { code?: string } => {
        expect(r?.status).toBe('rejected');
        return (r as PromiseRejectedResult).reason as Error & { code?: string };
      };
      const dup = ok(rDup);
      expect(err(rFixed)).toBeInstanceOf(NetplumbError);
      expect(err(rFixed).code).toBe('ERR_ADDRESS_IN_USE');
      expect(err(rName)).toBeInstanceOf(NetlinkError);
      expect(err(rName).code).toBe('EEXIST');
      expect(err(rDup2)).toBeInstanceOf(NetplumbError);
      expect(err(rDup2).code).toBe('ERR_ENDPOINT_EXISTS');
      expect(ok(rReuse).ip).toBe(dup.ip);
      expect(ok(rReuse).hostIfname).toBe(dup.hostIfname);
      const good = [old, dup, ok(rE), ok(rF)];
      // The kernel holds exactly the leases of the connects that succeeded, and the failed ones made nothing.
      expect(leasedIps(H, 'nb3')).toEqual(good.map((x) => x.ip).sort());
      expect(linkNames(H)).toEqual([...hostBefore, ...good.slice(1).map((x) => x.hostIfname)].sort());
      for (const ns of [b!, c!, d!]) expect(linkNames(nm(ns))).toEqual(['lo']);
      expect(net.leases.sort()).toEqual([net.gateway, ...good.map((x) => x.ip)].sort());
      // Two holds: the endpoint connected twice waited for the second (whose read saw the first's lease).
      expect(work.linkDumps).toBe(2);
      expect(work.addrDumps).toBe(2);
    } finally {
      await net.delete();
    }
  });

  it("a hold never reuses an earlier hold's read: a lease written in between (as another process would) is seen by the next connect", async () => {
    const host = await mk('bh');
    const H = nm(host);
    const net = await Network.bridge({ name: 'nb4', subnet: '10.64.0.0/24', namespace: host, masquerade: false });
    try {
      await Promise.all([net.connect(await mk('bc')), net.connect(await mk('bc'))]);
      // Another process's lease of 10.64.0.200, written behind this process's back.
      ip(H, 'link', 'add', 'vother', 'type', 'veth', 'peer', 'name', 'vother1');
      ip(H, 'link', 'set', 'vother', 'master', 'nb4', 'alias', 'netplumb nb4 10.64.0.200 other eth0');
      const c = await mk('bc');
      const e = await rejectionOf(net.connect(c, { ip: '10.64.0.200' }));
      expect(e).toBeInstanceOf(NetplumbError);
      expect(e.code).toBe('ERR_ADDRESS_IN_USE');
      expect(linkNames(nm(c))).toEqual(['lo']);
      // Control: gone again (the other container went), the address is free for the next hold.
      ip(H, 'link', 'del', 'vother');
      expect((await net.connect(c, { ip: '10.64.0.200' })).ip).toBe('10.64.0.200');
    } finally {
      await net.delete();
    }
  });

  it('fake timers (setImmediate faked, the clock real): a connect does not hang waiting for its hold', async () => {
    const host = await mk('bh');
    const net = await Network.bridge({ name: 'nb5', subnet: '10.65.0.0/24', namespace: host, masquerade: false });
    const c = await mk('bc');
    const realSetTimeout = setTimeout;
    jest.useFakeTimers({ doNotFake: ['performance', 'nextTick', 'queueMicrotask'] });
    try {
      const connect = net.connect(c).then((e) => e.ip);
      // Far longer than a connect takes here.
      // unref'd: a won race leaves nothing to keep jest alive for 10 s.
      const outcome = await Promise.race([connect, new Promise((r) => realSetTimeout(() => r('hung'), 10_000).unref())]);
      expect(outcome).toBe('10.65.0.2');
    } finally {
      jest.runAllTimers();
      jest.useRealTimers();
      await net.delete();
    }
  });
});
