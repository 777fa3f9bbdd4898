import { mkdir } from 'node:fs/promises';

import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';

import type { EventStore, Upcaster } from '../event-store';
import { PgliteSession } from '../pglite/pglite-session';
import type { DataDirLock } from './data-dir-lock';
import { acquireDataDirLock } from './data-dir-lock';
import { pgliteDriverFor } from '../pglite/pglite-typeorm-pool';
import { PostgresSession } from '../postgres/postgres-session';
import { SqlEventStore } from '../sql-event-store';
import { UpcasterRegistry } from '../upcaster-registry';

/** A TypeORM migration class (`migrations/index.ts` exports them in order as ALL_MIGRATIONS). */
export type MigrationClass = new () => MigrationInterface;

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string. Without it: embedded PGlite. */
  url?: string;
  /** PGlite data folder; undefined or 'memory://' keeps the database in memory. Ignored with `url`. */
  dataDir?: string;
  migrations: MigrationClass[];
  /** `pg` pool size (default 10). Subscriptions hold one more connection each, outside the pool. */
  poolSize?: number;
  upcasters?: Upcaster[];
  /** Addition: run pending migrations on open (default true). With false, pendingMigrations() reports them. */
  runMigrations?: boolean;
  /** Addition: `application_name` of the pool's connections (default 'ledger'). */
  applicationName?: string;
}

export interface LedgerDatabase {
  kind: 'postgres' | 'pglite';
  store: EventStore;
  /** For migrations and read models. On PGlite, its connections take turns with the store's units of work. */
  dataSource: DataSource;
  ping(): Promise<void>;
  /** True when a migration of the list has not run on this database. */
  pendingMigrations(): Promise<boolean>;
  /** Stops the subscriptions, then closes the pool or PGlite. Idempotent. */
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<LedgerDatabase> {
  const upcasters = new UpcasterRegistry(options.upcasters);
  return options.url
    ? openPostgres(options.url, options, upcasters)
    : openPglite(options, upcasters);
}

async function openPostgres(
  url: string,
  options: OpenDatabaseOptions,
  upcasters: UpcasterRegistry,
): Promise<LedgerDatabase> {
  const applicationName = options.applicationName ?? 'ledger';
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    driver: pg,
    applicationName,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    logging: false,
  });
  await dataSource.initialize();
  try {
    if (options.runMigrations ?? true) await runMigrationsExclusively(url, dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  const session = new PostgresSession(
    pool,
    (consumerName) => new pg.Client({ connectionString: url, application_name: consumerName }),
  );
  const store = new SqlEventStore(session, upcasters, async () => {
    await session.close();
    await dataSource.destroy();
  });
  return ledgerDatabase('postgres', store, dataSource);
}

/**
 * Two processes starting together (two API replicas) would both run the pending migrations; a session advisory
 * lock on a side connection makes the second wait and then find nothing pending.
 */
async function runMigrationsExclusively(url: string, dataSource: DataSource): Promise<void> {
  const lockClient = new pg.Client({
    connectionString: url,
    application_name: 'ledger-migrations',
  });
  await lockClient.connect();
  try {
    await lockClient.query(`SELECT pg_advisory_lock(hashtextextended('ledger-migrations', 0))`);
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await lockClient.end();
  }
}

async function openPglite(
  options: OpenDatabaseOptions,
  upcasters: UpcasterRegistry,
): Promise<LedgerDatabase> {
  // Loaded on demand: the PostgreSQL path never pays for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite');
  const inMemory = options.dataDir === undefined || options.dataDir === 'memory://';
  let lock: DataDirLock | undefined;
  if (!inMemory && options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    // Before PGlite reads a byte: a second opener of the folder would lose writes (data-dir-lock.ts).
    lock = acquireDataDirLock(options.dataDir);
  }
  const pglite = await (
    inMemory ? PGlite.create() : PGlite.create({ dataDir: options.dataDir })
  ).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
  const session = new PgliteSession(pglite);
  const dataSource = new DataSource({
    type: 'postgres',
    driver: pgliteDriverFor(session),
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    logging: false,
  });
  try {
    await dataSource.initialize();
    if (options.runMigrations ?? true) await dataSource.runMigrations({ transaction: 'all' });
    await session.listenForAppends();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await pglite.close();
    lock?.release();
    throw error;
  }
  const store = new SqlEventStore(session, upcasters, async () => {
    try {
      await dataSource.destroy();
      await session.close();
      await pglite.close();
    } finally {
      lock?.release();
    }
  });
  return ledgerDatabase('pglite', store, dataSource);
}

function ledgerDatabase(
  kind: 'postgres' | 'pglite',
  store: SqlEventStore,
  dataSource: DataSource,
): LedgerDatabase {
  return {
    kind,
    store,
    dataSource,
    ping: async () => {
      await store.query('SELECT 1');
    },
    pendingMigrations: () => dataSource.showMigrations(),
    close: () => store.close(),
  };
}
