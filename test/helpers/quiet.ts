// Waiting for a quiet kernel: the previous test file's namespaces are deleted
// by the kernel in the background (cleanup_net holds RTNL for milliseconds at
// a time), and a test that times requests or counts a thread's sleeps would
// measure that instead of netplumb.
import { Address, type Link } from '../../lib';

/**
 * Waits (at most `maxMs`) until an address add+delete on `link` (requests
 * that take RTNL) answers within `underUs` three times in a row. Returns how
 * long it waited and the probes' times (the first and last four).
 */
export async function quietKernel(link: Link, underUs = 500, maxMs = 20_000): Promise<{ waitedMs: number; probesUs: number[] }> {
  const t0 = performance.now();
  const probe = '127.254.254.254/32';
  const probes: number[] = [];
  await Address.delete(link, probe).catch(() => undefined); // left by a killed run
  let fast = 0;
  while (fast < 3 && performance.now() - t0 < maxMs) {
    const t = performance.now();
    await Address.add(link, probe);
    try {
      await Address.delete(link, probe);
    } catch (e) {
      await Address.delete(link, probe).catch(() => undefined);
      throw e;
    }
    const us = (performance.now() - t) * 1000;
    probes.push(us);
    fast = us < underUs ? fast + 1 : 0;
    if (fast < 3) await new Promise((r) => setTimeout(r, us < underUs ? 1 : 50));
  }
  return { waitedMs: performance.now() - t0, probesUs: probes.length > 8 ? [...probes.slice(0, 4), ...probes.slice(-4)] : probes };
}
