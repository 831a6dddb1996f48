// netplumb/testing: helpers for your own root tests of code that uses
// netplumb. Run your test command under `netplumb sandbox -- <cmd>` so that
// everything happens in a private network + mount namespace.
import { Namespace } from '../../lib';

/** True inside `netplumb sandbox` (NETPLUMB_SANDBOX=1) as root. */
export function inSandbox(): boolean {
  return process.env.NETPLUMB_SANDBOX === '1' && process.getuid?.() === 0;
}

/** Throws a clear error unless running inside the sandbox as root. */
export function requireSandbox(): void {
  if (!inSandbox())
    throw new Error('this test needs root inside `netplumb sandbox -- <command>` (a private network and mount namespace)');
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
