// Soak: SOAK_CYCLES (default 10,000) create / configure / delete cycles across
// 8 namespaces (4 host-side, 4 container-side), pipelined with Promise.all in
// waves of 250. One cycle:
//   VethPair.create(host end in H_i, peer born in C_i, both up, in a link group)
//   -> address on the peer -> route via that subnet -> mtu on the host end
//   -> route deleted -> address deleted -> the pair deleted.
// Deletion: every 8th pair one by one (link.delete(), one RTM_DELLINK and one
// kernel RCU wait each, ~10 ms here), the rest with one Link.deleteGroup per
// namespace and wave (one kernel wait for all). SOAK_DELETE=each deletes every
// pair one by one (about 10 ms x SOAK_CYCLES).
//
// Before/after, with `ip -j` and /proc as the oracles:
//   open fds          exact (namespaces open: same fds; after closing them: the baseline)
//   threads           exact after closing the namespaces
//   links per netns   exact
//   /run/netns        exact
//   RSS               growth < RSS_BOUND_MB (64 MB; no --expose-gc under jest, so garbage counts)
import * as fs from 'node:fs';

import { Address, Link, Namespace, NETNS_RUN_DIR, Route, VethPair } from '../../lib';
import { fdCount, ipj, uniq } from '../helpers/oracle';
import { addrSetOf, fdList, linkNamesOf, rssBytes, sleep, threadCount, waitFor } from '../helpers/reliability';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 10_000);
const WAVE = 250;
const PAIRS = 4;
const GROUP = 4242;
const EACH = process.env.SOAK_DELETE === 'each';
const RSS_BOUND_MB = 64;

interface World {
  hosts: Namespace[];
  ctrs: Namespace[];
}

/** One wave of cycles [first, first + count): create all, configure all, unconfigure all, delete all. */
async function wave(w: World, first: number, count: number, check: boolean): Promise<void> {
  const slots = Array.from({ length: count }, (_, j) => {
    const k = first + j;
    const i = k % PAIRS;
    return { k, i, j, host: w.hosts[i] as Namespace, ctr: w.ctrs[i] as Namespace, cidr: `10.${i}.${j}.2/24`, to: `10.${100 + i}.${j}.0/24`, via: `10.${i}.${j}.1` };
  });
  const pairs = await Promise.all(
    slots.map((s) => VethPair.create(`sk${s.j}`, { namespace: s.host, peerIn: s.ctr, peerName: `se${s.j}`, up: true, peerUp: true, group: GROUP })),
  );
  await Promise.all(
    slots.map(async (s, n) => {
      const p = pairs[n] as VethPair;
      await p.peer.addAddress(s.cidr);
      await Promise.all([Route.add({ namespace: s.ctr, to: s.to, via: s.via }), p.link.setMtu(1400)]);
    }),
  );
  if (check) {
    // The cycles do real work: every address and route is there, per the oracle.
    for (let i = 0; i < PAIRS; i++) {
      const C = w.ctrs[i]?.name as string;
      const mine = slots.filter((s) => s.i === i);
      expect(addrSetOf(C).filter((a) => a.startsWith('se'))).toEqual(mine.map((s) => `se${s.j} ${s.cidr}`).sort());
      const routes = (ipj(C, 'route', 'show') as { dst: string; gateway?: string }[]).filter((r) => r.gateway).map((r) => `${r.dst} via ${r.gateway}`);
      expect(routes.sort()).toEqual(mine.map((s) => `${s.to} via ${s.via}`).sort());
      const H = w.hosts[i]?.name as string;
      expect((ipj(H, 'link', 'show') as { ifname: string; mtu: number }[]).filter((l) => l.ifname.startsWith('sk')).every((l) => l.mtu === 1400)).toBe(true);
    }
  }
  await Promise.all(
    slots.map(async (s, n) => {
      const p = pairs[n] as VethPair;
      await Route.delete({ namespace: s.ctr, to: s.to, via: s.via });
      await Address.delete(p.peer, s.cidr);
    }),
  );
  await Promise.all(pairs.filter((_, n) => EACH || (slots[n] as { k: number }).k % 8 === 0).map((p) => p.delete()));
  if (!EACH) await Promise.all(w.hosts.map((h) => Link.deleteGroup(h, GROUP)));
}

