import type {
  AppendResult,
  EventStore,
  GroupCommitOptions,
  JsonObject,
  RecordedEvent,
  Transaction,
} from '@ledger/event-store';
import { ConcurrencyError, GroupCommitAppender } from '@ledger/event-store';
import type {
  AccountCommand,
  AccountEvent,
  AccountState,
  AccountView,
  MarketEvent,
  MarketState,
  MarketView,
  ReferenceData,
} from '@ledger/margin-domain';
import {
  ACCOUNT_EVENT_SCHEMA_VERSION,
  D,
  LedgerDomainError,
  accountView,
  applyMarketEvent,
  applyOverrides,
  decide,
  decideMarket,
  emptyMarketState,
  evolve,
  parseReferenceData,
  resolveFundingSettlement,
} from '@ledger/margin-domain';
import type { CommandInput, CommandName } from '../commands/command-schema';
import { ACCOUNT_COMMAND_NAMES, checkCommandShape } from '../commands/command-schema';
import { AccountRepository } from './account-repository';
import { assertNotAheadOfClock, normalizeTime } from './time';
import { assertLegalText } from '../commands/legal-text';
import { KeyedQueue } from './keyed-queue';
import { readAllBatches } from './read-all-batches';
import { foldAllAccounts } from '../tools/account-folds';
import { ReferenceDataRegistry } from './reference-data-registry';
import {
  ASSET_INDEX_STREAM,
  MARKET_STREAM_PREFIXES,
  REFERENCE_DATA_STREAM,
  accountStream,
  fundingSettlementStream,
  isMarketStream,
  marketStream,
} from './streams';
import type { FundingSettlementRecord } from './funding-settlement';
import { FUNDING_SETTLEMENT_RECORDED, decodeFundingSettlement } from './funding-settlement';
import type { LedgerFaults } from './faults';
import { RiskIndex } from '../saga/risk-index';
import { RiskSaga } from '../saga/risk-saga';
import { AsOfReader, MarketLog } from '../read/as-of-reader';
import { MarginHistoryProjection } from '../read/margin-history.projection';
import type { AsOf } from '../read/as-of-reader';

export interface CommandMeta {
  /** Idempotency key: global in the store. */
  commandId: string;
  /** ISO time; the server clock when absent. */
  at?: string;
  actor?: string;
  correlationId?: string;
  causationId?: string;
  /**
   * `at` is a lower bound, not a statement: when the stream's last event is later, the command takes that time
   * instead of being rejected. True for the server clock (a concurrent command stamped later may commit first)
   * and for the risk saga (its trigger's time may precede the account's latest event).
   */
  atIsFloor?: boolean;
}

export interface LedgerEventJson {
  globalPosition: string;
  streamId: string;
  streamVersion: number;
  type: string;
  data: JsonObject;
  occurredAt: string;
  commandId: string;
}

export interface CommandOutcome {
  commandId: string;
  duplicate: boolean;
  events: LedgerEventJson[];
}

/** Writes the read models of an account inside the append's transaction (ARCHITECTURE "Read side"). */
export type InlineProjection = (
  tx: Transaction,
  accountId: string,
  state: AccountState,
  events: RecordedEvent[],
) => Promise<void>;

export interface LedgerOptions {
  store: EventStore;
  /** The set published when the store holds no reference data yet. */
  referenceData: ReferenceData;
  clock?: () => Date;
  /**
   * Refuse (AT_IN_FUTURE) an explicit `at` more than this many ms ahead of `clock`. Unset: no bound, for
   * scenario runs and simulations on their own timeline. The HTTP API and `ledger apply` set it
   * (LEDGER_MAX_CLOCK_SKEW_MS): on a shared ledger one command dated 9999 would stamp its stream 9999 for good.
   */
  maxClockSkewMs?: number;
  projection?: InlineProjection;
  /** Snapshot an account every N events (as-of reads fold from the nearest). Default 200. */
  snapshotEvery?: number;
  /** Run the durable risk saga (default true). */
  riskSaga?: boolean;
  /** Run the async margin-history projection (default: when the SQL projection is on). */
  marginHistory?: boolean;
  /**
   * With the SQL projection: fold every account stream in the background after opening, so price-tick re-checks
   * need no round trip per account (default true). One-shot tools turn it off: they read what they need.
   */
  warmAccountCache?: boolean;
  logger?: Pick<Console, 'warn' | 'error'>;
  /**
   * Group commit for account commands: concurrent commands to different accounts share one transaction (one WAL
   * flush), each in its own savepoint (EventStore.appendBatch). Off by default; ignored when the store has no
   * appendBatch. A lone command is appended at once, as without it.
   */
  groupCommit?: boolean | GroupCommitOptions;
  /** Fault injection for the simulator (ledger/faults.ts); none in the product. */
  faults?: LedgerFaults;
}

