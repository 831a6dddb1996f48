// The netplumb CLI's own options: --version, --help, `help <command>` and
// `<command> --help`, run as a user runs them (bin/netplumb in a child
// process), and the registration hook a new subcommand uses.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { COMMANDS, main, registerCommand } from '../../bin/cli';
import { SANDBOX_USAGE } from '../../bin/sandbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DOCTOR_USAGE } = require('../../bin/doctor.js') as { DOCTOR_USAGE: string };

const CLI = path.join(__dirname, '..', '..', 'bin', 'netplumb');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../../package.json') as { version: string }).version;

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

function capture() {
  const w = { text: '', write: (s: string) => ((w.text += s), true) };
  return w;
}

describe('netplumb CLI', () => {
  it('--version and -V print the version from package.json', () => {
    for (const flag of ['--version', '-V']) {
      const r = cli(flag);
      expect({ flag, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ flag, status: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('--help, -h and `help` list every command with its synopsis and summary, on stdout', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['sandbox', 'doctor']));
    for (const flag of ['--help', '-h', 'help']) {
      const r = cli(flag);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`netplumb ${VERSION}`);
      for (const c of COMMANDS) {
        expect(r.stdout).toContain(c.synopsis);
        expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      }
      expect(r.stdout).toContain('netplumb help <command>');
    }
  });

  it('`help <command>` and `<command> --help` print that command\'s usage', () => {
    const usage: Record<string, string> = { sandbox: SANDBOX_USAGE, doctor: DOCTOR_USAGE };
    for (const name of ['sandbox', 'doctor']) {
      for (const args of [['help', name], [name, '--help'], [name, '-h']]) {
        const r = cli(...args);
        expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 0, stdout: `${usage[name]}\n` });
      }
    }
  });

  it('no command, an unknown one, or help for an unknown one: exit 2, on stderr', () => {
    const none = cli();
    expect([none.status, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toContain('Commands:');
    const unknown = cli('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^netplumb: unknown command 'frobnicate'/);
    const nohelp = cli('help', 'frobnicate');
    expect(nohelp.status).toBe(2);
    expect(nohelp.stderr).toBe("netplumb help: no command 'frobnicate' (commands: " + COMMANDS.map((c) => c.name).join(', ') + ')\n');
  });

  it('a registered command is listed, has help, and runs with its arguments', async () => {
    const calls: string[][] = [];
    registerCommand({ name: 'frob', summary: 'Frobnicates.', synopsis: 'netplumb frob [x]', usage: 'Usage: netplumb frob [x]', run: (argv) => (calls.push(argv), 7) });
    expect(() => registerCommand({ name: 'frob', summary: '', synopsis: '', usage: '', run: () => 0 })).toThrow(/registered twice/);

    const out = capture();
    expect(await main(['--help'], { stdout: out })).toBe(0);
    expect(out.text).toContain('netplumb frob [x]');
    expect(out.text).toMatch(/^ {2}frob +Frobnicates\.$/m);
    for (const args of [['help', 'frob'], ['frob', '--help']]) {
      const o = capture();
      expect(await main(args, { stdout: o })).toBe(0);
      expect(o.text).toBe('Usage: netplumb frob [x]\n');
    }
    expect(await main(['frob', 'a', '--b'])).toBe(7);
    expect(calls).toEqual([['a', '--b']]);
  });
});
