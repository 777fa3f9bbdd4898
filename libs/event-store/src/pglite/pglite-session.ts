import { AsyncLocalStorage } from 'node:async_hooks';

import type { PGlite, Results } from '@electric-sql/pglite';

import type {
  ConsumerLease,
  ConsumerLeaseOptions,
  SqlExecutor,
  SqlSession,
} from '../sql/sql-session';
import { guardedExecutor } from '../sql/sql-session';
import { FifoMutex } from './fifo-mutex';

const NOTIFY_CHANNEL = 'ledger_events';

/**
 * What the session uses of a PGlite instance. Structural on purpose: `await import()` yields the ESM
 * declarations and a type import the CommonJS ones, two nominally different PGlite classes.
 */
export type PgliteInstance = Pick<PGlite, 'query' | 'exec' | 'listen'>;

/**
 * PGlite is ONE PostgreSQL session. Two "connections" interleaving their statements would share one transaction:
 * one's ROLLBACK would discard the other's writes. So every unit of work (a transaction, or one statement
 * outside any) holds a FIFO mutex, and the TypeORM pool hands out the same mutex as its only connection.
 *
 * A unit of work that starts another one from inside itself would wait for itself forever; that is detected
 * (AsyncLocalStorage) and refused with an error instead.
 */
export class PgliteSession implements SqlSession {
  readonly kind = 'pglite' as const;
  private readonly mutex = new FifoMutex();
  private readonly holder = new AsyncLocalStorage<{ active: boolean }>();
  private readonly consumers = new Set<string>();
  private readonly wakeListeners = new Set<() => void>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(readonly pglite: PgliteInstance) {}

  /** LISTEN is transactional, so it must not run inside someone else's unit of work either. */
  async listenForAppends(): Promise<void> {
    this.unlisten = await this.exclusive(() =>
      this.pglite.listen(NOTIFY_CHANNEL, () => {
        for (const listener of this.wakeListeners) listener();
      }),
    );
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.exclusive(async () => (await this.pglite.query<T>(sql, params ?? [])).rows);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      let open = true;
      const tx = guardedExecutor(
        {
          query: async <R>(sql: string, params?: unknown[]) =>
            (await this.pglite.query<R>(sql, params ?? [])).rows,
        },
        () => open,
      );
      await this.pglite.query('BEGIN');
      try {
        const result = await work(tx);
        await this.pglite.query('COMMIT');
        return result;
      } catch (error) {
        await this.pglite.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        open = false;
      }
    });
  }

  /** Runs `work` alone on the session. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    const marker = { active: true };
    try {
      return await this.holder.run(marker, work);
    } finally {
      marker.active = false;
      release();
    }
  }

  /** The raw lease, for the TypeORM pool: its connection is held from connect() to release(). */
  acquire(): Promise<() => void> {
    if (this.holder.getStore()?.active) {
      return Promise.reject(
        new Error(
          'PGlite is one session: a unit of work was started from inside another one and would wait for it ' +
            'forever. Use the transaction you were given.',
        ),
      );
    }
    return this.mutex.acquire();
  }

  /** Raw statement for the TypeORM pool, which holds the lease already. No parameters: may be a script. */
  async raw(sql: string, params: unknown[] | undefined): Promise<Results> {
    if (params && params.length > 0) return this.pglite.query(sql, params);
    const results = await this.pglite.exec(sql);
    return results.at(-1) ?? { rows: [], fields: [] };
  }

  /** One process, one session: a plain in-process registry gives "one active instance per name". */
  async acquireConsumerLease(
    name: string,
    options: ConsumerLeaseOptions,
  ): Promise<ConsumerLease | null> {
    while (this.consumers.has(name)) {
      if (options.isStopping()) return null;
      await options.sleep(options.retryIntervalMs);
    }
    if (options.isStopping()) return null;
    this.consumers.add(name);
    const wake = (): void => options.onWake();
    this.wakeListeners.add(wake);
    let released = false;
    return {
      lost: false,
      release: async () => {
        if (released) return;
        released = true;
        this.wakeListeners.delete(wake);
        this.consumers.delete(name);
      },
    };
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    if (unlisten) await this.exclusive(unlisten).catch(() => undefined);
  }
}
