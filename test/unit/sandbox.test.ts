// Unit tests for bin/sandbox.js: none of these need root or create namespaces.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  EXIT_NOT_FOUND,
  EXIT_NOT_ROOT,
  EXIT_SETUP_FAILED,
  EXIT_USAGE,
  NOT_ROOT_MESSAGE,
  SETUP_SCRIPT,
  UsageError,
  buildSandboxCommand,
  exitStatus,
  isRoot,
  parseSandboxArgs,
  runInSandbox,
  type Writer,
} from '../../bin/sandbox';

const REPO = path.resolve(__dirname, '../..');
const CLI = path.join(REPO, 'bin/netplumb');

function capture(): Writer & { text: string } {
  const w = {
    text: '',
    write(s: string) {
      w.text += s;
      return true;
    },
  };
  return w;
}

/** The environment a sandbox gives its command (which nothing trusts). */
function insideEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NETPLUMB_SANDBOX: '1' };
}

/** The kernel check's verdicts, for the flow tests (the check itself: isolation.test.ts). */
const ISOLATED = () => ({ isolated: true });
const NOT_ISOLATED = () => ({ isolated: false });

function outsideEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NETPLUMB_SANDBOX;
  return env;
}

describe('parseSandboxArgs', () => {
  it('takes the command after --', () => {
    expect(parseSandboxArgs(['--', 'node', '-e', '1'])).toEqual({ help: false, command: 'node', args: ['-e', '1'] });
  });

  it('accepts a command without --', () => {
    expect(parseSandboxArgs(['sh', '-c', 'exit 3'])).toEqual({ help: false, command: 'sh', args: ['-c', 'exit 3'] });
  });

  it('strips only the first --, so the command may take its own --', () => {
    expect(parseSandboxArgs(['--', 'jest', '--', 'x'])).toEqual({ help: false, command: 'jest', args: ['--', 'x'] });
  });

  it('recognises --help and -h', () => {
    expect(parseSandboxArgs(['--help'])).toEqual({ help: true });
    expect(parseSandboxArgs(['-h'])).toEqual({ help: true });
  });

  it('treats --help after -- as part of the command', () => {
    expect(parseSandboxArgs(['--', 'ls', '--help'])).toEqual({ help: false, command: 'ls', args: ['--help'] });
  });

  it('rejects a missing command', () => {
    expect(() => parseSandboxArgs([])).toThrow(UsageError);
    expect(() => parseSandboxArgs(['--'])).toThrow(/missing command/);
  });

  it('rejects unknown options before the command', () => {
    expect(() => parseSandboxArgs(['-x', 'ls'])).toThrow(/unknown option '-x'/);
  });
});

describe('buildSandboxCommand', () => {
  it('re-executes through unshare with a private net + mount namespace and sh -c setup', () => {
    const { file, args } = buildSandboxCommand('node', ['a b', '$HOME', '']);
    expect(file).toBe('unshare');
    expect(args).toEqual([
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      SETUP_SCRIPT,
      'sh',
      'node',
      'a b',
      '$HOME',
      '',
    ]);
  });

  it('setup mounts a tmpfs on /run/netns, remounts /sys, exports NETPLUMB_SANDBOX and execs "$@"', () => {
    expect(SETUP_SCRIPT).toContain('mkdir -p /run/netns && mount -t tmpfs -o mode=755 netplumb-netns /run/netns');
    expect(SETUP_SCRIPT).toContain('mount -t sysfs sysfs /sys');
    expect(SETUP_SCRIPT).toMatch(/NETPLUMB_SANDBOX=1/);
    expect(SETUP_SCRIPT).toMatch(/export NETPLUMB_SANDBOX/);
    expect(SETUP_SCRIPT.trimEnd().endsWith('exec "$@"')).toBe(true);
  });
});

/**
 * Run SETUP_SCRIPT with /bin/sh exactly as unshare would, but with `mount` and
 * `mkdir` replaced by stubs on PATH, so its control flow is testable without
 * root or namespaces.
 */
