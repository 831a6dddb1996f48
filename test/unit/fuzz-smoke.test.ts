// The libFuzzer targets of native/fuzz (attribute parser, reply/dump parser,
// extended-ACK decoder, offset-to-attribute walkers, and the reply loops —
// transact(), the nf_tables batch and dump — against a fake kernel), built
// with clang from native/ alone under ASan + UBSan, each run for a few seconds
// on its seed corpus of real kernel replies, after replaying every past
// finding in native/test/fuzz-regressions. `make smoke` builds and runs in a
// private mktemp -d directory (root and non-root runs never share files).
// Longer runs: `npm run fuzz` (FUZZ_SECONDS).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', '..', 'native', 'fuzz');
const TARGETS = [
  'fuzz_attr',
  'fuzz_reply',
  'fuzz_extack',
  'fuzz_attr_at',
  'fuzz_transact',
  'fuzz_nft_batch',
  'fuzz_nft_dump',
];
const SECONDS = 5;

function clangVersion(): string | null {
  const r = spawnSync('clang++', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

describe('fuzz smoke (native/fuzz, libFuzzer + ASan + UBSan)', () => {
  test(`each fuzzer runs ${SECONDS} s on its seed corpus with no finding`, () => {
    const clang = clangVersion();
    if (clang === null) {
      throw new Error(
        'clang++ is not installed: the fuzz smoke needs clang with libFuzzer ' +
          '(Debian 12: apt-get install clang libclang-rt-14-dev; .ci/run installs them).',
      );
    }
    const r = spawnSync(
      'make',
      ['-s', '-j2', '-C', dir, 'smoke', `SECONDS=${SECONDS}`],
      { encoding: 'utf8', timeout: 420_000 },
    );
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) process.stderr.write(`fuzz smoke (${clang}) output:\n${out}\n`);
    // Findings, one line each (the full reports are printed above and kept,
    // with the logs and artifacts, in the directory the output names).
    const findings = out
      .split('\n')
      .filter((l) =>
        /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|deadly signal|invariant violated|FAILED/.test(l),
      );
    expect(findings).toEqual([]);
    // Every target ran, and did run inputs (not a vacuous pass).
    for (const t of TARGETS) {
      const m = out.match(new RegExp(`^${t}: (\\d+) executions in ${SECONDS}s, no findings$`, 'm'));
      expect(m).not.toBeNull();
      // The reply-loop targets make a socketpair per input: slower (~1,000/s).
      expect(Number(m![1])).toBeGreaterThan(/transact|nft_/.test(t) ? 200 : 1000);
    }
    expect(out).toMatch(/^total: \d+ executions$/m);
    expect(r.status).toBe(0);
  }, 480_000);
});
