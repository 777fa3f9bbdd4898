/*
 * Goal: auto-exchange in given/when/then form (RULES §3). The seed example: a VIP 1 account with −5,000 USDC and
 * 20,000 USD of BTC sells 5,000 / 0.975 = 5,128.205128… USD of BTC (0.10256411 BTC, rounded up to 8 dp) with a
 * haircut cost of 128.2051375, while the same balances at VIP 2 trigger nothing. Then the split across several
 * positive assets: INDEX and AUTO_EXCHANGE proportion flags give different legs, a leg capped by its balance spills
 * to the others, and when every leg is capped the deficit stays (all collateral used). The AutoExchange command
 * re-checks its trigger, so a stale one decides nothing. Expected legs are computed with Python decimal.
 */
import {
  FLAT_USD,
  aDeposit,
  aWithdrawal,
  anAccountOpened,
  btcIndex,
  given,
  marketWith,
  withOverrides,
} from '@ledger/testing';

import type { AutoExchange } from '../../account/account.commands';
import type { AutoExchangeExecuted } from '../../account/account.events';

const autoExchange = (
  asset: string,
  trigger: AutoExchange['trigger'] = 'THRESHOLD',
): AutoExchange => ({
  type: 'AutoExchange',
  accountId: 'acc-1',
  asset,
  trigger,
});
const btcAt50k = marketWith({ assetIndexes: { BTC: btcIndex('50000') } });

describe('the seed example (RULES §3.3)', () => {
  const seed = (vipLevel: number) => [
    anAccountOpened({ vipLevel, assetMode: 'MULTI' }),
    aDeposit('0.4', 'BTC'),
    aWithdrawal('5000', 'USDC'),
  ];

  it('VIP 1, −5,000 USDC, 20,000 USD of BTC: sells 0.10256411 BTC (5,128.205128… USD rounded up), haircut cost 128.2051375', () =>
    given(...seed(1))
      .with({ market: btcAt50k })
      .when(autoExchange('USDC'))
      .then((events, after) => {
        expect(events).toEqual([
          {
            type: 'AutoExchangeExecuted',
            data: {
              trigger: 'THRESHOLD',
              negAsset: 'USDC',
              deficit: '5000',
              deficitUsd: '5000',
              legs: [
                {
                  asset: 'BTC',
                  qty: '0.10256411',
                  index: '50000',
                  haircut: '0.025',
                  usdValueAtIndex: '5128.2055',
                  credited: '5000.0003625',
                },
              ],
              haircutCostUsd: '128.2051375',
            },
          },
        ]);
        expect(after.wallets.get('USDC')?.toFixed()).toBe('0.0003625');
        expect(after.wallets.get('BTC')?.toFixed()).toBe('0.29743589');
      }));

  it('the same balances at VIP 2 (threshold −10,000, LTV 0.2564 < 0.995) trigger nothing', () =>
    given(...seed(2))
      .with({ market: btcAt50k })
      .when(autoExchange('USDC'))
      .thenNothing());

  it('a stale LTV command at VIP 2 decides nothing either', () =>
    given(...seed(2))
      .with({ market: btcAt50k })
      .when(autoExchange('USDC', 'LTV'))
      .thenNothing());

  it('a SINGLE account never auto-exchanges', () =>
    given(anAccountOpened({ vipLevel: 1 }), aDeposit('0.4', 'BTC'), aWithdrawal('5000', 'USDC'))
      .with({ market: btcAt50k })
      .when(autoExchange('USDC'))
      .thenNothing());
});

