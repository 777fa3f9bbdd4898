/**
 * A burst of commands to one account from one process: the ledger queues them per account, so none of them runs
 * out of ConcurrencyError retries, each is applied once, and the stream stays gapless.
 */
import type { TestDatabase } from '@ledger/testing';
import { createTestDatabase } from '@ledger/testing';
import { parseReferenceData } from '@ledger/margin-domain';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  readShippedReferenceData,
  sqlAccountProjection,
  verifyLedger,
} from '../src';

const BURST = 40;

describe('a burst of commands to one account', () => {
  let db: TestDatabase;
  let ledger: Ledger;

  beforeAll(async () => {
    db = await createTestDatabase('same_account_burst');
    ledger = await Ledger.open({
      store: db.store,
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      projection: sqlAccountProjection,
    });
  }, 300_000);

  afterAll(async () => {
    await ledger.close();
    await db.drop();
  });

  it('applies every command exactly once', async () => {
    await ledger.execute({ command: 'OpenAccount', accountId: 'b1' }, { commandId: 'open' });
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, (_, i) =>
        ledger.execute(
          { command: 'Deposit', accountId: 'b1', asset: 'USDT', amount: '1.5' },
          { commandId: `d${i}` },
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const events = await db.store.readStream('account-b1');
    expect(events.map((e) => e.streamVersion)).toEqual(
      Array.from({ length: BURST + 1 }, (_, i) => i + 1),
    );
    expect((await ledger.accountView('b1'))?.assets.USDT?.walletBalance).toBe('60');
    expect((await verifyLedger(db.store)).mismatches).toEqual([]);
  }, 300_000);
});
