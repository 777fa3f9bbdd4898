/**
 * A side-by-side rebuild while commands keep arriving: commands never wait on the rebuild's fold or writes, and
 * after the swap the projections still equal a replay of every event, those appended during the rebuild included.
 */
import type { TestDatabase } from '@ledger/testing';
import { createConcurrencyTestDatabase } from '@ledger/testing';
import { parseReferenceData } from '@ledger/margin-domain';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  readShippedReferenceData,
  rebuildAccountProjections,
  sqlAccountProjection,
  verifyLedger,
} from '../src';

const ACCOUNTS = 40;

describe('rebuild while commands run', () => {
  let db: TestDatabase;
  let ledger: Ledger;
  let n = 0;
  const at = (): string => new Date(Date.UTC(2024, 5, 1) + n++ * 1000).toISOString();

  beforeAll(async () => {
    db = await createConcurrencyTestDatabase('rebuild_live');
    ledger = await Ledger.open({
      store: db.store,
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      projection: sqlAccountProjection,
      riskSaga: false,
      marginHistory: false,
    });
    for (let i = 0; i < ACCOUNTS; i++) {
      await ledger.execute(
        { command: 'OpenAccount', accountId: `r${i}` },
        { commandId: `open-${i}`, at: at() },
      );
      await ledger.execute(
        { command: 'Deposit', accountId: `r${i}`, asset: 'USDT', amount: '100' },
        { commandId: `d0-${i}`, at: at() },
      );
    }
  }, 300_000);

  afterAll(async () => {
    await ledger.close();
    await db.drop();
  });

  it('keeps every append made during the rebuild', async () => {
    let running = true;
    let appended = 0;
    const writer = (async () => {
      for (let k = 0; running || k < 20; k++) {
        const i = k % ACCOUNTS;
        await ledger.execute(
          { command: 'Deposit', accountId: `r${i}`, asset: 'USDT', amount: '1' },
          { commandId: `live-${k}`, at: at() },
        );
        appended += 1;
      }
    })();
    await rebuildAccountProjections(db.store);
    running = false;
    await writer;
    expect(appended).toBeGreaterThanOrEqual(20);
    const report = await verifyLedger(db.store);
    expect(report.mismatches).toEqual([]);
    expect(report.events).toBe(ACCOUNTS * 2 + appended);
  }, 300_000);
});
