// Fault injection for composite operations, beyond what network.test.ts
// (Network.connect rollback at each step) and veth-bridge.test.ts (veth with a
// taken peer name, a bridge with the same address twice) already cover:
//   (a) VethPair.create while its peer namespace is deleted and closed;
//   (b) Bridge.create with an address the kernel refuses (not a duplicate);
//   (c) an nf_tables batch refused mid-way: nothing of it stays (atomicity),
//       directly through lib/nft.ts apply() and through PortMapping.publish;
//   (d) Network.connect with the container namespace closed (before, and
//       mid-way) and with the bridge deleted behind the network's back.
// Every "nothing left" is read back with `ip -j` / `nft -j`, never from the library.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bridge, Link, Namespace, NetlinkError, NetplumbError, Network, PortMapping, VethPair } from '../../lib';
import { _setConnectFaultHook } from '../../lib/network';
import { apply, comment, expr, natTableMsgs, NFPROTO_IPV4, OWNER_MARK, rule, TABLE } from '../../lib/nft';
import type { NftMsg } from '../../lib/native';
import { nftChains, nftRules } from '../helpers/netnat';
import { linkNamesSeenDuring, rejectionOf } from '../helpers/ns-link';
import { ip, ipj, oracle, uniq } from '../helpers/oracle';
import { isTyped, linkNamesOf, snapshotOf, waitFor } from '../helpers/reliability';

const made: Namespace[] = [];
async function mk(prefix: string): Promise<Namespace> {
  const ns = await Namespace.create(uniq(prefix));
  made.push(ns);
  return ns;
}
afterEach(async () => {
  _setConnectFaultHook(undefined);
  await Promise.allSettled(made.splice(0).map((ns) => ns.delete()));
});
const nm = (ns: Namespace): string => ns.name as string;

// ------------------------------------------------------------------ (a)