describe('SETUP_SCRIPT behaviour (stubbed mount/mkdir)', () => {
  let dir: string;
  let log: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-sandbox-test-'));
    log = path.join(dir, 'calls.log');
    const stub = (name: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(
        file,
        `#!/bin/sh\necho "${name} $*" >> "${log}"\n` +
          // FAIL_TMPFS / FAIL_SYSFS make the corresponding mount fail.
          `case "${name} $*" in\n` +
          `  *"tmpfs"*) [ -n "$FAIL_TMPFS" ] && exit 32 ;;\n` +
          `  *"sysfs"*) [ -n "$FAIL_SYSFS" ] && { echo "sysfs denied" >&2; exit 32; } ;;\n` +
          `esac\nexit 0\n`,
      );
      fs.chmodSync(file, 0o755);
    };
    stub('mount');
    stub('mkdir');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function runSetup(extraEnv: Record<string, string>, ...cmd: string[]) {
    const env = { ...outsideEnv(), PATH: `${dir}:/usr/bin:/bin`, ...extraEnv };
    return spawnSync('/bin/sh', ['-c', SETUP_SCRIPT, 'sh', ...cmd], { env, encoding: 'utf8' });
  }

  function calls(): string[] {
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  }

  it('mounts, exports NETPLUMB_SANDBOX=1 and execs the command with its arguments intact', () => {
    const r = runSetup({}, process.execPath, '-e', 'console.log(JSON.stringify([process.env.NETPLUMB_SANDBOX, ...process.argv.slice(1)])); process.exit(4)', 'a b', '$HOME', '');
    expect(r.status).toBe(4);
    expect(JSON.parse(r.stdout)).toEqual(['1', 'a b', '$HOME', '']);
    expect(calls()).toEqual([
      'mkdir -p /run/netns',
      'mount -t tmpfs -o mode=755 netplumb-netns /run/netns',
      'mkdir -p /run/netplumb',
      'mount -t tmpfs -o mode=700 netplumb-run /run/netplumb',
      'mount -t sysfs sysfs /sys',
    ]);
  });

  it('fails hard, without running the command, when the /run/netns tmpfs cannot be mounted', () => {
    const r = runSetup({ FAIL_TMPFS: '1' }, 'sh', '-c', 'echo RAN');
    expect(r.status).toBe(EXIT_SETUP_FAILED);
    expect(r.stdout).not.toContain('RAN');
    expect(r.stderr).toContain('cannot mount a private tmpfs on /run/netns');
  });

  it('ignores a failing /sys remount', () => {
    const r = runSetup({ FAIL_SYSFS: '1' }, 'sh', '-c', 'echo RAN $NETPLUMB_SANDBOX');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('RAN 1');
    expect(r.stderr).not.toContain('sysfs denied');
  });

  it('reports 127 when the command does not exist', () => {
    const r = runSetup({}, 'netplumb-no-such-command');
    expect(r.status).toBe(127);
  });
});

describe('isRoot', () => {
  it('is true only for uid 0', () => {
    expect(isRoot(0)).toBe(true);
    expect(isRoot(1000)).toBe(false);
    expect(isRoot(65534)).toBe(false);
  });

  it('defaults to the current uid', () => {
    expect(isRoot()).toBe(process.getuid!() === 0);
  });
});

describe('exitStatus', () => {
  it('passes exit codes through and maps signals to 128+signo', () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGTERM')).toBe(128 + os.constants.signals.SIGTERM);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, 'SIGINT')).toBe(130);
  });
});

