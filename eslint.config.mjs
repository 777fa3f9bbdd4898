// ESLint flat config (STYLE §7): type-checked rules for TypeScript, the margin-domain purity rule, no money as a
// JS number, no focused or skipped tests. Every rule we add is an error: nothing is downgraded to `warn`.
// Package boundaries between libs are enforced by dependency-cruiser (.dependency-cruiser.cjs); the import ban
// below is the editor-time half of the same rule for the pure domain.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts'];
const JS_FILES = ['**/*.js', '**/*.cjs', '**/*.mjs'];
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'];
const CODE_FILES = ['apps/**/*.ts', 'libs/**/*.ts', 'migrations/**/*.ts'];
const DOMAIN_FILES = ['libs/margin-domain/src/**/*.ts'];
const DOMAIN_TEST_FILES = TEST_FILES.map((glob) => `libs/margin-domain/src/${glob}`);

const MONEY_MESSAGE =
  'Money is never a JS number: parse decimal strings with decimal.js (the domain `dec()`), never parseFloat.';
const DOMAIN_MESSAGE =
  'libs/margin-domain is pure TypeScript and may import only decimal.js and its own files ' +
  '(ARCHITECTURE.md "Layout"). Put I/O and framework code in ledger-application or event-store.';

// The domain's import ban. `allowedLedgerImports` lets specs use the test helpers and the lib's own entry point.
const domainImportBan = (allowedLedgerImports = []) => [
  'error',
  {
    paths: builtinModules
      .filter((name) => !name.startsWith('_'))
      .map((name) => ({ name, message: DOMAIN_MESSAGE })),
    patterns: [
      { group: ['@nestjs/*'], message: DOMAIN_MESSAGE },
      {
        group: ['typeorm', 'typeorm/*', 'typeorm-pglite', '@electric-sql/*'],
        message: DOMAIN_MESSAGE,
      },
      { group: ['pg', 'pg/*', 'pg-*'], message: DOMAIN_MESSAGE },
      { group: ['node:*'], message: DOMAIN_MESSAGE },
      {
        group: ['@ledger/*', ...allowedLedgerImports.map((name) => `!${name}`)],
        message: DOMAIN_MESSAGE,
      },
    ],
  },
];

// Plain Node globals for the few JavaScript files (configs, scripts, the bin launcher).
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'fetch',
    'AbortController',
    'AbortSignal',
    'performance',
    'structuredClone',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
};

export default defineConfig(
  {
    ignores: ['dist/', 'coverage/', 'data/', 'bench/results/', '.ledger-tmp/', '**/node_modules/'],
  },

  // JavaScript: configs, scripts/test.mjs, bin/ledger.js. Not type-checked (they are outside tsconfig).
  {
    files: JS_FILES,
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } },
  },

  // TypeScript: recommended-type-checked through the project service (tsconfig.json).
  {
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Off, not downgraded: an async function that implements a Promise-returning contract (a handler, an
      // onAppended hook, a fake) without awaiting is correct code; floating promises are what bite, and those are
      // errors above.
      '@typescript-eslint/require-await': 'off',
      // Type-only imports stay type-only. The rule reads emitDecoratorMetadata from tsconfig, so it leaves
      // constructor-injected classes of decorated Nest providers as value imports (DI needs them at runtime).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `_exhaustive: never` and unused callback parameters are named with a leading underscore on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  // Money is never a JS number, anywhere in the product code or its tests.
  {
    files: CODE_FILES,
    rules: {
      'no-restricted-globals': ['error', { name: 'parseFloat', message: MONEY_MESSAGE }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='parseFloat']", message: MONEY_MESSAGE },
      ],
    },
  },

  // The pure domain: no framework, no I/O, none of our other libs; no `any`.
  {
    files: DOMAIN_FILES,
    rules: {
      'no-restricted-imports': domainImportBan(),
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Domain specs use the given/when/then helpers of libs/testing (STYLE §6) and may go through the entry point.
    files: DOMAIN_TEST_FILES,
    rules: {
      'no-restricted-imports': domainImportBan(['@ledger/testing', '@ledger/margin-domain']),
    },
  },

  // Tests: no focused or skipped tests (STYLE §6), plus a few cheap correctness rules.
  {
    files: TEST_FILES,
    plugins: { jest },
    languageOptions: { globals: jest.environments.globals.globals },
    rules: {
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/no-identical-title': 'error',
      'jest/valid-expect': 'error',
      // `expect(service.method).toHaveBeenCalled()` is not an unbound call; the jest-aware variant knows that.
      '@typescript-eslint/unbound-method': 'off',
      'jest/unbound-method': 'error',
      // Specs assert on parsed JSON bodies (`response.json()` is `any`) and use jest's asymmetric matchers
      // (`expect.any(String)`, `expect.objectContaining({...})`), which jest types as `any`. Typing each of those
      // would add casts, not safety. Unsafe calls and returns of `any` stay errors.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
