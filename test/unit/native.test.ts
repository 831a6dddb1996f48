// The C++ layer's own tests (native/test): golden message bytes written from
// the UAPI headers, parser robustness on truncated and random input — built
// from native/ alone (no Node), plain and under ASan + UBSan.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', '..', 'native', 'test');
// Built once per user and kept (make rebuilds what changed): a root run's build
// never stands in a normal user's way, and the next run starts warm.
const OUT = path.join(os.tmpdir(), `netplumb-native-test-${process.getuid?.() ?? 'u'}`);
// From scratch on a loaded 2-core machine the ASan build alone took 7 minutes.
const LIMIT = 900_000;

function make(target: string): { status: number | null; out: string } {
  const r = spawnSync('make', ['-s', '-j2', '-C', dir, target, `OUT=${OUT}`], { encoding: 'utf8', timeout: LIMIT });
  const timedOut = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `\nmake ${target} was stopped after ${LIMIT / 1000} s\n` : '';
  return { status: r.status, out: `${r.stdout}${r.stderr}${timedOut}` };
}

describe('native layer (C++ unit tests)', () => {
  test(
    'golden bytes and parser checks pass',
    () => {
      const r = make('check');
      expect(r.out).toMatch(/\d+ checks, 0 failed/);
      expect(r.status).toBe(0);
    },
    LIMIT,
  );

  test(
    'the same under AddressSanitizer and UndefinedBehaviorSanitizer',
    () => {
      const r = make('asan');
      expect(r.out).not.toMatch(/ERROR: AddressSanitizer|runtime error:/);
      expect(r.out).toMatch(/\d+ checks, 0 failed/);
      expect(r.status).toBe(0);
    },
    LIMIT,
  );
});
