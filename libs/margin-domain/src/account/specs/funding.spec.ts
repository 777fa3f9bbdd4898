/*
 * Goal: funding settlement in given/when/then form (RULES §5, S13): each open position in the symbol settles
 * mark × qty × rate in the margin asset, a long paying when the rate is positive, rounded 8 dp HALF_UP; an isolated
 * position's funding goes to its isolated wallet; hedge sides settle separately; no position, no event.
 */
import {
  aDeposit,
  aMarginTypeChange,
  aPositionOpened,
  anAccountOpened,
  given,
  marketWith,
  settleFundingCommand,
} from '@ledger/testing';

import type { FundingSettled } from '../account.events';

const funded = [anAccountOpened(), aDeposit('1000')];
const at = (mark: string) => marketWith({ marks: { BTCUSDT: mark } });
const funding = (d: Partial<FundingSettled['data']>): FundingSettled => ({
  type: 'FundingSettled',
  data: {
    symbol: 'BTCUSDT',
    positionSide: 'BOTH',
    asset: 'USDT',
    markPrice: '61000',
    rate: '0.0001',
    positionAmt: '0.5',
    amount: '-3.05',
    isolated: false,
    ...d,
  },
});

describe('SettleAccountFunding (RULES §5)', () => {
  it('a long pays 61,000 × 0.5 × 0.0001 = 3.05 at the mark when the rate is positive', () =>
    given(...funded, aPositionOpened({ positionAmt: '0.5', entryPrice: '60000' }))
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .then((events, after) => {
        expect(events).toEqual([funding({})]);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('996.95');
      }));

  it('a short receives it', () =>
    given(...funded, aPositionOpened({ positionAmt: '-0.5', entryPrice: '60000' }))
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .then([funding({ positionAmt: '-0.5', amount: '3.05' })]));

  it('a negative rate: the long receives', () =>
    given(...funded, aPositionOpened({ positionAmt: '0.5', entryPrice: '60000' }))
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '-0.0001'))
      .then([funding({ rate: '-0.0001', amount: '3.05' })]));

  it('rounds 8 dp HALF_UP: 10,000.5 × 0.0001 × 0.0001 = 0.000100005 → 0.00010001', () =>
    given(...funded, aPositionOpened({ positionAmt: '0.0001', entryPrice: '10000' }))
      .with({ market: at('10000.5') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .then([funding({ markPrice: '10000.5', positionAmt: '0.0001', amount: '-0.00010001' })]));

  it('an isolated position settles to its isolated wallet; the cross wallet is untouched', () =>
    given(
      ...funded,
      aMarginTypeChange('BTCUSDT', 'ISOLATED'),
      aPositionOpened({
        positionAmt: '0.5',
        entryPrice: '60000',
        marginType: 'ISOLATED',
        isolatedWallet: '600',
      }),
    )
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .then((events, after, before) => {
        expect(events).toEqual([funding({ isolated: true })]);
        // 1,000 − 600 moved in at open = 400, unchanged by the funding.
        expect(before.wallets.get('USDT')?.toFixed()).toBe('400');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('596.95');
      }));

  it('a USDC contract settles in USDC', () =>
    given(
      ...funded,
      aPositionOpened({ symbol: 'BTCUSDC', positionAmt: '0.5', entryPrice: '60000' }),
    )
      .with({ market: marketWith({ marks: { BTCUSDC: '60000' } }) })
      .when(settleFundingCommand('BTCUSDC', '0.0001'))
      .then((events, after) => {
        expect(events).toEqual([
          funding({ symbol: 'BTCUSDC', asset: 'USDC', markPrice: '60000', amount: '-3' }),
        ]);
        expect(after.wallets.get('USDC')?.toFixed()).toBe('-3');
      }));

  it('hedge sides settle separately', () =>
    given(
      anAccountOpened({ positionMode: 'HEDGE' }),
      aDeposit('1000'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000', positionSide: 'LONG' }),
      aPositionOpened({ positionAmt: '-0.2', entryPrice: '60000', positionSide: 'SHORT' }),
    )
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .then((events, after) => {
        expect(events).toEqual([
          funding({ positionSide: 'LONG', positionAmt: '0.1', amount: '-0.61' }),
          funding({ positionSide: 'SHORT', positionAmt: '-0.2', amount: '1.22' }),
        ]);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('1000.61');
      }));

  it('no position in the symbol: nothing', () =>
    given(...funded, aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '1', entryPrice: '600' }))
      .with({ market: at('61000') })
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .thenNothing());

  it('no mark price: rejected NO_MARK_PRICE', () =>
    given(...funded, aPositionOpened({ positionAmt: '0.5', entryPrice: '60000' }))
      .when(settleFundingCommand('BTCUSDT', '0.0001'))
      .thenThrows('NO_MARK_PRICE', { field: 'symbol' }));
});
