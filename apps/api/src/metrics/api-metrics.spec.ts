/**
 * Goal: /metrics shows the risk saga's own counters (what this process's saga appended or had rejected), read from
 * `Ledger.sagaMetrics()` at each scrape, and zeros when the saga does not run in this process; and the events each
 * consumer parked, and those waiting behind them, as the store counts them at each scrape.
 */
import type { EventStore, ParkedCount } from '@ledger/event-store';
import { ApiMetrics } from './api-metrics';

const store = { query: async () => [] } as unknown as EventStore;

describe('ApiMetrics: the risk saga counters', () => {
  it("mirrors the saga's counters at each scrape, rejected commands included", async () => {
    const counters = { autoExchanges: 2, liquidations: 1, rejected: 3 };
    const metrics = new ApiMetrics(store, { sagaMetrics: () => counters });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/^ledger_auto_exchanges_total 2$/m);
    expect(text).toMatch(/^ledger_liquidations_total 1$/m);
    expect(text).toMatch(/^ledger_risk_saga_rejected_total 3$/m);
    counters.rejected = 5;
    counters.liquidations = 4;
    text = await metrics.registry.metrics();
    expect(text).toMatch(/^ledger_liquidations_total 4$/m);
    expect(text).toMatch(/^ledger_risk_saga_rejected_total 5$/m);
  });

  it('answers zeros when the saga does not run here', async () => {
    const metrics = new ApiMetrics(store, { sagaMetrics: () => undefined });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^ledger_auto_exchanges_total 0$/m);
    expect(text).toMatch(/^ledger_liquidations_total 0$/m);
    expect(text).toMatch(/^ledger_risk_saga_rejected_total 0$/m);
  });
});

describe('ApiMetrics: parked events', () => {
  it('shows per consumer the events it parked and those waiting behind them, as they are at each scrape', async () => {
    let counts: ParkedCount[] = [
      { consumer: 'margin-history', partition: 0, failed: 2, blocked: 5 },
      { consumer: 'risk-saga', partition: 0, failed: 1, blocked: 0 },
    ];
    const parkingStore = {
      query: async () => [],
      parkedCounts: async () => counts,
    } as unknown as EventStore;
    const metrics = new ApiMetrics(parkingStore, { sagaMetrics: () => undefined });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(
      /^ledger_consumer_parked_events\{consumer="margin-history",status="failed"\} 2$/m,
    );
    expect(text).toMatch(
      /^ledger_consumer_parked_events\{consumer="margin-history",status="blocked"\} 5$/m,
    );
    expect(text).toMatch(
      /^ledger_consumer_parked_events\{consumer="risk-saga",status="failed"\} 1$/m,
    );

    counts = [];
    text = await metrics.registry.metrics();
    expect(text).not.toMatch(/^ledger_consumer_parked_events\{/m);
  });
});
