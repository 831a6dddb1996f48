// ESLint (flat config): typescript-eslint's recommended rules, type-aware for
// the TypeScript in lib/, test/, bench/, examples/ (tsconfig.json), plus the
// few rules a library that owns kernel state needs most: no promise left
// unawaited or passed where a callback's result is ignored, strict equality,
// type-only imports marked as such.
//
// `npm run lint` runs it type-aware (with `tsc --noEmit`); the unit test
// test/unit/lint.test.ts runs it with NETPLUMB_LINT_FAST=1, which drops the
// rules that need type information (they take most of the time).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const fast = process.env.NETPLUMB_LINT_FAST === '1';

/** Rules that need type information, on only in the type-aware run. */
const typeAwareRules = {
  // An unawaited promise is an unobserved failure: a link half-made.
  '@typescript-eslint/no-floating-promises': 'error',
  // An async function where a void callback is expected loses its rejection.
  '@typescript-eslint/no-misused-promises': 'error',
};

/** An unused name is a bug unless it starts with `_` (a deliberate placeholder). */
const unusedVars = {
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
};

export default tseslint.config(
  {
    // A disable comment must name a rule that fires there: stale ones are errors.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    ignores: ['node_modules/**', 'dist/**', 'build/**', 'docs/api/**', 'native/**', 'src/**', '.scratch/**', 'coverage/**'],
  },
  {
    // Plain files: bin/ (with the extension-less CLIs), scripts/, test/setup/, configs.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs', 'bin/netplumb', 'bin/netplumb-cni-node'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: fast ? {} : { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...(fast ? {} : typeAwareRules),
      // Type-only imports say so, inline (`import { x, type Y }`), as the code already does.
      // `typeof import('m')` stays allowed: it types the deliberate lazy `require('m')`s
      // (the CNI entry point loads the addon only once a command needs it).
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', unusedVars] },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs', 'bin/netplumb', 'bin/netplumb-cni-node'],
    rules: { 'no-unused-vars': ['error', unusedVars] },
  },
  {
    // Both languages. `== null` / `!= null` (null or undefined) is the one loose
    // comparison the code uses, on purpose (lib/native.ts's optional fields).
    files: ['**/*.ts', '**/*.js', '**/*.cjs', '**/*.mjs', 'bin/netplumb', 'bin/netplumb-cni-node'],
    rules: { eqeqeq: ['error', 'always', { null: 'ignore' }] },
  },
);