describe('proportional legs (RULES §3.2 "according to the proportion of each asset")', () => {
  /** VIP 0, USDC −5,000 (threshold), USDT 3,000 and BTC 0.1 (5,000 USD at index, 4,875 at the auto-exchange rate). */
  const balances = [
    anAccountOpened({ assetMode: 'MULTI' }),
    aDeposit('3000', 'USDT'),
    aDeposit('0.1', 'BTC'),
    aWithdrawal('5000', 'USDC'),
  ];
  const market = marketWith({ assetIndexes: { BTC: btcIndex('50000'), USDT: FLAT_USD } });
  const legs = (events: unknown[]) =>
    (events[0] as AutoExchangeExecuted).data.legs.map((l) => [
      l.asset,
      l.qty,
      l.usdValueAtIndex,
      l.credited,
    ]);

  it('INDEX (default): shares 3,000 : 5,000 → USDT 1,875, BTC 3,125 USD → 0.06410257 BTC; USDC ends +0.0002875', () =>
    given(...balances)
      .with({ market })
      .when(autoExchange('USDC'))
      .then((events, after) => {
        expect(legs(events)).toEqual([
          ['BTC', '0.06410257', '3205.1285', '3125.0002875'],
          ['USDT', '1875', '1875', '1875'],
        ]);
        expect((events[0] as AutoExchangeExecuted).data.haircutCostUsd).toBe('80.1282125');
        expect(after.wallets.get('USDC')?.toFixed()).toBe('0.0002875');
      }));

  it('AUTO_EXCHANGE: shares 3,000 : 4,875 → USDT 1,904.76190477, BTC 0.06349207; different legs from INDEX', () =>
    given(...balances)
      .with({ market, ref: withOverrides({ 'autoExchange.proportion': 'AUTO_EXCHANGE' }) })
      .when(autoExchange('USDC'))
      .then((events, after) => {
        expect(legs(events)).toEqual([
          ['BTC', '0.06349207', '3174.6035', '3095.2384125'],
          ['USDT', '1904.76190477', '1904.76190477', '1904.76190477'],
        ]);
        expect((events[0] as AutoExchangeExecuted).data.haircutCostUsd).toBe('79.3650875');
        expect(after.wallets.get('USDC')?.toFixed()).toBe('0.00031727');
      }));

  /**
   * ETH at 2,000 with an extreme 50% auto-exchange haircut: 1 ETH delivers 1,000. USDT 1,000 at 1. LTV 0.9 is below
   * the trigger, so these run as the auto-exchange that follows a liquidation (trigger LIQUIDATION, RULES §3.1 (2)).
   */
  const capped = (deficit: string) => [
    anAccountOpened({ assetMode: 'MULTI' }),
    aDeposit('1000', 'USDT'),
    aDeposit('1', 'ETH'),
    aWithdrawal(deficit, 'USDC'),
  ];
  const ethMarket = marketWith({
    assetIndexes: {
      USDT: FLAT_USD,
      ETH: { index: '2000', bidBuffer: '0.1', askBuffer: '0.1', autoExchangeBidBuffer: '0.5' },
    },
  });

  it('INDEX, deficit 1,800: ETH’s share (2/3 → 1,200 USD, 1.2 ETH) is capped at 1 ETH and the rest spills to USDT (800)', () =>
    given(...capped('1800'))
      .with({ market: ethMarket })
      .when(autoExchange('USDC', 'LIQUIDATION'))
      .then((events, after) => {
        expect(legs(events)).toEqual([
          ['ETH', '1', '2000', '1000'],
          ['USDT', '800', '800', '800'],
        ]);
        expect(after.wallets.get('USDC')?.toFixed()).toBe('0');
        expect(after.wallets.get('ETH')?.toFixed()).toBe('0');
      }));

  it('AUTO_EXCHANGE, deficit 1,800: shares 1,000 : 1,000 → 900 each, nothing capped', () =>
    given(...capped('1800'))
      .with({
        market: ethMarket,
        ref: withOverrides({ 'autoExchange.proportion': 'AUTO_EXCHANGE' }),
      })
      .when(autoExchange('USDC', 'LIQUIDATION'))
      .then((events) =>
        expect(legs(events)).toEqual([
          ['ETH', '0.9', '1800', '900'],
          ['USDT', '900', '900', '900'],
        ]),
      ));

  it('deficit 2,500 exceeds all collateral (2,000): every leg sold whole, USDC stays at −500', () =>
    given(...capped('2500'))
      .with({ market: ethMarket })
      .when(autoExchange('USDC', 'LTV'))
      .then((events, after) => {
        expect(legs(events)).toEqual([
          ['ETH', '1', '2000', '1000'],
          ['USDT', '1000', '1000', '1000'],
        ]);
        expect(after.wallets.get('USDC')?.toFixed()).toBe('-500');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
        expect(after.wallets.get('ETH')?.toFixed()).toBe('0');
      }));

  it('the same balances with a stale LTV command: LTV 1,800 / 2,000 = 0.9 < 0.995, nothing', () =>
    given(...capped('1800'))
      .with({ market: ethMarket })
      .when(autoExchange('USDC', 'LTV'))
      .thenNothing());

  it('an asset never indexed (BNB) is not sold: it counts for nothing', () =>
    given(...capped('1800'), aDeposit('10', 'BNB'))
      .with({ market: ethMarket })
      .when(autoExchange('USDC', 'LIQUIDATION'))
      .then((events) => expect(legs(events).map(([asset]) => asset)).toEqual(['ETH', 'USDT'])));

  it('regression: three equal legs for a negative BTC whose credits each round down still clear it (RULES §8 (ii))', () =>
    // BTC −0.1 (VIP 0 threshold −0.1) at 50,000; BNFCR, USDC, USDT 2,000 each at 1: 1,666.666… USD per leg →
    // 1,666.66666667 each (rounded up), but 1,666.66666667 / 50,000 = 0.0333333333334 credits 0.03333333 (HALF_UP),
    // so the three credits sum to 0.09999999. The first leg sells the 1e-8 BTC shortfall more: 0.0005 BNFCR.
    given(
      anAccountOpened({ assetMode: 'MULTI' }),
      aDeposit('2000', 'BNFCR'),
      aDeposit('2000', 'USDC'),
      aDeposit('2000', 'USDT'),
      aWithdrawal('0.1', 'BTC'),
    )
      .with({
        market: marketWith({
          assetIndexes: { BTC: btcIndex('50000'), USDT: FLAT_USD, BNFCR: FLAT_USD },
        }),
      })
      .when(autoExchange('BTC'))
      .then((events, after) => {
        expect(legs(events)).toEqual([
          ['BNFCR', '1666.66716667', '1666.66716667', '0.03333334'],
          ['USDC', '1666.66666667', '1666.66666667', '0.03333333'],
          ['USDT', '1666.66666667', '1666.66666667', '0.03333333'],
        ]);
        expect(after.wallets.get('BTC')?.toFixed()).toBe('0');
        expect((events[0] as AutoExchangeExecuted).data.haircutCostUsd).toBe('0.00050001');
      }));
});
