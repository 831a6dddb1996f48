// npm run bench:namespaces: 10,000 namespaces open at once in one process
// (test/children/manyns.ts), one request in each, checked with `ip`. The
// shared I/O threads (native/handle.cpp) must keep the process at most
// cores + 2 threads over its own, and under 100 MB of RSS.
//
//   npm run bench:namespaces             (N = 10000)
//   BENCH_NS=2000 npm run bench:namespaces
//
// Runs inside `netplumb sandbox`; removes the namespaces it made.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { isolation } from '../lib/testing/isolation';
import { addressOf, type ManyNsReport } from '../test/children/manyns';
import { ROOT } from './util';

const N = Math.max(1, Number(process.env.BENCH_NS ?? 10_000) || 10_000);
const PREFIX = `bns${process.pid}x`;

async function main(): Promise<number> {
  if (process.getuid?.() !== 0 || !isolation().isolated) {
    process.stderr.write('bench/namespaces: run it inside the sandbox: npm run bench:namespaces\n');
    return 2;
  }
  const child = path.join(ROOT, 'dist', 'test', 'children', 'manyns.js');
  const t0 = Date.now();
  // Two fds per namespace (its fd, held, and its netlink socket): the child's
  // fd limit (Node raises its soft limit to the hard one) must hold them.
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
  if (Number.isFinite(hard) && 2 * N + 64 > hard)
    process.stdout.write(`note: ${N} namespaces need ${2 * N} fds; the hard limit here is ${hard} (ulimit -Hn): expect EMFILE\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', child, PREFIX, String(N)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    process.stderr.write(`manyns failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}\n`);
    return 1;
  }
  const rep = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ManyNsReport;
  // The oracle: `ip -n NAME -j addr show lo` in each, eight at a time.
  const exec = promisify(execFile);
  let verified = 0;
  const missing: string[] = [];
  for (let base = 0; base < N; base += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, N - base) }, async (_, k) => {
        const i = base + k;
        const { stdout } = await exec('ip', ['-n', `${PREFIX}${i}`, '-j', 'addr', 'show', 'lo']);
        const locals = (JSON.parse(stdout) as { addr_info: { local: string }[] }[]).flatMap((l) => l.addr_info.map((a) => a.local));
        if (locals.includes(addressOf(i))) verified++;
        else missing.push(`${PREFIX}${i}`);
      }),
    );
  }
  const limit = rep.cores + 2;
  const added = rep.threadsPeak - rep.threadsBefore;
  const rows = [
    ['namespaces open at once', String(N)],
    ['threads: before, with all open (peak)', `${rep.threadsBefore}, ${rep.threadsOpen} (${rep.threadsPeak})`],
    [`threads added (limit cores + 2 = ${limit})`, `${added} ${added <= limit ? 'PASS' : 'MISS'}`],
    ['RSS before, with all open (limit 100 MB)', `${rep.rssBeforeMB} MB, ${rep.rssOpenMB} MB ${rep.rssOpenMB < 100 ? 'PASS' : 'MISS'}`],
    ['create all / one address in each', `${rep.openMs} ms / ${rep.opMs} ms`],
    ['verified with ip (address in each)', `${verified} of ${N} ${verified === N && rep.failures.length === 0 ? 'PASS' : 'MISS'}`],
    ['run (before clean-up)', `${Math.round((Date.now() - t0) / 1000)} s`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  if (rep.failures.length) process.stdout.write(`failures: ${rep.failures.slice(0, 5).join('; ')}\n`);
  if (missing.length) process.stdout.write(`missing: ${missing.slice(0, 5).join(', ')}\n`);
  // Clean up, after the figures are out (it takes longer than the run): every name we made, eight at a time.
  const ours = fs.readdirSync('/run/netns').filter((x) => x.startsWith(PREFIX));
  for (let base = 0; base < ours.length; base += 8)
    await Promise.all(ours.slice(base, base + 8).map((n) => exec('ip', ['netns', 'del', n]).catch(() => undefined)));
  return added <= limit && rep.rssOpenMB < 100 && verified === N && rep.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench/namespaces: ${e instanceof Error ? e.stack : String(e)}\n`);
    for (const n of fs.readdirSync('/run/netns').filter((x) => x.startsWith(PREFIX))) spawnSync('ip', ['netns', 'del', n]);
    process.exit(1);
  },
);
