// The soak workload, run by test/integration/soak.test.ts in a plain
// `node --expose-gc --max-semi-space-size=1` on dist/: memory is measured after full collections, in a
// process whose heap holds nothing but this workload (under jest, RSS carried
// every earlier suite's garbage: 915 -> 1232 MB in one CI run).
//
// argv: CYCLES DELETE(each|group) PREFIX (the namespaces are PREFIX + h/c/wh/wc + i)
// Prints one JSON line: the figures before and after, and every check that failed.
//
// CYCLES create / configure / delete cycles across 8 namespaces (4 host-side,
// 4 container-side), pipelined with Promise.all in waves of 250. One cycle:
//   VethPair.create(host end in H_i, peer born in C_i, both up, in a link group)
//   -> address on the peer -> route via that subnet -> mtu on the host end
//   -> route deleted -> address deleted -> the pair deleted.
// Deletion: every 8th pair one by one (link.delete(), one RTM_DELLINK and one
// kernel RCU wait each), the rest with one Link.deleteGroup per namespace and
// wave. DELETE=each deletes every pair one by one.
import * as fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

import { Address, Link, Namespace, NETNS_RUN_DIR, Route, VethPair } from '../../lib';
import { fdCount, ipj } from '../helpers/oracle';
import { addrSetOf, fdList, linkNamesOf, rssBytes, sleep, threadCount, waitFor } from '../helpers/reliability';

const CYCLES = Number(process.argv[2] ?? 10_000);
const EACH = process.argv[3] === 'each';
const PREFIX = process.argv[4] ?? `sk${process.pid}`;
let ran = 0; // cycles that went through wave()
const WAVE = 250;
const PAIRS = 4;
const GROUP = 4242;

interface World {
  hosts: Namespace[];
  ctrs: Namespace[];
}