/** Attempts on ConcurrencyError before giving up (the conflict is then reported as such). */
export const MAX_APPEND_ATTEMPTS = 8;

/**
 * The command side and the current read side of the ledger (ARCHITECTURE "Command side"): load → fold → decide →
 * append with the expected version and the command id. It never publishes; the durable subscriptions (risk saga,
 * event bus pump) read what was committed.
 */
export class Ledger {
  readonly references = new ReferenceDataRegistry();
  readonly market: MarketState = emptyMarketState();
  readonly riskIndex = new RiskIndex();
  readonly accounts: AccountRepository;
  readonly asOf: AsOfReader;
  /** Market and reference-data history in memory, for as-of reads. */
  private readonly marketLog = new MarketLog();
  private readonly streamTimes = new Map<string, { version: number; at: string }>();
  private readonly clock: () => Date;
  private readonly accountQueue = new KeyedQueue();
  private warmUp: Promise<void> = Promise.resolve();
  private saga: RiskSaga | undefined;
  private readonly groupCommit: GroupCommitAppender | undefined;
  private marginHistory: MarginHistoryProjection | undefined;
  private referenceSequence = 0;
  /** The simulator's fault-injection hooks (ledger/faults.ts); undefined in the product. */
  readonly faults: LedgerFaults | undefined;

  private constructor(
    readonly store: EventStore,
    private readonly options: LedgerOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.faults = options.faults;
    this.accounts = new AccountRepository(store, options.snapshotEvery ?? 200);
    this.asOf = new AsOfReader(store, this.accounts, this.marketLog);
    if (options.groupCommit && store.appendBatch) {
      this.groupCommit = new GroupCommitAppender(
        store,
        options.groupCommit === true ? {} : options.groupCommit,
      );
    }
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    const ledger = new Ledger(options.store, options);
    await ledger.loadMarketAndReferenceData();
    if (options.projection) {
      await ledger.riskIndex.loadFromProjections(options.store, ledger.references.latest());
      // The index is ready at once; the account cache warms in the background (a fold of the account streams),
      // so price-tick re-checks stop costing a round trip per account once it is done.
      if (options.warmAccountCache ?? true) ledger.warmUp = ledger.warmAccountCache();
    } else await ledger.riskIndex.load(options.store, ledger.accounts, ledger.references.latest());
    if (options.riskSaga ?? true) {
      ledger.saga = new RiskSaga(ledger, options.logger ?? console);
      await ledger.saga.start();
    }
    if (options.marginHistory ?? options.projection !== undefined) {
      ledger.marginHistory = new MarginHistoryProjection(options.store, {}, options.faults);
      await ledger.marginHistory.start();
    }
    return ledger;
  }

  /** The risk saga's counters in this process (read-only); undefined when the saga does not run here. */
  sagaMetrics(): Readonly<RiskSaga['metrics']> | undefined {
    return this.saga?.metrics;
  }

  /** Resolves when the background warm-up of the account cache is done (at once when there is none). */
  whenWarm(): Promise<void> {
    return this.warmUp;
  }

  private async warmAccountCache(): Promise<void> {
    try {
      for (const [id, loaded] of await foldAllAccounts(this.store))
        this.accounts.rememberIfNewer(id, loaded);
    } catch (error) {
      (this.options.logger ?? console).warn(
        'account cache warm-up failed; accounts load on demand',
        error,
      );
    }
  }

  async close(): Promise<void> {
    await this.warmUp;
    await this.saga?.stop();
    await this.marginHistory?.stop();
  }

  /**
   * Waits until every async consumer (the risk saga) has caught up, including what it dispatched, and readers can
   * see `minPosition` (the last event a caller just appended) and everything the saga appended. Visibility lags
   * while any transaction on the server that started earlier is still open (the xmin rule).
   */
  async settle(minPosition = 0n): Promise<void> {
    for (let round = 0; round < 100_000; round++) {
      const sagaAppended = this.saga?.lastAppended ?? 0n;
      const target = sagaAppended > minPosition ? sagaAppended : minPosition;
      if (target > 0n && !(await this.store.isVisible(target))) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      await this.saga?.waitUntilCaughtUp();
      if ((this.saga?.lastAppended ?? 0n) === sagaAppended) {
        await this.marginHistory?.waitUntilCaughtUp();
        return;
      }
    }
    throw new Error('settle: the saga did not come to rest');
  }

