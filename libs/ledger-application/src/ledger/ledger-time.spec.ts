/**
 * Command time (ARCHITECTURE "Time"): an explicit `at` earlier than the stream's last event is rejected
 * (AT_BEFORE_STREAM_TIME) and writes nothing; a command without `at` takes the server clock as a lower bound, so a
 * concurrent command stamped later that committed first never makes it fail. With `maxClockSkewMs` (what the
 * HTTP API and `ledger apply` set) an explicit `at` beyond the clock plus the skew is refused (AT_IN_FUTURE) and
 * writes nothing, on account and market streams alike; without it (scenario runs, simulations) any valid time goes.
 */
import { LedgerDomainError, parseReferenceData } from '@ledger/margin-domain';
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from './ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from './shipped-reference-data';

async function ledgerWithClock(now: string, maxClockSkewMs?: number): Promise<Ledger> {
  return Ledger.open({
    store: new InMemoryEventStore(),
    referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
    clock: () => new Date(now),
    ...(maxClockSkewMs === undefined ? {} : { maxClockSkewMs }),
  });
}

async function rejection(run: Promise<unknown>): Promise<LedgerDomainError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerDomainError);
  return error as LedgerDomainError;
}

describe('command time', () => {
  it('rejects an explicit at before the stream time and appends nothing', async () => {
    const ledger = await ledgerWithClock('2024-01-01T00:00:00Z');
    await ledger.execute(
      { command: 'OpenAccount', accountId: 'a1' },
      { commandId: 'c1', at: '2030-01-01T00:00:00Z' },
    );
    const error = await ledger
      .execute(
        { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
        { commandId: 'c2', at: '2029-12-31T23:59:59Z' },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerDomainError);
    expect((error as LedgerDomainError).code).toBe('AT_BEFORE_STREAM_TIME');
    expect(await ledger.store.streamVersion('account-a1')).toBe(1);
  });

  it('raises the server clock to the stream time instead of rejecting', async () => {
    const ledger = await ledgerWithClock('2024-01-01T00:00:00Z');
    await ledger.execute(
      { command: 'OpenAccount', accountId: 'a1' },
      { commandId: 'c1', at: '2030-01-01T00:00:00Z' },
    );
    const outcome = await ledger.execute(
      { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
      { commandId: 'c2' },
    );
    expect(outcome.events.map((e) => [e.type, e.occurredAt])).toEqual([
      ['Deposited', '2030-01-01T00:00:00.000Z'],
    ]);
  });

  it('stamps a command without at with the server clock when the stream is older', async () => {
    const ledger = await ledgerWithClock('2031-05-06T07:08:09Z');
    await ledger.execute(
      { command: 'OpenAccount', accountId: 'a1' },
      { commandId: 'c1', at: '2030-01-01T00:00:00Z' },
    );
    const outcome = await ledger.execute(
      { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
      { commandId: 'c2' },
    );
    expect(outcome.events[0]?.occurredAt).toBe('2031-05-06T07:08:09.000Z');
  });

  describe('with a bound on at (maxClockSkewMs)', () => {
    it('refuses an at beyond the clock plus the skew on an account stream, and appends nothing', async () => {
      const ledger = await ledgerWithClock('2024-06-01T00:00:00Z', 300_000);
      await ledger.execute(
        { command: 'OpenAccount', accountId: 'a1' },
        { commandId: 'c1', at: '2024-05-01T00:00:00Z' },
      );
      const error = await rejection(
        ledger.execute(
          { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
          { commandId: 'c2', at: '9999-01-01T00:00:00Z' },
        ),
      );
      expect(error).toMatchObject({ code: 'AT_IN_FUTURE', field: 'at', binanceCode: -1021 });
      expect(await ledger.store.streamVersion('account-a1')).toBe(1);
      // The stream's time did not move: the next command at the present is accepted.
      const next = await ledger.execute(
        { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
        { commandId: 'c3' },
      );
      expect(next.events[0]?.occurredAt).toBe('2024-06-01T00:00:00.000Z');
    });

    it('refuses it on a market stream too', async () => {
      const ledger = await ledgerWithClock('2024-06-01T00:00:00Z', 300_000);
      const error = await rejection(
        ledger.execute(
          { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '60000' },
          { commandId: 'm1', at: '2024-06-01T00:05:00.001Z' },
        ),
      );
      expect(error.code).toBe('AT_IN_FUTURE');
      expect(await ledger.store.streamVersion('market-BTCUSDT')).toBe(0);
    });

    it('accepts the past (historical feeds) and up to the skew ahead', async () => {
      const ledger = await ledgerWithClock('2024-06-01T00:00:00Z', 300_000);
      for (const [id, at] of [
        ['m1', '2020-01-01T00:00:00Z'],
        ['m2', '2024-06-01T00:05:00Z'],
      ] as const) {
        const outcome = await ledger.execute(
          { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '60000' },
          { commandId: id, at },
        );
        expect(outcome.events).toHaveLength(1);
      }
    });

    it('has no bound without the option (scenario runs, in-process simulations)', async () => {
      const ledger = await ledgerWithClock('2024-06-01T00:00:00Z');
      const outcome = await ledger.execute(
        { command: 'OpenAccount', accountId: 'a1' },
        { commandId: 'c1', at: '2099-01-01T00:00:00Z' },
      );
      expect(outcome.events[0]?.occurredAt).toBe('2099-01-01T00:00:00.000Z');
    });
  });

  it('refuses a command id with a NUL or a lone surrogate (ledger apply takes them from its input)', async () => {
    const ledger = await ledgerWithClock('2024-06-01T00:00:00Z');
    for (const commandId of ['c\u0000', 'c\uD800']) {
      const error = await rejection(
        ledger.execute({ command: 'OpenAccount', accountId: 'a1' }, { commandId }),
      );
      expect(error).toMatchObject({ code: 'ILLEGAL_CHARACTERS', field: 'commandId' });
    }
    expect(await ledger.store.streamVersion('account-a1')).toBe(0);
  });
});
