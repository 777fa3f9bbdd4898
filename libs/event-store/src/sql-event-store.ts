import { EventEmitter } from 'node:events';

import { compareCheckpoints } from './checkpoint';
import {
  AppendAllError,
  type AppendOptions,
  type AppendOutcome,
  type AppendRequest,
  type AppendResult,
  type Checkpoint,
  CommandIdUsedError,
  ConcurrencyError,
  type EventStore,
  type EventToAppend,
  type ParkedCount,
  type ParkedEvent,
  type ParkedEventFilter,
  type HashChainReport,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type RetryParkedSelector,
  type Snapshot,
  type Subscription,
  type SubscriptionHandler,
  type SubscriptionOptions,
  type Transaction,
  type VerifyHashChainsOptions,
} from './event-store';
import { eventHashTextParts } from './hash-chain';
import { HashChainWalker } from './hash-chain-walker';
import {
  type AppendRow,
  type CheckpointRow,
  type CommandResultRow,
  type EventRow,
  single,
  toAppendResult,
  toCheckpoint,
  toDate,
  toRecordedEvent,
} from './sql/rows';
import * as Parked from './sql/parked-events';
import type { SqlExecutor, SqlSession } from './sql/sql-session';
import * as SQL from './sql/statements';
import {
  type BatchRead,
  type PumpBackend,
  SubscriptionPump,
} from './subscription/subscription-pump';
import {
  ConsumerStartRefusedError,
  RESTORE_PROCEDURE_REFERENCE,
  decideServerOrigin,
} from './subscription/server-origin';
import { type UpcasterRegistry } from './upcaster-registry';

const READ_ALL_LIMIT_DEFAULT = 1000;
/** Events per page of verifyHashChains. */
const CHAIN_PAGE = 5000;
const APPENDED = 'appended';
const RETRY_REQUESTED = 'retry-requested';

/**
 * The event store over any SqlSession: PostgreSQL and PGlite run the same statements. The append is one call of
 * `ledger_append` (one round trip when there is no inline projection).
 */
export class SqlEventStore implements EventStore {
  readonly kind: 'postgres' | 'pglite';
  /** Wakes this process's subscriptions right after its own commits, before any NOTIFY arrives. */
  private readonly localAppends = new EventEmitter().setMaxListeners(0);
  private readonly subscriptions = new Set<SubscriptionPump>();
  private closing: Promise<void> | undefined;
  /** The writer's restore check, once per store (see `assertWritable`). */
  private writable: Promise<void> | undefined;

  constructor(
    private readonly session: SqlSession,
    private readonly upcasters: UpcasterRegistry,
    /** Releases what the owner opened (TypeORM DataSource, PGlite) after the store has stopped. */
    private readonly releaseResources: () => Promise<void>,
  ) {
    this.kind = session.kind;
  }

