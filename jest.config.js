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
    '^@ledger/(margin-domain|ledger-application|event-store|testing)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'event-store-pglite',
      testMatch: ['<rootDir>/libs/event-store/**/*.int-spec.ts'],
      setupFiles: ['<rootDir>/libs/testing/src/force-pglite.setup.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/*.e2e-spec.ts'] },
  ],
};
