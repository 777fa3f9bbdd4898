import type {
  AppendOptions,
  AppendRequest,
  AppendResult,
  EventStore,
  EventToAppend,
} from './event-store';

export interface GroupCommitOptions {
  /** Most requests per transaction (default 64: within PostgreSQL's cached subtransactions per backend). */
  maxBatch?: number;
  /** Transactions in flight at once (default 2): while they run, new requests queue and form the next batch. */
  maxInFlight?: number;
}

interface Pending {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit over `EventStore.appendBatch`: appends that arrive while earlier ones are committing wait and go
 * together in the next transaction. Nothing is delayed on purpose: a lone append starts at once (and goes through
 * the plain `append`), so one client sees the same latency as without it. Each caller still gets its own result or
 * error, exactly as from `append`; per-stream order holds because appendBatch locks every stream before writing.
 */
export class GroupCommitAppender {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly store: EventStore,
    options: GroupCommitOptions = {},
  ) {
    if (!store.appendBatch) throw new Error('group commit needs an event store with appendBatch');
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  }

  append(streamId: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request: { streamId, events, options }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only) {
      const { streamId, events, options } = only.request;
      await this.store.append(streamId, events, options).then(only.resolve, only.reject);
      return;
    }
    try {
      const outcomes = await (
        this.store.appendBatch as NonNullable<EventStore['appendBatch']>
      ).call(
        this.store,
        batch.map((p) => p.request),
      );
      batch.forEach((pending, i) => {
        const outcome = outcomes[i];
        if (!outcome) pending.reject(new Error('appendBatch returned no outcome'));
        else if (outcome.ok) pending.resolve(outcome.result);
        else pending.reject(outcome.error);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