  async append(
    streamId: string,
    events: EventToAppend[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    assertAppendable(streamId, events, options);
    await this.assertWritable();
    const params = appendParams(streamId, events, options);
    let row: AppendRow;
    try {
      row = options.onAppended
        ? await this.session.transaction((tx) =>
            this.appendWithProjection(tx, params, events, options),
          )
        : single(
            await this.session.query<AppendRow>(SQL.APPEND, params, SQL.APPEND_STATEMENT_NAME),
            'append',
          );
    } catch (error) {
      if (isCommandIdRace(error)) return this.firstResultOf(options.commandId, error);
      throw error;
    }
    if (row.r_status === 'conflict') {
      throw new ConcurrencyError(streamId, options.expectedVersion, row.r_last_version);
    }
    if (row.r_status === 'appended') this.announceAppends();
    return toAppendResult(row, row.r_status === 'duplicate');
  }

  /** After a commit that appended: this process's consumers at once, other processes by a coalesced signal. */
  private announceAppends(): void {
    this.localAppends.emit(APPENDED);
    this.session.signalAppended?.();
  }

  async appendBatch(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    await this.assertWritable();
    const outcomes: (AppendOutcome | undefined)[] = new Array<AppendOutcome | undefined>(
      requests.length,
    );
    const valid: number[] = [];
    requests.forEach((request, i) => {
      try {
        assertAppendable(request.streamId, request.events, request.options);
        valid.push(i);
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    });
    const raced: number[] = [];
    let appended = false;
    // Fast path: no savepoints. A conflict or a duplicate writes nothing and raises nothing, so only an error
    // (a failing projection, a command-id race, a database error) needs one; then the whole transaction rolls
    // back and the batch runs again, each request in its own savepoint. Same outcomes, two round trips fewer
    // per request in the common case.
    if (valid.length > 1) {
      const fast: (AppendOutcome | undefined)[] = [];
      let fastAppended = false;
      try {
        await this.session.transaction(async (tx) => {
          await this.lockStreams(
            tx,
            valid.map((i) => requests[i]?.streamId ?? ''),
          );
          for (const i of valid) {
            const request = requests[i];
            if (!request) continue;
            const { streamId, events, options } = request;
            const row = await this.appendWithProjection(
              tx,
              appendParams(streamId, events, options),
              events,
              options,
            );
            fast[i] = outcomeOfRow(streamId, options, row);
            if (row.r_status === 'appended') fastAppended = true;
          }
        });
        for (const i of valid) outcomes[i] = fast[i];
        if (fastAppended) this.announceAppends();
        return outcomes as AppendOutcome[];
      } catch {
        // Fall through: run the batch again with a savepoint per request.
      }
    }
    if (valid.length > 0) {
      try {
        await this.session.transaction(async (tx) => {
          await this.lockStreams(
            tx,
            valid.map((i) => requests[i]?.streamId ?? ''),
          );
          for (const i of valid) {
            const request = requests[i];
            if (!request) continue;
            const { streamId, events, options } = request;
            await tx.query(SAVEPOINT);
            try {
              const row = await this.appendWithProjection(
                tx,
                appendParams(streamId, events, options),
                events,
                options,
              );
              await tx.query(RELEASE);
              outcomes[i] = outcomeOfRow(streamId, options, row);
              if (row.r_status === 'appended') appended = true;
            } catch (error) {
              await tx.query(ROLLBACK_TO);
              await tx.query(RELEASE);
              if (isCommandIdRace(error)) raced.push(i);
              else outcomes[i] = { ok: false, error };
            }
          }
        });
      } catch (error) {
        // The transaction failed as a whole (lock, commit, connection): nothing of it was kept.
        for (const i of valid) outcomes[i] = { ok: false, error };
        return outcomes as AppendOutcome[];
      }
    }
    for (const i of raced) {
      const request = requests[i];
      if (!request) continue;
      try {
        outcomes[i] = {
          ok: true,
          result: await this.firstResultOf(
            request.options.commandId,
            new Error(`command id race on ${request.options.commandId}`),
          ),
        };
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    }
    if (appended) this.announceAppends();
    return outcomes as AppendOutcome[];
  }

  async appendAll(requests: AppendRequest[]): Promise<AppendResult[]> {
    await this.assertWritable();
    // Every request checked and canonicalised before the transaction opens.
    const params = requests.map(({ streamId, events, options }, i) => {
      try {
        assertAppendable(streamId, events, options);
        return appendParams(streamId, events, options);
      } catch (error) {
        throw new AppendAllError(i, streamId, options.commandId, error);
      }
    });
    if (requests.length === 0) return [];
    let results: AppendResult[];
    try {
      results = await this.session.transaction(async (tx) => {
        await this.lockStreams(
          tx,
          requests.map((r) => r.streamId),
        );
        const appended: AppendResult[] = [];
        for (const [i, { streamId, events, options }] of requests.entries()) {
          const row = await this.appendWithProjection(tx, params[i] ?? [], events, options).catch(
            (error: unknown) => {
              throw new AppendAllError(i, streamId, options.commandId, error);
            },
          );
          if (row.r_status === 'conflict') {
            const conflict = new ConcurrencyError(
              streamId,
              options.expectedVersion,
              row.r_last_version,
            );
            throw new AppendAllError(i, streamId, options.commandId, conflict);
          }
          if (row.r_status === 'duplicate') {
            const used = new CommandIdUsedError(options.commandId, toAppendResult(row, true));
            throw new AppendAllError(i, streamId, options.commandId, used);
          }
          appended.push(toAppendResult(row, false));
        }
        return appended;
      });
    } catch (error) {
      // Another transaction committed one of our command ids first (command_ids_pkey): say whose it is.
      if (error instanceof AppendAllError && isCommandIdRace(error.cause)) {
        const used = await this.commandResult(error.commandId);
        if (used) {
          const cause = new CommandIdUsedError(error.commandId, used);
          throw new AppendAllError(error.index, error.streamId, error.commandId, cause);
        }
      }
      throw error;
    }
    this.announceAppends();
    return results;
  }

  /** Every stream of a batch, locked in one fixed order before the transaction's first write (see LOCK_STREAMS). */
  private async lockStreams(tx: SqlExecutor, streamIds: string[]): Promise<void> {
    const streams = [...new Set(streamIds)].sort();
    await tx.query(SQL.LOCK_STREAMS, [streams], SQL.LOCK_STREAMS_STATEMENT_NAME);
  }

  private async appendWithProjection(
    tx: SqlExecutor,
    params: unknown[],
    events: EventToAppend[],
    options: AppendOptions,
  ): Promise<AppendRow> {
    const row = single(
      await tx.query<AppendRow>(SQL.APPEND, params, SQL.APPEND_STATEMENT_NAME),
      'append',
    );
    if (row.r_status === 'appended' && options.onAppended) {
      const result = toAppendResult(row, false);
      const recordedAt = toDate(row.r_recorded_at);
      const recorded = events.map((event, i) =>
        this.upcasters.upcast({
          globalPosition: result.globalPositions[i] ?? -1n,
          transactionId: result.transactionId,
          streamId: result.streamId,
          streamVersion: result.firstVersion + i,
          type: event.type,
          schemaVersion: event.schemaVersion,
          data: event.data,
          metadata: event.metadata,
          recordedAt,
        }),
      );
      await options.onAppended(tx, result, recorded);
    }
    return row;
  }

  /** The first result of a command id, marked `duplicate` (an append with it now would write nothing). */
  async commandResult(commandId: string): Promise<AppendResult | null> {
    const row = (await this.session.query<CommandResultRow>(SQL.COMMAND_RESULT, [commandId]))[0];
    return row ? toAppendResult(row, true) : null;
  }

  /** A concurrent append with the same command id committed first: its result is ours, as a duplicate. */
  private async firstResultOf(commandId: string, raceError: unknown): Promise<AppendResult> {
    const result = await this.commandResult(commandId);
    if (!result) throw raceError;
    return result;
  }

  async streamVersion(streamId: string): Promise<number> {
    const row = (await this.session.query<{ version: number }>(SQL.STREAM_VERSION, [streamId]))[0];
    return row?.version ?? 0;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const { sql, params } = SQL.readStreamStatement(streamId, options);
    return this.toEvents(await this.session.query<EventRow>(sql, params), options.raw);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.limit ?? READ_ALL_LIMIT_DEFAULT;
    if (!(limit >= 1)) throw new RangeError(`readAll limit must be ≥ 1: ${limit}`);
    const { sql, params } = SQL.readAllStatement(options.after ?? null, limit, options);
    return this.toEvents(await this.session.query<EventRow>(sql, params), options.raw);
  }

  async verifyHashChains(options: VerifyHashChainsOptions = {}): Promise<HashChainReport> {
    const [start] = await this.session.query<{ transaction_id: string }>(SQL.HASH_CHAIN_START);
    const walker = new HashChainWalker(start ? BigInt(start.transaction_id) : null);
    let after: { streamId: string; streamVersion: number } | null = null;
    let events = 0;
    for (;;) {
      const { sql, params } = SQL.chainPageStatement(after, CHAIN_PAGE);
      const rows = await this.session.query<EventRow>(sql, params);
      for (const row of rows) walker.add(toRecordedEvent(row));
      const last = rows.at(-1);
      if (!last) break;
      events += rows.length;
      options.onProgress?.(events);
      if (rows.length < CHAIN_PAGE) break;
      after = { streamId: last.stream_id, streamVersion: last.stream_version };
    }
    type HeadRow = {
      stream_id: string;
      version: number;
      last_hash: string | null;
      event_version: number | null;
      global_position: string | null;
      event_hash: string | null;
    };
    for (const row of await this.session.query<HeadRow>(SQL.STREAM_HEAD_MISMATCHES)) {
      walker.addMismatch({
        streamId: row.stream_id,
        streamVersion: row.version,
        globalPosition: row.global_position === null ? null : BigInt(row.global_position),
        reason:
          `the streams row says version ${row.version} with last hash ${row.last_hash ?? 'none'}, ` +
          `its last event is version ${row.event_version ?? 'none'} with hash ${row.event_hash ?? 'none'}`,
      });
    }
    return walker.end();
  }

  async isVisible(globalPosition: bigint): Promise<boolean> {
    const rows = await this.session.query<{ visible: boolean }>(SQL.IS_VISIBLE, [
      globalPosition.toString(),
    ]);
    return rows[0]?.visible === true;
  }

  async headCheckpoint(): Promise<Checkpoint | null> {
    return toCheckpoint((await this.session.query<CheckpointRow>(SQL.HEAD_CHECKPOINT))[0]);
  }

  subscribe(
    name: string,
    handler: SubscriptionHandler,
    options: SubscriptionOptions = {},
  ): Subscription {
    if (this.closing) throw new Error('event store is closed');
    const pump = new SubscriptionPump(name, handler, options, this.pumpBackend());
    this.subscriptions.add(pump);
    return pump;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    await this.session.query(SQL.SAVE_SNAPSHOT, [
      snapshot.streamId,
      snapshot.streamVersion,
      snapshot.schemaVersion,
      JSON.stringify(snapshot.state),
    ]);
  }

  async loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<Snapshot | null> {
    type Row = {
      stream_id: string;
      stream_version: number;
      schema_version: number;
      state: Snapshot['state'];
    };
    const row = (
      await this.session.query<Row>(SQL.LOAD_SNAPSHOT, [streamId, atOrBeforeVersion ?? null])
    )[0];
    if (!row) return null;
    return {
      streamId: row.stream_id,
      streamVersion: row.stream_version,
      schemaVersion: row.schema_version,
      state: row.state,
    };
  }

  parkedEvents(filter: ParkedEventFilter = {}): Promise<ParkedEvent[]> {
    return Parked.listParked(this.session, filter);
  }

  parkedCounts(): Promise<ParkedCount[]> {
    return Parked.countParked(this.session);
  }

  async retryParked(selector: RetryParkedSelector): Promise<ParkedEvent[]> {
    const marked = await Parked.requestRetry(this.session, selector);
    // This process's pumps look at once; others notice within their poll interval.
    if (marked.length > 0) this.localAppends.emit(RETRY_REQUESTED);
    return marked;
  }

  withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.session.transaction(work);
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.session.query<T>(sql, params);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((pump) => pump.stop()));
      await this.releaseResources();
    })();
    return this.closing;
  }

  private toEvents(rows: EventRow[], raw = false): RecordedEvent[] {
    return raw
      ? rows.map(toRecordedEvent)
      : rows.map((row) => this.upcasters.upcast(toRecordedEvent(row)));
  }

  private pumpBackend(): PumpBackend {
    return {
      checkServerOrigin: (name) => this.checkServerOrigin(name),
      acquireLease: (name, options) => this.session.acquireConsumerLease(name, options),
      ensureCheckpoint: async (name) => {
        await this.session.query(SQL.ENSURE_CHECKPOINT, [name]);
      },
      loadCheckpoint: async (name) =>
        toCheckpoint((await this.session.query<CheckpointRow>(SQL.LOAD_CHECKPOINT, [name]))[0]),
      readBatch: (after, limit, filters) => this.readBatch(after, limit, filters),
      commitBatch: (name, previous, next, work) =>
        this.session.transaction(async (tx) => {
          await work(tx);
          const stored = await tx.query(SQL.STORE_CHECKPOINT, [
            name,
            String(next.transactionId),
            String(next.globalPosition),
            previous === null ? null : String(previous.transactionId),
            previous === null ? null : String(previous.globalPosition),
          ]);
          if (stored.length !== 1) {
            throw new Error(
              `checkpoint of ${name} moved under this batch: another instance is consuming it`,
            );
          }
        }),
      committedHead: async () =>
        toCheckpoint((await this.session.query<CheckpointRow>(SQL.COMMITTED_HEAD))[0]),
      autocommit: { query: (sql, params) => this.session.query(sql, params) },
      onLocalAppend: (listener) => {
        this.localAppends.on(APPENDED, listener);
        return () => this.localAppends.off(APPENDED, listener);
      },
      parkedStreams: (name, partition) => Parked.parkedStreams(this.session, name, partition),
      park: (tx, name, partition, requests) => Parked.insertParked(tx, name, partition, requests),
      nextDueParked: (name, partition) => Parked.nextDueParked(this.session, name, partition),
      readEventsAt: async (positions) =>
        this.toEvents(await Parked.readEventsAt(this.session, positions)),
      commitRedelivery: (id, work) =>
        this.session.transaction(async (tx) => {
          await work(tx);
          await Parked.deleteParked(tx, id);
        }),
      recordParkedFailure: (id, failure) => Parked.recordParkedFailure(this.session, id, failure),
      onRetryRequested: (listener) => {
        this.localAppends.on(RETRY_REQUESTED, listener);
        return () => this.localAppends.off(RETRY_REQUESTED, listener);
      },
    };
  }

  /**
   * A writer's restore check (issue 11, item 8), once per store before its first append: on a database restored
   * into another server whose transaction id counter lies below the stored events' ids, new appends would sort
   * before events that already exist, for good. Consumers run their own check at start; this one guards the
   * processes that append without running a consumer (CLI import, apply without the saga). A normal server
   * always passes: its counter is past every committed transaction.
   */
  private assertWritable(): Promise<void> {
    this.writable ??= (async () => {
      type Row = { current_transaction_id: string; highest_event: string | null };
      const row = single(await this.session.query<Row>(SQL.WRITER_ORIGIN), 'writer origin');
      if (row.highest_event === null) return;
      const highest = BigInt(row.highest_event);
      if (BigInt(row.current_transaction_id) > highest) return;
      throw new ConsumerStartRefusedError(
        'append',
        `refusing to append: the database holds transaction ids up to ${highest}, not below this server's ` +
          `current ${row.current_transaction_id} (a dump restored from another server?): new events would sort ` +
          `before existing ones. Advance the transaction id counter past ${highest} (epoch ${highest >> 32n}, ` +
          `xid ${highest & 0xffffffffn}; see ${RESTORE_PROCEDURE_REFERENCE}), then start again.`,
      );
    })();
    // A failed check (also a connection error) is not remembered: the next append asks again.
    this.writable.catch(() => (this.writable = undefined));
    return this.writable;
  }

  /** A consumer's start-up check after a restore (issue 11, item 8; src/subscription/server-origin.ts). */
  private async checkServerOrigin(name: string): Promise<string | null> {
    type Row = {
      current_identifier: string;
      stored_identifier: string | null;
      current_transaction_id: string;
      highest_event: string | null;
      highest_checkpoint: string | null;
    };
    const row = single(await this.session.query<Row>(SQL.SERVER_ORIGIN, [name]), 'server origin');
    const stored = [row.highest_event, row.highest_checkpoint]
      .filter((id): id is string => id !== null)
      .map((id) => BigInt(id));
    const decision = decideServerOrigin(name, {
      currentIdentifier: row.current_identifier,
      storedIdentifier: row.stored_identifier,
      currentTransactionId: BigInt(row.current_transaction_id),
      highestStoredTransactionId:
        stored.length === 0 ? null : stored.reduce((a, b) => (a > b ? a : b)),
    });
    if (decision.action === 'refuse') throw new ConsumerStartRefusedError(name, decision.message);
    if (decision.action === 'record') {
      await this.session.query(SQL.RECORD_SERVER_ORIGIN, [name, row.current_identifier]);
      return decision.note;
    }
    return null;
  }

  private async readBatch(
    after: Checkpoint | null,
    limit: number,
    filters: SQL.EventFilters,
  ): Promise<BatchRead> {
    const { sql, params } = SQL.subscriptionBatchStatement(after, limit, filters);
    type Row = Partial<EventRow> & {
      head_transaction_id: string | null;
      head_global_position: string | null;
      held_back: boolean;
    };
    const rows = await this.session.query<Row>(sql, params);
    const events = rows
      .filter((row) => row.global_position != null)
      .map((row) => toRecordedEvent(row as EventRow));
    const last = events.at(-1);
    const head = toCheckpoint(
      rows[0] && {
        transaction_id: rows[0].head_transaction_id,
        global_position: rows[0].head_global_position,
      },
    );
    // A full batch may stop short of more matches; a short one saw every match up to the head.
    let next: Checkpoint | null = last
      ? { transactionId: last.transactionId, globalPosition: last.globalPosition }
      : null;
    if (events.length < limit && head && (!next || compareCheckpoints(head, next) > 0)) next = head;
    if (next && after && compareCheckpoints(next, after) <= 0) next = null;
    return {
      events: events.map((event) => this.upcasters.upcast(event)),
      next,
      heldBack: rows[0]?.held_back ?? false,
    };
  }
}

