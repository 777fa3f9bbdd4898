import type { EventStore, Subscription } from '@ledger/event-store';
import { compareCheckpoints, checkpointOf } from '@ledger/event-store';
import type { LedgerFaults } from '../ledger/faults';
import { readAllBatches } from '../ledger/read-all-batches';
import type { MarginHistoryRow } from '../read/margin-history.projection';
import { MARGIN_HISTORY_CONSUMER, MarginHistoryFold } from '../read/margin-history.projection';
import type { MarginHistorySource } from './ledger-audit';
import { marginHistoryRowJson } from './ledger-audit';

/**
 * The margin-history consumer on the in-memory store, wired as `MarginHistoryProjection` is on SQL: the real
 * `MarginHistoryFold` on a durable subscription, its rows "committed" with the checkpoint (kept only when the batch
 * handler returns), the table surviving a restart of the consumer, which warms its fold up to the checkpoint. The
 * `after` fault hook runs where the SQL projection's does, so a redelivered batch is handled just as there.
 */
export class MemoryMarginHistoryTable implements MarginHistorySource {
  /** Rows by `${accountId}|${globalPosition}`, as `marginHistoryRowJson`; the audit drops what it has compared. */
  private rows = new Map<string, string>();

  insert(rows: MarginHistoryRow[]): void {
    for (const row of rows) {
      const key = `${row.accountId}|${row.globalPosition}`;
      if (!this.rows.has(key)) this.rows.set(key, marginHistoryRowJson(row));
    }
  }

  rowsAfter(): Promise<Map<string, string>> {
    const rows = this.rows;
    this.rows = new Map();
    return Promise.resolve(rows);
  }
}

export class MemoryMarginHistoryConsumer {
  private subscription: Subscription | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly table: MemoryMarginHistoryTable,
    private readonly faults: LedgerFaults,
  ) {}

  async start(): Promise<void> {
    const fold = new MarginHistoryFold();
    const subscription = this.store.subscribe(MARGIN_HISTORY_CONSUMER, (batch) => {
      const rows: MarginHistoryRow[] = [];
      for (const e of batch) {
        const row = fold.apply(e);
        if (row) rows.push(row);
      }
      this.faults.consumerBatch?.(MARGIN_HISTORY_CONSUMER, 'after', batch);
      this.table.insert(rows);
      return Promise.resolve();
    });
    const checkpoint = await subscription.checkpoint();
    if (checkpoint) {
      for await (const events of readAllBatches(this.store)) {
        for (const e of events) {
          if (compareCheckpoints(checkpointOf(e), checkpoint) > 0) break;
          fold.apply(e);
        }
        const last = events[events.length - 1];
        if (!last || compareCheckpoints(checkpointOf(last), checkpoint) >= 0) break;
      }
    }
    this.subscription = subscription;
    await subscription.start();
  }

  async waitUntilCaughtUp(): Promise<void> {
    await this.subscription?.waitUntilCaughtUp();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