describe('(a) VethPair.create while the peer namespace is deleted and closed', () => {
  // When the deletion starts relative to the create: synchronously after the
  // call, after a microtask, after the I/O phase, after 1 and 3 ms.
  const WHEN: [string, (() => Promise<void>) | null][] = [
    ['synchronously', null],
    ['after a microtask', () => Promise.resolve().then(() => undefined)],
    ['after setImmediate', () => new Promise<void>((r) => setImmediate(r))],
    ['after 1 ms', () => new Promise<void>((r) => setTimeout(r, 1))],
    ['after 3 ms', () => new Promise<void>((r) => setTimeout(r, 3))],
  ];
  const ROUNDS = 6;

  it(`success or a typed error, never a link left in the host namespace nor in a bystander (${WHEN.length} timings x ${ROUNDS})`, async () => {
    const host = await mk('fah');
    const H = nm(host);
    const outcomes = new Map<string, number>();
    for (const [when, delay] of WHEN) {
      for (let round = 0; round < ROUNDS; round++) {
        const peerName = uniq('fap');
        const peer = await Namespace.create(peerName);
        const hostEnd = uniq('fav');
        const creating = VethPair.create(hostEnd, { namespace: host, peerIn: peer, peerName: 'eth0', up: true, peerUp: true });
        const p = delay ? delay().then(() => peer.delete()) : peer.delete();
        // A namespace created while the old one is being closed may get the same fd number:
        // the veth peer must never land in it.
        const bystander = await mk('fab');
        const [res] = await Promise.allSettled([creating, p]);
        await p; // the deletion itself succeeds
        let outcome: string;
        if (res.status === 'fulfilled') {
          outcome = 'created';
          // The pair was made before the namespace went: the kernel destroys the peer with its
          // namespace, and the host end with it.
          expect(res.value.peer.namespace).toBe(peer);
        } else {
          const e = res.reason as NetplumbError | NetlinkError;
          if (!isTyped(e)) throw new Error(`untyped rejection (${when}): ${String((e as Error)?.stack ?? e)}`);
          outcome = `${e.name} ${e.code}${e instanceof NetlinkError ? ` ${e.syscall}` : ''}`;
        }
        outcomes.set(`${when}: ${outcome}`, (outcomes.get(`${when}: ${outcome}`) ?? 0) + 1);
        const gone = await waitFor(() => !linkNamesOf(H).includes(hostEnd), 5000);
        if (!gone) throw new Error(`${when}, round ${round}: ${hostEnd} still in the host namespace after ${outcome}: ${JSON.stringify(oracle.link(H, hostEnd))}`);
        expect(linkNamesOf(nm(bystander))).toEqual(['lo']);
        expect(oracle.netns()).not.toContain(peerName);
      }
    }
    expect(linkNamesOf(H)).toEqual(['lo']);
    console.log(`faults (a): outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    // The test exercised something: there were outcomes for every timing.
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(WHEN.length * ROUNDS);
  });

  it('the peer closed while the master name is looked up, its fd number reused by the application: the peer never appears in a namespace the call did not name', async () => {
    // VethPair.create resolves peerIn, then (await) the master's name, then builds the request
    // with peerIn.ref (its socket, from which the request takes an fd of the namespace). If
    // peerIn is closed in between and the application opens another namespace, that
    // namespace gets the lowest free fd: the same number.
    const host = await mk('fah');
    const H = nm(host);
    const bystander = await mk('fab');
    const B = nm(bystander);
    await Bridge.create('fabr0', { namespace: host });
    // A busy host handle (dumps of 600 links queued before the master lookup) widens the window.
    const batch = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'np-faults-')), 'links.txt');
    fs.writeFileSync(batch, Array.from({ length: 300 }, (_, i) => `link add fa${i} type veth peer name fb${i}`).join('\n'));
    ip(H, '-batch', batch);
    fs.rmSync(path.dirname(batch), { recursive: true });
    const seenInBystander: string[] = [];
    const outcomes: string[] = [];
    for (let k = 0; k < 4; k++) {
      const peer = await Namespace.create(uniq('fap'));
      const events = await linkNamesSeenDuring(B, async () => {
        const busy = Promise.all(Array.from({ length: 10 }, () => Link.list(host)));
        const creating = VethPair.create(`fav${k}`, { namespace: host, peerIn: peer, peerName: `fax${k}`, master: 'fabr0' }).then(
          () => 'created',
          (e: unknown) => (isTyped(e) ? `${e.name} ${e.code}` : `untyped ${String(e)}`),
        );
        for (let i = 0; i < k; i++) await null;
        const closing = peer.close();
        // The application opens the bystander namespace (fs.openSync: the lowest free fd).
        let fd = -1;
        for (const t0 = Date.now(); Date.now() - t0 < 100; ) {
          fd = fs.openSync(`/run/netns/${B}`, 'r');
          if (fd === peer.ref) break;
          fs.closeSync(fd);
          fd = -1;
        }
        await closing;
        outcomes.push(`${await creating} (peer ref ${peer.ref}, bystander fd ${fd})`);
        await busy;
        if (fd >= 0) fs.closeSync(fd);
      });
      await peer.delete();
      seenInBystander.push(...events);
      await waitFor(() => !linkNamesOf(H).includes(`fav${k}`), 5000);
    }
    console.log(`faults (a, fd reuse): outcomes ${JSON.stringify(outcomes)}; link events in the bystander: ${JSON.stringify(seenInBystander)}`);
    expect(outcomes.every((o) => !o.startsWith('untyped'))).toBe(true);
    expect(linkNamesOf(B)).toEqual(['lo']);
    expect(linkNamesOf(H).filter((n) => n.startsWith('fav'))).toEqual([]);
    // The bystander never saw a link of these calls, not even for an instant.
    expect(seenInBystander).toEqual([]);
  });

  it('a peer namespace closed (not deleted) before the call: ERR_NAMESPACE_CLOSED, no syscall made, nothing left', async () => {
    const host = await mk('fah');
    const peer = await mk('fap');
    await peer.close();
    const e = await rejectionOf(VethPair.create('fav0', { namespace: host, peerIn: peer, peerName: 'eth0' }));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_CLOSED');
    expect(linkNamesOf(nm(host))).toEqual(['lo']);
    expect(linkNamesOf(nm(peer))).toEqual(['lo']);
  });
});

// ------------------------------------------------------------------ (b)

describe('(b) Bridge.create with an address the kernel refuses', () => {
  it('an IPv6 multicast address (EADDRNOTAVAIL, the kernel says why): no bridge left, the first (valid) address neither', async () => {
    const host = await mk('fbh');
    const H = nm(host);
    const before = snapshotOf(H);
    const e = await rejectionOf(Bridge.create('fbr0', { namespace: host, address: ['10.61.0.1/24', 'ff02::5/64'], up: true }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EADDRNOTAVAIL');
    expect(e.errno).toBe(-99);
    expect(e.syscall).toBe('RTM_NEWADDR');
    expect(String(e.extack)).toMatch(/multicast/i);
    expect(String(e.object)).toContain('ff02::5/64');
    expect(oracle.link(H, 'fbr0')).toBeUndefined();
    expect(snapshotOf(H)).toEqual(before);
    // Control: the same call with only the valid address works (so the refusal was the kernel's, on ff02::5).
    const br = await Bridge.create('fbr0', { namespace: host, address: '10.61.0.1/24', up: true });
    expect(oracle.link(H, 'fbr0')?.ifindex).toBe(br.index);
  });

  it('IPv6 disabled on new devices (EACCES, the kernel says why): no bridge left', async () => {
    const host = await mk('fbh');
    const H = nm(host);
    await host.sysctl.set('net.ipv6.conf.default.disable_ipv6', 1);
    const before = snapshotOf(H);
    const e = await rejectionOf(Bridge.create('fbr1', { namespace: host, address: ['10.62.0.1/24', 'fd00:62::1/64'] }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EACCES');
    expect(e.syscall).toBe('RTM_NEWADDR');
    expect(String(e.extack)).toMatch(/disabled/i);
    expect(oracle.link(H, 'fbr1')).toBeUndefined();
    expect(snapshotOf(H)).toEqual(before);
  });
});

// ------------------------------------------------------------------ (c)

describe('(c) an nf_tables batch refused mid-way leaves nothing of itself', () => {
  const valid = (text: string): NftMsg => rule(NFPROTO_IPV4, 'prerouting', [expr.l4proto('tcp'), expr.dport(8080), expr.counter()], text);
  const invalid = (text: string): NftMsg => ({
    type: 'newrule', family: NFPROTO_IPV4, table: TABLE, chain: 'prerouting', exprs: [{ name: 'nosuchexpr' }], userdata: comment(text),
  });
  const ruleComments = (ns: string): string[] => nftRules(ns).filter((r) => r.table === TABLE).map((r) => r.comment ?? '');

  it('[valid rule, invalid rule]: neither is installed; the error names message 1 and NFT_MSG_NEWRULE', async () => {
    const host = await mk('fch');
    const H = nm(host);
    await apply(host, natTableMsgs(), 'setup');
    expect(ruleComments(H)).toEqual([]);
    const e = await rejectionOf(apply(host, [valid('faults valid'), invalid('faults invalid')], 'faults batch'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.syscall).toBe('NFT_MSG_NEWRULE');
    expect(typeof e.code).toBe('string');
    expect(e.errno).toBeLessThan(0);
    expect(String(e.object)).toContain('(message 1: newrule prerouting "faults invalid")');
    console.log(`faults (c): ${e.message}`);
    expect(ruleComments(H)).toEqual([]);
    // Control: the valid rule alone is accepted and shows, so its absence above was the rollback.
    await apply(host, [valid('faults valid')], 'control');
    expect(ruleComments(H)).toEqual(['faults valid']);
  });

  it('[table, chains, valid rule, invalid rule] on a clean namespace: not even the table stays', async () => {
    const host = await mk('fch');
    const H = nm(host);
    const msgs = [...natTableMsgs(), valid('faults valid'), invalid('faults invalid')];
    const e = await rejectionOf(apply(host, msgs, 'faults batch'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.syscall).toBe('NFT_MSG_NEWRULE');
    expect(String(e.object)).toContain(`(message ${msgs.length - 1}: newrule prerouting "faults invalid")`);
    expect(nftChains(H)).toEqual([]);
    expect(nftRules(H)).toEqual([]);
  });

  it('PortMapping.publish refused at its 4th message (a foreign postrouting chain of another type): no chain, no rule of it stays', async () => {
    const host = await mk('fch');
    const H = nm(host);
    // A chain in a table of ours (it carries our mark), with a type our batch cannot change.
    ip(undefined, 'netns', 'exec', H, 'nft', 'add', 'table', 'ip', TABLE, `{ comment "${OWNER_MARK}"; }`);
    ip(undefined, 'netns', 'exec', H, 'nft', 'add', 'chain', 'ip', TABLE, 'postrouting', '{ type filter hook postrouting priority 0; }');
    const chainsBefore = nftChains(H);
    expect(chainsBefore.map((c) => `${c.name} ${c.type}`)).toEqual(['postrouting filter']);
    const e = await rejectionOf(PortMapping.publish({ namespace: host, hostPort: 8080, to: '10.63.0.2:80' }));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.syscall).toBe('NFT_MSG_NEWCHAIN');
    expect(e.code).toBe('EOPNOTSUPP');
    // natTableMsgs(): newtable, prerouting, output, postrouting: the 4th (index 3) failed.
    expect(String(e.object)).toContain('(message 3: newchain postrouting)');
    // prerouting and output (messages 1 and 2, accepted) were rolled back with the rest.
    expect(nftChains(H)).toEqual(chainsBefore);
    expect(nftRules(H)).toEqual([]);
    expect(await PortMapping.list(host)).toEqual([]);
  });
});

// ------------------------------------------------------------------ (d)

describe('(d) Network.connect against a vanished namespace or bridge', () => {
  const leasedAliases = (H: string): string[] =>
    // Leases are host veth aliases 'netplumb NET ADDR ID IFNAME'; the bridge's own mark ('netplumb network SUBNET') is not one.
    (oracle.links(H) as { ifalias?: string }[]).map((l) => l.ifalias ?? '').filter((a) => a.startsWith('netplumb ') && !a.startsWith('netplumb network '));

  it('a container namespace closed beforehand: ERR_NAMESPACE_CLOSED, nothing made, no lease taken', async () => {
    const host = await mk('fdh');
    const c = await mk('fdc');
    const net = await Network.bridge({ name: 'fd0', subnet: '10.64.0.0/24', namespace: host });
    await c.close();
    const before = { host: snapshotOf(nm(host)), c: snapshotOf(nm(c)), leases: net.leases };
    const e = await rejectionOf(net.connect(c));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_CLOSED');
    expect({ host: snapshotOf(nm(host)), c: snapshotOf(nm(c)), leases: net.leases }).toEqual(before);
    await net.delete();
  });

  it('the container namespace closed mid-way (after the veth is made): ERR_NAMESPACE_CLOSED, the veth is undone, lease free', async () => {
    const host = await mk('fdh');
    const c = await mk('fdc');
    const H = nm(host);
    const C = nm(c);
    const net = await Network.bridge({ name: 'fd1', subnet: '10.65.0.0/24', namespace: host });
    // One container in and out first: the bridge's first carrier makes the kernel give it an
    // IPv6 link-local address and routes (it has a MAC of its own), which are not connect's doing.
    await (await net.connect(await mk('fdw'))).disconnect();
    const before = { host: snapshotOf(H), c: snapshotOf(C), leases: net.leases };
    let sawVeth = false;
    _setConnectFaultHook(async (step) => {
      if (step === 'veth') {
        // The veth exists now, its peer as eth0 in the container: prove it, then close the namespace.
        sawVeth = linkNamesOf(C).includes('eth0');
        await c.close();
      }
    });
    const e = await rejectionOf(net.connect(c, { publish: ['8081:80'] }));
    _setConnectFaultHook(undefined);
    expect(sawVeth).toBe(true);
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_CLOSED');
    expect({ host: snapshotOf(H), c: snapshotOf(C), leases: net.leases }).toEqual(before);
    expect(leasedAliases(H)).toEqual([]);
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb publish'))).toEqual([]);
    await net.delete();
  });

  it('the bridge deleted behind the network: a NetlinkError (the kernel has no such device), no lease taken, nothing left', async () => {
    const host = await mk('fdh');
    const c = await mk('fdc');
    const H = nm(host);
    const C = nm(c);
    const net = await Network.bridge({ name: 'fd2', subnet: '10.66.0.0/24', namespace: host });
    const ep1 = await net.connect(c, { ifname: 'eth1' });
    ip(H, 'link', 'del', 'fd2'); // behind the network's back (the host veth of ep1 stays, now without master)
    expect(oracle.link(H, 'fd2')).toBeUndefined();
    const before = { host: snapshotOf(H), c: snapshotOf(C), leases: net.leases };
    const e = await rejectionOf(net.connect(c, { publish: ['8082:80'] }));
    expect(e).toBeInstanceOf(NetlinkError);
    // connect first re-reads the bridge's ports and addresses (under the network's lock): that read fails.
    expect(['RTM_NEWLINK', 'RTM_GETLINK', 'RTM_GETADDR']).toContain(e.syscall);
    expect(['ENODEV', 'EINVAL']).toContain(e.code);
    console.log(`faults (d): connect with the bridge gone: ${e.message}`);
    expect({ host: snapshotOf(H), c: snapshotOf(C), leases: net.leases }).toEqual(before);
    expect(nftRules(H).filter((r) => (r.comment ?? '').startsWith('netplumb publish'))).toEqual([]);
    // The endpoint made before still disconnects cleanly.
    await net.disconnect(ep1);
    expect(linkNamesOf(C)).toEqual(['lo']);
    expect((ipj(H, 'link', 'show') as { ifname: string }[]).some((l) => l.ifname === ep1.hostIfname)).toBe(false);
  });
});
