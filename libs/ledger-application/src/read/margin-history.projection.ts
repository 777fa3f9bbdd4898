import type {
  Checkpoint,
  EventStore,
  RecordedEvent,
  Subscription,
  SubscriptionOptions,
  Transaction,
} from '@ledger/event-store';
import { checkpointOf, compareCheckpoints } from '@ledger/event-store';
import type { AccountState, MarketEvent, MarketState, ReferenceData } from '@ledger/margin-domain';
import {
  applyMarketEvent,
  computeMargin,
  copyMarketState,
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
 *
 * It is a view that remembers, per stream, the last version it folded and skips anything at or below it
 * (STYLE §8): an event seen twice (a redelivered batch, a warm-up that overlaps the subscription) changes nothing
 * and writes no second row. The live consumer folds each batch into a `draft()` and `commit()`s the draft only
 * once the batch's transaction has committed: a rolled-back batch leaves the fold as it was, so its redelivery is
 * folded exactly once.
 */
export class MarginHistoryFold {
  private readonly accounts = new Map<string, AccountState>();
  private readonly versions = new Map<string, number>();
  private market: MarketState;
  /** False while a draft shares its base's market; copied on the draft's first market event. */
  private ownsMarket: boolean;
  private ref: ReferenceData | undefined;
  /** Bumped by each commit: a draft made before another commit is stale and refused. */
  private generation = 0;
  private readonly baseGeneration: number;

  constructor(private readonly base?: MarginHistoryFold) {
    this.market = base ? base.market : emptyMarketState();
    this.ownsMarket = base === undefined;
    this.ref = base?.ref;
    this.baseGeneration = base?.generation ?? 0;
  }

  /** A fold on top of this one: applies in its own layer until `commit(draft)`; dropping it changes nothing. */
  draft(): MarginHistoryFold {
    return new MarginHistoryFold(this);
  }

  /** Makes a draft's changes this fold's own (after the rows the draft produced have committed). */
  commit(draft: MarginHistoryFold): void {
    if (draft.base !== this || draft.baseGeneration !== this.generation)
      throw new Error('margin history: a draft commits only onto the fold state it was made from');
    for (const [id, state] of draft.accounts) this.accounts.set(id, state);
    for (const [streamId, version] of draft.versions) this.versions.set(streamId, version);
    this.market = draft.market;
    this.ref = draft.ref;
    this.generation += 1;
  }

  /** The last version of `streamId` this fold has applied (0: none). */
  versionOf(streamId: string): number {
    return this.versions.get(streamId) ?? this.base?.versionOf(streamId) ?? 0;
  }

  private account(accountId: string): AccountState | undefined {
    return this.accounts.get(accountId) ?? this.base?.account(accountId);
  }

  /** Folds one event; the margin-history row it gives (account events only), or undefined. */
  apply(e: RecordedEvent): MarginHistoryRow | undefined {
    if (e.streamVersion <= this.versionOf(e.streamId)) return undefined;
    this.versions.set(e.streamId, e.streamVersion);
    const accountId = accountIdOf(e.streamId);
    if (accountId === undefined) {
      if (e.type === 'ReferenceDataPublished') {
        this.ref = parseReferenceData((e.data as { referenceData: unknown }).referenceData);
      } else if (
        e.type === 'MarkPriceUpdated' ||
        e.type === 'AssetIndexUpdated' ||
        e.type === 'FundingRateSet'
      ) {
        if (!this.ownsMarket) {
          this.market = copyMarketState(this.market);
          this.ownsMarket = true;
        }
        applyMarketEvent(this.market, { type: e.type, data: e.data } as unknown as MarketEvent);
      }
      return undefined;
    }
    const state = evolve(
      this.account(accountId) ?? initialAccountState(accountId),
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
 * The fold as the consumer left it at `checkpoint`: every event up to it except those it parked (a parked event
 * and the events blocked behind it were never applied; a retry applies them later, on top of the fold).
 */
async function foldAtCheckpoint(
  store: EventStore,
  checkpoint: Checkpoint | null,
): Promise<MarginHistoryFold> {
  const fold = new MarginHistoryFold();
  if (!checkpoint) return fold;
  const parked = await store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER });
  const skip = new Set((parked ?? []).map((p) => p.globalPosition));
  await readUpTo(store, checkpoint, (events) => {
    for (const e of events) if (!skip.has(e.globalPosition)) fold.apply(e);
  });
  return fold;
}

/**
 * The async margin-history projection on its own durable subscription: the checkpoint is stored in the same
 * transaction as the rows (exactly-once effect). Idempotent under redelivery: each batch is folded into a draft
 * that becomes the fold only after its transaction committed (`afterCommit`), and the fold skips what it has
 * applied per stream version. Each time this instance becomes the active consumer (`onActivate`) it derives its
 * fold from the log up to the stored checkpoint, without the events it parked.
 */
export class MarginHistoryProjection {
  private subscription: Subscription | undefined;
  private fold = new MarginHistoryFold();
  /** The draft of the batch in flight, keyed by its last event; committed into `fold` after its commit. */
  private pending: { lastPosition: bigint; draft: MarginHistoryFold } | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: Pick<
      SubscriptionOptions,
      'logger' | 'onError' | 'maxAttempts' | 'retryDelayMsInitial' | 'retryDelayMsMax'
    > = {},
    /** The simulator's fault-injection hooks (ledger/faults.ts); never set in the product. */
    private readonly faults?: LedgerFaults,
  ) {}

  async start(): Promise<void> {
    this.subscription = this.store.subscribe(
      MARGIN_HISTORY_CONSUMER,
      async (batch, tx) => {
        const draft = this.fold.draft();
        const rows: MarginHistoryRow[] = [];
        for (const e of batch) {
          const row = draft.apply(e);
          if (row) rows.push(row);
        }
        await insertMarginHistory(tx, rows);
        this.faults?.consumerBatch?.(MARGIN_HISTORY_CONSUMER, 'after', batch);
        this.pending = { lastPosition: batch.at(-1)?.globalPosition ?? -1n, draft };
      },
      {
        batchSize: 1000,
        ...this.options,
        onActivate: async (checkpoint) => {
          this.pending = undefined;
          this.fold = await foldAtCheckpoint(this.store, checkpoint);
        },
        afterCommit: (events) => {
          const pending = this.pending;
          this.pending = undefined;
          if (pending && pending.lastPosition === events.at(-1)?.globalPosition)
            this.fold.commit(pending.draft);
        },
      },
    );
    await this.subscription.start();
  }

  async waitUntilCaughtUp(timeoutMs?: number): Promise<void> {
    await this.subscription?.waitUntilCaughtUp(timeoutMs);
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
    // The rebuild folded every event, the consumer's parked ones included: nothing of it is parked any more.
    await tx.query('DELETE FROM consumer_parked_events WHERE consumer = $1', [
      MARGIN_HISTORY_CONSUMER,
    ]);
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