  private async loadMarketAndReferenceData(): Promise<void> {
    // The visible head before the read: the market log holds every market event up to it afterwards.
    const head = await this.store.headCheckpoint();
    const events = await this.readAllOf(MARKET_STREAM_PREFIXES);
    for (const e of events) this.applyMarketOrReference(e);
    this.marketLog.advance(head);
    const last = events[events.length - 1];
    if (last)
      this.marketLog.advance({
        transactionId: last.transactionId,
        globalPosition: last.globalPosition,
      });
    if (this.references.size === 0) {
      const ref = parseReferenceData(this.options.referenceData);
      await this.appendReference(ref, '1970-01-01T00:00:00.000Z', {
        commandId: `reference-data:initial:${ref.version}`,
        actor: 'system',
      });
      // Another instance published it first, committed but not yet below the xmin horizon readAll reads to: the
      // append above was a duplicate and applied nothing. Read the stream itself (readStream has no horizon).
      if (this.references.size === 0) await this.reloadStreamTime(REFERENCE_DATA_STREAM);
    }
  }

  private async readAllOf(prefixes: string[]): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const batch of readAllBatches(this.store, { streamPrefixes: prefixes }))
      out.push(...batch);
    return out;
  }

  private applyMarketOrReference(e: RecordedEvent): void {
    this.streamTimes.set(e.streamId, { version: e.streamVersion, at: e.metadata.occurredAt });
    if (e.type === 'ReferenceDataPublished') {
      const data = e.data as { referenceData: unknown };
      const ref = parseReferenceData(data.referenceData);
      this.references.add(ref, e.metadata.occurredAt);
      this.referenceSequence += 1;
      this.marketLog.addRecorded(e, ref);
      return;
    }
    applyMarketEvent(this.market, { type: e.type, data: e.data } as unknown as MarketEvent);
    this.marketLog.addRecorded(e);
  }

  /** Runs one command from outside (scenario step, HTTP body, CLI). Throws LedgerDomainError on rejection. */
  async execute(input: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    const { command, ...fields } = input;
    const name = checkCommandShape(fields, command);
    const { commandId, actor, correlationId, causationId } = meta;
    assertLegalText({ commandId, actor, correlationId, causationId }, '');
    // A settlement answers its own retries: it may have to finish paying the accounts it recorded.
    const prior = name === 'SettleFunding' ? null : await this.priorOutcome(meta.commandId);
    if (prior) return prior;
    const now = this.clock();
    const at = normalizeTime(meta.at ?? now.toISOString());
    if (meta.at === undefined) meta = { ...meta, atIsFloor: true };
    else if (this.options.maxClockSkewMs !== undefined)
      assertNotAheadOfClock(at, now, this.options.maxClockSkewMs);
    if ((ACCOUNT_COMMAND_NAMES as readonly string[]).includes(name)) {
      const accountCommand = { ...fields, type: name } as unknown as AccountCommand;
      return this.executeAccount(accountCommand, { ...meta, at });
    }
    return this.executeMarket(name, fields, { ...meta, at });
  }

  /** Runs a command the ledger issues itself (risk saga, funding settlement). */
  executeAccount(
    command: AccountCommand,
    given: CommandMeta & { at: string },
    market: MarketView = this.market,
  ): Promise<CommandOutcome> {
    return this.accountQueue.run(command.accountId, () =>
      this.executeAccountNow(command, given, market),
    );
  }

  private async executeAccountNow(
    command: AccountCommand,
    given: CommandMeta & { at: string },
    market: MarketView,
  ): Promise<CommandOutcome> {
    const stream = accountStream(command.accountId);
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.accounts.load(command.accountId);
      const meta = floorAt(given, loaded.lastAt);
      if (loaded.lastAt !== undefined && meta.at < loaded.lastAt)
        throw atBeforeStreamTime(stream, meta.at, loaded.lastAt);
      const ref = this.references.at(meta.at);
      const events = decide(command, loaded.state, { ref, market });
      if (events.length === 0) return { commandId: meta.commandId, duplicate: false, events: [] };
      let next = loaded.state;
      for (const e of events) next = evolve(next, e);
      try {
        const append = this.groupCommit ?? this.store;
        const envelopes = events.map((e) => this.envelope(e, meta, ref.version));
        const result = await append.append(stream, envelopes, {
          commandId: meta.commandId,
          expectedVersion: loaded.version,
          onAppended: async (tx, _result, recorded) => {
            if (this.options.projection)
              await this.options.projection(tx, command.accountId, next, recorded);
          },
        });
        if (result.duplicate) return this.outcomeOf(result, true);
        this.faults?.afterAppend?.(stream, meta.commandId);
        this.accounts.remember(command.accountId, next, result.lastVersion, meta.at);
        this.riskIndex.update(command.accountId, next, ref);
        await this.accounts.maybeSnapshot(command.accountId, next, result.lastVersion);
        // What was just appended is known here: no read-back (one round trip less per command).
        return {
          commandId: meta.commandId,
          duplicate: false,
          events: envelopes.map((e, i) => ({
            globalPosition: (result.globalPositions[i] ?? 0n).toString(),
            streamId: stream,
            streamVersion: result.firstVersion + i,
            type: e.type,
            data: e.data,
            occurredAt: e.metadata.occurredAt,
            commandId: e.metadata.commandId,
          })),
        };
      } catch (error) {
        if (error instanceof ConcurrencyError && attempt < MAX_APPEND_ATTEMPTS) {
          this.accounts.forget(command.accountId);
          continue;
        }
        throw error;
      }
    }
  }

  private envelope(
    event: AccountEvent | MarketEvent | { type: string; data: JsonObject },
    meta: CommandMeta & { at: string },
    referenceDataVersion: string,
  ) {
    return {
      type: event.type,
      schemaVersion: ACCOUNT_EVENT_SCHEMA_VERSION,
      data: event.data as unknown as JsonObject,
      metadata: {
        commandId: meta.commandId,
        occurredAt: meta.at,
        referenceDataVersion,
        ...(meta.actor === undefined ? {} : { actor: meta.actor }),
        ...(meta.correlationId === undefined ? {} : { correlationId: meta.correlationId }),
        ...(meta.causationId === undefined ? {} : { causationId: meta.causationId }),
      },
    };
  }

  private async executeMarket(
    name: CommandName,
    fields: Record<string, unknown>,
    meta: CommandMeta & { at: string },
  ): Promise<CommandOutcome> {
    const ref = this.references.at(meta.at);
    switch (name) {
      case 'UpdateMarkPrice':
      case 'SetFundingRate':
      case 'UpdateAssetIndex': {
        const event = decideMarket(
          { ...fields, type: name } as Parameters<typeof decideMarket>[0],
          ref,
        );
        const stream =
          event.type === 'AssetIndexUpdated' ? ASSET_INDEX_STREAM : marketStream(event.data.symbol);
        return this.appendMarket(stream, event, meta, ref.version);
      }
      case 'SettleFunding':
        return this.settleFunding(fields, meta, ref);
      case 'PublishReferenceData':
        return this.publishReferenceData(fields, meta);
      case 'OpenAccount':
      case 'Deposit':
      case 'Withdraw':
      case 'SetLeverage':
      case 'SetMarginType':
      case 'SwitchAssetMode':
      case 'SetPositionMode':
      case 'SetVipLevel':
      case 'Fill':
      case 'PlaceOrder':
      case 'CancelOrder':
      case 'AdjustIsolatedMargin':
        throw new Error(`${name} is an account command`);
      default: {
        const exhaustive: never = name;
        throw new LedgerDomainError('UNKNOWN_COMMAND', `unknown command ${String(exhaustive)}`, {
          field: 'command',
        });
      }
    }
  }

  private async appendMarket(
    stream: string,
    event: MarketEvent | { type: string; data: JsonObject },
    given: CommandMeta & { at: string },
    referenceDataVersion: string,
  ): Promise<CommandOutcome> {
    for (let attempt = 1; ; attempt++) {
      const known = this.streamTimes.get(stream);
      const meta = floorAt(given, known?.at);
      if (known && meta.at < known.at) throw atBeforeStreamTime(stream, meta.at, known.at);
      try {
        const result = await this.store.append(
          stream,
          [this.envelope(event, meta, referenceDataVersion)],
          {
            commandId: meta.commandId,
            expectedVersion: known?.version ?? 0,
          },
        );
        if (result.duplicate) return this.outcomeOf(result, true);
        this.faults?.afterAppend?.(stream, meta.commandId);
        this.streamTimes.set(stream, { version: result.lastVersion, at: meta.at });
        let parsed: ReferenceData | undefined;
        if (event.type === 'ReferenceDataPublished') {
          const data = event.data as { referenceData: unknown };
          parsed = parseReferenceData(data.referenceData);
          this.references.add(parsed, meta.at);
          this.referenceSequence += 1;
        } else {
          applyMarketEvent(this.market, event as MarketEvent);
        }
        const position = result.globalPositions[0];
        if (position !== undefined) {
          this.marketLog.add(
            {
              streamId: stream,
              streamVersion: result.lastVersion,
              globalPosition: position,
              occurredAt: meta.at,
              type: event.type,
              data: event.data as unknown as JsonObject,
            },
            parsed,
          );
        }
        return this.outcomeOf(result, false);
      } catch (error) {
        if (error instanceof ConcurrencyError && attempt < MAX_APPEND_ATTEMPTS) {
          await this.reloadStreamTime(stream);
          continue;
        }
        throw error;
      }
    }
  }

  private async reloadStreamTime(stream: string): Promise<void> {
    const events = await this.store.readStream(stream, {
      fromVersion: (this.streamTimes.get(stream)?.version ?? 0) + 1,
    });
    // Skip what an append of this instance applied meanwhile (the saga reloads while commands run).
    for (const e of events)
      if (e.streamVersion > (this.streamTimes.get(stream)?.version ?? 0))
        this.applyMarketOrReference(e);
  }

  /**
   * The risk saga hands over each market or reference-data event it consumes: one appended by another instance
   * (another process, another Ledger on the same store) is applied here, with any the ledger missed before it on
   * that stream, so the saga assesses risk at the prices and rules the store holds, not only at this instance's.
   */
  async observeMarketEvent(e: RecordedEvent): Promise<void> {
    if (!isMarketStream(e.streamId)) return; // e.g. a funding settlement's record: it moves no price
    if (e.streamVersion > (this.streamTimes.get(e.streamId)?.version ?? 0))
      await this.reloadStreamTime(e.streamId);
  }

  private appendReference(
    ref: ReferenceData,
    at: string,
    meta: Omit<CommandMeta, 'at'>,
  ): Promise<CommandOutcome> {
    const event = {
      type: 'ReferenceDataPublished',
      data: { version: ref.version, referenceData: ref as unknown as JsonObject },
    };
    return this.appendMarket(REFERENCE_DATA_STREAM, event, { ...meta, at }, ref.version);
  }

  /** PublishReferenceData: a new version from the one in force, validated whole (reference-data.md "Versions"). */
  private publishReferenceData(
    fields: Record<string, unknown>,
    meta: CommandMeta & { at: string },
  ): Promise<CommandOutcome> {
    const overrides = fields.overrides;
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new LedgerDomainError('INVALID_FIELD', 'overrides must be an object of dotted keys', {
        field: 'overrides',
      });
    }
    const version = fields.version;
    if (version !== undefined && (typeof version !== 'string' || version.length === 0)) {
      throw new LedgerDomainError('INVALID_FIELD', 'version must be a non-empty string', {
        field: 'version',
      });
    }
    if (typeof version === 'string' && this.references.byVersion(version)) {
      throw new LedgerDomainError('REFERENCE_DATA_VERSION_EXISTS', `version ${version} exists`, {
        field: 'version',
      });
    }
    const base = this.references.at(meta.at);
    const next = applyOverrides(
      base,
      overrides as Record<string, unknown>,
      version,
      this.referenceSequence,
    );
    return this.appendReference(next, meta.at, meta);
  }

  /**
   * SettleFunding (RULES §5): first the settlement itself is recorded, under its command id, on `funding-<symbol>`
   * (`FundingSettlementRecorded`: rate, mark and the accounts holding the symbol then); then one
   * `SettleAccountFunding` per recorded account, each with a command id derived from the settlement's. A retry (or
   * a resumption after a crash between the two) finds the record and pays exactly the recorded accounts at the
   * recorded mark and rate, each once (their derived ids), never an account that opened a position since; it
   * answers `duplicate: true` with every event of the settlement. Each account's payment takes the settlement's
   * time as a floor: an account whose stream is already later books it at its own latest time.
   */
  private async settleFunding(
    fields: Record<string, unknown>,
    meta: CommandMeta & { at: string },
    ref: ReferenceData,
  ): Promise<CommandOutcome> {
    const prior = this.store.commandResult ? await this.store.commandResult(meta.commandId) : null;
    let record: RecordedEvent | undefined;
    if (prior) record = await this.settlementRecord(prior);
    else {
      const { symbol, rate } = resolveFundingSettlement(
        { symbol: fields.symbol, rate: fields.rate },
        ref,
        this.market,
      );
      const mark = this.market.marks.get(symbol);
      if (!mark) throw new Error(`resolveFundingSettlement let ${symbol} through without a mark`);
      const settlement: FundingSettlementRecord = {
        symbol,
        rate: rate.toFixed(),
        markPrice: mark.toFixed(),
        accounts: [...this.riskIndex.holdersOf(symbol)].sort(),
      };
      const result = await this.store.append(
        fundingSettlementStream(symbol),
        [
          this.envelope(
            { type: FUNDING_SETTLEMENT_RECORDED, data: { ...settlement } },
            meta,
            ref.version,
          ),
        ],
        { commandId: meta.commandId, expectedVersion: 'any' },
      );
      record = await this.settlementRecord(result);
    }
    const settlement = decodeFundingSettlement(record);
    const market: MarketView = {
      ...this.market,
      marks: new Map([...this.market.marks, [settlement.symbol, new D(settlement.markPrice)]]),
    };
    const events: LedgerEventJson[] = [toJson(record)];
    for (const accountId of settlement.accounts) {
      const commandId = `${meta.commandId}:funding:${accountId}`;
      const paid = await this.priorOutcome(commandId);
      const outcome =
        paid ??
        (await this.executeAccount(
          {
            type: 'SettleAccountFunding',
            accountId,
            symbol: settlement.symbol,
            rate: settlement.rate,
          },
          { ...meta, commandId, causationId: meta.commandId, atIsFloor: true },
          market,
        ));
      events.push(...outcome.events);
    }
    return { commandId: meta.commandId, duplicate: prior !== null, events };
  }

  private async settlementRecord(result: AppendResult): Promise<RecordedEvent> {
    const [record] = await this.store.readStream(result.streamId, {
      fromVersion: result.firstVersion,
      toVersion: result.firstVersion,
    });
    if (record?.type !== FUNDING_SETTLEMENT_RECORDED) {
      throw new LedgerDomainError(
        'COMMAND_ID_REUSED',
        `command id ${record?.metadata.commandId ?? '?'} was used by another command (${record?.type ?? 'nothing'} on ${result.streamId})`,
        { field: 'commandId' },
      );
    }
    return record;
  }

  private async priorOutcome(commandId: string): Promise<CommandOutcome | null> {
    const prior = this.store.commandResult ? await this.store.commandResult(commandId) : null;
    return prior ? this.outcomeOf(prior, true) : null;
  }

  private async outcomeOf(result: AppendResult, duplicate: boolean): Promise<CommandOutcome> {
    const recorded = await this.store.readStream(result.streamId, {
      fromVersion: result.firstVersion,
      toVersion: result.lastVersion,
    });
    return {
      commandId: recorded[0]?.metadata.commandId ?? '',
      duplicate,
      events: recorded.map(toJson),
    };
  }

  /** Current state (or as of a time / global position) with the prices and rules in force then. */
  async accountView(accountId: string, asOf?: AsOf): Promise<AccountView | null> {
    if (asOf) return this.asOf.view(accountId, asOf);
    const loaded = await this.accounts.load(accountId);
    if (!loaded.state.opened) return null;
    return accountView(loaded.state, this.market, this.references.latest());
  }

  async accountState(accountId: string): Promise<AccountState> {
    return (await this.accounts.load(accountId)).state;
  }
}

export function toJson(e: RecordedEvent): LedgerEventJson {
  return {
    globalPosition: e.globalPosition.toString(),
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    data: e.data,
    occurredAt: e.metadata.occurredAt,
    commandId: e.metadata.commandId,
  };
}

function floorAt<M extends CommandMeta & { at: string }>(meta: M, streamAt: string | undefined): M {
  return meta.atIsFloor && streamAt !== undefined && streamAt > meta.at
    ? { ...meta, at: streamAt }
    : meta;
}

function atBeforeStreamTime(stream: string, at: string, last: string): LedgerDomainError {
  return new LedgerDomainError(
    'AT_BEFORE_STREAM_TIME',
    `at ${at} is earlier than the last event of ${stream} (${last})`,
    { field: 'at' },
  );
}
