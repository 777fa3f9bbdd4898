import { createHash } from 'node:crypto';
import type { RecordedEvent, Subscription, SubscriptionLogger } from '@ledger/event-store';
import type { AccountCommand } from '@ledger/margin-domain';
import { LedgerDomainError, assessRisk } from '@ledger/margin-domain';
import type { Ledger } from '../ledger/ledger';
import { accountIdOf } from '../ledger/streams';

export const RISK_SAGA_CONSUMER = 'risk-saga';

/** Counters the API exposes in /metrics. */
export interface RiskSagaMetrics {
  autoExchanges: number;
  liquidations: number;
  rejected: number;
}

/**
 * The risk saga (ARCHITECTURE "The risk saga"): on a durable subscription, each committed event re-checks the
 * accounts it can affect and dispatches AutoExchange / Liquidate with a deterministic command id (a hash of the
 * action, the account, the asset and the triggering global position), so a redelivered event never acts twice.
 * It holds no margin math: `assessRisk` and the deciders do. It never throws for a business rejection.
 */
export class RiskSaga {
  readonly metrics: RiskSagaMetrics = { autoExchanges: 0, liquidations: 0, rejected: 0 };
  private subscription: Subscription | undefined;
  /** Highest global position this saga appended (settle waits until readers can see it). */
  lastAppended = 0n;
  /**
   * Per account, the highest stream version among the account events this saga has consumed. The saga consumes
   * in reader order, so when it handles a market event every account event before it has been seen: a cached
   * fold at or above this version includes all of them (and perhaps later ones, which trigger their own check).
   */
  private readonly seenVersions = new Map<string, number>();
  /**
   * Per stream, the last version whose check completed (its commands appended or rejected): a redelivered batch
   * (its checkpoint did not commit, or the same events come again) skips those events instead of re-checking
   * (STYLE §8). Only raised after a run's check returned, so a check that failed half way runs again; its
   * commands that did append come back as duplicates of their deterministic ids.
   */
  private readonly handledVersions = new Map<string, number>();
  /** Checks served from the ledger's cache vs loaded from the store (for the bench and the tests). */
  readonly checks = { cached: 0, loaded: 0 };

  constructor(
    private readonly ledger: Ledger,
    private readonly logger: Pick<Console, 'warn' | 'error'>,
    /** Where its subscription logs (batch failures, parked events); default a Nest Logger. */
    private readonly subscriptionLogger?: SubscriptionLogger,
  ) {}

