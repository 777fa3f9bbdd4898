import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { LEDGER_DATABASE, type LedgerDatabase, type ParkedEvent } from '@ledger/event-store';
import { subscriptionLags } from '../metrics/api-metrics';

/** Readiness fails while a durable consumer is more than this many events behind (LEDGER_MAX_SUBSCRIPTION_LAG). */
export const DEFAULT_MAX_SUBSCRIPTION_LAG = 10_000;

/** How long a health probe may take before the indicator reports `down` (a hung pool must not hang /health). */
export const HEALTH_PROBE_TIMEOUT_MS = 3_000;

/** Parked events /health lists (the oldest first); `failed` counts them all, `ledger parked` lists them all. */
export const HEALTH_PARKED_LISTED_MAX = 50;

/** A parked event as /health lists it (JSON: positions and ids as strings). */
export interface ParkedEventJson {
  id: string;
  consumer: string;
  partition: number;
  streamId: string;
  streamVersion: number;
  globalPosition: string;
  type: string;
  error: string | null;
  attempts: number;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  retryRequestedAt: string | null;
}

export function parkedEventJson(p: ParkedEvent): ParkedEventJson {
  return {
    id: p.id.toString(),
    consumer: p.consumer,
    partition: p.partition,
    streamId: p.streamId,
    streamVersion: p.streamVersion,
    globalPosition: p.globalPosition.toString(),
    type: p.type,
    error: p.error,
    attempts: p.attempts,
    firstFailedAt: p.firstFailedAt?.toISOString() ?? null,
    lastFailedAt: p.lastFailedAt?.toISOString() ?? null,
    retryRequestedAt: p.retryRequestedAt?.toISOString() ?? null,
  };
}

/** Terminus indicators over the event store's database: is it reachable, and is its schema up to date. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(LEDGER_DATABASE) private readonly database: LedgerDatabase,
  ) {}

  /** `up` with the database kind (`postgres` or `pglite`) when a round trip succeeds. */
  reachable(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        await this.database.ping();
        return { kind: this.database.kind };
      })
      .withTimeout(HEALTH_PROBE_TIMEOUT_MS);
  }

  /** `down` while a migration is pending: the API must not serve on a schema older than its code. */
  migrated(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        if (await this.database.pendingMigrations()) throw new Error('migrations are pending');
        return { pending: false };
      })
      .withTimeout(HEALTH_PROBE_TIMEOUT_MS);
  }

  /**
   * Always `up` when it can read them (a parked event is reported, not an outage: the consumer went on): how many
   * events the consumers parked (`failed`) and hold behind them (`blocked`), and the parked ones themselves.
   */
  parkedEvents(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        const store = this.database.store;
        const counts = (await store.parkedCounts?.()) ?? [];
        const failed = counts.reduce((sum, c) => sum + c.failed, 0);
        const listed =
          failed === 0 ? [] : ((await store.parkedEvents?.({ status: 'failed' })) ?? []);
        return {
          failed,
          blocked: counts.reduce((sum, c) => sum + c.blocked, 0),
          events: listed.slice(0, HEALTH_PARKED_LISTED_MAX).map(parkedEventJson),
        };
      })
      .withTimeout(HEALTH_PROBE_TIMEOUT_MS);
  }

  /** `up` with each durable consumer's lag in events; `down` when one is behind by more than `maxLag`. */
  subscriptionsCaughtUp(key: string, maxLag: number) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        const lags = Object.fromEntries(await subscriptionLags(this.database.store));
        const behind = Object.entries(lags).filter(([, lag]) => lag > maxLag);
        if (behind.length > 0)
          throw new Error(
            `consumers behind by more than ${maxLag} events: ${behind.map(([name]) => name).join(', ')}`,
          );
        return { lag: lags };
      })
      .withTimeout(HEALTH_PROBE_TIMEOUT_MS);
  }
}
