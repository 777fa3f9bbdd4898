/*
 * Goal: an isolated position never touches the cross wallet (issue 11 item 4, RULES §2.3, §5). A fill that closes
 * an isolated position (or closes it and opens the other side) at a loss beyond its isolated wallet leaves a
 * bankruptcy shortfall; the insurance fund covers it into the isolated wallet (`InsuranceFundCovered` with the
 * position's symbol and side, decided before the `PositionChanged` it makes whole), so the fill releases 0 and
 * the cross wallet is unchanged. A loss within the wallet, a reduction and a cross position behave as before.
 * The margin figures afterwards are those of an account whose cross wallet was never touched.
 */
import {
  aDeposit,
  aFill,
  aLeverageChange,
  aMarginTypeChange,
  aPositionOpened,
  anAccountOpened,
  given,
  marketWith,
  shippedReferenceData,
} from '@ledger/testing';

import type { AccountEvent, PositionChanged } from '../account.events';
import { accountView } from '../../margin/account-view';

/** 0.1 BTCUSDT @ 60,000 at 10x, isolated: 600 in the isolated wallet, 400 left in the cross wallet. */
const isolatedLong = [
  anAccountOpened(),
  aDeposit('1000'),
  aMarginTypeChange('BTCUSDT', 'ISOLATED'),
  aLeverageChange('BTCUSDT', 10),
  aPositionOpened({
    positionAmt: '0.1',
    entryPrice: '60000',
    marginType: 'ISOLATED',
    isolatedWallet: '600',
  }),
];
/** Mark 54,500: isolated margin 600 − 550 = 50 > MM 21.8, so no liquidation is due before the fill. */
const market = marketWith({ marks: { BTCUSDT: '54500' } });
const ref = shippedReferenceData();
const changed = (events: AccountEvent[]) =>
  events.find((e): e is PositionChanged => e.type === 'PositionChanged')?.data;

describe('closing an isolated position at a loss beyond its wallet', () => {
  it('the insurance fund covers the shortfall into the isolated wallet; the cross wallet keeps its 400', () =>
    // realized 0.1 × (53,000 − 60,000) = −700; wallet 600 − 700 − fee 1 = −101: the shortfall.
    given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '53000', fee: '1' }))
      .then((events, after) => {
        expect(events).toEqual([
          {
            type: 'InsuranceFundCovered',
            data: { asset: 'USDT', amount: '101', symbol: 'BTCUSDT', positionSide: 'BOTH' },
          },
          {
            type: 'PositionChanged',
            data: {
              symbol: 'BTCUSDT',
              positionSide: 'BOTH',
              side: 'SELL',
              quantity: '0.1',
              price: '53000',
              fee: '1',
              maker: false,
              marginAsset: 'USDT',
              marginType: 'ISOLATED',
              realizedPnl: '-700',
              positionAmt: '0',
              entryPrice: '0',
              isolatedTransfer: '0',
            },
          },
        ]);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
        expect(after.positions.size).toBe(0);
      }));

  it('leaves the margin figures of an untouched cross wallet: 400 wallet, available and withdrawable', () => {
    const after = given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '53000', fee: '1' }))
      .stateAfter();
    const view = accountView(after, market, ref);
    expect(view.account).toMatchObject({
      totalWalletBalance: '400',
      totalMarginBalance: '400',
      totalMaintMargin: '0',
      totalInitialMargin: '0',
      availableBalance: '400',
      maxWithdrawAmount: '400',
      marginRatio: '0',
    });
    expect(view.assets.USDT).toMatchObject({
      walletBalance: '400',
      crossWalletBalance: '400',
      availableBalance: '400',
      maxWithdrawAmount: '400',
    });
    expect(view.positions).toEqual({});
  });

  it('a flip covers the shortfall of the closed side and moves only the new side’s IM from the cross wallet', () =>
    // close 0.1: wallet 600 − 700 = −100 covered; open −0.05 @ 53,000: IM 0.05 × 53,000 / 10 = 265 from cross.
    given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.15', price: '53000', fee: '0' }))
      .then((events, after) => {
        expect(events.map((e) => e.type)).toEqual(['InsuranceFundCovered', 'PositionChanged']);
        expect(events[0]?.data).toEqual({
          asset: 'USDT',
          amount: '100',
          symbol: 'BTCUSDT',
          positionSide: 'BOTH',
        });
        expect(changed(events)).toMatchObject({
          realizedPnl: '-700',
          positionAmt: '-0.05',
          entryPrice: '53000',
          isolatedTransfer: '265',
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('135');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('265');
        const view = accountView(after, market, ref);
        // UPnL −0.05 × 1,500 = −75: isolated margin 190; the cross pool is 135, all of it available.
        expect(view.positions.BTCUSDT).toMatchObject({
          isolatedWallet: '265',
          isolatedMargin: '190',
        });
        expect(view.assets.USDT).toMatchObject({
          walletBalance: '400',
          crossWalletBalance: '135',
          availableBalance: '135',
        });
      }));

  it('hedge mode: the cover names the side it makes whole', () =>
    given(
      anAccountOpened({ positionMode: 'HEDGE' }),
      aDeposit('1000'),
      aMarginTypeChange('BTCUSDT', 'ISOLATED'),
      aLeverageChange('BTCUSDT', 10),
      aPositionOpened({
        positionAmt: '0.1',
        entryPrice: '60000',
        marginType: 'ISOLATED',
        positionSide: 'LONG',
        isolatedWallet: '600',
      }),
    )
      .with({ market })
      .when(
        aFill({ side: 'SELL', quantity: '0.1', price: '53000', fee: '0', positionSide: 'LONG' }),
      )
      .then((events, after) => {
        expect(events[0]).toEqual({
          type: 'InsuranceFundCovered',
          data: { asset: 'USDT', amount: '100', symbol: 'BTCUSDT', positionSide: 'LONG' },
        });
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
      }));
});

describe('unchanged cases', () => {
  it('a loss exactly equal to the wallet: no cover, nothing released', () =>
    // 0.1 × (54,000 − 60,000) = −600.
    given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '54000', fee: '0' }))
      .then((events, after) => {
        expect(events.map((e) => e.type)).toEqual(['PositionChanged']);
        expect(changed(events)?.isolatedTransfer).toBe('0');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
      }));

  it('a loss within the wallet releases the rest, as before', () =>
    given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '55000', fee: '0' }))
      .then((events, after) => {
        expect(events.map((e) => e.type)).toEqual(['PositionChanged']);
        expect(changed(events)?.isolatedTransfer).toBe('-100');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('500');
      }));

  it('a reduction beyond the wallet takes nothing from the cross wallet and covers nothing (the rest of the position still backs it)', () =>
    // half at 47,000: realized −650, wallet 600 − 650 = −50 stays on the open half; liquidation handles it.
    given(...isolatedLong)
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.05', price: '47000', fee: '0' }))
      .then((events, after) => {
        expect(events.map((e) => e.type)).toEqual(['PositionChanged']);
        expect(changed(events)?.isolatedTransfer).toBe('0');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('400');
        expect(after.positions.get('BTCUSDT')?.isolatedWallet.toFixed()).toBe('-50');
      }));

  it('a cross position realizes its loss from the cross wallet, no insurance', () =>
    given(
      anAccountOpened(),
      aDeposit('1000'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
    )
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '0.1', price: '53000', fee: '0' }))
      .then((events, after) => {
        expect(events.map((e) => e.type)).toEqual(['PositionChanged']);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('300');
      }));
});
