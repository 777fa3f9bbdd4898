/**
 * A funding settlement pays exactly the positions held at its time, once (RULES §5, ARCHITECTURE "Command side").
 * Before the fix a retried SettleFunding paid accounts that had opened a position since, at the mark of the retry,
 * and answered `duplicate: false`. Now the settlement is recorded first (who, at which rate and mark), a retry pays
 * only what the record names and is not paid yet, and says it is a duplicate; a settlement interrupted after its
 * record (a crash) is finished by the retry.
 */
import { parseReferenceData } from '@ledger/margin-domain';
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from './ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from './shipped-reference-data';
import { FUNDING_SETTLEMENT_RECORDED } from './funding-settlement';

const T0 = '2024-06-01T00:00:00.000Z';
const T1 = '2024-06-01T08:00:00.000Z';
const T2 = '2024-06-01T09:00:00.000Z';

async function ledgerWithLongs(accounts: string[]): Promise<Ledger> {
  const ledger = await Ledger.open({
    store: new InMemoryEventStore(),
    referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
  });
  const run = (input: Parameters<Ledger['execute']>[0], commandId: string, at = T0) =>
    ledger.execute(input, { commandId, at });
  await run({ command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '60000' }, 'mark-0');
  await run({ command: 'SetFundingRate', symbol: 'BTCUSDT', rate: '0.0001' }, 'rate-0');
  for (const id of accounts) await openLong(ledger, id, T0);
  return ledger;
}

async function openLong(ledger: Ledger, id: string, at: string): Promise<void> {
  await ledger.execute({ command: 'OpenAccount', accountId: id }, { commandId: `open-${id}`, at });
  await ledger.execute(
    { command: 'Deposit', accountId: id, asset: 'USDT', amount: '10000' },
    { commandId: `deposit-${id}`, at },
  );
  await ledger.execute(
    {
      command: 'Fill',
      accountId: id,
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.1',
      price: '60000',
      fee: '0',
    },
    { commandId: `fill-${id}`, at },
  );
}

async function fundingEvents(ledger: Ledger, id: string) {
  const events = await ledger.store.readStream(`account-${id}`);
  return events.filter((e) => e.type === 'FundingSettled');
}

describe('SettleFunding', () => {
  it('pays the holders once, and a retry pays nobody new, at the recorded mark, as a duplicate', async () => {
    const ledger = await ledgerWithLongs(['a1', 'a2']);
    const first = await ledger.execute(
      { command: 'SettleFunding', symbol: 'BTCUSDT' },
      { commandId: 'settle-1', at: T1 },
    );
    expect(first.duplicate).toBe(false);
    expect(first.events.map((e) => [e.streamId, e.type])).toEqual([
      ['funding-BTCUSDT', FUNDING_SETTLEMENT_RECORDED],
      ['account-a1', 'FundingSettled'],
      ['account-a2', 'FundingSettled'],
    ]);
    // 0.1 × 60000 × 0.0001 = 0.6 paid by each long.
    expect(first.events[1]?.data).toMatchObject({ amount: '-0.6', markPrice: '60000' });

    // Since: a3 opens a long and the mark moves. The retry must not pay a3, nor anyone again.
    await openLong(ledger, 'a3', T2);
    await ledger.execute(
      { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '70000' },
      { commandId: 'mark-1', at: T2 },
    );
    const retry = await ledger.execute(
      { command: 'SettleFunding', symbol: 'BTCUSDT' },
      { commandId: 'settle-1', at: T1 },
    );
    expect(retry.duplicate).toBe(true);
    expect(retry.events).toEqual(first.events);
    expect(await fundingEvents(ledger, 'a1')).toHaveLength(1);
    expect(await fundingEvents(ledger, 'a2')).toHaveLength(1);
    expect(await fundingEvents(ledger, 'a3')).toHaveLength(0);
  });

  it('finishes a settlement that stopped after its record, paying the recorded accounts at the recorded mark', async () => {
    const ledger = await ledgerWithLongs(['a1', 'a2']);
    // A crash after the record and a1's payment: a2 was not paid. Reproduced by stopping a2's payment once.
    const execute = ledger.executeAccount.bind(ledger);
    const spy = jest.spyOn(ledger, 'executeAccount').mockImplementation((command, meta, market) => {
      if (command.accountId === 'a2') return Promise.reject(new Error('crash before paying a2'));
      return execute(command, meta, market);
    });
    await expect(
      ledger.execute(
        { command: 'SettleFunding', symbol: 'BTCUSDT' },
        { commandId: 'settle-2', at: T1 },
      ),
    ).rejects.toThrow('crash before paying a2');
    spy.mockRestore();
    expect(await fundingEvents(ledger, 'a1')).toHaveLength(1);
    expect(await fundingEvents(ledger, 'a2')).toHaveLength(0);

    await ledger.execute(
      { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '70000' },
      { commandId: 'mark-1', at: T2 },
    );
    const retry = await ledger.execute(
      { command: 'SettleFunding', symbol: 'BTCUSDT' },
      { commandId: 'settle-2', at: T1 },
    );
    expect(retry.duplicate).toBe(true);
    const a2 = await fundingEvents(ledger, 'a2');
    expect(a2.map((e) => e.data)).toEqual([
      expect.objectContaining({ amount: '-0.6', markPrice: '60000', rate: '0.0001' }),
    ]);
    expect(await fundingEvents(ledger, 'a1')).toHaveLength(1);
    expect(retry.events.map((e) => e.streamId)).toEqual([
      'funding-BTCUSDT',
      'account-a1',
      'account-a2',
    ]);
  });

  it('books a payment at the account stream time when that is later than the settlement', async () => {
    const ledger = await ledgerWithLongs(['a1']);
    await ledger.execute(
      { command: 'Deposit', accountId: 'a1', asset: 'USDT', amount: '1' },
      { commandId: 'late-deposit', at: T2 },
    );
    const settled = await ledger.execute(
      { command: 'SettleFunding', symbol: 'BTCUSDT' },
      { commandId: 'settle-3', at: T1 },
    );
    expect(settled.events.map((e) => [e.streamId, e.occurredAt])).toEqual([
      ['funding-BTCUSDT', T1],
      ['account-a1', T2],
    ]);
  });
});
