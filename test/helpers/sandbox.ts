// netplumb/testing: helpers for your own root tests of code that uses
// netplumb. Run your test command under `netplumb sandbox -- <cmd>` so that
// everything happens in a private network + mount namespace.
import { Namespace } from '../../lib';
import { isolation } from '../../lib/testing/isolation';

/**
 * True as root in a sandbox, as the kernel shows it: a network namespace other
 * than the host's and a private tmpfs on /run/netns. NETPLUMB_SANDBOX is not trusted.
 */
export function inSandbox(): boolean {
  return process.getuid?.() === 0 && isolation().isolated;
}

/** Throws a clear error unless running inside the sandbox as root. */
export function requireSandbox(): void {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root inside `netplumb sandbox -- <command>` (a private network and mount namespace)');
  const where = isolation();
  if (!where.isolated)
    throw new Error(`this test needs root inside \`netplumb sandbox -- <command>\` (a private network and mount namespace): ${where.reason}`);
}

let n = 0;
/** Creates named namespaces for one test and deletes them afterwards, whatever happens. */
export async function withNamespaces<T>(count: number, fn: (...ns: Namespace[]) => Promise<T>): Promise<T> {
  requireSandbox();
  const made: Namespace[] = [];
  try {
    for (let i = 0; i < count; i++) made.push(await Namespace.create(`t${process.pid}-${++n}`));
    return await fn(...made);
  } finally {
    await Promise.allSettled(made.map((ns) => ns.delete()));
  }
}
