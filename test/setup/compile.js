'use strict';
// Before the run, once: `tsc -p tsconfig.build.json`, then scripts/bundle-hot.js. The integration tier
// runs plain-node children on dist/ (test/children, the examples, restart
// and strace scenarios), and they must see the sources as they are now.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  const root = path.join(__dirname, '..', '..');
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  // The hot-path bundle and its code cache (lib/hot.ts), as the package's build makes them.
  const hot = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle-hot.js')], { cwd: root, encoding: 'utf8' });
  if (hot.status !== 0) throw new Error(`node scripts/bundle-hot.js failed:\n${hot.stdout}${hot.stderr}`);
};
