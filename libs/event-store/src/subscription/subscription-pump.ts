import { Logger } from '@nestjs/common';

import { checkpointOf, compareCheckpoints, formatCheckpoint } from '../checkpoint';
import type {
  Checkpoint,
  ParkedEvent,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
  SubscriptionLogger,
  SubscriptionOptions,
  Transaction,
} from '../event-store';
import type { ParkRequest, ParkedFailure } from '../sql/parked-events';
import type { ConsumerLease, ConsumerLeaseOptions } from '../sql/sql-session';
import type { EventFilters } from '../sql/statements';
import { Broadcast, StopToken, WakeSignal } from './signals';

export interface BatchRead {
  events: RecordedEvent[];
  /** Where the checkpoint moves; null when there is nothing to do (no event, no filtered-out tail to skip). */
  next: Checkpoint | null;
  /** Committed events wait behind an older open transaction: read again soon, no NOTIFY will say when. */
  heldBack: boolean;
}

/** What a pump needs from the store; the SQL lives there, the loop lives here. */
export interface PumpBackend {
  /**
   * The start-up check (issue 11, item 8): throws a ConsumerStartRefusedError when the database was restored into
   * a server whose transaction ids are not past the stored ones; returns a note to log when it moved safely.
   */
  checkServerOrigin(name: string): Promise<string | null>;
  acquireLease(name: string, options: ConsumerLeaseOptions): Promise<ConsumerLease | null>;
  ensureCheckpoint(name: string): Promise<void>;
  loadCheckpoint(name: string): Promise<Checkpoint | null>;
  readBatch(after: Checkpoint | null, limit: number, filters: EventFilters): Promise<BatchRead>;
  /** Runs `work` and the checkpoint compare-and-set in one transaction. */
  commitBatch(
    name: string,
    previous: Checkpoint | null,
    next: Checkpoint,
    work: (tx: Transaction) => Promise<void>,
  ): Promise<void>;
  /** The last committed event, held back or not (see COMMITTED_HEAD). */
  committedHead(): Promise<Checkpoint | null>;
  /** Runs each statement in its own transaction (handlers outside the batch transaction). */
  autocommit: Transaction;
  /** Appends committed by this process; returns the unsubscribe function. */
  onLocalAppend(listener: () => void): () => void;
  /** Streams with a parked row for this consumer partition: their later events wait behind it. */
  parkedStreams(name: string, partition: number): Promise<Set<string>>;
  /** Inside a batch's transaction (before its checkpoint moves past them): parks or blocks events. */
  park(
    tx: Transaction,
    name: string,
    partition: number,
    requests: ParkRequest[],
  ): Promise<ParkedEvent[]>;
  /** The next parked row to deliver again (a requested retry, or a blocked row whose stream is free). */
  nextDueParked(name: string, partition: number): Promise<ParkedEvent | null>;
  /** The events at these positions, upcast, in reader order. */
  readEventsAt(positions: bigint[]): Promise<RecordedEvent[]>;
  /** Runs `work` and removes the parked row in one transaction (fails if another instance removed it). */
  commitRedelivery(id: bigint, work: (tx: Transaction) => Promise<void>): Promise<void>;
  /** A redelivery failed: the row is (or becomes) its stream's failed event, with the new error. */
  recordParkedFailure(id: bigint, failure: ParkedFailure): Promise<ParkedEvent | null>;
  /** retryParked was called in this process; returns the unsubscribe function. */
  onRetryRequested(listener: () => void): () => void;
}

const DEFAULTS = {
  batchSize: 500,
  pollIntervalMs: 500,
  retryDelayMsInitial: 100,
  retryDelayMsMax: 10_000,
  maxAttempts: 5,
};
/**
 * The partition of a consumer's parked events. Every consumer is one partition (0) today; a later change splits
 * consumers into K partitions by account hash, each with its own checkpoint and parked rows.
 */
