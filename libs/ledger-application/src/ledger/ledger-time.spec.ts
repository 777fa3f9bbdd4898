/**
 * Command time (ARCHITECTURE "Time"): an explicit `at` earlier than the stream's last event is rejected
 * (AT_BEFORE_STREAM_TIME) and writes nothing; a command without `at` takes the server clock as a lower bound, so a
 * concurrent command stamped later that committed first never makes it fail.
 */
import { LedgerDomainError, parseReferenceData } from '@ledger/margin-domain';
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from './ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from './shipped-reference-data';

async function ledgerWithClock(now: string): Promise<Ledger> {
  return Ledger.open({
    store: new InMemoryEventStore(),
    referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
    clock: () => new Date(now),
  });
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
});
