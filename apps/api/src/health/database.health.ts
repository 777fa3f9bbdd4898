import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { LEDGER_DATABASE, type LedgerDatabase } from '@ledger/event-store';
import { subscriptionLags } from '../metrics/api-metrics';

/** Readiness fails while a durable consumer is more than this many events behind (LEDGER_MAX_SUBSCRIPTION_LAG). */
export const DEFAULT_MAX_SUBSCRIPTION_LAG = 10_000;

/** How long a health probe may take before the indicator reports `down` (a hung pool must not hang /health). */
export const HEALTH_PROBE_TIMEOUT_MS = 3_000;

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
