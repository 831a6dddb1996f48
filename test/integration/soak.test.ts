// Soak: SOAK_CYCLES (default 10,000) create / configure / delete cycles across
// 8 namespaces, in a plain `node --expose-gc` on dist/ (test/children/soak.ts
// says what one cycle is). SOAK_DELETE=each deletes every pair one by one.
//
// Before/after, with `ip -j` and /proc as the oracles (checked by the child):
//   open fds          exact (namespaces open: same fds; after closing them: the baseline)
//   threads           back to the baseline after closing the namespaces
//   links per netns   exact, every 2,500 cycles and at the end
//   /run/netns        exact
// And here, from the child's figures:
//   RSS after full collections: growth < RSS_BOUND_MB over the run, and the last
//   half of the run grows by less than RSS_HALF_MB. The child runs with V8's
//   young generation capped (--max-semi-space-size=1): left alone, V8 grows it
//   towards 16 MB x 2 under this allocation rate, at a moment of its choosing
//   (RSS went 63 -> 86 MB, reaching the plateau anywhere from 5,000 to 10,000
//   cycles, and one run failed the last-half bound on that alone). Capped, RSS
//   stays within a few MB for the whole run, so what grows is ours.
import * as fs from 'node:fs';

import { NETNS_RUN_DIR } from '../../lib';
import type { SoakReport } from '../children/soak';
import { removeNamespacesStartingWith, runChild } from '../helpers/child';
import { uniq } from '../helpers/oracle';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 10_000);
const EACH = process.env.SOAK_DELETE === 'each';
const RSS_BOUND_MB = 16;
const RSS_HALF_MB = 8;

const PREFIX = uniq('sk');

// A child killed at its timeout cannot clean up after itself.
afterAll(() => removeNamespacesStartingWith(PREFIX));

it(`${CYCLES} create/configure/delete cycles across 8 namespaces: fds, threads, links, /run/netns back to baseline; RSS growth < ${RSS_BOUND_MB} MB`, () => {
  const netns0 = fs.readdirSync(NETNS_RUN_DIR).sort();
  const r = runChild<SoakReport>('soak', [String(CYCLES), EACH ? 'each' : 'group', PREFIX], { nodeArgs: ['--expose-gc', '--max-semi-space-size=1'], timeoutMs: 170_000 });
  expect({ status: r.status, signal: r.signal, error: r.error, stderr: r.stderr }).toEqual({ status: 0, signal: null, error: undefined, stderr: '' });
  const m = r.report as SoakReport;
  expect(m).toBeDefined();

  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const half = m.rss.samples[Math.floor(m.rss.samples.length / 2) - 1] ?? m.rss.before;
  console.log(
    `soak: ${m.cycles} cycles (${EACH ? 'every pair deleted one by one' : '1 in 8 pairs deleted one by one, the rest by link group'}) in ${(m.elapsedMs / 1000).toFixed(1)} s ` +
      `(${((m.elapsedMs * 1000) / m.cycles).toFixed(0)} us/cycle) across ${m.namespaces} namespaces; ` +
      `fds ${m.fds.open} -> ${m.fds.openAfter} with the namespaces open, ${m.fds.base} -> ${m.fds.after} after closing them; ` +
      `threads ${m.threads.open} with them open, ${m.threads.base} -> ${m.threads.after} after closing; ` +
      `links per namespace ${m.links.before.join('/')} -> ${m.links.after.join('/')}; /run/netns ${m.netns.before} -> ${m.netns.after} entries; ` +
      `RSS after gc ${mb(m.rss.before)} -> ${m.rss.samples.map(mb).join(' -> ')} -> ${mb(m.rss.after)} MB ` +
      `(growth ${mb(m.rss.after - m.rss.before)} MB, bound ${RSS_BOUND_MB}; last half ${mb(m.rss.after - half)} MB, bound ${RSS_HALF_MB}); ` +
      `JS heap used ${mb(m.heapUsed.before)} -> ${mb(m.heapUsed.after)} MB` +
      (m.fds.opened.length ? `\nfds opened and not closed: ${m.fds.opened.join(', ')}` : '') +
      (m.fds.left.length ? `\nfds left after closing: ${m.fds.left.join(', ')}` : ''),
  );

  // The measurement ran: namespaces held fds while open, and there were samples.
  expect(m.cycles).toBe(CYCLES);
  expect(m.fds.open).toBeGreaterThanOrEqual(m.fds.base + 2 * m.namespaces);
  // The namespaces share the I/O threads (at most 4, started by the first open):
  // opening 8 more adds none beyond that pool.
  expect(m.threads.open).toBeLessThanOrEqual(m.threads.base + 4);
  if (CYCLES >= 2500) expect(m.rss.samples.length).toBeGreaterThan(0);
  expect(m.failed).toEqual([]);
  expect(m.links.after).toEqual(m.links.before);
  expect(fs.readdirSync(NETNS_RUN_DIR).sort()).toEqual(netns0);
  expect(m.rss.after - m.rss.before).toBeLessThan(RSS_BOUND_MB * 2 ** 20);
  expect(m.rss.after - half).toBeLessThan(RSS_HALF_MB * 2 ** 20);
}, 180_000);
