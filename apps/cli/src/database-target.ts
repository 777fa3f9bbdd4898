import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

/** Where the CLI works: `DATABASE_URL` (PostgreSQL), else the embedded PGlite in `LEDGER_DATA_DIR` (./data). */
export interface DatabaseTarget {
  url?: string;
  dataDir?: string;
  label: string;
}

export function configuredTarget(): DatabaseTarget {
  const url = process.env.DATABASE_URL;
  if (url) return { url, label: redact(url) };
  const dataDir = resolve(process.env.LEDGER_DATA_DIR ?? './data');
  return { dataDir, label: `embedded PGlite in ${dataDir}` };
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * A temporary, empty database for one scenario run (spec/scenario-format.md): with DATABASE_URL a new database
 * `ledger_scenario_test_<random>` on that server, dropped afterwards; else PGlite in a temp folder, deleted.
 */
export async function temporaryTarget(): Promise<{
  target: DatabaseTarget;
  dispose(): Promise<void>;
}> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `ledger_scenario_test_${randomBytes(6).toString('hex')}`;
    await admin(url, `CREATE DATABASE ${name}`);
    const scenarioUrl = new URL(url);
    scenarioUrl.pathname = `/${name}`;
    return {
      target: { url: scenarioUrl.toString(), label: name },
      dispose: () => admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-scenario-'));
  return {
    target: { dataDir, label: `temporary PGlite ${dataDir}` },
    dispose: () => {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
