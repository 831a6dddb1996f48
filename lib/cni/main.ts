// netplumb-cni's entry point: one CNI operation per process, as a runtime
// execs it, or one request of many in the resident daemon (./daemon.ts). The
// operation itself, run(), takes the environment, the configuration and
// (from the daemon) CNI_NETNS as an fd, and gives back stdout and the exit
// status: it touches no process global, so both run it the same way. The
// environment and the configuration are checked first, with nothing but this
// file's imports loaded; the addon and the library are required only for an
// operation that needs the kernel (VERSION never does).
import { COMMANDS, decode, parseConfig, parseEnv, SUPPORTED_VERSIONS } from './config';
import { CniCode as K, CniError } from './errors';
import { encodeResult } from './result';

export interface Outcome {
  /** Exit status: 0 on success, 1 on a CNI error. */
  status: number;
  /** What goes to stdout ('' when the operation prints nothing). */
  stdout: string;
  /** Set (with why) when the request was not run and is handed back (RunOptions.handBackDelegated). */
  handBack?: string;
}

export interface RunOptions {
  /** CNI_NETNS, opened by the sender in its mount namespace; used instead of the path. Not closed by run(). */
  netnsFd?: number;
  /**
   * Run nothing for a configuration whose IPAM is another plugin: hand it
   * back (Outcome.handBack). The daemon does, so that the delegate runs from
   * the runtime's own process, environment and mount namespace.
   */
  handBackDelegated?: boolean;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => (s += c));
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', reject);
  });
}

/** The version to write an error in: the configuration's if it is one we speak, else the newest. */
function errorVersion(text: string): string {
  try {
    const ver = (JSON.parse(text) as { cniVersion?: unknown }).cniVersion;
    if (typeof ver === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(ver)) return ver;
  } catch {
    // not JSON: the newest
  }
  return SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as string;
}

/** Runs one operation: `env` as CNI_* variables, `input` the configuration. Never throws. */
export async function run(env: Readonly<Record<string, string | undefined>>, input: string | (() => Promise<string>), opts: RunOptions = {}): Promise<Outcome> {
  let text = '';
  try {
    const e = parseEnv(env);
    if (opts.netnsFd !== undefined) e.netnsFd = opts.netnsFd;
    try {
      text = typeof input === 'string' ? input : await input();
    } catch (err) {
      throw new CniError(K.IO, `reading the network configuration from stdin: ${(err as Error).message}`);
    }
    if (e.command === 'VERSION') {
      // The runtime may ask with any version; the answer is in the one asked for when we speak it.
      let asked: unknown;
      try {
        asked = text.trim() ? (JSON.parse(text) as { cniVersion?: unknown }).cniVersion : undefined;
      } catch {
        asked = undefined;
      }
      const ver = typeof asked === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(asked) ? asked : SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1];
      return { status: 0, stdout: `${JSON.stringify({ cniVersion: ver, supportedVersions: SUPPORTED_VERSIONS })}\n` };
    }
    const conf = parseConfig(decode(text), e.command);
    if (opts.handBackDelegated && conf.ipam.delegated) return { status: 0, stdout: '', handBack: `ipam.type ${conf.ipam.type} is another plugin: run by the client` };
    // Only now the library (and with it the addon).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cmd = require('./commands') as typeof import('./commands');
    try {
      switch (e.command) {
        case 'ADD':
          return { status: 0, stdout: `${JSON.stringify(encodeResult(await cmd.add(e, conf)))}\n` };
        case 'DEL':
          await cmd.del(e, conf);
          break;
        case 'CHECK':
          await cmd.check(e, conf);
          break;
        case 'STATUS':
          await cmd.status(e, conf);
          break;
        case 'GC':
          await cmd.gc(e, conf);
          break;
        default:
          throw new CniError(K.INVALID_ENV, `CNI_COMMAND ${String(e.command)}: one of ${COMMANDS.join(', ')}`);
      }
    } catch (err) {
      throw cmd.toCniError(err);
    }
    return { status: 0, stdout: '' };
  } catch (err) {
    const ce = err instanceof CniError ? err : new CniError(K.KERNEL, (err as Error)?.message ?? String(err));
    return { status: 1, stdout: `${JSON.stringify(ce.toJSON(errorVersion(text)))}\n` };
  }
}

/** The executable: process.env and stdin in, the outcome on stdout and as the exit status. */
export function main(): void {
  void run(process.env, readStdin).then((o) => {
    process.exitCode = o.status;
    // Exit once stdout is written: the addon's threads must not keep the process alive.
    if (o.stdout) process.stdout.write(o.stdout, () => process.exit(o.status));
    else process.exit(o.status);
  });
}