it(`${CYCLES} create/configure/delete cycles across ${2 * PAIRS} namespaces: fds, threads, links, /run/netns back to baseline; RSS growth < ${RSS_BOUND_MB} MB`, async () => {
  // Warm-up (the addon loads, libuv and V8 settle): a few cycles in throwaway namespaces.
  {
    const warm: World = { hosts: [], ctrs: [] };
    for (let i = 0; i < PAIRS; i++) {
      warm.hosts.push(await Namespace.create(uniq('skwh')));
      warm.ctrs.push(await Namespace.create(uniq('skwc')));
    }
    try {
      await wave(warm, 0, 40, false);
    } finally {
      await Promise.all([...warm.hosts, ...warm.ctrs].map((ns) => ns.delete()));
    }
    await waitFor(() => false, 300);
  }

  const netns0 = fs.readdirSync(NETNS_RUN_DIR).sort();
  const fds0 = fdCount();
  const fdList0 = fdList();
  const threads0 = threadCount();

  const w: World = { hosts: [], ctrs: [] };
  for (let i = 0; i < PAIRS; i++) {
    w.hosts.push(await Namespace.create(uniq('skh')));
    w.ctrs.push(await Namespace.create(uniq('skc')));
  }
  const all = [...w.hosts, ...w.ctrs];
  try {
    const links1 = all.map((ns) => linkNamesOf(ns.name as string));
    const fds1 = fdCount();
    const fdList1 = fdList();
    const threads1 = threadCount();
    const rss1 = rssBytes();
    // Each open namespace holds fds and an I/O thread: the figures can see a leak.
    expect(fds1).toBeGreaterThanOrEqual(fds0 + 2 * all.length);
    expect(threads1).toBeGreaterThanOrEqual(threads0 + all.length);

    const t0 = Date.now();
    let rssPeak = rss1;
    for (let first = 0; first < CYCLES; first += WAVE) {
      await wave(w, first, Math.min(WAVE, CYCLES - first), first === 0 || first + WAVE >= CYCLES);
      rssPeak = Math.max(rssPeak, rssBytes());
      if ((first / WAVE) % 10 === 9) {
        // Every 10 waves: nothing piles up in the kernel either.
        expect(all.map((ns) => linkNamesOf(ns.name as string))).toEqual(links1);
      }
    }
    const elapsed = Date.now() - t0;
    await sleep(300);

    const links2 = all.map((ns) => linkNamesOf(ns.name as string));
    const addrs2 = w.ctrs.map((ns) => addrSetOf(ns.name as string));
    const fds2 = fdCount();
    const rss2 = rssBytes();
    if (fds2 !== fds1) {
      const before = new Set(fdList1);
      console.log('soak: fds opened and not closed during the cycles:\n' + fdList().filter((f) => !before.has(f)).join('\n'));
    }

    await Promise.all(all.map((ns) => ns.delete()));
    const threadsBack = await waitFor(() => threadCount() <= threads0, 3000);
    const fds3 = fdCount();
    const threads3 = threadCount();
    const netns3 = fs.readdirSync(NETNS_RUN_DIR).sort();
    if (fds3 !== fds0) {
      const before = new Set(fdList0);
      console.log('soak: fds left after closing the namespaces:\n' + fdList().filter((f) => !before.has(f)).join('\n'));
    }

    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `soak: ${CYCLES} cycles (${EACH ? 'every pair deleted one by one' : '1 in 8 pairs deleted one by one, the rest by link group'}) in ${(elapsed / 1000).toFixed(1)} s ` +
        `(${((elapsed * 1000) / CYCLES).toFixed(0)} us/cycle) across ${all.length} namespaces; ` +
        `fds ${fds1} -> ${fds2} with the namespaces open, ${fds0} -> ${fds3} after closing them; ` +
        `threads ${threads1} with them open, ${threads0} -> ${threads3} after closing; ` +
        `links per namespace ${links1.map((l) => l.length).join('/')} -> ${links2.map((l) => l.length).join('/')}; ` +
        `/run/netns ${netns0.length} -> ${netns3.length} entries; ` +
        `RSS ${mb(rss1)} -> ${mb(rss2)} MB (peak ${mb(rssPeak)} MB, growth ${mb(rss2 - rss1)} MB, bound ${RSS_BOUND_MB} MB)`,
    );

    expect(links2).toEqual(links1);
    expect(addrs2.every((a) => a.length === 0 || a.every((x) => !x.startsWith('se')))).toBe(true);
    expect(fds2).toBe(fds1);
    expect(fds3).toBe(fds0);
    expect(threadsBack).toBe(true);
    expect(threads3).toBe(threads0);
    expect(netns3).toEqual(netns0);
    expect(rss2 - rss1).toBeLessThan(RSS_BOUND_MB * 2 ** 20);
  } finally {
    await Promise.allSettled(all.filter((ns) => !ns.closed).map((ns) => ns.delete()));
  }
}, 180_000);
