// Nothing leaks: after creating and deleting 20 namespaces with links inside,
// the process has exactly the file descriptors and threads it started with,
// and /run/netns holds nothing of ours.
import * as fs from 'node:fs';
import * as os from 'node:os';

import { Bridge, Namespace, NETNS_RUN_DIR, VethPair } from '../../lib';
import { fdCount, oracle, uniq } from '../helpers/oracle';
import { fdList, threadCount, waitFor } from '../helpers/reliability';

const COUNT = 20;

/** A bridge with an address, a veth on it whose peer is born in `other`, a second veth with an IPv6 address. */
async function populate(ns: Namespace, other: Namespace, i: number): Promise<void> {
  await ns.loopback.up();
  const br = await Bridge.create('br0', { namespace: ns, address: `10.${i}.0.1/24`, up: true });
  await VethPair.create('v0', { namespace: ns, peerName: 'p0', peerIn: other, master: br, up: true });
  const pair = await VethPair.create('v1', { namespace: ns, peerName: 'p1' });
  await pair.peer.addAddress(`fd00:${i}::2/64`, { nodad: true });
}

async function createPopulated(n: number, prefix: string): Promise<{ names: string[]; made: Namespace[] }> {
  const names = Array.from({ length: n }, () => uniq(prefix));
  const made = await Promise.all(names.map((name) => Namespace.create(name)));
  // Each namespace's v0 has its peer p0 in the next namespace (a ring).
  await Promise.all(made.map((ns, i) => populate(ns, made[(i + 1) % n] as Namespace, i + 1)));
  return { names, made };
}

let netnsAtStart: string[];
beforeAll(() => {
  netnsAtStart = fs.readdirSync(NETNS_RUN_DIR).sort();
  if (netnsAtStart.length) console.warn(`leaks: /run/netns was not empty at start (${netnsAtStart.join(', ')}); comparing against that`);
});

it(`creating and deleting ${COUNT} namespaces with links leaves no fd, thread or /run/netns entry behind`, async () => {
  // Warm-up: the first use loads the addon and starts libuv's pool threads, once per process.
  const warm = await createPopulated(2, 'lkw');
  await Promise.all(warm.made.map((ns) => ns.delete()));
  await waitFor(() => false, 200);

  const fdsBefore = fdCount();
  const fdListBefore = fdList();
  const threadsBefore = threadCount();

  // Create, populate, check, delete.
  const { names, made } = await createPopulated(COUNT, 'lk');

  // The measurements see what is open (so equality afterwards means something):
  // each handle holds at least a namespace fd and a netlink socket. Threads do
  // not grow with namespaces: the warm-up started the shared I/O threads (at
  // most one per CPU), and they serve every handle.
  expect(fdCount()).toBeGreaterThanOrEqual(fdsBefore + 2 * COUNT);
  expect(threadCount()).toBeLessThanOrEqual(threadsBefore + os.availableParallelism() + 2);
  expect(oracle.netns()).toEqual(expect.arrayContaining(names));
  for (const [i, name] of names.entries()) {
    const links = oracle.links(name).map((l) => l.ifname).sort();
    // p0 of the previous namespace lives here too.
    expect(links).toEqual(['br0', 'lo', 'p0', 'p1', 'v0', 'v1']);
    expect(oracle.link(name, 'v0')?.master).toBe('br0');
    if (i === 0) expect(oracle.addrs(name, 'br0')[0]?.addr_info?.[0]?.local).toBe('10.1.0.1');
  }

  await Promise.all(made.map((ns) => ns.delete()));
  expect(made.every((ns) => ns.closed)).toBe(true);

  // /run/netns: none of ours (the last test checks the whole directory).
  expect(fs.readdirSync(NETNS_RUN_DIR).filter((n) => names.includes(n) || warm.names.includes(n))).toEqual([]);
  expect(oracle.netns().filter((n) => names.includes(n) || warm.names.includes(n))).toEqual([]);

  // Threads exit asynchronously after close() resolves: give them up to 2 s.
  const threadsBack = await waitFor(() => threadCount() <= threadsBefore, 2000);
  const threadsAfter = threadCount();
  const fdsAfter = fdCount();
  console.log(`leaks: fds ${fdsBefore} -> ${fdsAfter}; threads ${threadsBefore} -> ${threadsAfter}`);
  if (fdsAfter !== fdsBefore) {
    const before = new Set(fdListBefore);
    console.log('fds opened and not closed:\n' + fdList().filter((f) => !before.has(f)).join('\n'));
  }
  expect(fdsAfter).toBe(fdsBefore);
  expect(threadsBack).toBe(true);
  expect(threadsAfter).toBe(threadsBefore);
});

it('failed opens (existing name, a file that is not a network namespace) leak nothing either', async () => {
  const keepName = uniq('lkk');
  const keep = await Namespace.create(keepName);
  try {
    await waitFor(() => false, 100);
    const fdsBefore = fdCount();
    const threadsBefore = threadCount();
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      for (const attempt of [
        () => Namespace.create(keepName), // EEXIST
        () => Namespace.fromPath('/proc/self/ns/mnt'), // not a network namespace
        () => Namespace.fromPath('/proc/self/status'), // not a namespace at all
      ]) {
        await attempt().then(
          (ns) => {
            void ns.close();
            throw new Error('opened unexpectedly');
          },
          () => failures++,
        );
      }
    }
    expect(failures).toBe(30);
    const threadsBack = await waitFor(() => threadCount() <= threadsBefore, 2000);
    expect(fdCount()).toBe(fdsBefore);
    expect(threadsBack).toBe(true);
    expect(threadCount()).toBe(threadsBefore);
    expect(fs.readdirSync(NETNS_RUN_DIR)).toContain(keepName); // the failed create did not remove it
  } finally {
    await keep.delete();
  }
});

// Whole-directory check: meaningful when this file runs alone or in band (npm test), as other
// files running in parallel workers share the sandbox's /run/netns.
it('/run/netns is empty at the end (as it was at the start)', async () => {
  expect(fs.readdirSync(NETNS_RUN_DIR).sort()).toEqual(netnsAtStart);
  expect(await Namespace.list()).toEqual(netnsAtStart);
  expect(oracle.netns().sort()).toEqual(netnsAtStart);
});