const PARTITION = 0;
const CAUGHT_UP_TIMEOUT_MS = 30_000;
/** How often waitUntilCaughtUp re-reads a checkpoint that another instance (or process) moves. */
const CAUGHT_UP_POLL_MS = 50;
/** First re-read delay while events are held back behind an open transaction; doubles up to the poll interval. */
const HELD_BACK_DELAY_MS_INITIAL = 5;

/** The handler threw: counts toward parking (a failure of the database around it does not). */
class HandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(describe(cause));
    this.name = 'HandlerFailure';
  }
}

/** Consecutive handler failures of one delivery: a batch or an event starting at one position, or a parked row. */
interface FailureStreak {
  key: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
  error: unknown;
}

/** A batch failed maxAttempts times: its events are delivered one at a time, up to its end. */
interface Isolation {
  through: Checkpoint;
  batchFailures: number;
  firstFailedAt: Date;
}

type Progress = 'more' | 'idle' | 'held-back';

/**
 * A durable consumer: reads after its stored checkpoint, hands each batch to the handler inside a transaction
 * and stores the new checkpoint in that same transaction, so the handler's writes happen exactly once. A failed
 * batch rolls back, is logged, and is retried with backoff. After `maxAttempts` handler failures the batch is
 * delivered one event at a time; an event that fails `maxAttempts` times on its own is parked (the checkpoint
 * moves past it in the transaction that records it) and its stream's later events are parked behind it as
 * `blocked`, never handed to the handler out of order. A requested retry delivers the parked event again; on
 * success the blocked ones follow in version order. Nothing is skipped silently, nothing is retried forever.
 */
