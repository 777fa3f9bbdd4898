import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { BackendKind } from './options';

/** Where one figure runs: a fresh database `ledger_bench_<random>` on DATABASE_URL's server, or PGlite in a temp dir. */
export interface BenchDatabase {
  kind: BackendKind;
  url?: string;
  dataDir?: string;
  label: string;
}

/** Creates the database, runs `work`, then drops it (or deletes the PGlite folder) whatever happens. */
export async function withBenchDatabase<T>(
  kind: BackendKind,
  serverUrl: string | undefined,
  work: (db: BenchDatabase) => Promise<T>,
): Promise<T> {
  if (kind === 'postgres') {
    if (!serverUrl) throw new Error('PostgreSQL bench needs DATABASE_URL');
    const name = `ledger_bench_${randomBytes(5).toString('hex')}`;
    await admin(serverUrl, `CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      return await work({ kind, url: url.toString(), label: name });
    } finally {
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  try {
    return await work({ kind, dataDir, label: `PGlite ${dataDir}` });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function admin<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'ledger-bench' });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
