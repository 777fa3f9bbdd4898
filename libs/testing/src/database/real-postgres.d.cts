/** Types of real-postgres.cjs (plain CommonJS so that jest.config.js can load it). */
export declare const CONCURRENCY_SUITE_PATTERN: string;
/** Environment variables or files that say a Docker engine might answer; [] means surely none. */
export declare function dockerHints(env?: NodeJS.ProcessEnv): string[];
/** True when testcontainers reaches a Docker engine within a few seconds (asked once per process). */
export declare function dockerEngineAnswersSync(env?: NodeJS.ProcessEnv): boolean;
/** Whether int suites run on real PostgreSQL (TEST_DATABASE_URL or Docker), i.e. concurrency suites can run. */
export declare function isRealPostgresAvailable(env?: NodeJS.ProcessEnv): boolean;
export declare function findConcurrencySuites(rootDir: string): string[];
/** testPathIgnorePatterns for the `int` or `event-store-pglite` jest project. */
export declare function concurrencySuiteIgnorePatterns(
  project: string,
  rootDir: string,
  argv?: string[],
): string[];
