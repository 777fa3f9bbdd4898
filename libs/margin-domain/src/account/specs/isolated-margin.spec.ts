/*
 * Goal: isolated margin in given/when/then form (RULES §2.3, §2.6): a fill on an ISOLATED symbol moves
 * |Δq| × price / leverage from the cross wallet into the position's isolated wallet; PnL and fees hit the isolated
 * wallet; a reduction releases the closed share, a close releases everything; AdjustIsolatedMargin adds up to the
 * cross pool's available balance and removes up to min(isolated wallet, isolated margin − IM).
 */
import {
  aDeposit,
  aFill,
  aLeverageChange,
  aMarginTypeChange,
  aPositionOpened,
  adjustIsolatedMarginCommand,
  anAccountOpened,
  given,
  marketWith,
} from '@ledger/testing';

import type { PositionChanged } from '../account.events';

const setup = [
  anAccountOpened(),
  aDeposit('1000'),
  aMarginTypeChange('BTCUSDT', 'ISOLATED'),
  aLeverageChange('BTCUSDT', 10),
];
/** 0.1 BTCUSDT @ 60,000 at 10x: 600 moved in at open, 400 left in the cross wallet. */
const withPosition = [
  ...setup,
  aPositionOpened({
    positionAmt: '0.1',
    entryPrice: '60000',
    marginType: 'ISOLATED',
    isolatedWallet: '600',
  }),
];
const data = (events: unknown[]) => (events[0] as PositionChanged).data;

describe('isolated fills', () => {
  it('open: moves 0.1 × 60,000 / 10 = 600 to the isolated wallet; the fee is paid from it', () =>
    given(...setup)
      .when(aFill({ quantity: '0.1', price: '60000' }))
      .then((events, after) => {
        expect(data(events)).toMatchObject({
          marginType: 'ISOLATED',
          isolatedTransfer: '600',
          fee: '3',
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('597');
      }));

  it('increase: moves only the added IM (0.05 × 62,000 / 10 = 310)', () =>
    given(...withPosition)
      .when(aFill({ quantity: '0.05', price: '62000', fee: '0' }))
      .then((events, after) => {
        expect(data(events).isolatedTransfer).toBe('310');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('910');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('90');
      }));

  it('reduce: half the position at 62,000 realizes +100 and releases half of 700 = 350', () =>
    given(...withPosition)
      .when(aFill({ side: 'SELL', quantity: '0.05', price: '62000', fee: '0' }))
      .then((events, after) => {
        expect(data(events)).toMatchObject({
          realizedPnl: '100',
          isolatedTransfer: '-350',
          positionAmt: '0.05',
        });
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('350');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('750');
      }));

  it('close: at 58,000 realizes −200 and releases the remaining 400', () =>
    given(...withPosition)
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '58000', fee: '0' }))
      .then((events, after) => {
        expect(data(events)).toMatchObject({
          realizedPnl: '-200',
          isolatedTransfer: '-400',
          positionAmt: '0',
        });
        expect(after.positions.size).toBe(0);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('800');
      }));

  it('close with a fee: 600 − 200 − fee 2.9 = 397.1 released', () =>
    given(...withPosition)
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '58000' }))
      .then((events, after) => {
        expect(data(events)).toMatchObject({ fee: '2.9', isolatedTransfer: '-397.1' });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('797.1');
      }));

  it('flip: releases everything and moves the new side’s IM in (0.05 × 61,000 / 10 = 305)', () =>
    given(...withPosition)
      .with({ market: marketWith({ marks: { BTCUSDT: '61000' } }) })
      .when(aFill({ side: 'SELL', quantity: '0.15', price: '61000', fee: '0' }))
      .then((events, after) => {
        // wallet 600 + 100 realized = 700 released, 305 moved in: net transfer −395.
        expect(data(events)).toMatchObject({
          realizedPnl: '100',
          positionAmt: '-0.05',
          isolatedTransfer: '-395',
        });
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('305');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('795');
      }));
});

describe('AdjustIsolatedMargin', () => {
  const market = marketWith({ marks: { BTCUSDT: '60000' } });

  it('adds from the cross wallet, up to its available 400', () => {
    given(...withPosition)
      .with({ market })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '400'))
      .then((events, after) => {
        expect(events).toEqual([
          {
            type: 'IsolatedMarginAdjusted',
            data: { symbol: 'BTCUSDT', positionSide: 'BOTH', asset: 'USDT', amount: '400' },
          },
        ]);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('0');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('1000');
      });
    given(...withPosition)
      .with({ market })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '400.00000001'))
      .thenThrows('CROSS_BALANCE_INSUFFICIENT', { binanceCode: -4050 });
  });

  it('removes at most isolated margin − IM: at mark 61,000, 600 + 100 − 610 = 90', () => {
    const up = marketWith({ marks: { BTCUSDT: '61000' } });
    given(...withPosition)
      .with({ market: up })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '-90'))
      .then((events, after) => {
        expect(events).toEqual([
          {
            type: 'IsolatedMarginAdjusted',
            data: { symbol: 'BTCUSDT', positionSide: 'BOTH', asset: 'USDT', amount: '-90' },
          },
        ]);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('490');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('510');
      });
    given(...withPosition)
      .with({ market: up })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '-90.00000001'))
      .thenThrows('ISOLATED_BALANCE_INSUFFICIENT', { binanceCode: -4051 });
  });

  it('removes at most the isolated wallet even when the profit is larger', () => {
    const moon = marketWith({ marks: { BTCUSDT: '120000' } });
    // isolated margin 600 + 6,000 − IM 1,200 = 5,400, but the wallet holds 600.
    given(...withPosition)
      .with({ market: moon })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '-600'))
      .then((e) => expect(e).toHaveLength(1));
    given(...withPosition)
      .with({ market: moon })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '-600.00000001'))
      .thenThrows('ISOLATED_BALANCE_INSUFFICIENT', { binanceCode: -4051 });
  });
});
