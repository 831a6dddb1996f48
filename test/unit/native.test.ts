// The C++ layer's own tests (native/test): golden message bytes written from
// the UAPI headers, parser robustness on truncated and random input — built
// from native/ alone (no Node), plain and under ASan + UBSan.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', '..', 'native', 'test');

function make(target: string): { status: number | null; out: string } {
  const r = spawnSync('make', ['-s', '-C', dir, target], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('native layer (C++ unit tests)', () => {
  test('golden bytes and parser checks pass', () => {
    const r = make('check');
    expect(r.out).toMatch(/\d+ checks, 0 failed/);
    expect(r.status).toBe(0);
  }, 180_000);

  test('the same under AddressSanitizer and UndefinedBehaviorSanitizer', () => {
    const r = make('asan');
    expect(r.out).not.toMatch(/ERROR: AddressSanitizer|runtime error:/);
    expect(r.out).toMatch(/\d+ checks, 0 failed/);
    expect(r.status).toBe(0);
  }, 180_000);
});
