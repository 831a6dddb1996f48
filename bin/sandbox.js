'use strict';
/**
 * netplumb sandbox: run a command in a private network + mount namespace.
 *
 * The command is re-executed through
 *
 *   unshare --net --mount --propagation private -- /bin/sh -c '<setup>; exec "$@"' sh <command> <args...>
 *
 * where <setup> mounts a private tmpfs on /run/netns (so named namespaces
 * created by tests never leak onto the host), remounts /sys so that
 * /sys/class/net reflects the new network namespace, and exports
 * NETPLUMB_SANDBOX=1 (informative only: nothing trusts it). Loopback is left
 * as the kernel creates it (down); the library brings it up over netlink.
 *
 * Already in such a sandbox (./isolation.js: our network namespace is not the
 * host's and /run/netns is a private tmpfs), the command runs directly.
 *
 * Plain CommonJS on purpose: it must run before anything is compiled.
 */

const { spawn } = require('node:child_process');
const os = require('node:os');
const { isolation } = require('./isolation.js');

const NOT_ROOT_MESSAGE =
  'netplumb sandbox: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create a private network namespace';

/** Exit status used when we are not root (the conventional "skipped" code). */
const EXIT_NOT_ROOT = 77;
/** Exit status for command-line usage errors. */
const EXIT_USAGE = 2;
/** Exit status when the sandbox itself could not be set up (unshare or mount failed). */
const EXIT_SETUP_FAILED = 125;
/** Exit status when the command (or unshare) could not be started. */
const EXIT_NOT_FOUND = 127;

const SANDBOX_ENV = 'NETPLUMB_SANDBOX';

/** Signals relayed to the child while it runs. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

const SANDBOX_USAGE = `Usage: netplumb sandbox [--] <command> [args...]

Run <command> in a private network and mount namespace (needs root):
  - a fresh network namespace (only a loopback device, left down),
  - a private tmpfs on /run/netns, so named namespaces never reach the host,
  - a private tmpfs on /run/netplumb (netplumb's lock files),
  - /sys remounted so /sys/class/net shows the new namespace,
  - NETPLUMB_SANDBOX=1 in the environment (informative; never trusted).

Already in a sandbox (a network namespace other than the host's and a
private tmpfs on /run/netns, as the kernel shows them), <command> runs
directly.
The exit status is the command's; 128+N if it was killed by signal N;
${EXIT_NOT_ROOT} if not root; ${EXIT_SETUP_FAILED} if the sandbox could not be set up.`;

/**
 * Shell run by `unshare` inside the new namespaces before exec'ing the command.
 * $0 is "sh", "$@" is the command and its arguments.
 */
const SETUP_SCRIPT = [
  `mkdir -p /run/netns && mount -t tmpfs -o mode=755 netplumb-netns /run/netns || ` +
    `{ echo "netplumb sandbox: cannot mount a private tmpfs on /run/netns" >&2; exit ${EXIT_SETUP_FAILED}; }`,
  // netplumb's own runtime state (cross-process locks) stays in the sandbox too.
  `mkdir -p /run/netplumb && mount -t tmpfs -o mode=700 netplumb-run /run/netplumb || ` +
    `{ echo "netplumb sandbox: cannot mount a private tmpfs on /run/netplumb" >&2; exit ${EXIT_SETUP_FAILED}; }`,
  'mount -t sysfs sysfs /sys 2>/dev/null || :',
  `${SANDBOX_ENV}=1`,
  `export ${SANDBOX_ENV}`,
  'exec "$@"',
].join('\n');

class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * True if the (given or current) uid is 0.
 * @param {number} [uid]
 */
function isRoot(uid) {
  if (uid === undefined) {
    uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  }
  return uid === 0;
}

/**
 * Parse the arguments that follow `sandbox`.
 * @param {readonly string[]} argv
 * @returns {{ help: true } | { help: false, command: string, args: string[] }}
 */
function parseSandboxArgs(argv) {
  const list = Array.from(argv);
  if (list.length > 0 && list[0] === '--') {
    list.shift();
  } else if (list.length > 0 && (list[0] === '-h' || list[0] === '--help')) {
    return { help: true };
  } else if (list.length > 0 && list[0].startsWith('-')) {
    throw new UsageError(`netplumb sandbox: unknown option '${list[0]}' (use '--' before a command that starts with '-')`);
  }
  if (list.length === 0 || list[0] === '') {
    throw new UsageError('netplumb sandbox: missing command');
  }
  return { help: false, command: list[0], args: list.slice(1) };
}

