import type { Pool, PoolClient, QueryConfig } from 'pg';

import type {
  ConsumerLease,
  ConsumerLeaseOptions,
  SqlExecutor,
  SqlSession,
} from '../sql/sql-session';
import { guardedExecutor } from '../sql/sql-session';
import {
  NOTIFY_CHANNEL,
  acquireAdvisoryConsumerLease,
  type ConsumerConnectionFactory,
} from './advisory-consumer-lease';
import { CoalescingSignal } from './append-signal';

/**
 * PostgreSQL through the `pg` pool that TypeORM created (one pool per process). The hot path bypasses TypeORM:
 * one prepared statement per append, no query builder.
 */
export class PostgresSession implements SqlSession {
  readonly kind = 'postgres' as const;
  private readonly appendSignal: CoalescingSignal;

  constructor(
    private readonly pool: Pool,
    private readonly connectConsumer: ConsumerConnectionFactory,
  ) {
    this.appendSignal = new CoalescingSignal(
      async () => {
        await this.pool.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', '')`);
      },
      // A lost signal costs latency only: consumers poll too.
      () => undefined,
    );
  }

  signalAppended(): void {
    this.appendSignal.request();
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    statementName?: string,
  ): Promise<T[]> {
    const result = await this.pool.query(config(sql, params, statementName));
    return result.rows as T[];
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client's connection errors (e.g. pg_terminate_backend while the handler runs) are emitted on
    // the client; without a listener they would crash the process. The failing query rejects on its own.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let open = true;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(guardedExecutor(clientExecutor(client), () => open));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await rollback(client);
      throw error;
    } finally {
      open = false;
      client.off('error', ignore);
      // A connection that could not roll back is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  acquireConsumerLease(name: string, options: ConsumerLeaseOptions): Promise<ConsumerLease | null> {
    return acquireAdvisoryConsumerLease(name, options, this.connectConsumer);
  }

  /** Ends the wake-up signals (the one in flight finishes); the pool belongs to the DataSource, which ends it. */
  close(): Promise<void> {
    return this.appendSignal.close();
  }
}

function config(
  text: string,
  values: unknown[] | undefined,
  name: string | undefined,
): QueryConfig {
  return name ? { name, text, values: values ?? [] } : { text, values: values ?? [] };
}

function clientExecutor(client: PoolClient): SqlExecutor {
  return {
    async query<T>(sql: string, params?: unknown[], statementName?: string): Promise<T[]> {
      return (await client.query(config(sql, params, statementName))).rows as T[];
    },
  };
}

async function rollback(client: PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
