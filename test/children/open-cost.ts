// Opening namespaces in a fresh process loads no fs/promises (an fs.promises
// stat before each open made the first fromPath of a process cost 4-5 ms,
// most of it loading that module), run by test/integration/namespace.test.ts
// in a plain node on dist/.
//
// argv: NAME (a namespace under /run/netns)
// Prints { loaded }: whether Node's internal fs/promises module was loaded
// by current(), fromPath(), fromPid(), open(NAME) and a fromPath() of a
// missing file.
// The package's entry, as a user's require('netplumb') loads it (modules on first use).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Namespace } = require('../../lib/entry') as typeof import('../../lib');

export {}; // a module, not a script: its names stay its own

const FSP = 'NativeModule internal/fs/promises';
/** Node's own list of the internal modules it has loaded (not in @types/node). */
const loadedList = (): string[] => (process as unknown as { moduleLoadList: string[] }).moduleLoadList;

async function main(): Promise<void> {
  if (loadedList().includes(FSP)) throw new Error('fs/promises was loaded before any namespace was opened');
  const all = [
    await Namespace.current(),
    await Namespace.fromPath('/proc/self/ns/net'),
    await Namespace.fromPid(process.pid),
    await Namespace.open(process.argv[2] as string),
  ];
  const missing = await Namespace.fromPath('/proc/self/ns/none').then(
    () => 'opened',
    (e: { code?: string }) => e.code,
  );
  for (const ns of all) await ns.close();
  console.log(JSON.stringify({ loaded: loadedList().includes(FSP), missing }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
