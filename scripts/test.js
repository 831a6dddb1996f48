#!/usr/bin/env node
'use strict';
/**
 * `npm test` entry point.
 *
 * - root:     all projects (unit + integration) inside `netplumb sandbox`, in band.
 * - not root: the unit project only, then FAILS (exit 1) because the
 *             integration tier was not run - unless NETPLUMB_UNIT_ONLY=1.
 *
 * Always writes jest's JSON results to jest-results.json in the repo root.
 * Extra arguments (`npm test -- <args>`) are passed through to jest.
 */

const fs = require('node:fs');
const path = require('node:path');
const { isRoot, runCommand } = require('../bin/sandbox.js');
const { ensureTools } = require('./tools.js');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = 'jest-results.json';
const JEST = path.join('node_modules', 'jest', 'bin', 'jest.js');
const NETPLUMB = path.join('bin', 'netplumb');

async function main(extra) {
  // A stale results file must never be mistaken for this run's results.
  fs.rmSync(path.join(ROOT, RESULTS), { force: true });

  // jest flags go before the pass-through args: --selectProjects is variadic and
  // would swallow a following path pattern as a project name.
  const jestArgs = ['--json', `--outputFile=${RESULTS}`];
  const opts = { cwd: ROOT };

  // The oracles the tests use come with the test command (installed, or named).
  if (!ensureTools({ integration: isRoot(), root: isRoot() })) return 1;

  if (isRoot()) {
    const code = await runCommand(
      process.execPath,
      [NETPLUMB, 'sandbox', '--', process.execPath, JEST, '--runInBand', ...jestArgs, ...extra],
      opts,
    );
    if (!fs.existsSync(path.join(ROOT, RESULTS))) {
      process.stderr.write(
        `\nnpm test: jest did not write ${RESULTS} (exit status ${code}); ` +
          'the sandbox or jest failed to start - see the messages above.\n',
      );
      return code === 0 ? 1 : code;
    }
    return code;
  }

  const code = await runCommand(process.execPath, [JEST, '--selectProjects', 'unit', ...jestArgs, ...extra], opts);

  const unitOnly = process.env.NETPLUMB_UNIT_ONLY === '1';
  const banner = '='.repeat(78);
  process.stderr.write(
    `\n${banner}\n` +
      'npm test: the INTEGRATION tier was NOT run: it needs root (CAP_SYS_ADMIN and\n' +
      'CAP_NET_ADMIN) to create a private network namespace with `netplumb sandbox`.\n' +
      'Only the unit tests ran. Run `sudo npm test` for the full suite' +
      (unitOnly ? '.\n' : ',\nor set NETPLUMB_UNIT_ONLY=1 to accept a unit-only run.\n') +
      `${banner}\n`,
  );
  if (unitOnly) return code;
  return code !== 0 ? code : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`npm test: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