describe('runInSandbox', () => {
  it('refuses to run when not root, with a clear message and exit status 77', async () => {
    const stderr = capture();
    const marker = path.join(os.tmpdir(), `netplumb-should-not-exist-${process.pid}`);
    const code = await runInSandbox(['--', 'touch', marker], { uid: 1000, env: outsideEnv(), stderr, stdio: 'ignore', isolation: NOT_ISOLATED });
    expect(code).toBe(EXIT_NOT_ROOT);
    expect(code).toBe(77);
    expect(stderr.text).toBe(`${NOT_ROOT_MESSAGE}\n`);
    expect(stderr.text).toContain(
      'netplumb sandbox: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create a private network namespace',
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('prints usage and returns 2 on a usage error', async () => {
    const stderr = capture();
    expect(await runInSandbox([], { uid: 0, env: outsideEnv(), stderr })).toBe(EXIT_USAGE);
    expect(stderr.text).toMatch(/missing command/);
    expect(stderr.text).toMatch(/Usage: netplumb sandbox/);
  });

  it('prints help to stdout and returns 0', async () => {
    const stdout = capture();
    expect(await runInSandbox(['--help'], { uid: 1000, env: outsideEnv(), stdout })).toBe(0);
    expect(stdout.text).toMatch(/Usage: netplumb sandbox \[--\] <command>/);
  });

  it('does not take NETPLUMB_SANDBOX=1 for a sandbox: outside one, it still needs root and never runs the command', async () => {
    const stderr = capture();
    const marker = path.join(os.tmpdir(), `netplumb-should-not-exist-env-${process.pid}`);
    const code = await runInSandbox(['--', 'touch', marker], { uid: 1000, env: insideEnv(), stderr, stdio: 'ignore', isolation: NOT_ISOLATED });
    expect(code).toBe(EXIT_NOT_ROOT);
    expect(stderr.text).toBe(`${NOT_ROOT_MESSAGE}\n`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  describe('when the kernel shows a sandbox already (runs the command directly, root not required)', () => {
    it('propagates the exit code', async () => {
      const code = await runInSandbox(['--', process.execPath, '-e', 'process.exit(5)'], {
        uid: 1000,
        env: outsideEnv(),
        stdio: 'ignore',
        isolation: ISOLATED,
      });
      expect(code).toBe(5);
    });

    it('returns 128+signo when the command dies by a signal', async () => {
      const code = await runInSandbox(['--', process.execPath, '-e', 'process.kill(process.pid, "SIGTERM")'], {
        uid: 1000,
        env: outsideEnv(),
        stdio: 'ignore',
        isolation: ISOLATED,
      });
      expect(code).toBe(128 + os.constants.signals.SIGTERM);
    });

    it('returns 127 and explains when the command does not exist', async () => {
      const stderr = capture();
      // Fixed PATH: an unreadable PATH entry would turn ENOENT into EACCES (126).
      const env = { ...outsideEnv(), PATH: '/usr/bin:/bin' };
      const code = await runInSandbox(['netplumb-no-such-command'], { uid: 1000, env, stderr, stdio: 'ignore', isolation: ISOLATED });
      expect(code).toBe(EXIT_NOT_FOUND);
      expect(stderr.text).toMatch(/cannot run netplumb-no-such-command/);
    });
  });
});

describe('bin/netplumb CLI', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv = outsideEnv()) {
    return spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
  }

  it('is an executable node script', () => {
    const st = fs.statSync(CLI);
    expect(st.mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--help prints usage and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/netplumb sandbox \[--\] <command> \[args\.\.\.\]/);
  });

  it('exits 2 on an unknown subcommand', () => {
    const r = cli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  // The CLI itself: as root, in a fresh sandbox or (already in one) directly.
  const asRoot = isRoot() ? it : it.skip;

  asRoot('propagates exit code and signal death of the command', () => {
    expect(cli(['sandbox', '--', process.execPath, '-e', 'process.exit(9)'], insideEnv()).status).toBe(9);
    const killed = cli(['sandbox', '--', process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'], insideEnv());
    expect(killed.status).toBe(137);
    expect(killed.signal).toBeNull();
  });

  asRoot('relays SIGTERM to the command', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [CLI, 'sandbox', '--', process.execPath, '-e', 'process.on("SIGTERM", () => process.exit(42)); console.log("ready"); setInterval(() => {}, 1000)'],
      { env: insideEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGTERM');
    const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    expect(code).toBe(42);
  });
});
