import type {
  Checkpoint,
  EventStore,
  RecordedEvent,
  Subscription,
  Transaction,
} from '@ledger/event-store';
import { checkpointOf, compareCheckpoints } from '@ledger/event-store';
import type { AccountState, MarketEvent, MarketState, ReferenceData } from '@ledger/margin-domain';
import {
  applyMarketEvent,
  computeMargin,
  emptyMarketState,
  evolve,
  initialAccountState,
  parseReferenceData,
} from '@ledger/margin-domain';
import { toAccountEvent } from '../ledger/account-repository';
import type { LedgerFaults } from '../ledger/faults';
import { accountIdOf } from '../ledger/streams';
import { readAllBatches } from '../ledger/read-all-batches';

export const MARGIN_HISTORY_CONSUMER = 'margin-history';

/** One row of the margin history: the account's margin figures right after one of its events. */
export interface MarginHistoryRow {
  accountId: string;
  globalPosition: bigint;
  occurredAt: string;
  eventType: string;
  assetMode: string;
  totalWalletBalance: string;
  totalMarginBalance: string;
  totalMaintMargin: string;
  marginRatio: string | null;
  wallets: Record<string, string>;
}

/**
 * The fold the margin-history projection keeps: every account, the market and the reference data, advanced in
 * reader order, so each row uses the prices and rules in force at its event (a rebuild gives the same rows).
 * Rows are written for account events only; price ticks move the figures too, and `asOf` answers those.
 */
export class MarginHistoryFold {
  private readonly accounts = new Map<string, AccountState>();
  private readonly market: MarketState = emptyMarketState();
  private ref: ReferenceData | undefined;

  apply(e: RecordedEvent): MarginHistoryRow | undefined {
    const accountId = accountIdOf(e.streamId);
    if (accountId === undefined) {
      if (e.type === 'ReferenceDataPublished') {
        this.ref = parseReferenceData((e.data as { referenceData: unknown }).referenceData);
      } else if (
        e.type === 'MarkPriceUpdated' ||
        e.type === 'AssetIndexUpdated' ||
        e.type === 'FundingRateSet'
      ) {
        applyMarketEvent(this.market, { type: e.type, data: e.data } as unknown as MarketEvent);
      }
      return undefined;
    }
    const state = evolve(
      this.accounts.get(accountId) ?? initialAccountState(accountId),
      toAccountEvent(e),
    );
    this.accounts.set(accountId, state);
    if (!this.ref || !state.opened) return undefined;
    const margin = computeMargin(state, this.market, this.ref, { liquidationPrices: false });
    const wallets: Record<string, string> = {};
    for (const [asset, balance] of [...state.wallets].sort(([a], [b]) => (a < b ? -1 : 1))) {
      wallets[asset] = balance.toFixed();
    }
    return {
      accountId,
      globalPosition: e.globalPosition,
      occurredAt: e.metadata.occurredAt,
      eventType: e.type,
      assetMode: state.assetMode,
      totalWalletBalance: margin.account.totalWalletBalance.toFixed(),
      totalMarginBalance: margin.account.totalMarginBalance.toFixed(),
      totalMaintMargin: margin.account.totalMaintMargin.toFixed(),
      marginRatio:
        margin.account.marginRatio === null ? null : margin.account.marginRatio.toFixed(),
      wallets,
    };
  }
}

