import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus, ofType } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, LedgerEventRecorded } from '@ledger/event-store';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Subscription } from 'rxjs';

/** Events behind each durable consumer's checkpoint (0 when caught up), for /metrics and /health. */
export async function subscriptionLags(store: EventStore): Promise<Map<string, number>> {
  const rows = await store.query<{ name: string; lag: string }>(
    `SELECT c.name,
            (SELECT count(*) FROM events e
              WHERE c.global_position IS NULL
                 OR (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position))::text AS lag
       FROM subscription_checkpoints c ORDER BY c.name`,
  );
  return new Map(rows.map((row) => [row.name, Number(row.lag)]));
}

/**
 * The API's Prometheus metrics, in a registry of its own (one per app: tests run several apps in one process):
 * commands by name and outcome with a latency histogram, events per append, subscription lag per consumer,
 * auto-exchanges and liquidations (counted from the EventBus, which the durable pump feeds).
 */
@Injectable()
export class ApiMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  readonly commands = new Counter({
    name: 'ledger_commands_total',
    help: 'Commands received through the API, by command and outcome (accepted, rejected, error)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly commandSeconds = new Histogram({
    name: 'ledger_command_duration_seconds',
    help: 'Latency of commands through the API, by command',
    labelNames: ['command'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly appendBatchEvents = new Histogram({
    name: 'ledger_append_batch_events',
    help: 'Events appended per accepted command',
    buckets: [1, 2, 3, 5, 10, 20, 50, 100, 500],
    registers: [this.registry],
  });
  readonly autoExchanges = new Counter({
    name: 'ledger_auto_exchanges_total',
    help: 'AutoExchangeExecuted events seen since the process started',
    registers: [this.registry],
  });
  readonly liquidations = new Counter({
    name: 'ledger_liquidations_total',
    help: 'PositionLiquidated events seen since the process started',
    registers: [this.registry],
  });
  private subscription: Subscription | undefined;

  constructor(
    @Inject(EVENT_STORE) eventStore: EventStore,
    private readonly eventBus: EventBus,
  ) {
    new Gauge({
      name: 'ledger_subscription_lag_events',
      help: "Committed events after each durable consumer's checkpoint",
      labelNames: ['consumer'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [consumer, lag] of await subscriptionLags(eventStore)) this.set({ consumer }, lag);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ledger_api_' });
  }

  onModuleInit(): void {
    this.subscription = this.eventBus.pipe(ofType(LedgerEventRecorded)).subscribe(({ event }) => {
      if (event.type === 'AutoExchangeExecuted') this.autoExchanges.inc();
      if (event.type === 'PositionLiquidated') this.liquidations.inc();
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
