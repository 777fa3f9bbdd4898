import { randomBytes } from 'node:crypto';

import { type LedgerDatabase, type OpenDatabaseOptions, openDatabase } from '@ledger/event-store';
import pg from 'pg';

import { ALL_MIGRATIONS } from '../../../../migrations';
import { dockerEngineAnswers } from './docker-probe';

/** A suite's own database; drop() closes it and removes it (the PostgreSQL database, the container, or PGlite). */
export type TestDatabase = LedgerDatabase & { url?: string; drop(): Promise<void> };

/** What a suite may choose; the harness chooses the rest (all migrations, where the database lives). */
export type TestDatabaseOptions = Pick<OpenDatabaseOptions, 'upcasters' | 'poolSize'>;

type Backend = { kind: 'pglite' } | { kind: 'server'; url: string } | { kind: 'container' };

/**
 * ONE database per suite (beforeAll/afterAll), never per test: advisory locks and LISTEN/NOTIFY are per database,
 * so suites running side by side never see each other (STYLE §6).
 *
 * - LEDGER_TEST_FORCE_PGLITE=1 (the `event-store-pglite` jest project): PGlite in memory.
 * - TEST_DATABASE_URL: a new database `ledger_test_<suite>_<random>` on that server.
 * - a Docker engine that answers: the same inside a PostgreSQL 15 container (testcontainers).
 * - else PGlite in memory.
 */
export async function createTestDatabase(
  suiteName: string,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const backend = await chooseBackend();
  if (backend.kind === 'pglite') return openPgliteTestDatabase(options);
  if (backend.kind === 'server') return createOnServer(backend.url, suiteName, options);
  return createInContainer(suiteName, options);
}

/**
 * For `*.concurrency.int-spec.ts` suites: real PostgreSQL or an error, never PGlite. jest.config.js registers
 * these suites only when real PostgreSQL is available, so the error means a Docker hint whose engine died.
 */
export async function createConcurrencyTestDatabase(
  suiteName: string,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase & { url: string }> {
  const db = await createTestDatabase(suiteName, options);
  if (db.kind !== 'pglite' && db.url !== undefined) return { ...db, url: db.url };
  await db.drop();
  throw new Error(
    `${suiteName} needs real PostgreSQL (real concurrency): set TEST_DATABASE_URL or start a Docker engine`,
  );
}

/** Opens one more handle (its own pool) on a test database, e.g. a second process of the same service. */
export function openAnotherHandle(
  db: TestDatabase,
  options: TestDatabaseOptions = {},
): Promise<LedgerDatabase> {
  if (!db.url) throw new Error('a second handle needs real PostgreSQL: PGlite is one session');
  return openDatabase({ url: db.url, migrations: ALL_MIGRATIONS, ...options });
}

/** Refuses any database whose name lacks "test": the harness creates and drops databases. */
export function assertTestDatabaseName(name: string): void {
  if (!/test/i.test(name))
    throw new Error(`refusing database "${name}": a test database's name contains "test"`);
}

async function chooseBackend(): Promise<Backend> {
  if (process.env.LEDGER_TEST_FORCE_PGLITE === '1') return { kind: 'pglite' };
  const url = process.env.TEST_DATABASE_URL;
  if (url) return { kind: 'server', url };
  if (await dockerEngineAnswers()) return { kind: 'container' };
  return { kind: 'pglite' };
}

async function openPgliteTestDatabase(options: TestDatabaseOptions): Promise<TestDatabase> {
  const db = await openDatabase({ dataDir: 'memory://', migrations: ALL_MIGRATIONS, ...options });
  return { ...db, drop: () => db.close() };
}

async function createOnServer(
  serverUrl: string,
  suiteName: string,
  options: TestDatabaseOptions,
  afterDrop: () => Promise<void> = async () => undefined,
): Promise<TestDatabase> {
  const name = testDatabaseName(suiteName);
  assertTestDatabaseName(name);
  await onServer(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  // A test database is thrown away: skipping the WAL flush per commit changes no visibility or locking rule,
  // only durability after a server crash, and makes commit-bound suites (append races) several times faster.
  await onServer(
    serverUrl,
    `ALTER DATABASE ${pg.escapeIdentifier(name)} SET synchronous_commit = off`,
  );
  const url = withDatabase(serverUrl, name);
  let db: LedgerDatabase;
  try {
    db = await openDatabase({ url, migrations: ALL_MIGRATIONS, ...options });
  } catch (error) {
    await dropOnServer(serverUrl, name);
    throw error;
  }
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= (async () => {
      await db.close();
      await dropOnServer(serverUrl, name);
      await afterDrop();
    })();
    return dropping;
  };
  return { ...db, url, drop };
}

async function createInContainer(
  suiteName: string,
  options: TestDatabaseOptions,
): Promise<TestDatabase> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:15-alpine').start();
  try {
    return await createOnServer(container.getConnectionUri(), suiteName, options, async () => {
      await container.stop();
    });
  } catch (error) {
    await container.stop();
    throw error;
  }
}

/** `ledger_test_<suite>_<random>`, at most 63 bytes (PostgreSQL's identifier limit). */
function testDatabaseName(suiteName: string): string {
  const suite = suiteName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 36);
  return `ledger_test_${suite || 'suite'}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function dropOnServer(serverUrl: string, name: string): Promise<void> {
  assertTestDatabaseName(name);
  // FORCE: a consumer connection killed mid-test may still be closing.
  await onServer(serverUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({
    connectionString: serverUrl,
    application_name: 'ledger-test-harness',
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
