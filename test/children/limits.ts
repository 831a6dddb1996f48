// Resource limits, run by test/integration/limits.test.ts in a plain node on
// dist/, started under `ulimit -v` (threads) or `ulimit -n` (fds).
//
// argv: threads PREFIX MAX
//   Under `ulimit -v`, where one I/O thread per namespace ran out of address
//   space before 200: opens MAX Namespace.current() handles at once and
//   creates four (the shared I/O threads serve them all), closes and deletes
//   them and shows the process still serves: a create, a link listing, a
//   current(). Records every failure (name, code, syscall, errno). The
//   process must never abort.
// argv: fds PREFIX
//   Two namespaces, then the fd table is filled with /dev/null until EMFILE.
//   A veth pair with its peer in the other namespace (IFLA_NET_NS_FD is a dup
//   of the peer's fd) and idOf (NETNSA_FD) must fail with EMFILE, naming the
//   dup. After closing the fillers both succeed.
// Prints one JSON line (LimitsReport).
import * as fs from 'node:fs';

import { Namespace, VethPair } from '../../lib';

export interface Failure {
  step: string;
  name: string;
  message: string;
  code?: string;
  syscall?: string;
  errno?: number;
}

export interface LimitsReport {
  mode: string;
  opened: { current: number; created: number };
  failures: Failure[];
  /** Entries of /run/netns named PREFIX* after a failed create, before cleanup. */
  leftAfterFailure: string[];
  /** After closing and deleting everything: what still works. */
  after: { created: boolean; links: string[]; current: boolean; error?: string };
  leftAtEnd: string[];
}

function failure(step: string, e: unknown): Failure {
  const x = e as { name?: string; message?: string; code?: string; syscall?: string; errno?: number };
  return { step, name: String(x?.name), message: String(x?.message), code: x?.code, syscall: x?.syscall, errno: x?.errno };
}

const ours = (prefix: string) => fs.readdirSync('/run/netns').filter((n) => n.startsWith(prefix));

async function threads(prefix: string, max: number): Promise<LimitsReport> {
  const report: LimitsReport = { mode: 'threads', opened: { current: 0, created: 0 }, failures: [], leftAfterFailure: [], after: { created: false, links: [], current: false }, leftAtEnd: [] };
  // `max` handles open at once (no thread each), then creates.
  const held: Namespace[] = [];
  while (held.length < max) {
    try {
      held.push(await Namespace.current());
      report.opened.current++;
    } catch (e) {
      report.failures.push(failure('current', e));
      break;
    }
  }
  const made: Namespace[] = [];
  for (let i = 1; i <= 4; i++) {
    try {
      made.push(await Namespace.create(`${prefix}${i}`));
      report.opened.created++;
    } catch (e) {
      report.failures.push(failure(`create ${prefix}${i}`, e));
      break;
    }
  }
  await Promise.all(held.map((ns) => ns.close()));
  await Promise.all(made.map((ns) => ns.delete()));
  // Still serving.
  try {
    const ns = await Namespace.create(`${prefix}after`);
    report.after.created = true;
    report.after.links = (await ns.links()).map((l) => l.name);
    await ns.delete();
    const cur = await Namespace.current();
    report.after.current = true;
    await cur.close();
  } catch (e) {
    report.after.error = String(e);
  }
  report.leftAtEnd = ours(prefix);
  return report;
}

async function fds(prefix: string): Promise<LimitsReport> {
  const report: LimitsReport = { mode: 'fds', opened: { current: 0, created: 0 }, failures: [], leftAfterFailure: [], after: { created: false, links: [], current: false }, leftAtEnd: [] };
  const a = await Namespace.create(`${prefix}a`);
  const b = await Namespace.create(`${prefix}b`);
  report.opened.created = 2;
  const fillers: number[] = [];
  try {
    for (;;) fillers.push(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EMFILE') throw e;
  }
  try {
    await VethPair.create('lim0', { namespace: a, peerName: 'lim1', peerIn: b });
    report.failures.push({ step: 'veth', name: 'none', message: 'succeeded with a full fd table' });
  } catch (e) {
    report.failures.push(failure('veth', e));
  }
  try {
    await a.idOf(b);
    report.failures.push({ step: 'idOf', name: 'none', message: 'succeeded with a full fd table' });
  } catch (e) {
    report.failures.push(failure('idOf', e));
  }
  for (const fd of fillers) fs.closeSync(fd);
  try {
    await VethPair.create('lim0', { namespace: a, peerName: 'lim1', peerIn: b });
    report.after.links = (await b.links()).map((l) => l.name).sort();
    report.after.created = (await a.idOf(b)) !== undefined;
    report.after.current = true;
  } catch (e) {
    report.after.error = String(e);
  }
  await a.delete();
  await b.delete();
  report.leftAtEnd = ours(prefix);
  return report;
}

async function main(): Promise<void> {
  const [mode, prefix, max] = process.argv.slice(2) as [string, string, string | undefined];
  const report = mode === 'threads' ? await threads(prefix, Number(max ?? 200)) : await fds(prefix);
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`limits child: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
