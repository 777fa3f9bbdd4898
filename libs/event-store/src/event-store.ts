/**
 * The event store's public contract. It stores typed envelopes in streams and knows nothing of margin.
 * Two implementations stand behind it: PostgreSQL (`pg`) and the embedded PGlite (one session, units of work
 * serialized). Design: ARCHITECTURE.md "The event store"; reference/event-store-notes.md.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Metadata every event carries. `occurredAt` comes from the command, never from the server clock. */
export interface EventMetadata {
  commandId: string;
  causationId?: string;
  correlationId?: string;
  actor?: string;
  /** ISO-8601 instant. */
  occurredAt: string;
  [key: string]: JsonValue | undefined;
}

export interface EventToAppend {
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  /** Identity column, unique and increasing in insert order (not commit order). */
  globalPosition: bigint;
  /** `pg_current_xact_id()` of the appending transaction (xid8). Readers order by (transactionId, globalPosition). */
  transactionId: bigint;
  streamId: string;
  /** 1-based, gapless per stream. */
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: EventMetadata;
  recordedAt: Date;
  /**
   * The event's link in its stream's hash chain (src/hash-chain.ts): 64 lower-case hex digits, or null for an
   * event stored before the chain existed. It covers the event as stored: after an upcaster changed `data` or
   * `schemaVersion`, recompute it from a `raw` read. Absent in stores without a chain (in memory).
   */
  hash?: string | null;
}

/** A reader's position: the pair, never a bare global position (UPDATES.md, Foundation). */
export interface Checkpoint {
  transactionId: bigint;
  globalPosition: bigint;
}

/**
 * `number`: the stream's current version must equal it (0 = the stream must not exist yet).
 * `'any'`: no check (still serialized per stream by the stream row lock).
 */
export type ExpectedVersion = number | 'any';

