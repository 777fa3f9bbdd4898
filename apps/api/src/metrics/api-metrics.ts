import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@ledger/event-store';
import { LEDGER, type Ledger, type RiskSagaMetrics } from '@ledger/ledger-application';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read from the Ledger: the risk saga's counters (undefined when it does not run here). */
export type SagaMetricsSource = Pick<Ledger, 'sagaMetrics'>;

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
 * commands by name and outcome with a latency histogram, events per append, subscription lag and parked events per
 * consumer, and the risk saga's own counters in this process (auto-exchanges and liquidations it appended, its commands the domain
 * rejected), read from `Ledger.sagaMetrics()` at each scrape.
 */
@Injectable()
export class ApiMetrics {
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

  constructor(
    @Inject(EVENT_STORE) eventStore: EventStore,
    @Inject(LEDGER) ledger: SagaMetricsSource,
  ) {
    new Gauge({
      name: 'ledger_subscription_lag_events',
      help: "Committed events after each durable consumer's checkpoint",
      labelNames: ['consumer'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [consumer, lag] of await subscriptionLags(eventStore))
          this.set({ consumer }, lag);
      },
    });
    new Gauge({
      name: 'ledger_consumer_parked_events',
      help: 'Events each durable consumer parked after they kept failing (status="failed") and the later events of their streams waiting behind them (status="blocked"); ledger parked lists and retries them',
      labelNames: ['consumer', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const count of (await eventStore.parkedCounts?.()) ?? []) {
          this.inc({ consumer: count.consumer, status: 'failed' }, count.failed);
          this.inc({ consumer: count.consumer, status: 'blocked' }, count.blocked);
        }
      },
    });
    const sagaCounter = (
      name: string,
      help: string,
      read: (m: RiskSagaMetrics) => number,
    ): void => {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          // The saga owns the count (monotonic while the process lives): mirror it at each scrape.
          this.reset();
          const value = read(
            ledger.sagaMetrics() ?? { autoExchanges: 0, liquidations: 0, rejected: 0 },
          );
          if (value > 0) this.inc(value);
        },
      });
    };
    sagaCounter(
      'ledger_auto_exchanges_total',
      "AutoExchangeExecuted events appended by this process's risk saga since it started",
      (m) => m.autoExchanges,
    );
    sagaCounter(
      'ledger_liquidations_total',
      "PositionLiquidated events appended by this process's risk saga since it started",
      (m) => m.liquidations,
    );
    sagaCounter(
      'ledger_risk_saga_rejected_total',
      "Commands of this process's risk saga (AutoExchange, Liquidate) that the domain rejected",
      (m) => m.rejected,
    );
    collectDefaultMetrics({ register: this.registry, prefix: 'ledger_api_' });
  }
}
