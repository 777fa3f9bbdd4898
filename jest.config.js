/* Jest projects, one per test level (STYLE §6). `npm test` runs them all through scripts/test.mjs. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  rootDir: __dirname,
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|cookie|content-disposition)/)'],
  moduleNameMapper: {
    '^@ledger/(margin-domain|ledger-application|event-store|testing)$':
      '<rootDir>/libs/$1/src/index.ts',
  },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
module.exports = {
  // Hooks and tests share this default (a global option: jest ignores it inside a project). On 2 busy cores one
  // PGlite start-up alone has taken over 5 s (jest's default) while other suites ran: a suite's beforeAll must
  // not fail for being slow. Timing is the bench's job.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
      // Concurrency suites only with real PostgreSQL (TEST_DATABASE_URL or Docker); the run names them otherwise.
      testPathIgnorePatterns:
        require('./libs/testing/src/database/real-postgres.cjs').concurrencySuiteIgnorePatterns(
          'int',
          __dirname,
        ),
    },
    {
      ...common,
      displayName: 'event-store-pglite',
      testMatch: ['<rootDir>/libs/event-store/**/*.int-spec.ts'],
      setupFiles: ['<rootDir>/libs/testing/src/force-pglite.setup.ts'],
      // Never the concurrency suites: PGlite is one session, there is no real concurrency to test.
      testPathIgnorePatterns:
        require('./libs/testing/src/database/real-postgres.cjs').concurrencySuiteIgnorePatterns(
          'event-store-pglite',
          __dirname,
        ),
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/*.e2e-spec.ts'] },
  ],
};