/** A unit of work inside one database transaction. Parameters use `$1`, `$2`, … placeholders. */
export interface Transaction {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface AppendOptions {
  /** Idempotency key, global in the store. A command id seen before writes nothing and returns the first result. */
  commandId: string;
  expectedVersion: ExpectedVersion;
  /**
   * Inline projections: runs in the append's transaction, after the events are inserted, before commit.
   * Not called for a duplicate command id. If it throws, nothing of the append is kept.
   */
  onAppended?: (tx: Transaction, result: AppendResult, events: RecordedEvent[]) => Promise<void>;
}

export interface AppendResult {
  streamId: string;
  /** Version of the first appended event (lastVersion + 1 - count). */
  firstVersion: number;
  /** The stream's version after the append. */
  lastVersion: number;
  globalPositions: bigint[];
  transactionId: bigint;
  /** True when the command id had been seen: nothing was written and this is the first append's result. */
  duplicate: boolean;
}

/** One append of a batch (`EventStore.appendBatch`). */
export interface AppendRequest {
  streamId: string;
  events: EventToAppend[];
  options: AppendOptions;
}

/** What one request of a batch came to: its result, or the error `append` would have thrown for it. */
export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

export interface ReadStreamOptions {
  /** Inclusive. Default 1. */
  fromVersion?: number;
  /** Inclusive. */
  toVersion?: number;
  /** Only events whose global position is ≤ this (inclusive). */
  toGlobalPosition?: bigint;
  /** As stored: no upcasters (what the hash chain covers; exports). */
  raw?: boolean;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this pair. Default: from the start. */
  after?: Checkpoint | null;
  /** Default 1000. */
  limit?: number;
  /** Only streams whose id starts with one of these prefixes. */
  streamPrefixes?: string[];
  /** Only events with one of these types. */
  types?: string[];
  /** As stored: no upcasters (what the hash chain covers; exports). */
  raw?: boolean;
}

export interface Snapshot {
  streamId: string;
  /** The stream version the state was folded up to (inclusive). */
  streamVersion: number;
  schemaVersion: number;
  state: JsonValue;
}

export type SubscriptionHandler = (events: RecordedEvent[], tx: Transaction) => Promise<void>;

/**
 * Why a consumer holds an event back: `failed` = the handler failed on it `maxAttempts` times on its own (or a
 * retry failed); `blocked` = a later event of a stream whose earlier event is parked for that consumer, waiting
 * behind it so the consumer still sees each stream in version order.
 */
export type ParkedEventStatus = 'failed' | 'blocked';

/** An event a consumer moved past without applying it (libs/event-store/README.md "Subscriptions"). */
export interface ParkedEvent {
  /** The parked row's id (`ledger parked retry <id>`); not the event's position. */
  id: bigint;
  consumer: string;
  /** The consumer's partition (0 until consumers are split by account hash). */
  partition: number;
  status: ParkedEventStatus;
  globalPosition: bigint;
  transactionId: bigint;
  streamId: string;
  streamVersion: number;
  type: string;
  /** The last handler error (null for `blocked`). */
  error: string | null;
  /** Failed deliveries that included this event: its batch's, its own, and failed retries (0 for `blocked`). */
  attempts: number;
  firstFailedAt: Date | null;
  lastFailedAt: Date | null;
  parkedAt: Date;
  /** Set by `retryParked` until the consumer has tried again (the request survives restarts). */
  retryRequestedAt: Date | null;
}

export interface ParkedEventFilter {
  consumer?: string;
  status?: ParkedEventStatus;
}

/** Per consumer partition: events parked (`failed`) and events waiting behind them (`blocked`). */
export interface ParkedCount {
  consumer: string;
  partition: number;
  failed: number;
  blocked: number;
}

/** Which parked events to retry: by id, or every `failed` one (of one consumer). */
export type RetryParkedSelector = { ids: bigint[] } | { all: true; consumer?: string };

export interface SubscriptionOptions {
  batchSize?: number;
  /** Fallback polling interval when no NOTIFY arrives. */
  pollIntervalMs?: number;
  streamPrefixes?: string[];
  types?: string[];
  /**
   * Called with each handler error before the retry, and with each event parked (`parked` set): the consumer
   * never skips an event silently.
   */
  onError?: (error: unknown, attempt: number, parked?: ParkedEvent) => void;
  /**
   * Handler failures of one delivery before the pump narrows it down: a batch that failed this many times is
   * delivered again one event at a time, and an event that failed this many times on its own is parked (its
   * stream's later events wait behind it), so nothing is retried forever. Default 5.
   */
  maxAttempts?: number;
  /**
   * Called each time this instance becomes the active consumer (it took the lease), with the stored checkpoint and
   * before the first batch: in-memory views derive their state up to that checkpoint here, skipping the consumer's
   * parked events (another instance may have moved the checkpoint since this one last ran). Called again when a
   * failed commit turns out to have committed (its reply was lost): that batch's afterCommit never comes. A
   * failure is logged and retried like a failed batch, never parked.
   */
  onActivate?: (checkpoint: Checkpoint | null) => Promise<void>;
  /**
   * Run the handler outside the checkpoint's transaction (the `tx` it receives runs single statements), and store
   * the checkpoint after it returns: at-least-once delivery for handlers that write through the store themselves
   * (the risk saga appends commands; on PGlite a nested unit of work would wait on itself). Such handlers must be
   * idempotent (deterministic command ids).
   */
  handlerOutsideTransaction?: boolean;
  /**
   * Addition: called with the events handed to the handler once their transaction has committed (the EventBus
   * pump publishes here, so a rolled-back batch is never published; in-memory views commit what the handler
   * folded here). Also after a parked event's successful retry, with that event. Not retried: an error is logged.
   * A crash between the commit and this call loses that call, never the checkpoint's exactly-once effect.
   */
  afterCommit?: (events: RecordedEvent[]) => void | Promise<void>;
  /** Addition: first retry delay after a failed batch, doubled per attempt up to `retryDelayMsMax`. Default 100. */
  retryDelayMsInitial?: number;
  /** Addition: default 10,000. */
  retryDelayMsMax?: number;
  /** Addition: where batch errors are logged. Default: a Nest `Logger` named after the subscription. */
  logger?: SubscriptionLogger;
}

/** Addition: the subset of Nest's `LoggerService` a subscription uses. */
export interface SubscriptionLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}

export interface Subscription {
  readonly name: string;
  /** Resolves once the consumer holds its advisory lock and has started pumping. */
  start(): Promise<void>;
  /** Stops after the batch in flight (its checkpoint is stored), releases the lock. */
  stop(): Promise<void>;
  /** Resolves when the consumer's checkpoint has reached every event committed before the call. */
  waitUntilCaughtUp(timeoutMs?: number): Promise<void>;
  checkpoint(): Promise<Checkpoint | null>;
}

