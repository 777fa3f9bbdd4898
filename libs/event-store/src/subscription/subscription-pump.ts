import { Logger } from '@nestjs/common';

import { compareCheckpoints, formatCheckpoint } from '../checkpoint';
import type {
  Checkpoint,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
  SubscriptionLogger,
  SubscriptionOptions,
  Transaction,
} from '../event-store';
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
}

const DEFAULTS = {
  batchSize: 500,
  pollIntervalMs: 500,
  retryDelayMsInitial: 100,
  retryDelayMsMax: 10_000,
};
const CAUGHT_UP_TIMEOUT_MS = 30_000;
/** How often waitUntilCaughtUp re-reads a checkpoint that another instance (or process) moves. */
const CAUGHT_UP_POLL_MS = 50;
/** First re-read delay while events are held back behind an open transaction; doubles up to the poll interval. */
const HELD_BACK_DELAY_MS_INITIAL = 5;

/**
 * A durable consumer: reads after its stored checkpoint, hands each batch to the handler inside a transaction
 * and stores the new checkpoint in that same transaction, so the handler's writes happen exactly once. A failed
 * batch rolls back, is logged, and is retried with backoff; it is never skipped.
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
  private unsubscribeLocal: (() => void) | undefined;

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
    };
    if (!(this.settings.batchSize >= 1))
      throw new RangeError(`batchSize must be ≥ 1: ${this.settings.batchSize}`);
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
    await this.releaseLease();
    this.starting = undefined;
    this.loop = undefined;
    this.position = undefined;
  }

  /**
   * Waits for the last event committed before the call, even one still held back behind an older open
   * transaction (the checkpoint gets there once that transaction ends), so "I appended, now my projection has
   * it" holds.
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
    const lease = await this.acquireLease();
    if (!lease) return;
    this.lease = lease;
    this.loop = this.run();
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

  /** Never throws: every failure is logged and retried until stop(). */
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
        this.position = undefined;
        const delayMs = Math.min(
          this.settings.retryDelayMsInitial * 2 ** Math.min(attempt - 1, 30),
          this.settings.retryDelayMsMax,
        );
        this.reportFailure(error, attempt, delayMs);
        await this.stopToken.sleep(delayMs);
      }
    }
  }

  private nextHeldBackDelayMs(): number {
    const delayMs = this.heldBackDelayMs;
    this.heldBackDelayMs = Math.min(delayMs * 2, this.settings.pollIntervalMs);
    return delayMs;
  }

  /** One batch: 'more' when it was full, 'held-back' when committed events wait behind an open transaction. */
  private async pumpOnce(): Promise<'more' | 'idle' | 'held-back'> {
    if (this.position === undefined) {
      await this.backend.ensureCheckpoint(this.name);
      this.position = await this.backend.loadCheckpoint(this.name);
    }
    const previous = this.position;
    const { events, next, heldBack } = await this.backend.readBatch(
      previous,
      this.settings.batchSize,
      this.options,
    );
    if (!next) return heldBack ? 'held-back' : 'idle';
    if (this.options.handlerOutsideTransaction) {
      if (events.length > 0) await this.handler(events, this.backend.autocommit);
      await this.backend.commitBatch(this.name, previous, next, async () => undefined);
    } else {
      await this.backend.commitBatch(this.name, previous, next, async (tx) => {
        if (events.length > 0) await this.handler(events, tx);
      });
    }
    this.position = next;
    this.progress.notify();
    if (events.length > 0 && this.options.afterCommit) await this.runAfterCommit(events);
    if (events.length >= this.settings.batchSize) return 'more';
    return heldBack ? 'held-back' : 'idle';
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
    this.lease = lease;
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

  private reportFailure(error: unknown, attempt: number, delayMs: number): void {
    this.logger.error(
      `batch failed (attempt ${attempt}), rolled back, retrying in ${delayMs} ms: ${describe(error)}`,
      stackOf(error),
    );
    try {
      this.options.onError?.(error, attempt);
    } catch (callbackError) {
      this.logger.warn(`onError threw: ${describe(callbackError)}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