/**
 * The program and argv used to enter the sandbox.
 * @param {string} command
 * @param {readonly string[]} [args]
 * @returns {{ file: string, args: string[] }}
 */
function buildSandboxCommand(command, args = []) {
  return {
    file: 'unshare',
    args: [
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      SETUP_SCRIPT,
      'sh',
      command,
      ...args,
    ],
  };
}

/**
 * Map a child's termination to a shell-style exit status.
 * @param {number | null} code
 * @param {NodeJS.Signals | null} signal
 */
function exitStatus(code, signal) {
  if (signal) {
    const signo = os.constants.signals[signal];
    return 128 + (typeof signo === 'number' ? signo : 0);
  }
  return typeof code === 'number' ? code : 1;
}

/**
 * Spawn a program, relay signals to it, and resolve with its shell-style exit
 * status (128+signo if it died by a signal). Never rejects: failure to start
 * the program resolves with 127 (ENOENT) or 126 (other errors) after printing
 * a message to stderr.
 *
 * @param {string} file
 * @param {readonly string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, stdio?: import('node:child_process').StdioOptions, stderr?: { write(s: string): unknown } }} [options]
 * @returns {Promise<number>}
 */
function runCommand(file, args, options = {}) {
  const stderr = options.stderr || process.stderr;
  return new Promise((resolve) => {
    let child;
    const handlers = new Map();
    const cleanup = () => {
      for (const [sig, fn] of handlers) process.removeListener(sig, fn);
      handlers.clear();
    };
    try {
      child = spawn(file, args, {
        stdio: options.stdio || 'inherit',
        env: options.env || process.env,
        cwd: options.cwd,
      });
    } catch (err) {
      stderr.write(`netplumb: cannot run ${file}: ${err && err.message}\n`);
      resolve(err && err.code === 'ENOENT' ? EXIT_NOT_FOUND : 126);
      return;
    }
    for (const sig of FORWARDED_SIGNALS) {
      const fn = () => {
        try {
          child.kill(sig);
        } catch {
          /* child already gone */
        }
      };
      handlers.set(sig, fn);
      process.on(sig, fn);
    }
    child.once('error', (err) => {
      cleanup();
      stderr.write(`netplumb: cannot run ${file}: ${err.message}\n`);
      resolve(err.code === 'ENOENT' ? EXIT_NOT_FOUND : 126);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(exitStatus(code, signal));
    });
  });
}

/**
 * Run a command in the sandbox. `argv` is what follows `sandbox` on the
 * command line: `[--] <command> [args...]`.
 *
 * @param {readonly string[]} argv
 * `options.isolation` replaces the check of ./isolation.js (unit tests of the flow).
 *
 * @param {{ uid?: number, env?: NodeJS.ProcessEnv, cwd?: string, stdio?: import('node:child_process').StdioOptions, stdout?: { write(s: string): unknown }, stderr?: { write(s: string): unknown }, isolation?: () => { isolated: boolean } }} [options]
 * @returns {Promise<number>} the exit status to exit with
 */
async function runInSandbox(argv, options = {}) {
  const stdout = options.stdout || process.stdout;
  const stderr = options.stderr || process.stderr;
  const env = options.env || process.env;

  let parsed;
  try {
    parsed = parseSandboxArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`${err.message}\n\n${SANDBOX_USAGE}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed.help) {
    stdout.write(`${SANDBOX_USAGE}\n`);
    return 0;
  }

  const runOpts = { env, cwd: options.cwd, stdio: options.stdio, stderr };

  // Already inside, as the kernel says (not as the environment says): just run the command.
  if ((options.isolation || isolation)().isolated) {
    return runCommand(parsed.command, parsed.args, runOpts);
  }

  if (!isRoot(options.uid)) {
    stderr.write(`${NOT_ROOT_MESSAGE}\n`);
    return EXIT_NOT_ROOT;
  }

  const { file, args } = buildSandboxCommand(parsed.command, parsed.args);
  return runCommand(file, args, runOpts);
}

module.exports = {
  runInSandbox,
  runCommand,
  isRoot,
  parseSandboxArgs,
  buildSandboxCommand,
  exitStatus,
  UsageError,
  SETUP_SCRIPT,
  SANDBOX_USAGE,
  SANDBOX_ENV,
  NOT_ROOT_MESSAGE,
  EXIT_NOT_ROOT,
  EXIT_USAGE,
  EXIT_SETUP_FAILED,
  EXIT_NOT_FOUND,
};
