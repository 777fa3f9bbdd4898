/**
 * What the event store needs from a database: statements, transactions and a per-consumer lease. PostgreSQL
 * (`pg` pool) and PGlite (one session behind a FIFO mutex) implement it; the SQL itself is shared.
 */
import type { Transaction } from '../event-store';

export interface SqlExecutor extends Transaction {
  /** `statementName` prepares the statement once per connection (ignored on PGlite). */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    statementName?: string,
  ): Promise<T[]>;
}

export interface ConsumerLeaseOptions {
  /** How often to try again while another instance holds the consumer. */
  retryIntervalMs: number;
  /** True once the subscription is stopping: stop waiting and return null. */
  isStopping(): boolean;
  /** Resolves early when the subscription stops. */
  sleep(ms: number): Promise<void>;
  /** An append was committed somewhere (NOTIFY): a hint to read now. */
  onWake(): void;
  /** The lease is gone (its connection died): another instance may take over. */
  onLost(): void;
  /** A failed attempt to take the lease (the attempts go on until stopped). */
  onError(error: unknown): void;
}

/** The exclusive right to run one consumer name. */
export interface ConsumerLease {
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface SqlSession extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** BEGIN … COMMIT around `work`, ROLLBACK when it throws. The executor is dead after the transaction ends. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Waits until this process holds `name`; null when stopped while waiting. */
  acquireConsumerLease(name: string, options: ConsumerLeaseOptions): Promise<ConsumerLease | null>;
  /**
   * Called after this process committed appends: wake other processes' consumers (outside the writing
   * transaction, coalesced). Absent where no other process can share the database (PGlite: one opener).
   */
  signalAppended?(): void;
  close(): Promise<void>;
}

/** Refuses use of a transaction's executor after it ended: a pooled connection may already serve someone else. */
export function guardedExecutor(inner: SqlExecutor, isOpen: () => boolean): SqlExecutor {
  return {
    query<T>(sql: string, params?: unknown[], statementName?: string): Promise<T[]> {
      if (!isOpen())
        return Promise.reject(
          new Error('transaction already finished: query after commit/rollback'),
        );
      return inner.query<T>(sql, params, statementName);
    },
  };
}
