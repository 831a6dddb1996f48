// One fresh netplumb process for bench/fresh.ts (W6): loads the package, then
// adds or deletes N /32 addresses or routes on DEV (in its own namespace),
// awaited one at a time or all in flight. Prints {"requireMs", "firstMs" (the
// first call: namespace handle, link lookup, one request), "loopUs" (per op,
// the other N-1)}.
//   node fresh-child.js addr|route add|del awaited|inflight DEV N
const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const np = require('../lib/entry') as typeof import('../lib');
const requireMs = performance.now() - t0;

const ipOf = (i: number): string => `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

async function main(): Promise<void> {
  const [kind, op, how, dev, nArg] = process.argv.slice(2) as [string, string, string, string, string];
  const n = Number(nArg);
  const one = (link: import('../lib').Link, i: number): Promise<unknown> =>
    kind === 'addr'
      ? op === 'add'
        ? np.Address.add(link, ipOf(i))
        : np.Address.delete(link, ipOf(i))
      : op === 'add'
        ? np.Route.add({ to: ipOf(i), dev: link })
        : np.Route.delete({ to: ipOf(i), dev: link });
  const t1 = performance.now();
  const ns = await np.Namespace.current();
  const link = await ns.link(dev);
  await one(link, 0);
  const firstMs = performance.now() - t1;
  const t2 = performance.now();
  if (how === 'awaited') for (let i = 1; i < n; i++) await one(link, i);
  else await Promise.all(Array.from({ length: n - 1 }, (_, k) => one(link, k + 1)));
  const loopUs = ((performance.now() - t2) * 1000) / (n - 1);
  await ns.close();
  process.stdout.write(JSON.stringify({ requireMs, firstMs, loopUs }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`fresh-child: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