export class SubscriptionPump implements Subscription {
  private readonly wake = new WakeSignal();
  private readonly progress = new Broadcast();
  private readonly logger: SubscriptionLogger;
  private readonly settings: typeof DEFAULTS;
  private stopToken = new StopToken();
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private lease: ConsumerLease | undefined;
  private heldBackDelayMs = HELD_BACK_DELAY_MS_INITIAL;
  /** In memory while this instance is active; undefined = unknown, reload from the table. */
  private position: Checkpoint | null | undefined;
  /** Streams with parked rows (as committed); undefined = reload with the position. */
  private blockedStreams: Set<string> | undefined;
  /** False until onActivate ran for the lease this instance holds (and again when its memory is in doubt). */
  private activated = false;
  /**
   * Where this instance had got to when a turn failed: if the stored checkpoint is elsewhere on reload, the failed
   * commit did happen (its outcome was lost with the connection), and what the consumer keeps in memory missed
   * its afterCommit; onActivate runs again.
   */
  private positionBeforeFailure: Checkpoint | null | undefined;
  private failures: FailureStreak | undefined;
  private isolating: Isolation | undefined;
  /** Look for parked rows to deliver again on the next turn (retry requested here, or just activated). */
  private parkedCheckDue = true;
  private nextParkedCheckAtMs = 0;
  private unsubscribeLocal: (() => void) | undefined;
  private unsubscribeRetry: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscriptionOptions,
    private readonly backend: PumpBackend,
  ) {
    if (!name) throw new Error('a subscription needs a name');
    this.logger = options.logger ?? new Logger(`Subscription(${name})`);
    this.settings = {
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      retryDelayMsInitial: options.retryDelayMsInitial ?? DEFAULTS.retryDelayMsInitial,
      retryDelayMsMax: options.retryDelayMsMax ?? DEFAULTS.retryDelayMsMax,
      maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
    };
    if (!(this.settings.batchSize >= 1))
      throw new RangeError(`batchSize must be ≥ 1: ${this.settings.batchSize}`);
    if (!(Number.isInteger(this.settings.maxAttempts) && this.settings.maxAttempts >= 1))
      throw new RangeError(`maxAttempts must be an integer ≥ 1: ${this.settings.maxAttempts}`);
  }

  start(): Promise<void> {
    this.starting ??= this.begin();
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopToken.stop();
    this.wake.wake();
    await this.starting?.catch(() => undefined);
    await this.loop;
    this.unsubscribeLocal?.();
    this.unsubscribeLocal = undefined;
    this.unsubscribeRetry?.();
    this.unsubscribeRetry = undefined;
    await this.releaseLease();
    this.starting = undefined;
    this.loop = undefined;
    this.position = undefined;
    this.blockedStreams = undefined;
  }

  /**
   * Waits for the last event committed before the call, even one still held back behind an older open
   * transaction (the checkpoint gets there once that transaction ends), so "I appended, now my projection has
   * it" holds. A parked event counts as reached: the checkpoint moved past it and it is reported.
   */
  async waitUntilCaughtUp(timeoutMs = CAUGHT_UP_TIMEOUT_MS): Promise<void> {
    const target = await this.backend.committedHead();
    if (!target) return;
    this.wake.wake();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current =
        this.lease && this.position !== undefined ? this.position : await this.checkpoint();
      if (current && compareCheckpoints(current, target) >= 0) return;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        const at = current ? formatCheckpoint(current) : 'the start';
        throw new Error(
          `subscription ${this.name} not caught up after ${timeoutMs} ms: at ${at}, head ${formatCheckpoint(target)}`,
        );
      }
      await this.progress.wait(Math.min(remainingMs, CAUGHT_UP_POLL_MS));
    }
  }

  checkpoint(): Promise<Checkpoint | null> {
    return this.backend.loadCheckpoint(this.name);
  }

  private async begin(): Promise<void> {
    const note = await this.backend.checkServerOrigin(this.name);
    if (note) this.logger.warn(note);
    this.stopToken = new StopToken();
    this.unsubscribeLocal = this.backend.onLocalAppend(() => this.wake.wake());
    this.unsubscribeRetry = this.backend.onRetryRequested(() => {
      this.parkedCheckDue = true;
      this.wake.wake();
    });
    const lease = await this.acquireLease();
    if (!lease) return;
    this.takeLease(lease);
    this.loop = this.run();
  }

  /** A new lease: everything in memory may be stale (another instance may have consumed meanwhile). */
  private takeLease(lease: ConsumerLease): void {
    this.lease = lease;
    this.position = undefined;
    this.blockedStreams = undefined;
    this.activated = false;
    this.positionBeforeFailure = undefined;
    this.failures = undefined;
    this.isolating = undefined;
    this.parkedCheckDue = true;
  }

  private acquireLease(): Promise<ConsumerLease | null> {
    const stopToken = this.stopToken;
    return this.backend.acquireLease(this.name, {
      retryIntervalMs: this.settings.pollIntervalMs,
      isStopping: () => stopToken.stopped,
      sleep: (ms) => stopToken.sleep(ms),
      onWake: () => this.wake.wake(),
      onLost: () => this.wake.wake(),
      onError: (error) => this.logger.warn(`cannot take its lease yet: ${describe(error)}`),
    });
  }

  /** Never throws: every failure is logged and retried (or parked) until stop(). */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopToken.stopped) {
      try {
        if (!this.lease || this.lease.lost) {
          if (!(await this.retakeLease())) break;
          continue;
        }
        const progress = await this.pumpOnce();
        attempt = 0;
        if (progress === 'idle') await this.wake.wait(this.settings.pollIntervalMs);
        if (progress === 'held-back') await this.wake.wait(this.nextHeldBackDelayMs());
        if (progress !== 'held-back') this.heldBackDelayMs = HELD_BACK_DELAY_MS_INITIAL;
      } catch (error) {
        attempt += 1;
        if (this.position !== undefined) this.positionBeforeFailure = this.position;
        this.position = undefined;
        this.blockedStreams = undefined;
        // A spent streak is not retried: the next turn narrows the batch down or parks the event at once.
        const spent =
          error instanceof HandlerFailure &&
          (this.failures?.count ?? 0) >= this.settings.maxAttempts;
        const delayMs = spent
          ? 0
          : Math.min(
              this.settings.retryDelayMsInitial * 2 ** Math.min(attempt - 1, 30),
              this.settings.retryDelayMsMax,
            );
        this.reportFailure(error, attempt, delayMs, spent);
        if (delayMs > 0) await this.stopToken.sleep(delayMs);
      }
    }
  }

  private nextHeldBackDelayMs(): number {
    const delayMs = this.heldBackDelayMs;
    this.heldBackDelayMs = Math.min(delayMs * 2, this.settings.pollIntervalMs);
    return delayMs;
  }

  /** One turn: a parked row delivered again, or the next batch ('more' when there may be more right away). */
  private async pumpOnce(): Promise<Progress> {
    if (this.position === undefined || this.blockedStreams === undefined) {
      await this.backend.ensureCheckpoint(this.name);
      this.position = await this.backend.loadCheckpoint(this.name);
      this.blockedStreams = await this.backend.parkedStreams(this.name, PARTITION);
      const before = this.positionBeforeFailure;
      this.positionBeforeFailure = undefined;
      if (before !== undefined && !samePosition(before, this.position)) this.activated = false;
    }
    if (!this.activated) {
      await this.options.onActivate?.(this.position);
      this.activated = true;
    }
    if (await this.redeliverDueParked(this.blockedStreams)) return 'more';
    return this.deliverNext(this.position, this.blockedStreams);
  }

  /**
   * Reads the next batch (one event while isolating a failed batch). Events of blocked streams are parked behind
   * their stream's failed event in the batch's transaction; the others go to the handler.
   */
  private async deliverNext(previous: Checkpoint | null, blocked: Set<string>): Promise<Progress> {
    const limit = this.isolating ? 1 : this.settings.batchSize;
    const { events, next, heldBack } = await this.backend.readBatch(previous, limit, this.options);
    if (!next) return heldBack ? 'held-back' : 'idle';
    const delivered = events.filter((e) => !blocked.has(e.streamId));
    const held = events.filter((e) => blocked.has(e.streamId));
    const key = `at:${previous ? formatCheckpoint(previous) : 'start'}`;
    const streak = this.failures?.key === key ? this.failures : undefined;
    if (streak && streak.count >= this.settings.maxAttempts) {
      const [failing, ...others] = delivered;
      if (others.length > 0) {
        this.isolate(next, streak);
        return 'more';
      }
      if (failing) {
        await this.parkFailing(previous, next, failing, held, streak);
        return 'more';
      }
    }
    try {
      await this.commitDelivery(previous, next, delivered, held);
    } catch (error) {
      if (error instanceof HandlerFailure) this.noteFailure(key, error.cause);
      throw error;
    }
    if (this.failures?.key === key) this.failures = undefined;
    this.advance(next);
    if (delivered.length > 0 && this.options.afterCommit) await this.runAfterCommit(delivered);
    if (events.length >= limit) return 'more';
    return heldBack ? 'held-back' : 'idle';
  }

  /** The handler (in the transaction, or before it) and the blocked rows, then the checkpoint's CAS. */
  private async commitDelivery(
    previous: Checkpoint | null,
    next: Checkpoint,
    delivered: RecordedEvent[],
    held: RecordedEvent[],
  ): Promise<void> {
    const blockedRows = held.map((e) => parkRequest(e, 'blocked'));
    const park = async (tx: Transaction): Promise<void> => {
      await this.backend.park(tx, this.name, PARTITION, blockedRows);
    };
    if (this.options.handlerOutsideTransaction) {
      if (delivered.length > 0) await this.callHandler(delivered, this.backend.autocommit);
      await this.backend.commitBatch(this.name, previous, next, park);
      return;
    }
    await this.backend.commitBatch(this.name, previous, next, async (tx) => {
      if (delivered.length > 0) await this.callHandler(delivered, tx);
      await park(tx);
    });
  }

  private async callHandler(events: RecordedEvent[], tx: Transaction): Promise<void> {
    try {
      await this.handler(events, tx);
    } catch (error) {
      throw new HandlerFailure(error);
    }
  }

  private noteFailure(key: string, error: unknown): FailureStreak {
    const now = new Date();
    const streak =
      this.failures?.key === key
        ? this.failures
        : { key, count: 0, firstAt: now, lastAt: now, error };
    streak.count += 1;
    streak.lastAt = now;
    streak.error = error;
    this.failures = streak;
    return streak;
  }

  private isolate(through: Checkpoint, streak: FailureStreak): void {
    this.failures = undefined;
    this.isolating = { through, batchFailures: streak.count, firstFailedAt: streak.firstAt };
    this.logger.warn(
      `batch failed ${streak.count} times: delivering its events one at a time up to ${formatCheckpoint(through)} to find the failing one`,
    );
  }

  private advance(next: Checkpoint): void {
    this.position = next;
    if (this.isolating && compareCheckpoints(next, this.isolating.through) >= 0)
      this.isolating = undefined;
    this.progress.notify();
  }

  /**
   * Parks `failing` (it failed maxAttempts times on its own) and moves the checkpoint past it in one transaction;
   * its stream's later events wait behind it from now on.
   */
  private async parkFailing(
    previous: Checkpoint | null,
    next: Checkpoint,
    failing: RecordedEvent,
    held: RecordedEvent[],
    streak: FailureStreak,
  ): Promise<void> {
    const isolation =
      this.isolating && compareCheckpoints(checkpointOf(failing), this.isolating.through) <= 0
        ? this.isolating
        : undefined;
    const failure: ParkedFailure = {
      error: describe(streak.error),
      attempts: streak.count + (isolation?.batchFailures ?? 0),
      firstFailedAt: isolation?.firstFailedAt ?? streak.firstAt,
      lastFailedAt: streak.lastAt,
    };
    const requests = [
      parkRequest(failing, 'failed', failure),
      ...held.map((e) => parkRequest(e, 'blocked')),
    ];
    let parked: ParkedEvent[] = [];
    await this.backend.commitBatch(this.name, previous, next, async (tx) => {
      parked = await this.backend.park(tx, this.name, PARTITION, requests);
    });
    this.failures = undefined;
    this.blockedStreams?.add(failing.streamId);
    this.advance(next);
    const row = parked.find((p) => p.status === 'failed');
    this.reportParked(streak.error, failure.attempts, row, 'parked');
  }

  /** Delivers one due parked row again, if there is one (looked for at most every poll interval). */
  private async redeliverDueParked(blocked: Set<string>): Promise<boolean> {
    if (blocked.size === 0) return false;
    const nowMs = Date.now();
    if (!this.parkedCheckDue && nowMs < this.nextParkedCheckAtMs) return false;
    this.parkedCheckDue = false;
    this.nextParkedCheckAtMs = nowMs + this.settings.pollIntervalMs;
    const row = await this.backend.nextDueParked(this.name, PARTITION);
    if (!row) return false;
    // More may be due right after this one (the blocked events of its stream), or again after a failure.
    this.parkedCheckDue = true;
    await this.redeliver(row);
    return true;
  }

  /**
   * A requested retry of a failed row gets one attempt; a blocked row (its stream's failed event was delivered)
   * gets maxAttempts like any event, then becomes the failed event its stream waits behind.
   */
  private async redeliver(row: ParkedEvent): Promise<void> {
    const [event] = await this.backend.readEventsAt([row.globalPosition]);
    if (!event)
      throw new Error(`parked event ${row.id}: no event at global position ${row.globalPosition}`);
    const key = `parked:${row.id}`;
    try {
      if (this.options.handlerOutsideTransaction) {
        await this.callHandler([event], this.backend.autocommit);
        await this.backend.commitRedelivery(row.id, async () => undefined);
      } else {
        await this.backend.commitRedelivery(row.id, (tx) => this.callHandler([event], tx));
      }
    } catch (error) {
      if (!(error instanceof HandlerFailure)) {
        // The redelivery may have committed all the same (a lost COMMIT reply): memory is in doubt.
        this.activated = false;
        throw error;
      }
      const streak = this.noteFailure(key, error.cause);
      if (row.status === 'blocked' && streak.count < this.settings.maxAttempts) throw error;
      const attempts = row.status === 'failed' ? 1 : streak.count;
      const updated = await this.backend.recordParkedFailure(row.id, {
        error: describe(error.cause),
        attempts,
        firstFailedAt: streak.firstAt,
        lastFailedAt: streak.lastAt,
      });
      this.failures = undefined;
      this.reportParked(
        error.cause,
        updated?.attempts ?? attempts,
        updated ?? row,
        row.status === 'failed' ? 'retry failed' : 'parked',
      );
      return;
    }
    if (this.failures?.key === key) this.failures = undefined;
    // Reloaded on the next turn: the stream may have no parked row left.
    this.blockedStreams = undefined;
    this.logger.log(
      `delivered parked event ${row.id} (${event.streamId} v${event.streamVersion}, ${event.type}) again`,
    );
    if (this.options.afterCommit) await this.runAfterCommit([event]);
  }

  private async runAfterCommit(events: RecordedEvent[]): Promise<void> {
    try {
      await this.options.afterCommit?.(events);
    } catch (error) {
      this.logger.error(
        `afterCommit failed (the batch stays committed): ${describe(error)}`,
        stackOf(error),
      );
    }
  }

  private async retakeLease(): Promise<boolean> {
    this.logger.warn('lost its lease (connection closed); waiting to take it again');
    await this.releaseLease();
    this.position = undefined;
    const lease = await this.acquireLease();
    if (!lease) return false;
    this.takeLease(lease);
    return true;
  }

  private async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    try {
      await lease?.release();
    } catch (error) {
      this.logger.warn(`releasing its lease failed: ${describe(error)}`);
    }
  }

  private reportFailure(error: unknown, attempt: number, delayMs: number, spent: boolean): void {
    const cause = error instanceof HandlerFailure ? error.cause : error;
    const next = spent
      ? `failed ${this.settings.maxAttempts} times: narrowing it down to the failing event`
      : `retrying in ${delayMs} ms`;
    this.logger.error(
      `batch failed (attempt ${attempt}), rolled back, ${next}: ${describe(cause)}`,
      stackOf(cause),
    );
    this.callOnError(cause, attempt);
  }

  private reportParked(
    error: unknown,
    attempts: number,
    row: ParkedEvent | undefined,
    what: 'parked' | 'retry failed',
  ): void {
    const where = row
      ? `event ${row.streamId} v${row.streamVersion} (${row.type}, global position ${row.globalPosition}) as parked event ${row.id}`
      : 'an event';
    const message =
      what === 'parked'
        ? `parked ${where} after ${attempts} failed attempts; later events of its stream wait behind it: ${describe(error)}`
        : `retry of ${where} failed (${attempts} attempts in all); it stays parked: ${describe(error)}`;
    this.logger.error(message, stackOf(error));
    this.callOnError(error, attempts, row);
  }

  private callOnError(error: unknown, attempt: number, parked?: ParkedEvent): void {
    try {
      if (parked) this.options.onError?.(error, attempt, parked);
      else this.options.onError?.(error, attempt);
    } catch (callbackError) {
      this.logger.warn(`onError threw: ${describe(callbackError)}`);
    }
  }
}

function samePosition(a: Checkpoint | null, b: Checkpoint | null): boolean {
  return a === null || b === null ? a === b : compareCheckpoints(a, b) === 0;
}

function parkRequest(
  event: RecordedEvent,
  status: ParkRequest['status'],
  failure?: ParkedFailure,
): ParkRequest {
  return {
    status,
    globalPosition: event.globalPosition,
    transactionId: event.transactionId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    ...(failure ? { failure } : {}),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
