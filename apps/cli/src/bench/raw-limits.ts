import pg from 'pg';
import { openDatabase } from '@ledger/event-store';
import { ALL_MIGRATIONS } from '../../../../migrations';
import type { BenchDatabase } from './databases';
import { log, nowMs, perSecond, runFor } from './stats';

/** Raw limits of the database, measured with plain INSERTs into a scratch table shaped like `events`. */
export interface RawLimits {
  /** Rows/s of single-row autocommit INSERTs from one connection (each one a commit and a WAL flush). */
  singleRowInsertsPerSecond: number;
  /** Rows/s of 100-row multi-row INSERTs (autocommit) from `connections` connections. */
  batchedRowsPerSecond: number;
  batchedConnections: number;
  batchRows: number;
  seconds: number;
}

export const SCRATCH_DDL = `
CREATE TABLE bench_scratch (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id text NOT NULL, stream_version integer NOT NULL, type text NOT NULL, schema_version integer NOT NULL,
  data jsonb NOT NULL, metadata jsonb NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(), recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_version));
CREATE INDEX bench_scratch_reader_order ON bench_scratch (transaction_id, global_position)`;

const DATA = JSON.stringify({ asset: 'USDT', amount: '10' });
const metadata = (id: string): string =>
  JSON.stringify({
    commandId: id,
    occurredAt: new Date().toISOString(),
    referenceDataVersion: 'binance-2024',
    actor: 'bench',
  });

function multiRowInsert(rows: number): string {
  const values: string[] = [];
  for (let i = 0; i < rows; i++) {
    const p = i * 4;
    values.push(`($${p + 1}, $${p + 2}, 'Deposited', 1, $${p + 3}::jsonb, $${p + 4}::jsonb)`);
  }
  return `INSERT INTO bench_scratch (stream_id, stream_version, type, schema_version, data, metadata) VALUES ${values.join(', ')}`;
}
const SINGLE = multiRowInsert(1);

function rowParams(prefix: string, start: number, rows: number): unknown[] {
  const params: unknown[] = [];
  for (let i = 0; i < rows; i++)
    params.push(`${prefix}-${start + i}`, 1, DATA, metadata(`${prefix}-${start + i}`));
  return params;
}

export async function measureRawLimits(
  db: BenchDatabase,
  seconds: number,
  batchRows = 100,
  connections = 8,
): Promise<RawLimits> {
  const ms = seconds * 1000;
  if (db.kind === 'postgres') {
    const url = db.url ?? '';
    const clients = await Promise.all(
      Array.from({ length: connections }, async () => {
        const c = new pg.Client({ connectionString: url, application_name: 'ledger-bench-raw' });
        await c.connect();
        return c;
      }),
    );
    try {
      const [first] = clients;
      if (!first) throw new Error('no connection');
      await first.query(SCRATCH_DDL);
      let single = 0;
      const singleMs = await runFor(1, ms, async () => {
        await first.query({ name: 'raw-single', text: SINGLE, values: rowParams('s', single, 1) });
        single += 1;
      });
      const counters = clients.map(() => 0);
      const batch = multiRowInsert(batchRows);
      const batchMs = await runFor(connections, ms, async (c) => {
        const client = clients[c];
        if (!client) return;
        await client.query({
          name: 'raw-batch',
          text: batch,
          values: rowParams(`b${c}`, counters[c] ?? 0, batchRows),
        });
        counters[c] = (counters[c] ?? 0) + batchRows;
      });
      const batched = counters.reduce((a, b) => a + b, 0);
      const result = {
        singleRowInsertsPerSecond: perSecond(single, singleMs),
        batchedRowsPerSecond: perSecond(batched, batchMs),
        batchedConnections: connections,
        batchRows,
        seconds,
      };
      log(
        `raw postgres: ${result.singleRowInsertsPerSecond} single rows/s, ${result.batchedRowsPerSecond} batched rows/s`,
      );
      return result;
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }
  // PGlite: one session, so one connection for both.
  const database = await openDatabase({
    dataDir: db.dataDir ?? 'memory://',
    migrations: ALL_MIGRATIONS,
  });
  try {
    const store = database.store;
    for (const statement of SCRATCH_DDL.split(';')) await store.query(statement);
    let single = 0;
    const started = nowMs();
    const singleMs = await runFor(1, ms, async () => {
      await store.query(SINGLE, rowParams('s', single, 1));
      single += 1;
    });
    let batched = 0;
    const batch = multiRowInsert(batchRows);
    const batchMs = await runFor(1, ms, async () => {
      await store.query(batch, rowParams('b', batched, batchRows));
      batched += batchRows;
    });
    const result = {
      singleRowInsertsPerSecond: perSecond(single, singleMs),
      batchedRowsPerSecond: perSecond(batched, batchMs),
      batchedConnections: 1,
      batchRows,
      seconds,
    };
    log(
      `raw pglite: ${result.singleRowInsertsPerSecond} single rows/s, ${result.batchedRowsPerSecond} batched rows/s (${Math.round(nowMs() - started)} ms)`,
    );
    return result;
  } finally {
    await database.close();
  }
}
