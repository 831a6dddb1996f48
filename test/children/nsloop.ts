// Namespace.create / delete of one name in a loop, until killed: run by
// test/integration/ns-crash.test.ts, which SIGKILLs it at a random point.
// argv: NAME. Writes "go" once the first cycle is done (the library is loaded).
import { Namespace } from '../../lib';

async function main(): Promise<void> {
  const name = process.argv[2] as string;
  for (let i = 0; ; i++) {
    const ns = await Namespace.create(name);
    await ns.delete();
    if (i === 0) process.stdout.write('go\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`nsloop: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
