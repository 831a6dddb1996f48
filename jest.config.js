'use strict';
// Two tiers:
//   unit        - no privileges needed: `npx jest --selectProjects unit`
//   integration - needs root; run inside `netplumb sandbox` (see scripts/test.js)
// `npm test` (scripts/test.js) picks the right tiers and writes jest-results.json.

/** ts-jest with full type-checking against tsconfig.json. */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }];

/** @type {import('jest').Config} */
module.exports = {
  // Compiles dist/ once for the children the integration tests run.
  globalSetup: '<rootDir>/test/setup/compile.js',
  // Fails the run if any namespace is left in the sandbox's /run/netns.
  globalTeardown: '<rootDir>/test/setup/teardown.js',
  projects: [
    {
      displayName: 'unit',
      preset: 'ts-jest',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
    {
      displayName: 'integration',
      preset: 'ts-jest',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testTimeout: 60_000,
      setupFilesAfterEnv: ['<rootDir>/test/setup/integration.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
  ],
};
