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
import type { Prng } from './prng';

/** Runs a group of tasks concurrently; each outcome in task order. */
export interface ConcurrentRunner {
  all<T>(tasks: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]>;
}

/** Database backends: the database interleaves the writers (invariants only, no determinism). */
export const REAL_CONCURRENCY: ConcurrentRunner = {
  all: (tasks) => Promise.allSettled(tasks.map((task) => task())),
};

/** Turns of the event loop with nothing parked before a group counts as stalled. */
const MAX_IDLE_TURNS = 100_000;

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Seeded interleaving of concurrent writers on the in-memory store. While a group runs, every store call of the
 * ledgers first waits at a yield point (`ScheduledEventStore`). The scheduler lets the microtask queue drain (one
 * macrotask turn: the in-memory store never waits on real I/O or timers, so then every task is either finished or
 * parked at a yield point) and releases ONE parked call, chosen by its PRNG. The order in which calls park is
 * itself a function of earlier choices, so a seed fixes the whole interleaving: read-modify-append races,
 * ConcurrencyError retries and all. Outside a group the yield points cost nothing.
 */
export class SeededScheduler implements ConcurrentRunner {
  private active = false;
  private readonly parked: (() => void)[] = [];
  /** Yield points released (for the report). */
  switches = 0;

  constructor(private readonly random: Prng) {}

  /** A yield point: undefined (carry on at once) unless a concurrent group is running. */
  point(): Promise<void> | undefined {
    if (!this.active) return undefined;
    return new Promise((resolve) => this.parked.push(resolve));
  }

  async all<T>(tasks: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
    if (this.active) throw new Error('concurrent groups do not nest');
    this.active = true;
    let finished = 0;
    const running = tasks.map((task) =>
      task().finally(() => {
        finished += 1;
      }),
    );
    const settled = Promise.allSettled(running);
    try {
      for (let idle = 0; finished < tasks.length;) {
        await nextMacrotask();
        if (this.parked.length === 0) {
          // Something waits on neither the scheduler nor a microtask: real I/O or a timer, or a deadlock.
          if (++idle > MAX_IDLE_TURNS) throw new Error('scheduler: concurrent tasks stalled');
          continue;
        }
        idle = 0;
        const [release] = this.parked.splice(this.random.int(this.parked.length), 1);
        this.switches += 1;
        release?.();
      }
    } finally {
      this.active = false;
      for (const release of this.parked.splice(0)) release();
    }
    return settled;
  }
}

/** An EventStore whose calls pass a scheduler's yield point first (the ledgers' view of the in-memory store). */
export class ScheduledEventStore implements EventStore {
  readonly kind: EventStore['kind'];

  constructor(
    readonly inner: EventStore,
    private readonly scheduler: SeededScheduler,
  ) {
    this.kind = inner.kind;
  }

  private gate<T>(call: () => Promise<T>): Promise<T> {
    const point = this.scheduler.point();
    return point ? point.then(call) : call();
  }

  append(streamId: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    return this.gate(() => this.inner.append(streamId, events, options));
  }

  streamVersion(streamId: string): Promise<number> {
    return this.gate(() => this.inner.streamVersion(streamId));
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.gate(() => this.inner.readStream(streamId, options));
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.gate(() => this.inner.readAll(options));
  }

  headCheckpoint(): Promise<Checkpoint | null> {
    return this.gate(() => this.inner.headCheckpoint());
  }

  isVisible(globalPosition: bigint): Promise<boolean> {
    return this.gate(() => this.inner.isVisible(globalPosition));
  }

  subscribe(
    name: string,
    handler: SubscriptionHandler,
    options?: SubscriptionOptions,
  ): Subscription {
    return this.inner.subscribe(name, handler, options);
  }

  commandResult(commandId: string): Promise<AppendResult | null> {
    const inner = this.inner;
    return this.gate(() =>
      inner.commandResult ? inner.commandResult(commandId) : Promise.resolve(null),
    );
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.gate(() => this.inner.saveSnapshot(snapshot));
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<Snapshot | null> {
    return this.gate(() => this.inner.loadSnapshot(streamId, atOrBeforeVersion));
  }

  withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.gate(() => this.inner.withTransaction(work));
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.gate(() => this.inner.query<T>(sql, params));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
