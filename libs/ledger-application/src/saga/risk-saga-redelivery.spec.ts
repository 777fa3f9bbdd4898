/**
 * The risk saga is idempotent under redelivery (issue 11, item 2): a batch delivered again (its checkpoint did not
 * commit) skips the events whose check completed, per stream version, so it re-checks nothing and appends nothing;
 * only events after them are checked. A check that failed is not remembered as done: delivered again, it runs
 * again. In memory, with the saga's handler called directly, as the subscription pump calls it.
 */
import type { RecordedEvent } from '@ledger/event-store';
import { parseReferenceData } from '@ledger/margin-domain';
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from '../ledger/ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from '../ledger/shipped-reference-data';
import { RiskSaga } from './risk-saga';

describe('risk saga under a redelivered batch', () => {
  let ledger: Ledger;
  let n = 0;
  const quiet = { warn: () => undefined, error: () => undefined };

  const run = (input: Record<string, unknown> & { command: string }) =>
    ledger.execute(input, {
      commandId: `c${++n}`,
      at: new Date(Date.UTC(2024, 5, 1) + n * 1000).toISOString(),
    });

  beforeEach(async () => {
    n = 0;
    ledger = await Ledger.open({
      store: new InMemoryEventStore(),
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      riskSaga: false,
    });
    await run({ command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '60000' });
    await run({ command: 'OpenAccount', accountId: 'a1' });
    await run({ command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '500' });
    await run({
      command: 'Fill',
      accountId: 'a1',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.1',
      price: '60000',
      fee: '0',
    });
  });

  async function allEvents(): Promise<RecordedEvent[]> {
    return ledger.store.readAll({ limit: 10_000 });
  }

  function checks(saga: RiskSaga): number {
    return saga.checks.cached + saga.checks.loaded;
  }

  it('re-checks nothing and appends nothing when the same batch comes again', async () => {
    const saga = new RiskSaga(ledger, quiet);
    const batch = await allEvents();
    await saga.handle(batch);
    const afterFirst = checks(saga);
    expect(afterFirst).toBeGreaterThan(0);

    await saga.handle(batch);
    expect(checks(saga)).toBe(afterFirst);
    expect((await allEvents()).length).toBe(batch.length);
  });

  it('checks only the events after the handled ones when a batch overlaps them', async () => {
    const saga = new RiskSaga(ledger, quiet);
    const first = await allEvents();
    await saga.handle(first);
    const afterFirst = checks(saga);

    // A drop that liquidates a1 (0.1 BTC at 20x on 500 USDT): the tick is the one new event of the batch.
    await run({ command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '55000' });
    const second = await allEvents();
    await saga.handle(second);
    expect(checks(saga)).toBe(afterFirst + 1);
    expect(saga.metrics.liquidations).toBe(1);

    // Delivered once more (its checkpoint lost): the liquidation is not attempted again.
    await saga.handle(second);
    expect(checks(saga)).toBe(afterFirst + 1);
    expect(saga.metrics.liquidations).toBe(1);
  });

  it('runs a check that failed again when its event is delivered again', async () => {
    const saga = new RiskSaga(ledger, quiet);
    await saga.handle(await allEvents());
    const tick = (await allEvents()).find((e) => e.type === 'MarkPriceUpdated')!;
    const malformed: RecordedEvent = {
      ...tick,
      streamVersion: 99,
      data: { markPrice: '1' },
    };
    await expect(saga.handle([malformed])).rejects.toThrow(/no string symbol/);
    await expect(saga.handle([malformed])).rejects.toThrow(/no string symbol/);
  });
});
