// The house habits, checked on every `npm test` (CI runs only that): ESLint
// (eslint.config.mjs) finds nothing, the files Prettier covers are formatted
// (.prettierrc.json, .prettierignore), and TypeDoc builds the API reference
// with no warning (typedoc.json: warnings are errors, every declaration
// documented). Each tool runs in a child process, as `npm run lint` runs it.
//
// ESLint runs here without type information (NETPLUMB_LINT_FAST=1: the
// type-aware rules, no-floating-promises and no-misused-promises, need the
// whole program and took ~65 s on the shared 2-core machine, against ~25 s
// for this pass); `npm run lint` runs them, with `tsc --noEmit`.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const bin = (...p: string[]): string => path.join(ROOT, 'node_modules', ...p);

function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
  column: number;
}

/** Rules only the type-aware pass runs: a disable comment for one is not stale here. */
const TYPE_AWARE = ['@typescript-eslint/no-floating-promises', '@typescript-eslint/no-misused-promises'];

describe('house habits', () => {
  test('ESLint finds nothing (without type information; `npm run lint` adds it)', () => {
    const r = run([bin('eslint', 'bin', 'eslint.js'), '--format', 'json', '.'], { NETPLUMB_LINT_FAST: '1' });
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as { filePath: string; messages: LintMessage[] }[];
    const findings = results.flatMap((f) =>
      f.messages
        .filter((m) => !(m.ruleId === null && /^Unused eslint-disable directive/.test(m.message) && TYPE_AWARE.some((t) => m.message.includes(`'${t}'`))))
        .map((m) => `${path.relative(ROOT, f.filePath)}:${m.line}:${m.column} ${m.message} (${m.ruleId ?? 'eslint'})`),
    );
    expect(findings).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  }, 180_000);

  test('Prettier: the files it covers are formatted (fix: npx prettier --write FILE)', () => {
    const r = run([bin('prettier', 'bin', 'prettier.cjs'), '--list-different', '**/*.{ts,js,mjs,cjs}']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([]);
    expect(r.status).toBe(0);
  }, 120_000);

  test('TypeDoc builds the API reference with no warning', () => {
    const r = run([bin('typedoc', 'bin', 'typedoc'), '--emit', 'none']);
    const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
    expect(out.split('\n').filter((l) => /\[(warning|error)\]/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  }, 180_000);
});