  async start(): Promise<void> {
    this.subscription = this.ledger.store.subscribe(
      RISK_SAGA_CONSUMER,
      (batch) => this.handle(batch),
      {
        handlerOutsideTransaction: true,
        batchSize: 500,
        ...(this.subscriptionLogger ? { logger: this.subscriptionLogger } : {}),
        onError: (error, attempt, parked) =>
          this.logger.error(
            parked
              ? `risk saga parked ${parked.streamId} v${parked.streamVersion} (parked event ${parked.id}, ${attempt} attempts)`
              : `risk saga batch failed (attempt ${attempt})`,
            error,
          ),
      },
    );
    await this.subscription.start();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  async waitUntilCaughtUp(): Promise<void> {
    await this.subscription?.waitUntilCaughtUp();
  }

  /**
   * Consecutive events of one command on one stream form a run; each run triggers one check. Events at or below
   * their stream's handled version were checked already and are skipped.
   */
  async handle(batch: RecordedEvent[]): Promise<void> {
    const faults = this.ledger.faults;
    let run: RecordedEvent[] = [];
    for (const event of batch) {
      if (event.streamVersion <= (this.handledVersions.get(event.streamId) ?? 0)) continue;
      const head = run[0];
      if (
        head &&
        (head.streamId !== event.streamId || head.metadata.commandId !== event.metadata.commandId)
      ) {
        faults?.consumerBatch?.(RISK_SAGA_CONSUMER, 'inside', batch);
        await this.onRun(run);
        run = [];
      }
      run.push(event);
    }
    if (run.length > 0) {
      faults?.consumerBatch?.(RISK_SAGA_CONSUMER, 'inside', batch);
      await this.onRun(run);
    }
    faults?.consumerBatch?.(RISK_SAGA_CONSUMER, 'after', batch);
  }

  private async onRun(run: RecordedEvent[]): Promise<void> {
    const trigger = run[run.length - 1];
    if (!trigger) return;
    await this.checkRun(run, trigger);
    this.handledVersions.set(trigger.streamId, trigger.streamVersion);
  }

  private async checkRun(run: RecordedEvent[], trigger: RecordedEvent): Promise<void> {
    const accountId = accountIdOf(trigger.streamId);
    if (accountId !== undefined) {
      if (trigger.streamVersion > (this.seenVersions.get(accountId) ?? 0))
        this.seenVersions.set(accountId, trigger.streamVersion);
      await this.check(
        accountId,
        trigger,
        run.some((e) => e.type === 'PositionLiquidated'),
        true,
      );
      return;
    }
    await this.ledger.observeMarketEvent(trigger);
    const index = this.ledger.riskIndex;
    let affected: string[] = [];
    if (trigger.type === 'MarkPriceUpdated')
      affected = index.holdersOf(stringField(trigger, 'symbol'));
    else if (trigger.type === 'AssetIndexUpdated')
      affected = index.holdersOfAsset(stringField(trigger, 'asset'));
    else if (trigger.type === 'ReferenceDataPublished') affected = index.all();
    // A new reference-data version may move an account's margin assets: re-index every account it re-checks.
    const reindex = trigger.type === 'ReferenceDataPublished';
    for (const id of affected) await this.check(id, trigger, false, reindex);
  }

  /**
   * Re-checks one account at a state that includes every event of its stream the saga has consumed: the ledger's
   * cached fold when it is that recent (no round trip: the common case, the cache holds every account since open
   * and each append of this instance refreshes it), else the stream's tail from the store (another instance
   * appended). `reindex`: refresh the index (holders by symbol / asset); an account-event check always does, so
   * the index follows appends of other instances; a price tick does not move it.
   */
  private async check(
    accountId: string,
    trigger: RecordedEvent,
    afterLiquidation: boolean,
    reindex: boolean,
  ): Promise<void> {
    let loaded = this.ledger.accounts.cachedAtLeast(
      accountId,
      this.seenVersions.get(accountId) ?? 0,
    );
    if (loaded) this.checks.cached += 1;
    else {
      loaded = await this.ledger.accounts.load(accountId);
      this.checks.loaded += 1;
    }
    const ref = this.ledger.references.latest();
    if (reindex) this.ledger.riskIndex.update(accountId, loaded.state, ref);
    const actions = assessRisk(loaded.state, this.ledger.market, ref, afterLiquidation);
    for (const action of actions) {
      const command: AccountCommand =
        action.type === 'Liquidate'
          ? { type: 'Liquidate', accountId }
          : { type: 'AutoExchange', accountId, asset: action.asset, trigger: action.trigger };
      const key = `${action.type}|${accountId}|${action.type === 'AutoExchange' ? action.asset : '*'}|${trigger.globalPosition}`;
      try {
        // The trigger's time, raised to the account's latest event when that is later (ARCHITECTURE "Time").
        const outcome = await this.ledger.executeAccount(command, {
          commandId: `risk:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
          at: trigger.metadata.occurredAt,
          atIsFloor: true,
          actor: RISK_SAGA_CONSUMER,
          causationId: trigger.metadata.commandId,
          correlationId: trigger.metadata.correlationId ?? trigger.metadata.commandId,
        });
        for (const e of outcome.events)
          if (BigInt(e.globalPosition) > this.lastAppended)
            this.lastAppended = BigInt(e.globalPosition);
        if (!outcome.duplicate) {
          for (const e of outcome.events) {
            if (e.type === 'AutoExchangeExecuted') this.metrics.autoExchanges += 1;
            if (e.type === 'PositionLiquidated') this.metrics.liquidations += 1;
          }
        }
      } catch (error) {
        if (!(error instanceof LedgerDomainError)) throw error;
        this.metrics.rejected += 1;
        this.logger.warn(
          `risk saga: ${command.type} for ${accountId} rejected: ${error.code} ${error.message}`,
        );
      }
      if (action.type === 'Liquidate') return;
    }
  }
}

function stringField(event: RecordedEvent, field: string): string {
  const value = event.data[field];
  if (typeof value !== 'string')
    throw new Error(`${event.type} at ${event.globalPosition} has no string ${field}`);
  return value;
}
