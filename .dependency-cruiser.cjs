/**
 * Package boundaries (ARCHITECTURE.md "Layout", STYLE §1): dependencies point one way,
 * apps → ledger-application → {margin-domain, event-store}; libs/testing is for tests only.
 * Run: npx depcruise apps libs migrations --config .dependency-cruiser.cjs (part of `npm run lint`).
 * The aliases (@ledger/*) resolve through tsconfig.json, so a rule sees the real file an import reaches.
 */

/** Test files and test-only folders: specs of every level, and the `test/` folder of each app and lib. */
const TEST = '(\\.(spec|int-spec|e2e-spec)\\.ts$|^(apps|libs)/[^/]+/test/)';
/** Benchmark code may use the test builders and the database harness. */
const BENCH = '(^|/)bench/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A runtime import cycle makes module initialisation order-dependent: extract the shared part. ' +
        'Cycles made only of `import type` edges are erased at compile time and allowed.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import that does not resolve: a typo, a missing file, or a package not installed.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-package',
      severity: 'error',
      comment:
        'Import only packages declared in package.json (a transitive dependency can vanish on update).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-dev-dependency-in-product-code',
      severity: 'error',
      comment:
        'Product code runs after `npm ci --omit=dev` (Dockerfile): it may not need devDependencies.',
      from: { path: '^(apps|libs|migrations)/', pathNot: [TEST, '^libs/testing/', BENCH] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'margin-domain-is-pure',
      severity: 'error',
      comment:
        'libs/margin-domain imports only decimal.js and itself: no framework, no I/O, none of our libs.',
      from: { path: '^libs/margin-domain/', pathNot: TEST },
      to: { pathNot: '(^libs/margin-domain/|(^|/)node_modules/decimal\\.js/)' },
    },
    {
      name: 'margin-domain-specs',
      severity: 'error',
      comment:
        'Domain specs may add the test helpers of libs/testing, fast-check and the shipped reference data ' +
        '(config/**/*.json), nothing else.',
      from: { path: `^libs/margin-domain/.*${TEST}` },
      to: {
        pathNot:
          '(^libs/(margin-domain|testing)/|^config/.+\\.json$|(^|/)node_modules/(decimal\\.js|fast-check|@jest/globals)/)',
      },
    },
    {
      name: 'event-store-knows-no-margin',
      severity: 'error',
      comment: 'libs/event-store is generic: it imports none of our libs (npm packages are fine).',
      from: { path: '^libs/event-store/', pathNot: TEST },
      to: { path: '^(libs/(?!event-store/)|apps/)' },
    },
    {
      name: 'event-store-specs',
      severity: 'error',
      comment: 'Event-store specs may add libs/testing (the database harness) and the migrations.',
      from: { path: `^libs/event-store/.*${TEST}` },
      to: { path: '^(libs/(?!event-store/|testing/)|apps/)' },
    },
    {
      name: 'ledger-application-layers',
      severity: 'error',
      comment:
        'libs/ledger-application may import margin-domain and event-store; never apps or libs/testing.',
      from: { path: '^libs/ledger-application/', pathNot: TEST },
      to: { path: '^(libs/(?!ledger-application/|margin-domain/|event-store/)|apps/)' },
    },
    {
      name: 'ledger-application-specs',
      severity: 'error',
      comment: 'Application specs may add libs/testing.',
      from: { path: `^libs/ledger-application/.*${TEST}` },
      to: { path: '^(libs/(?!ledger-application/|margin-domain/|event-store/|testing/)|apps/)' },
    },
    {
      name: 'testing-only-from-tests',
      severity: 'error',
      comment:
        'libs/testing is test-only: imported by *.spec.ts, *.int-spec.ts, *.e2e-spec.ts and the bench.',
      from: { pathNot: [TEST, '^libs/testing/', BENCH] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'migrations-are-frozen-history',
      severity: 'error',
      comment:
        'A migration must produce the same schema forever, so it may not depend on domain or application code ' +
        'that changes. It may use typeorm and libs/event-store.',
      from: { path: '^migrations/' },
      to: { path: '^(libs/(margin-domain|ledger-application|testing)/|apps/)' },
    },
    {
      name: 'nothing-imports-apps',
      severity: 'error',
      comment: 'apps/ are entry points; libs and migrations never import them.',
      from: { path: '^(libs|migrations)/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-cross-app-imports',
      severity: 'error',
      comment: 'One app does not import another; move shared code into a lib.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'lib-entry-point-only',
      severity: 'error',
      comment:
        'Other packages use a lib only through its src/index.ts (@ledger/<name>), never its internals.',
      from: { path: '^(apps/[^/]+|libs/[^/]+|migrations|bench)/' },
      to: { path: '^libs/[^/]+/src/', pathNot: ['^$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage|data|\\.ledger-tmp)/' },
    // Type-only imports count too: the domain may not even name a framework type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
