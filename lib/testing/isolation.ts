// Whether this process is in a sandbox, as the kernel shows it: the check
// `netplumb sandbox` itself makes (bin/isolation.js, plain CommonJS so that
// the CLI runs uncompiled), loaded from the package root so that the same
// file serves lib/ (ts-jest) and dist/lib/ (the published build).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What bin/isolation.js decides (declared here too: dist/ has no bin/ beside it). */
export interface Isolation {
  /** True: a network namespace other than the host's, and /run/netns a private tmpfs. */
  isolated: boolean;
  /** Why, in words: what is missing, or what was seen. */
  reason: string;
  /** readlink(/proc/self/ns/net), e.g. "net:[4026532317]". */
  net?: string;
  /** The host's network namespace, from PID 1 or the launcher. */
  hostNet?: string;
  /** The nearest ancestor outside our network namespace (the `netplumb sandbox` launcher), if found. */
  launcher?: number;
}

let check: ((proc?: string) => Isolation) | undefined;

/** The package root: the nearest directory above this file with netplumb's package.json. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'netplumb') return dir;
    } catch {
      /* no package.json here: go up */
    }
    if (path.dirname(dir) === dir) throw new Error(`netplumb/testing: no netplumb package.json above ${__dirname}`);
  }
}

/**
 * Where this process is: in a network namespace other than the host's (PID 1's,
 * or the launcher's where PID 1's cannot be read; never the kernel's initial
 * one), with /run/netns a tmpfs of its own. Never from an environment variable.
 */
export function isolation(): Isolation {
  if (!check) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    check = (require(path.join(packageRoot(), 'bin', 'isolation.js')) as { isolation: (proc?: string) => Isolation }).isolation;
  }
  return check();
}
