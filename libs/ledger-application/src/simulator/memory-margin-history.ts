import type { Checkpoint, EventStore, Subscription } from '@ledger/event-store';
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
    let fold = new MarginHistoryFold();
    // As MarginHistoryProjection does: each batch folds into a draft that becomes the fold only once the batch
    // "committed" (afterCommit), so a redelivered batch is folded exactly once; the fold is derived from the
    // checkpoint each time the consumer becomes active.
    let pending: MarginHistoryFold | undefined;
    this.subscription = this.store.subscribe(
      MARGIN_HISTORY_CONSUMER,
      (batch) => {
        const draft = fold.draft();
        const rows: MarginHistoryRow[] = [];
        for (const e of batch) {
          const row = draft.apply(e);
          if (row) rows.push(row);
        }
        this.faults.consumerBatch?.(MARGIN_HISTORY_CONSUMER, 'after', batch);
        this.table.insert(rows);
        pending = draft;
        return Promise.resolve();
      },
      {
        onActivate: async (checkpoint) => {
          pending = undefined;
          fold = await foldUpTo(this.store, checkpoint);
        },
        afterCommit: () => {
          if (pending) fold.commit(pending);
          pending = undefined;
        },
      },
    );
    await this.subscription.start();
  }

  async waitUntilCaughtUp(): Promise<void> {
    await this.subscription?.waitUntilCaughtUp();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

async function foldUpTo(
  store: EventStore,
  checkpoint: Checkpoint | null,
): Promise<MarginHistoryFold> {
  const fold = new MarginHistoryFold();
  if (!checkpoint) return fold;
  for await (const events of readAllBatches(store)) {
    for (const e of events) {
      if (compareCheckpoints(checkpointOf(e), checkpoint) > 0) return fold;
      fold.apply(e);
    }
  }
  return fold;
}
