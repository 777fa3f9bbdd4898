import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { EventBus, ofType } from '@nestjs/cqrs';
import {
  type Checkpoint,
  EVENT_STORE,
  type EventStore,
  LedgerEventRecorded,
  checkpointOf,
  formatCheckpoint,
} from '@ledger/event-store';
import {
  LEDGER,
  type Ledger,
  accountIdOf,
  accountStream,
  toJson,
} from '@ledger/ledger-application';
import type { Subscription } from 'rxjs';

/** Where a client writes: the raw Node response of a hijacked Fastify reply. */
export interface SseSink {
  write(chunk: string): boolean;
  end(): void;
  on(event: 'close', listener: () => void): unknown;
}

interface Client {
  sink: SseSink;
  /** Only this account's stream; undefined: every stream (operators). */
  accountId: string | undefined;
  after: Checkpoint | null;
  pumping: boolean;
  again: boolean;
  closed: boolean;
}

const BATCH_SIZE = 500;
const POLL_INTERVAL_MS = 1_000;
const HEARTBEAT_INTERVAL_MS = 15_000;
/** Margin views kept for the streams (one per account event recently sent). */
const MARGIN_CACHE_SIZE = 2_000;

/**
 * Server-sent events: each client reads the store in reader order `(transaction_id, global_position)` after its
 * own cursor, below the xmin horizon, so it never skips or repeats an event, whatever commits concurrently. The
 * EventBus (fed by the durable pump) only wakes the clients; a poll covers a missed wake-up. Each message's id is
 * the opaque cursor `<transaction_id>:<global_position>`, which `Last-Event-ID` resumes from. An account event
 * carries the account's margin figures right after it (as of its global position), not the state at send time.
 */
@Injectable()
export class LiveStreams implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LiveStreams');
  private readonly clients = new Set<Client>();
  private readonly marginCache = new Map<string, Promise<unknown>>();
  private subscription: Subscription | undefined;
  private poll: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER) private readonly ledger: Ledger,
    private readonly eventBus: EventBus,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  onModuleInit(): void {
    this.subscription = this.eventBus
      .pipe(ofType(LedgerEventRecorded))
      .subscribe(() => this.wakeAll());
    this.poll = setInterval(() => this.wakeAll(), POLL_INTERVAL_MS);
    this.poll.unref();
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) client.sink.write(': keep-alive\n\n');
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /** Ends every stream so that the HTTP server can close (graceful shutdown). */
  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    clearInterval(this.poll);
    clearInterval(this.heartbeat);
    for (const client of this.clients) {
      client.closed = true;
      client.sink.end();
    }
    this.clients.clear();
  }

  /** Starts a stream after `after` (null: from the first event). */
  open(sink: SseSink, accountId: string | undefined, after: Checkpoint | null): void {
    const client: Client = { sink, accountId, after, pumping: false, again: false, closed: false };
    this.clients.add(client);
    sink.on('close', () => {
      client.closed = true;
      this.clients.delete(client);
    });
    sink.write('retry: 1000\n\n');
    void this.pump(client);
  }

  /** The current end of the store, for streams that start "now". */
  head(): Promise<Checkpoint | null> {
    return this.store.headCheckpoint();
  }

  private wakeAll(): void {
    for (const client of this.clients) void this.pump(client);
  }

  private async pump(client: Client): Promise<void> {
    if (client.pumping) {
      client.again = true;
      return;
    }
    client.pumping = true;
    try {
      do {
        client.again = false;
        await this.drain(client);
      } while (client.again && !client.closed);
    } catch (error) {
      this.logger.error(`stream read failed: ${String(error)}`);
    } finally {
      client.pumping = false;
    }
  }

  private async drain(client: Client): Promise<void> {
    const prefixes = client.accountId === undefined ? undefined : [accountStream(client.accountId)];
    const wanted = client.accountId === undefined ? undefined : accountStream(client.accountId);
    while (!client.closed) {
      const batch = await this.store.readAll({
        after: client.after,
        limit: BATCH_SIZE,
        ...(prefixes === undefined ? {} : { streamPrefixes: prefixes }),
      });
      const last = batch[batch.length - 1];
      if (!last) return;
      // A prefix also matches longer ids (account-a1 → account-a10): keep the exact stream only.
      const events = wanted === undefined ? batch : batch.filter((e) => e.streamId === wanted);
      // One as-of read at a time: a long replay must not take every connection of the pool.
      const figures: unknown[] = [];
      for (const e of events) {
        const accountId = accountIdOf(e.streamId);
        figures.push(
          accountId === undefined ? undefined : await this.marginAfter(accountId, e.globalPosition),
        );
        if (client.closed) return;
      }
      let text = '';
      events.forEach((e, i) => {
        const cursor = formatCheckpoint(checkpointOf(e));
        const accountId = accountIdOf(e.streamId);
        const payload = {
          cursor,
          event: toJson(e),
          ...(accountId === undefined ? {} : { accountId, margin: figures[i] ?? null }),
        };
        text += `id: ${cursor}\nevent: ledger-event\ndata: ${JSON.stringify(payload)}\n\n`;
      });
      if (text !== '') client.sink.write(text);
      client.after = checkpointOf(last);
      if (batch.length < BATCH_SIZE) return;
    }
  }

  /**
   * The account's margin figures right after the event at `position` (as of that global position, with the prices
   * and rules in force then): the same figures live and on a replay after a reconnect. A committed position's view
   * never changes, so views are shared by every client (the operators' and the account's streams) in a small cache.
   */
  private marginAfter(accountId: string, position: bigint): Promise<unknown> {
    const key = `${accountId}\u0000${position}`;
    const cached = this.marginCache.get(key);
    if (cached) return cached;
    const view = this.ledger.accountView(accountId, { position });
    this.marginCache.set(key, view);
    view.catch(() => this.marginCache.delete(key));
    if (this.marginCache.size > MARGIN_CACHE_SIZE) {
      const oldest = this.marginCache.keys().next().value;
      if (oldest !== undefined) this.marginCache.delete(oldest);
    }
    return view;
  }
}