/** Inserts rows in one statement (idempotent: a redelivered event's row is already there). */
export async function insertMarginHistory(
  tx: Transaction,
  rows: MarginHistoryRow[],
  table = 'margin_history',
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO ${table} (account_id, global_position, occurred_at, event_type, asset_mode, total_wallet_balance,
                           total_margin_balance, total_maint_margin, margin_ratio, wallets)
     SELECT r->>'accountId', (r->>'globalPosition')::bigint, (r->>'occurredAt')::timestamptz, r->>'eventType',
            r->>'assetMode', (r->>'totalWalletBalance')::numeric, (r->>'totalMarginBalance')::numeric,
            (r->>'totalMaintMargin')::numeric, (r->>'marginRatio')::numeric, r->'wallets'
       FROM jsonb_array_elements($1::jsonb) r
     ON CONFLICT (account_id, global_position) DO NOTHING`,
    [JSON.stringify(rows.map((r) => ({ ...r, globalPosition: r.globalPosition.toString() })))],
  );
}

async function readUpTo(
  store: EventStore,
  until: Checkpoint,
  onBatch: (events: RecordedEvent[]) => Promise<void> | void,
): Promise<void> {
  for await (const batch of readAllBatches(store)) {
    const inRange = batch.filter((e) => compareCheckpoints(checkpointOf(e), until) <= 0);
    if (inRange.length > 0) await onBatch(inRange);
    if (inRange.length < batch.length) return;
  }
}

/**
 * The async margin-history projection on its own durable subscription: the checkpoint is stored in the same
 * transaction as the rows (exactly-once effect). On start it warms its fold up to its checkpoint.
 */
export class MarginHistoryProjection {
  private subscription: Subscription | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly faults?: LedgerFaults,
  ) {}

  async start(): Promise<void> {
    const fold = new MarginHistoryFold();
    const subscription = this.store.subscribe(
      MARGIN_HISTORY_CONSUMER,
      async (batch, tx) => {
        const rows: MarginHistoryRow[] = [];
        for (const e of batch) {
          const row = fold.apply(e);
          if (row) rows.push(row);
        }
        await insertMarginHistory(tx, rows);
        this.faults?.consumerBatch?.(MARGIN_HISTORY_CONSUMER, 'after', batch);
      },
      { batchSize: 1000 },
    );
    const checkpoint = await subscription.checkpoint();
    if (checkpoint)
      await readUpTo(this.store, checkpoint, (events) => events.forEach((e) => void fold.apply(e)));
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

export interface MarginHistoryRebuildProgress {
  done: number;
  total: number;
}

/**
 * Rebuilds margin history side by side: rows go to `margin_history_next`, then one transaction swaps the tables
 * and moves the consumer's checkpoint to the last event folded. Run it with the API stopped (a live consumer
 * keeps its own position in memory); inserts are idempotent, so re-delivery is harmless.
 */
export async function rebuildMarginHistory(
  store: EventStore,
  onProgress?: (p: MarginHistoryRebuildProgress) => void,
): Promise<{ events: number; rows: number }> {
  const head = await store.headCheckpoint();
  const total = Number(head?.globalPosition ?? 0n);
  await store.withTransaction(async (tx) => {
    await tx.query('DROP TABLE IF EXISTS margin_history_next');
    await tx.query('CREATE TABLE margin_history_next (LIKE margin_history INCLUDING ALL)');
  });
  const fold = new MarginHistoryFold();
  let events = 0;
  let rows = 0;
  let last: RecordedEvent | undefined;
  if (head) {
    await readUpTo(store, head, async (batch) => {
      const chunk: MarginHistoryRow[] = [];
      for (const e of batch) {
        const row = fold.apply(e);
        if (row) chunk.push(row);
      }
      await store.withTransaction((tx) => insertMarginHistory(tx, chunk, 'margin_history_next'));
      events += batch.length;
      rows += chunk.length;
      last = batch[batch.length - 1];
      onProgress?.({ done: events, total });
    });
  }
  const lastEvent = last;
  await store.withTransaction(async (tx) => {
    await tx.query('DROP TABLE margin_history');
    await tx.query('ALTER TABLE margin_history_next RENAME TO margin_history');
    if (lastEvent) {
      await tx.query(
        `INSERT INTO subscription_checkpoints (name, transaction_id, global_position) VALUES ($1, $2::xid8, $3::bigint)
         ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
           global_position = EXCLUDED.global_position`,
        [
          MARGIN_HISTORY_CONSUMER,
          lastEvent.transactionId.toString(),
          lastEvent.globalPosition.toString(),
        ],
      );
    }
  });
  onProgress?.({ done: events, total });
  return { events, rows };
}
