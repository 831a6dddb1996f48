// Port mappings published and unpublished by several processes at once in one
// namespace, as container runtimes do: test/integration/shared-nat.test.ts.
//
// argv: MODE NAMESPACE BASEPORT ITERATIONS
//   race  ITERATIONS times: publish tcp BASEPORT+(i % 1000) -> 10.99.0.2,
//         check that PortMapping.list still shows every live mapping of this
//         process (another process must never remove one), then unpublish the
//         oldest until i % WINDOW are left.
//         Prints { published, unpublished, lost, errors, ms }.
//   loop  removes what an earlier (killed) child left, prints "ready", then
//         publishes and unpublishes forever, alternating a single port and a
//         shifted 20-port range (40 rules): the parent SIGKILLs it at a random
//         moment and checks the ruleset is between two operations.
import { Namespace, PortMapping } from '../../lib';

const [mode, nsName, base, iterations] = [process.argv[2], process.argv[3] as string, Number(process.argv[4]), Number(process.argv[5] ?? 0)];
const WINDOW = 3;

export interface RaceReport {
  published: number;
  unpublished: number;
  /** Live mappings of this process that PortMapping.list no longer showed. */
  lost: number;
  /** Failed calls, by error code. */
  errors: Record<string, number>;
  ms: number;
}

async function race(ns: Namespace): Promise<RaceReport> {
  const report: RaceReport = { published: 0, unpublished: 0, lost: 0, errors: {}, ms: 0 };
  const fail = (e: unknown) => {
    const code = String((e as { code?: string }).code ?? e);
    report.errors[code] = (report.errors[code] ?? 0) + 1;
  };
  const live: PortMapping[] = [];
  const lost = new Set<string>();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    try {
      live.push(await PortMapping.publish({ namespace: ns, hostPort: base + (i % 1000), to: `10.99.0.2:${80 + (i % 7)}` }));
      report.published++;
    } catch (e) {
      fail(e);
    }
    const listed = new Set((await PortMapping.list(ns)).map((m) => m.id));
    for (const m of live) if (!listed.has(m.id)) lost.add(m.id);
    // Keep 0, 1 or 2 mappings alive: this process's tables go empty often, which
    // is when a remover could take the other process's rules with the table.
    while (live.length > i % WINDOW) {
      try {
        await (live.shift() as PortMapping).unpublish();
        report.unpublished++;
      } catch (e) {
        fail(e);
      }
    }
  }
  for (const m of live.splice(0)) {
    try {
      await m.unpublish();
      report.unpublished++;
    } catch (e) {
      fail(e);
    }
  }
  report.lost = lost.size;
  report.ms = Math.round(performance.now() - t0);
  return report;
}

async function loop(ns: Namespace): Promise<never> {
  for (const m of await PortMapping.list(ns)) await m.unpublish();
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const range = i % 2 === 1;
    const m = await PortMapping.publish({ namespace: ns, hostPort: range ? [base, base + 19] : base, to: `10.99.0.3:${range ? 2000 : 80}` });
    await m.unpublish();
  }
}

async function main(): Promise<void> {
  const ns = await Namespace.open(nsName);
  if (mode === 'race') process.stdout.write(`${JSON.stringify(await race(ns))}\n`);
  else if (mode === 'loop') await loop(ns);
  else throw new Error(`unknown mode ${mode}`);
  await ns.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
