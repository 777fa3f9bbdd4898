/*
 * Goal: liquidation per mode in given/when/then form (RULES §2.2, §2.3, §2.5, §5). SINGLE: a cross pool is
 * liquidated when its margin balance ≤ its maintenance margin (boundary inclusive), only that pool's positions, and a
 * pool left below zero is reset to 0 by InsuranceFundCovered. Isolated: isolated margin ≤ MM, the position alone.
 * MULTI: the whole account when account MM ≥ equity (or equity ≤ 0); a negative balance is left for the
 * auto-exchange that follows (trigger LIQUIDATION). The BANKRUPTCY close price (reference-data override) closes
 * where the pool's margin balance is 0. A Liquidate command that finds nothing due decides nothing.
 */
import {
  aDeposit,
  aMarginTypeChange,
  aPositionOpened,
  anAccountOpened,
  anOrderPlaced,
  given,
  marketWith,
  withOverrides,
} from '@ledger/testing';

import type { AccountEvent } from '../../account/account.events';
import type { Liquidate } from '../../account/account.commands';
import { assessRisk } from '../assess';

const liquidate: Liquidate = { type: 'Liquidate', accountId: 'acc-1' };
const types = (events: AccountEvent[]) => events.map((e) => e.type);

describe('SINGLE cross pool (RULES §2.2: marginBalance ≤ MM)', () => {
  const pool = [
    anAccountOpened(),
    aDeposit('1000'),
    aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
  ];

  it('at mark 50,000 (MB 0 ≤ MM 20) closes the position at the mark; the pool ends at 0', () =>
    given(...pool)
      .with({ market: marketWith({ marks: { BTCUSDT: '50000' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(events).toEqual([
          {
            type: 'LiquidationTriggered',
            data: { scope: 'CROSS_POOL', asset: 'USDT', marginBalance: '0', maintMargin: '20' },
          },
          {
            type: 'PositionLiquidated',
            data: {
              symbol: 'BTCUSDT',
              positionSide: 'BOTH',
              marginAsset: 'USDT',
              positionAmt: '0.1',
              entryPrice: '60000',
              price: '50000',
              realizedPnl: '-1000',
              liquidationFee: '0',
              isolated: false,
              isolatedRelease: '0',
            },
          },
        ]);
        expect(after.positions.size).toBe(0);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
      }));

  it('above the LP (5,000 / 0.0996 = 50,200.80…): at 50,300, MB 30 > MM 20.12 → nothing', () =>
    given(...pool)
      .with({ market: marketWith({ marks: { BTCUSDT: '50300' } }) })
      .when(liquidate)
      .thenNothing());

  it('the boundary is inclusive: WB 20,160, long 1 @ 60,000, mark 40,000 → MB = MM = 160 liquidates; one unit more does not', () => {
    const market = marketWith({ marks: { BTCUSDT: '40000' } });
    const position = aPositionOpened({ positionAmt: '1', entryPrice: '60000' });
    given(anAccountOpened(), aDeposit('20160'), position)
      .with({ market })
      .when(liquidate)
      .then((events) =>
        expect(types(events)).toEqual(['LiquidationTriggered', 'PositionLiquidated']),
      );
    given(anAccountOpened(), aDeposit('20160.00000001'), position)
      .with({ market })
      .when(liquidate)
      .thenNothing();
  });

  it('a gap: WB 500 at mark 50,000 realizes −1,000; the insurance fund covers 500 and the pool is 0', () =>
    given(
      anAccountOpened(),
      aDeposit('500'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
    )
      .with({ market: marketWith({ marks: { BTCUSDT: '50000' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(types(events)).toEqual([
          'LiquidationTriggered',
          'PositionLiquidated',
          'InsuranceFundCovered',
        ]);
        expect(events[2]).toEqual({
          type: 'InsuranceFundCovered',
          data: { asset: 'USDT', amount: '500' },
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
      }));

  it("only the failing pool: a healthy USDC pool's position and order stay", () =>
    given(
      ...pool,
      aDeposit('100000', 'USDC'),
      aPositionOpened({ symbol: 'BTCUSDC', positionAmt: '0.1', entryPrice: '60000' }),
      anOrderPlaced({ orderId: 'usdc-order', symbol: 'BTCUSDC', price: '40000' }),
      anOrderPlaced({ orderId: 'usdt-order', symbol: 'BNBUSDT', price: '500' }),
    )
      .with({ market: marketWith({ marks: { BTCUSDT: '50000', BTCUSDC: '50000' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(types(events)).toEqual([
          'LiquidationTriggered',
          'OrderCanceled',
          'PositionLiquidated',
        ]);
        expect(events[1]).toEqual({
          type: 'OrderCanceled',
          data: { orderId: 'usdt-order', reason: 'LIQUIDATION' },
        });
        expect([...after.positions.keys()]).toEqual(['BTCUSDC']);
        expect([...after.orders.keys()]).toEqual(['usdc-order']);
      }));

  it('BANKRUPTCY close price: two positions closed where the pool balance is 0 (shared by MM), leaving the pool at ~0', () => {
    const bankruptcy = withOverrides({ 'liquidation.closePrice': 'BANKRUPTCY' });
    // MB = 1,000 − 800 − 237 = −37; MM = 20.8 + 28.815.
    given(
      anAccountOpened(),
      aDeposit('1000'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
      aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '10', entryPrice: '600' }),
    )
      .with({
        ref: bankruptcy,
        market: marketWith({ marks: { BTCUSDT: '52000', BNBUSDT: '576.3' } }),
      })
      .when(liquidate)
      .then((events, after) => {
        expect(events[0]).toEqual({
          type: 'LiquidationTriggered',
          data: { scope: 'CROSS_POOL', asset: 'USDT', marginBalance: '-37', maintMargin: '49.615' },
        });
        const closes = events.filter((e) => e.type === 'PositionLiquidated');
        expect(closes).toHaveLength(2);
        const wb = after.wallets.get('USDT');
        expect(wb?.gte(0)).toBe(true);
        expect(wb?.lte('0.00000002')).toBe(true);
        // BTC share −37 × 20.8 / 49.615 = −15.511438… → price 52,155.114380…, realized −784.48856193 (at the mark: −800).
        const btc = closes.find(
          (e) => e.type === 'PositionLiquidated' && e.data.symbol === 'BTCUSDT',
        );
        expect(btc?.type === 'PositionLiquidated' && btc.data.realizedPnl).toBe('-784.48856193');
      });
  });

  it('BANKRUPTCY for a single position: mark 50,100, MB 10 → closes at 50,000 and the pool is exactly 0', () =>
    given(...pool)
      .with({
        ref: withOverrides({ 'liquidation.closePrice': 'BANKRUPTCY' }),
        market: marketWith({ marks: { BTCUSDT: '50100' } }),
      })
      .when(liquidate)
      .then((events, after) => {
        expect(events[1]?.type === 'PositionLiquidated' && events[1].data.price).toBe('50000');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
      }));

  it('charges the liquidation fee rate of the symbol on the closed notional', () => {
    const fee = withOverrides({
      'symbols.BTCUSDT': { ...withOverrides({}).symbols.BTCUSDT, liquidationFeeRate: '0.01' },
    });
    given(
      anAccountOpened(),
      aDeposit('5000'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
    )
      .with({ ref: fee, market: marketWith({ marks: { BTCUSDT: '10000' } }) })
      .when(liquidate)
      .then((events, after) => {
        // realized 0.1 × (10,000 − 60,000) = −5,000; fee 0.01 × 1,000 = 10; pool −10 → insurance 10.
        expect(events[1]?.type === 'PositionLiquidated' && events[1].data.liquidationFee).toBe(
          '10',
        );
        expect(events[2]).toEqual({
          type: 'InsuranceFundCovered',
          data: { asset: 'USDT', amount: '10' },
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
      });
  });
});

describe('SINGLE isolated (RULES §2.3: isolatedMargin ≤ MM)', () => {
  const iso = [
    anAccountOpened(),
    aDeposit('1000'),
    aMarginTypeChange('BTCUSDT', 'ISOLATED'),
    aPositionOpened({
      positionAmt: '0.1',
      entryPrice: '60000',
      marginType: 'ISOLATED',
      isolatedWallet: '300',
    }),
  ];

  it('at mark 57,000 (isolated margin 0 ≤ MM 22.8) closes the position alone; the cross wallet keeps its 700', () =>
    given(...iso)
      .with({ market: marketWith({ marks: { BTCUSDT: '57000' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(events[0]).toEqual({
          type: 'LiquidationTriggered',
          data: {
            scope: 'ISOLATED',
            symbol: 'BTCUSDT',
            positionSide: 'BOTH',
            marginBalance: '0',
            maintMargin: '22.8',
          },
        });
        expect(events[1]).toMatchObject({
          type: 'PositionLiquidated',
          data: { realizedPnl: '-300', isolated: true, isolatedRelease: '0' },
        });
        expect(events).toHaveLength(2);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('700');
      }));

  it('a gap at 56,000: release −100 is covered by the insurance fund; the cross wallet still 700', () =>
    given(...iso)
      .with({ market: marketWith({ marks: { BTCUSDT: '56000' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(types(events)).toEqual([
          'LiquidationTriggered',
          'PositionLiquidated',
          'InsuranceFundCovered',
        ]);
        expect(events[1]).toMatchObject({ data: { isolatedRelease: '-100' } });
        expect(events[2]).toEqual({
          type: 'InsuranceFundCovered',
          data: { asset: 'USDT', amount: '100' },
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('700');
      }));

  it('at 58,000 (isolated margin 100 > MM 23.2): nothing', () =>
    given(...iso)
      .with({ market: marketWith({ marks: { BTCUSDT: '58000' } }) })
      .when(liquidate)
      .thenNothing());
});

describe('MULTI account (RULES §2.5: account MM ≥ equity, or equity ≤ 0)', () => {
  const multi = [
    anAccountOpened({ assetMode: 'MULTI' }),
    aDeposit('1000', 'USDC'),
    aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
  ];

  it('at 50,500: equity 1,000 − 950 × 1.0001 = 49.905 > MM 20.20202 → nothing', () =>
    given(...multi)
      .with({ market: marketWith({ marks: { BTCUSDT: '50500' } }) })
      .when(liquidate)
      .thenNothing());

  it('at 50,100: equity 9.901 ≤ MM 20.042004 → the account is liquidated; USDT −990 is left for auto-exchange', () => {
    const market = marketWith({ marks: { BTCUSDT: '50100' } });
    given(...multi)
      .with({ market })
      .when(liquidate)
      .then((events, after) => {
        expect(events[0]).toEqual({
          type: 'LiquidationTriggered',
          data: { scope: 'ACCOUNT', marginBalance: '9.901', maintMargin: '20.042004' },
        });
        expect(events[1]).toMatchObject({
          type: 'PositionLiquidated',
          data: { price: '50100', realizedPnl: '-990' },
        });
        expect(events).toHaveLength(2);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('-990');
        expect(assessRisk(after, market, withOverrides({}), true)).toEqual([
          { type: 'AutoExchange', asset: 'USDT', trigger: 'LIQUIDATION' },
        ]);
      });
  });

  it('the auto-exchange after liquidation sells 990 USDC for the USDT deficit', () =>
    given(anAccountOpened({ assetMode: 'MULTI' }), aDeposit('1000', 'USDC'), {
      type: 'Withdrawn',
      data: { asset: 'USDT', amount: '990' },
    })
      .when({ type: 'AutoExchange', accountId: 'acc-1', asset: 'USDT', trigger: 'LIQUIDATION' })
      .then((events, after) => {
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({
          type: 'AutoExchangeExecuted',
          data: {
            trigger: 'LIQUIDATION',
            negAsset: 'USDT',
            legs: [{ asset: 'USDC', qty: '990', credited: '990' }],
          },
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
        expect(after.wallets.get('USDC')?.toFixed()).toBe('10');
      }));

  it('cancels every open order of the account', () =>
    given(
      ...multi,
      anOrderPlaced({ orderId: 'a', symbol: 'BNBUSDT', price: '1' }),
      anOrderPlaced({ orderId: 'b', symbol: 'BTCUSDC', price: '1' }),
    )
      .with({ market: marketWith({ marks: { BTCUSDT: '50100' } }) })
      .when(liquidate)
      .then((events, after) => {
        expect(types(events)).toEqual([
          'LiquidationTriggered',
          'OrderCanceled',
          'OrderCanceled',
          'PositionLiquidated',
        ]);
        expect(after.orders.size).toBe(0);
      }));
});

describe('Liquidate re-checks its trigger', () => {
  it('an account with no positions decides nothing', () =>
    given(anAccountOpened(), aDeposit('1')).when(liquidate).thenNothing());
  it('an account never opened is rejected', () =>
    given().when(liquidate).thenThrows('ACCOUNT_NOT_FOUND'));
});
