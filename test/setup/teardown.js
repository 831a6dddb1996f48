'use strict';
// After the whole run, inside the sandbox: every test cleans up after itself,
// so /run/netns must be empty. A leftover namespace fails the run.
const fs = require('node:fs');
const { isolation } = require('../../bin/isolation.js');

module.exports = async function globalTeardown() {
  // In the sandbox as the kernel shows it (NETPLUMB_SANDBOX alone is not trusted).
  if (!isolation().isolated) return;
  let left = [];
  try {
    left = fs.readdirSync('/run/netns');
  } catch {
    return;
  }
  if (left.length) {
    throw new Error(`namespaces left behind in /run/netns after the test run: ${left.join(', ')}`);
  }
  console.log('\nglobal teardown: /run/netns is empty');
};
