/**
 * A price tick over 10,000 accounts with positions triggers exactly the liquidations and auto-exchanges that a
 * brute-force check over all accounts says it should (issue: "The ledger at work"). The accounts mix Single-Asset
 * and Multi-Assets Mode, leverage and collateral so that some cross their trigger and most do not; the expected set
 * comes from `assessRisk` on every account with the new price, computed before the tick is sent.
 */
import type { AccountState } from '@ledger/margin-domain';
import { assessRisk, copyMarketState, D } from '@ledger/margin-domain';
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from '../ledger/ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from '../ledger/shipped-reference-data';
import { parseReferenceData } from '@ledger/margin-domain';

const ACCOUNTS = 10_000;

describe('risk saga over 10,000 accounts', () => {
  it('acts on exactly the accounts a brute-force check selects', async () => {
    const ledger = await Ledger.open({
      store: new InMemoryEventStore(),
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
    });
    let n = 0;
    const at = (): string => new Date(Date.UTC(2024, 5, 1) + n++ * 1000).toISOString();
    const run = (input: Record<string, unknown> & { command: string }) =>
      ledger.execute(input, { commandId: `c${n}`, at: at() });
    await run({ command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '60000' });
    await run({
      command: 'UpdateAssetIndex',
      asset: 'BTC',
      index: '60000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
    });
    for (let i = 0; i < ACCOUNTS; i++) {
      const id = `acc${i}`;
      const multi = i % 3 === 0;
      await run({
        command: 'OpenAccount',
        accountId: id,
        assetMode: multi ? 'MULTI' : 'SINGLE',
        vipLevel: i % 4,
      });
      // Wallets from 400 to ~1,400 USDT; long or short 0.1 BTC at 20x: some are liquidated by a 4% move.
      await run({
        command: 'Deposit',
        accountId: id,
        asset: 'USDT',
        amount: String(400 + ((i * 37) % 1000)),
      });
      if (multi && i % 2 === 0)
        await run({ command: 'Deposit', accountId: id, asset: 'BTC', amount: '0.001' });
      await run({
        command: 'Fill',
        accountId: id,
        symbol: 'BTCUSDT',
        side: i % 5 === 0 ? 'SELL' : 'BUY',
        quantity: '0.1',
        price: '60000',
        fee: '0',
      });
    }
    await ledger.settle();
    const market = copyMarketState(ledger.market);
    market.marks.set('BTCUSDT', new D('55200'));
    const ref = ledger.references.latest();
    const expected = new Set<string>();
    const states = new Map<string, AccountState>();
    for (let i = 0; i < ACCOUNTS; i++) {
      const state = await ledger.accountState(`acc${i}`);
      states.set(`acc${i}`, state);
      if (assessRisk(state, market, ref).length > 0) expected.add(`acc${i}`);
    }
    expect(expected.size).toBeGreaterThan(100);
    expect(expected.size).toBeLessThan(ACCOUNTS);

    const head = (await ledger.store.headCheckpoint())?.globalPosition ?? 0n;
    await run({ command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '55200' });
    await ledger.settle();
    const acted = new Set<string>();
    for (const e of await ledger.store.readAll({
      after: { transactionId: head, globalPosition: head },
      limit: 1_000_000,
    })) {
      if (
        e.streamId.startsWith('account-') &&
        (e.type === 'LiquidationTriggered' || e.type === 'AutoExchangeExecuted')
      ) {
        acted.add(e.streamId.slice('account-'.length));
      }
    }
    expect([...acted].sort()).toEqual([...expected].sort());
  }, 120_000);
});