export interface EventStore {
  readonly kind: 'postgres' | 'pglite';
  append(streamId: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult>;
  /**
   * Group commit: several appends in ONE transaction (one commit, one WAL flush), each inside its own savepoint, so
   * one request's conflict, duplicate or failing projection affects only that request. Every stream of the batch
   * is locked (per-stream advisory lock, in a fixed order) before the first write, so readers still see each
   * stream's versions in order. Outcomes are in request order. If the transaction itself fails, every request
   * fails with that error and nothing is written. Optional: stores without it are used one append at a time.
   */
  appendBatch?(requests: AppendRequest[]): Promise<AppendOutcome[]>;
  /**
   * All or nothing: every request appended in ONE transaction (streams locked in a fixed order first, as in
   * appendBatch), or none. The first request that does not append (a version conflict, a command id seen before,
   * a failing `onAppended`, a database error) rolls the whole transaction back and is thrown as an
   * `AppendAllError` naming its index. For imports and other all-or-nothing writes; optional.
   */
  appendAll?(requests: AppendRequest[]): Promise<AppendResult[]>;
  /** The stream's current version, 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /** Events of one stream in version order, upcast to their latest schema version. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * All streams in `(transactionId, globalPosition)` order, only below `pg_snapshot_xmin(pg_current_snapshot())`,
   * so an in-flight transaction can never be skipped. Upcast.
   */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The highest visible checkpoint (below xmin), or null for an empty store. */
  headCheckpoint(): Promise<Checkpoint | null>;
  /**
   * True when the event at this global position is committed and visible to readers (below the cluster-wide
   * xmin), so every transaction with a smaller id has ended too. Callers that just appended wait on it before
   * reading what they wrote through `readAll`.
   */
  isVisible(globalPosition: bigint): Promise<boolean>;
  /** A durable, single-active-instance consumer; its checkpoint is stored in the handler's transaction. */
  subscribe(
    name: string,
    handler: SubscriptionHandler,
    options?: SubscriptionOptions,
  ): Subscription;
  /** The events consumers parked (and those blocked behind them), oldest first per consumer. */
  parkedEvents?(filter?: ParkedEventFilter): Promise<ParkedEvent[]>;
  /** Per consumer partition: how many events are parked and blocked behind them (for /metrics and /health). */
  parkedCounts?(): Promise<ParkedCount[]>;
  /**
   * Asks the consumers to deliver these `failed` events again, once each: whichever process holds the consumer
   * does it on its next turn (at once in this process, within a poll interval elsewhere). On success the row is
   * removed and the stream's blocked events are delivered in order; on failure it stays parked with one more
   * attempt and the new error. Returns the rows it marked (blocked or unknown ids are not marked).
   */
  retryParked?(selector: RetryParkedSelector): Promise<ParkedEvent[]>;
  /**
   * Recomputes every stream's hash chain from the stored events (before upcasters) and reports, per stream, the
   * unhashed prefix and the first event that does not match. Optional (stores without a chain).
   */
  verifyHashChains?(options?: VerifyHashChainsOptions): Promise<HashChainReport>;
  /** The first result of a command id, or null if the store has not seen it (idempotent retries check first). */
  commandResult?(commandId: string): Promise<AppendResult | null>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot with streamVersion ≤ atOrBeforeVersion (default: newest of all). */
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<Snapshot | null>;
  /** A unit of work (serialized on PGlite). Used by read models and tools. */
  withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Reads outside any explicit transaction. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** The expected version did not match: the caller reloads and retries. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(
      `stream ${streamId}: expected version ${String(expectedVersion)}, actual ${actualVersion}`,
    );
    this.name = 'ConcurrencyError';
  }
}

/** A request of `appendAll` did not append: nothing of the batch was written. */
export class AppendAllError extends Error {
  constructor(
    /** Index of the request in the batch. */
    readonly index: number,
    readonly streamId: string,
    readonly commandId: string,
    /** `cause`: a ConcurrencyError, a CommandIdUsedError, or what onAppended or the database threw. */
    cause: unknown,
  ) {
    super(
      `append ${index} of the batch (${streamId}, command id ${commandId}) failed, nothing was written: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = 'AppendAllError';
  }
}

/** In an all-or-nothing batch, a command id the store has seen before (an append with it would write nothing). */
export class CommandIdUsedError extends Error {
  constructor(
    readonly commandId: string,
    readonly usedBy: AppendResult,
  ) {
    super(
      `command id ${commandId} was used before, by ${usedBy.streamId} versions ${usedBy.firstVersion}–${usedBy.lastVersion}`,
    );
    this.name = 'CommandIdUsedError';
  }
}

export interface VerifyHashChainsOptions {
  /** Called after each page with the number of events checked so far. */
  onProgress?: (events: number) => void;
}

/** What `verifyHashChains` found. */
export interface HashChainReport {
  streams: number;
  events: number;
  /** Events whose stored hash was recomputed and matched. */
  hashedEvents: number;
  /** Streams that begin with events stored before the chain existed (NULL hash): how many, per stream. */
  unhashedPrefixes: { streamId: string; events: number }[];
  /** At most one per stream: the first event that does not match (or a stream row that disagrees). */
  mismatches: HashChainMismatch[];
}

export interface HashChainMismatch {
  streamId: string;
  streamVersion: number;
  /** The event's global position; null when the stream row names a version that has no event. */
  globalPosition: bigint | null;
  reason: string;
}

/** An upcaster lifts one `(type, schemaVersion)` to the next schema version. */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  upcast(data: JsonObject, metadata: EventMetadata): JsonObject;
}