const SAVEPOINT = 'SAVEPOINT ledger_append_batch';
const RELEASE = 'RELEASE SAVEPOINT ledger_append_batch';
const ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT ledger_append_batch';

/**
 * The parameters of one `ledger_append` call. Each event travels as `[head, tail]`, its canonical JSON around the
 * stream version (src/hash-chain.ts): the function inserts the version, hashes the text and stores the columns
 * parsed from it, so the hash covers exactly what is stored.
 */
function appendParams(
  streamId: string,
  events: EventToAppend[],
  options: AppendOptions,
): unknown[] {
  return [
    streamId,
    options.expectedVersion === 'any' ? null : options.expectedVersion,
    options.commandId,
    JSON.stringify(events.map((event) => eventHashTextParts(streamId, event))),
  ];
}

function assertAppendable(streamId: string, events: EventToAppend[], options: AppendOptions): void {
  if (!streamId) throw new Error('append needs a stream id');
  if (events.length === 0) throw new Error(`append to ${streamId}: no events`);
  if (!options.commandId) throw new Error(`append to ${streamId}: no command id`);
  const expected = options.expectedVersion;
  if (expected !== 'any' && !(Number.isInteger(expected) && expected >= 0)) {
    throw new RangeError(
      `append to ${streamId}: expected version must be an integer ≥ 0 or 'any': ${expected}`,
    );
  }
  for (const event of events) {
    if (!event.type || !(Number.isInteger(event.schemaVersion) && event.schemaVersion >= 1)) {
      throw new Error(`append to ${streamId}: every event needs a type and a schemaVersion ≥ 1`);
    }
  }
}

/** Two appends raced with one command id and the other committed first (see the ledger_append comment). */
function isCommandIdRace(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'command_ids_pkey';
}

/** A batch request's outcome from its `ledger_append` row: a version conflict is an error, the rest a result. */
function outcomeOfRow(streamId: string, options: AppendOptions, row: AppendRow): AppendOutcome {
  if (row.r_status === 'conflict') {
    return {
      ok: false,
      error: new ConcurrencyError(streamId, options.expectedVersion, row.r_last_version),
    };
  }
  return { ok: true, result: toAppendResult(row, row.r_status === 'duplicate') };
}
