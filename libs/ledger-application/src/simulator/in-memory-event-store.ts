import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  Snapshot,
  Subscription,
  SubscriptionHandler,
  SubscriptionOptions,
  Transaction,
} from '@ledger/event-store';
import { ConcurrencyError } from '@ledger/event-store';

/** Every event's recording time: one shared instance (a long simulation holds millions of events). */
const RECORDED_AT = new Date(0);

/** Deliveries of one failing batch before the error is passed on to waitUntilCaughtUp. */
const MAX_REDELIVERIES = 5;

const NO_SQL: Transaction = {
  query: () =>
    Promise.reject(new Error('the in-memory event store has no SQL; run without SQL projections')),
};

/**
 * An `EventStore` in process memory: the same contract without durability or SQL. It backs the pure simulator
 * (fast scenario runs, property tests, brute-force risk checks); the product runs on PostgreSQL or PGlite.
 * Transactions are sequential, so transaction id = global position.
 */
export class InMemoryEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  private readonly events: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly commands = new Map<string, AppendResult>();
  private readonly snapshots = new Map<string, Snapshot[]>();
  private readonly checkpoints = new Map<string, Checkpoint>();

  /** Appends run one at a time (a transaction each): a projection awaited mid-append cannot let another in. */
  private appending: Promise<unknown> = Promise.resolve();

  append(streamId: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    const run = this.appending.then(() => this.appendNow(streamId, events, options));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private appendNow(
    streamId: string,
    events: EventToAppend[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const seen = this.commands.get(options.commandId);
    if (seen) return Promise.resolve({ ...seen, duplicate: true });
    const stream = this.streams.get(streamId) ?? [];
    const version = stream.length;
    if (options.expectedVersion !== 'any' && options.expectedVersion !== version) {
      return Promise.reject(new ConcurrencyError(streamId, options.expectedVersion, version));
    }
    const transactionId = BigInt(this.events.length + 1);
    const recorded = events.map((e, i): RecordedEvent => ({
      globalPosition: BigInt(this.events.length + i + 1),
      transactionId,
      streamId,
      streamVersion: version + i + 1,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      recordedAt: RECORDED_AT,
    }));
    const result: AppendResult = {
      streamId,
      firstVersion: version + 1,
      lastVersion: version + events.length,
      globalPositions: recorded.map((r) => r.globalPosition),
      transactionId,
      duplicate: false,
    };
    const commit = async (): Promise<AppendResult> => {
      if (options.onAppended) await options.onAppended(NO_SQL, result, recorded);
      for (const r of recorded) this.events.push(r);
      for (const r of recorded) stream.push(r);
      this.streams.set(streamId, stream);
      this.commands.set(options.commandId, result);
      return result;
    };
    return commit();
  }

  streamVersion(streamId: string): Promise<number> {
    return Promise.resolve(this.streams.get(streamId)?.length ?? 0);
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    // Versions are 1..n in order: slice by version instead of scanning the stream.
    const from = Math.max(options.fromVersion ?? 1, 1);
    const stream = this.streams.get(streamId) ?? [];
    const slice = stream.slice(from - 1, options.toVersion ?? stream.length);
    const limit = options.toGlobalPosition;
    return Promise.resolve(
      limit === undefined ? slice : slice.filter((e) => e.globalPosition <= limit),
    );
  }

  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after?.globalPosition ?? 0n;
    const limit = options.limit ?? 1000;
    const out: RecordedEvent[] = [];
    for (let i = Number(after); i < this.events.length && out.length < limit; i++) {
      const e = this.events[i];
      if (!e) break;
      if (options.streamPrefixes && !options.streamPrefixes.some((p) => e.streamId.startsWith(p)))
        continue;
      if (options.types && !options.types.includes(e.type)) continue;
      out.push(e);
    }
    return Promise.resolve(out);
  }

  isVisible(globalPosition: bigint): Promise<boolean> {
    return Promise.resolve(globalPosition <= BigInt(this.events.length));
  }

  headCheckpoint(): Promise<Checkpoint | null> {
    const last = this.events[this.events.length - 1];
    return Promise.resolve(
      last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : null,
    );
  }

  subscribe(
    name: string,
    handler: SubscriptionHandler,
    options: SubscriptionOptions = {},
  ): Subscription {
    let pumping: Promise<void> = Promise.resolve();
    let activated = false;
    const pump = async (): Promise<void> => {
      // Like the SQL pump: a consumer's in-memory view is derived from its checkpoint when it becomes active.
      if (!activated) {
        await options.onActivate?.(this.checkpoints.get(name) ?? null);
        activated = true;
      }
      for (let attempt = 1; ;) {
        const batch = await this.readAll({
          after: this.checkpoints.get(name) ?? null,
          limit: options.batchSize ?? 500,
          ...(options.streamPrefixes ? { streamPrefixes: options.streamPrefixes } : {}),
          ...(options.types ? { types: options.types } : {}),
        });
        const last = batch[batch.length - 1];
        if (!last) return;
        try {
          await handler(batch, NO_SQL);
        } catch (error) {
          // Like the SQL pump: the checkpoint stays, the same batch is delivered again (at once: no real time
          // passes in memory), a bounded number of times before the error reaches waitUntilCaughtUp.
          options.onError?.(error, attempt);
          if (attempt >= MAX_REDELIVERIES) throw error;
          attempt += 1;
          continue;
        }
        attempt = 1;
        this.checkpoints.set(name, {
          transactionId: last.transactionId,
          globalPosition: last.globalPosition,
        });
        // "Committed": views that folded the batch in a draft make it theirs now (SubscriptionOptions).
        await options.afterCommit?.(batch);
      }
    };
    return {
      name,
      start: () => Promise.resolve(),
      stop: async () => {
        await pumping.catch(() => undefined);
      },
      waitUntilCaughtUp: async () => {
        pumping = pumping.catch(() => undefined).then(pump);
        await pumping;
      },
      checkpoint: () => Promise.resolve(this.checkpoints.get(name) ?? null),
    };
  }

  commandResult(commandId: string): Promise<AppendResult | null> {
    return Promise.resolve(this.commands.get(commandId) ?? null);
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    const list = (this.snapshots.get(snapshot.streamId) ?? []).filter(
      (s) => s.streamVersion !== snapshot.streamVersion,
    );
    list.push(snapshot);
    list.sort((a, b) => a.streamVersion - b.streamVersion);
    this.snapshots.set(snapshot.streamId, list);
    return Promise.resolve();
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<Snapshot | null> {
    const list = this.snapshots.get(streamId) ?? [];
    const fit = list.filter(
      (s) => atOrBeforeVersion === undefined || s.streamVersion <= atOrBeforeVersion,
    );
    return Promise.resolve(fit[fit.length - 1] ?? null);
  }

  withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return work(NO_SQL);
  }

  query<T = Record<string, unknown>>(): Promise<T[]> {
    return NO_SQL.query<T>('');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