const failed: string[] = [];
function check(what: string, got: unknown, want: unknown): void {
  if (!isDeepStrictEqual(got, want)) failed.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

const gc = (globalThis as { gc?: () => void }).gc;
/** RSS after two full collections: what the process still holds, not garbage waiting for the collector. */
async function settledRss(): Promise<number> {
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  await sleep(50);
  gc();
  return rssBytes();
}

/** One wave of cycles [first, first + count): create all, configure all, unconfigure all, delete all. */
async function wave(w: World, first: number, count: number, verify: boolean): Promise<void> {
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
  if (verify) {
    // The cycles do real work: every address and route is there, per the oracle.
    for (let i = 0; i < PAIRS; i++) {
      const C = w.ctrs[i]?.name as string;
      const mine = slots.filter((s) => s.i === i);
      check(`wave ${first}: addresses in ${C}`, addrSetOf(C).filter((a) => a.startsWith('se')), mine.map((s) => `se${s.j} ${s.cidr}`).sort());
      const routes = (ipj(C, 'route', 'show') as { dst: string; gateway?: string }[]).filter((r) => r.gateway).map((r) => `${r.dst} via ${r.gateway}`);
      check(`wave ${first}: routes in ${C}`, routes.sort(), mine.map((s) => `${s.to} via ${s.via}`).sort());
      const H = w.hosts[i]?.name as string;
      const mtus = (ipj(H, 'link', 'show') as { ifname: string; mtu: number }[]).filter((l) => l.ifname.startsWith('sk')).map((l) => l.mtu);
      check(`wave ${first}: host ends in ${H} with mtu 1400`, mtus.filter((m) => m === 1400).length, mine.length);
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
  ran += count;
}

/** 2 x PAIRS namespaces; if one cannot be made, those already made are deleted. */
async function world(tag: string): Promise<World> {
  const w: World = { hosts: [], ctrs: [] };
  try {
    for (let i = 0; i < PAIRS; i++) {
      w.hosts.push(await Namespace.create(`${PREFIX}${tag}h${i}`));
      w.ctrs.push(await Namespace.create(`${PREFIX}${tag}c${i}`));
    }
  } catch (e) {
    await Promise.allSettled([...w.hosts, ...w.ctrs].map((ns) => ns.delete()));
    throw e;
  }
  return w;
}

/** What the child prints (one JSON line). */
export interface SoakReport {
  cycles: number;
  each: boolean;
  elapsedMs: number;
  namespaces: number;
  fds: { base: number; open: number; openAfter: number; after: number; opened: string[]; left: string[] };
  threads: { base: number; open: number; after: number };
  links: { before: number[]; after: number[] };
  netns: { before: number; after: number };
  rss: { before: number; samples: number[]; after: number };
  heapUsed: { before: number; after: number };
  failed: string[];
}

async function main(): Promise<void> {
  // Warm-up (the addon loads, libuv, V8 and malloc's arenas settle): a few waves in throwaway namespaces.
  {
    const warm = await world('w');
    try {
      for (let first = 0; first < 4 * WAVE; first += WAVE) await wave(warm, first, WAVE, false);
    } finally {
      await Promise.all([...warm.hosts, ...warm.ctrs].map((ns) => ns.delete()));
    }
    await waitFor(() => false, 300);
  }

  const netns0 = fs.readdirSync(NETNS_RUN_DIR).sort();
  const fds0 = fdCount();
  const fdList0 = fdList();
  const threads0 = threadCount();

  const w = await world('');
  const all = [...w.hosts, ...w.ctrs];
  const names = all.map((ns) => ns.name as string);
  try {
    const links1 = names.map((n) => linkNamesOf(n));
    const fds1 = fdCount();
    const fdList1 = fdList();
    const threads1 = threadCount();
    const rss1 = await settledRss();
    const heap1 = process.memoryUsage().heapUsed;

    const t0 = Date.now();
    const rssAt: number[] = [];
    for (let first = 0; first < CYCLES; first += WAVE) {
      await wave(w, first, Math.min(WAVE, CYCLES - first), first === 0 || first + WAVE >= CYCLES);
      if ((first / WAVE) % 10 === 9) {
        // Every 10 waves: nothing piles up in the kernel either, and a memory sample.
        check(`links after cycle ${first + WAVE}`, names.map((n) => linkNamesOf(n)), links1);
        rssAt.push(await settledRss());
      }
    }
    const elapsed = Date.now() - t0;
    await sleep(300);

    const links2 = names.map((n) => linkNamesOf(n));
    const addrs2 = w.ctrs.map((ns) => addrSetOf(ns.name as string).filter((a) => a.startsWith('se')));
    const fds2 = fdCount();
    const fdsOpened = fds2 === fds1 ? [] : fdList().filter((f) => !new Set(fdList1).has(f));
    const rss2 = await settledRss();
    const heap2 = process.memoryUsage().heapUsed;

    await Promise.all(all.map((ns) => ns.delete()));
    const threadsBack = await waitFor(() => threadCount() <= threads0, 3000);
    const fds3 = fdCount();
    const fdsLeft = fds3 === fds0 ? [] : fdList().filter((f) => !new Set(fdList0).has(f));
    check('links per namespace, before -> after', links2, links1);
    check('addresses left in the container namespaces', addrs2, addrs2.map(() => []));
    check('fds with the namespaces open, before -> after', fds2, fds1);
    check('fds after closing the namespaces, baseline -> after', fds3, fds0);
    check('threads back to the baseline within 3 s', threadsBack, true);
    check('/run/netns, before -> after', fs.readdirSync(NETNS_RUN_DIR).sort(), netns0);
    const report: SoakReport = {
      cycles: ran - 4 * WAVE, // the warm-up's cycles are not counted
      each: EACH,
      elapsedMs: elapsed,
      namespaces: all.length,
      fds: { base: fds0, open: fds1, openAfter: fds2, after: fds3, opened: fdsOpened, left: fdsLeft },
      threads: { base: threads0, open: threads1, after: threadCount() },
      links: { before: links1.map((l) => l.length), after: links2.map((l) => l.length) },
      netns: { before: netns0.length, after: fs.readdirSync(NETNS_RUN_DIR).length },
      rss: { before: rss1, samples: rssAt, after: rss2 },
      heapUsed: { before: heap1, after: heap2 },
      failed,
    };
    console.log(JSON.stringify(report));
  } finally {
    await Promise.allSettled(all.filter((ns) => !ns.closed).map((ns) => ns.delete()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
