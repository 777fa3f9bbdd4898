/*
 * Goal: the Fill decider in given/when/then form (RULES §2.6, §5): open, increase with the exact weighted entry at
 * full working precision (never rounded to 8 dp), reduce with realized PnL (8 dp HALF_UP), close, flip, hedge sides;
 * and the default fee from the schedule when a Fill carries none (taker/maker, USDT vs USDC contracts, VIP levels
 * without their own row use VIP 0), rounded 8 dp HALF_UP. Expected events are written out field by field from
 * RULES' arithmetic, never copied from the decider's output.
 */
import {
  aDeposit,
  aFill,
  aPositionOpened,
  anAccountOpened,
  given,
  marketWith,
} from '@ledger/testing';

import type { PositionChanged } from '../account.events';

const opened = anAccountOpened();
const funded = [opened, aDeposit('100000')];

/** The PositionChanged a cross one-way BTCUSDT fill decides, with the fields a test names. */
function changed(data: Partial<PositionChanged['data']>): PositionChanged {
  return {
    type: 'PositionChanged',
    data: {
      symbol: 'BTCUSDT',
      positionSide: 'BOTH',
      side: 'BUY',
      quantity: '0.1',
      price: '60000',
      fee: '0',
      maker: false,
      marginAsset: 'USDT',
      marginType: 'CROSSED',
      realizedPnl: '0',
      positionAmt: '0.1',
      entryPrice: '60000',
      isolatedTransfer: '0',
      ...data,
    },
  };
}

describe('Fill (RULES §2.6)', () => {
  describe('open', () => {
    it('opens a long at the fill price; the taker fee 0.0005 × 6,000 = 3 leaves the wallet at 99,997', () =>
      given(...funded)
        .when(aFill({ quantity: '0.1', price: '60000' }))
        .then((events, after) => {
          expect(events).toEqual([changed({ fee: '3' })]);
          expect(after.wallets.get('USDT')?.toFixed()).toBe('99997');
          expect(after.positions.get('BTCUSDT')?.quantity.toFixed()).toBe('0.1');
        }));

    it('opens a short with a negative positionAmt', () =>
      given(...funded)
        .when(aFill({ side: 'SELL', quantity: '0.1', price: '60000', fee: '0' }))
        .then([changed({ side: 'SELL', positionAmt: '-0.1' })]));
  });

  describe('increase', () => {
    it('weights the entry exactly: (0.1 × 60,000 + 0.2 × 60,001) / 0.3 = 60,000.666… at 40 significant digits', () =>
      given(...funded, aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
        .when(aFill({ quantity: '0.2', price: '60001', fee: '0' }))
        .then((events, after) => {
          const entry = '60000.66666666666666666666666666666666667';
          expect(events).toEqual([
            changed({ quantity: '0.2', price: '60001', positionAmt: '0.3', entryPrice: entry }),
          ]);
          expect(after.positions.get('BTCUSDT')?.entryPrice.toFixed()).toBe(entry);
          expect(after.positions.get('BTCUSDT')?.entryPrice.toFixed()).not.toBe('60000.66666667');
        }));

    it('keeps the unrounded entry, so a later reduction realizes PnL from it: 1 @ 3 + 2 @ 4, sell 1 @ 4 → 0.33333333', () => {
      const bnb = (d: Partial<PositionChanged['data']>) => changed({ symbol: 'BNBUSDT', ...d });
      given(...funded, aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '1', entryPrice: '3' }))
        .when(aFill({ symbol: 'BNBUSDT', quantity: '2', price: '4', fee: '0' }))
        .then([
          bnb({
            quantity: '2',
            price: '4',
            positionAmt: '3',
            entryPrice: '3.666666666666666666666666666666666666667',
          }),
        ]);
      given(
        ...funded,
        aPositionOpened({
          symbol: 'BNBUSDT',
          positionAmt: '3',
          entryPrice: '3.666666666666666666666666666666666666667',
        }),
      )
        .when(aFill({ symbol: 'BNBUSDT', side: 'SELL', quantity: '1', price: '4', fee: '0' }))
        .then([
          bnb({
            side: 'SELL',
            quantity: '1',
            price: '4',
            realizedPnl: '0.33333333',
            positionAmt: '2',
            entryPrice: '3.666666666666666666666666666666666666667',
          }),
        ]);
    });

    it('increases a short the same way', () =>
      given(...funded, aPositionOpened({ positionAmt: '-1', entryPrice: '100', symbol: 'BNBUSDT' }))
        .when(aFill({ symbol: 'BNBUSDT', side: 'SELL', quantity: '1', price: '101', fee: '0' }))
        .then([
          changed({
            symbol: 'BNBUSDT',
            side: 'SELL',
            quantity: '1',
            price: '101',
            positionAmt: '-2',
            entryPrice: '100.5',
          }),
        ]));
  });

  describe('reduce', () => {
    it('a long reduced at a higher price realizes |d| × (P − e0) = 0.1 × 1,000 = 100; entry unchanged', () =>
      given(...funded, aPositionOpened({ positionAmt: '0.3', entryPrice: '60000' }))
        .when(aFill({ side: 'SELL', quantity: '0.1', price: '61000', fee: '0' }))
        .then((events, after) => {
          expect(events).toEqual([
            changed({
              side: 'SELL',
              price: '61000',
              realizedPnl: '100',
              positionAmt: '0.2',
              entryPrice: '60000',
            }),
          ]);
          expect(after.wallets.get('USDT')?.toFixed()).toBe('100100');
        }));

    it('a short reduced at a higher price realizes −100', () =>
      given(...funded, aPositionOpened({ positionAmt: '-0.3', entryPrice: '60000' }))
        .when(aFill({ side: 'BUY', quantity: '0.1', price: '61000', fee: '0' }))
        .then([
          changed({
            side: 'BUY',
            price: '61000',
            realizedPnl: '-100',
            positionAmt: '-0.2',
            entryPrice: '60000',
          }),
        ]));

    it('rounds realized PnL 8 dp HALF_UP: 0.5 × 0.00000001 = 0.000000005 → 0.00000001 (and −0.00000001 for a short)', () => {
      given(...funded, aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '1', entryPrice: '10' }))
        .when(
          aFill({
            symbol: 'BNBUSDT',
            side: 'SELL',
            quantity: '0.5',
            price: '10.00000001',
            fee: '0',
          }),
        )
        .then((events) =>
          expect((events[0] as PositionChanged).data.realizedPnl).toBe('0.00000001'),
        );
      given(...funded, aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '-1', entryPrice: '10' }))
        .when(
          aFill({
            symbol: 'BNBUSDT',
            side: 'BUY',
            quantity: '0.5',
            price: '10.00000001',
            fee: '0',
          }),
        )
        .then((events) =>
          expect((events[0] as PositionChanged).data.realizedPnl).toBe('-0.00000001'),
        );
    });
  });

  describe('close', () => {
    it('closes at 59,000: realized −100, taker fee 2.95, position gone, wallet 99,897.05', () =>
      given(...funded, aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
        .when(aFill({ side: 'SELL', quantity: '0.1', price: '59000' }))
        .then((events, after) => {
          expect(events).toEqual([
            changed({
              side: 'SELL',
              price: '59000',
              fee: '2.95',
              realizedPnl: '-100',
              positionAmt: '0',
              entryPrice: '0',
            }),
          ]);
          expect(after.positions.has('BTCUSDT')).toBe(false);
          expect(after.wallets.get('USDT')?.toFixed()).toBe('99897.05');
        }));
  });

  describe('flip', () => {
    it('closes 0.1 (realized +100) and opens the rest, −0.2, at the fill price', () =>
      given(...funded, aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
        .with({ market: marketWith({ marks: { BTCUSDT: '61000' } }) })
        .when(aFill({ side: 'SELL', quantity: '0.3', price: '61000', fee: '0' }))
        .then([
          changed({
            side: 'SELL',
            quantity: '0.3',
            price: '61000',
            realizedPnl: '100',
            positionAmt: '-0.2',
            entryPrice: '61000',
          }),
        ]));
  });

  describe('hedge mode', () => {
    const hedge = [anAccountOpened({ positionMode: 'HEDGE' }), aDeposit('100000')];
    it('keeps LONG and SHORT apart: a SELL on SHORT opens a short beside the long', () =>
      given(
        ...hedge,
        aPositionOpened({ positionAmt: '0.1', entryPrice: '60000', positionSide: 'LONG' }),
      )
        .when(aFill({ side: 'SELL', quantity: '0.2', positionSide: 'SHORT', fee: '0' }))
        .then((events, after) => {
          expect(events).toEqual([
            changed({ side: 'SELL', quantity: '0.2', positionSide: 'SHORT', positionAmt: '-0.2' }),
          ]);
          expect([...after.positions.keys()].sort()).toEqual(['BTCUSDT:LONG', 'BTCUSDT:SHORT']);
        }));
    it('a SELL on LONG reduces the long side', () =>
      given(
        ...hedge,
        aPositionOpened({ positionAmt: '0.3', entryPrice: '60000', positionSide: 'LONG' }),
      )
        .when(
          aFill({ side: 'SELL', quantity: '0.1', price: '59000', positionSide: 'LONG', fee: '0' }),
        )
        .then([
          changed({
            side: 'SELL',
            price: '59000',
            positionSide: 'LONG',
            realizedPnl: '-100',
            positionAmt: '0.2',
          }),
        ]));
  });

  describe('fills of a placed order', () => {
    it('records the order and what remains of it; a full fill removes the order', () => {
      const order = {
        type: 'OrderPlaced' as const,
        data: {
          orderId: 'o-7',
          symbol: 'BTCUSDT',
          side: 'BUY' as const,
          positionSide: 'BOTH' as const,
          quantity: '0.3',
          price: '60000',
        },
      };
      given(...funded, order)
        .when(aFill({ orderId: 'o-7', quantity: '0.1', fee: '0' }))
        .then((events, after) => {
          expect(events).toEqual([changed({ orderId: 'o-7', orderRemaining: '0.2' })]);
          expect(after.orders.get('o-7')?.quantity.toFixed()).toBe('0.2');
        });
      given(...funded, order)
        .when(aFill({ orderId: 'o-7', quantity: '0.3', fee: '0' }))
        .then((_events, after) => expect(after.orders.has('o-7')).toBe(false));
    });
  });
});

describe('default fee from the schedule (RULES §2.6: VIP 0, USDT maker 0.0002 / taker 0.0005, USDC maker 0 / taker 0.0004)', () => {
  const fee = (events: unknown[]) => (events[0] as PositionChanged).data.fee;
  it.each([
    ['USDT taker', 'BTCUSDT', false, '6000 × 0.0005', '3'],
    ['USDT maker', 'BTCUSDT', true, '6000 × 0.0002', '1.2'],
    ['USDC taker', 'BTCUSDC', false, '6000 × 0.0004', '2.4'],
    ['USDC maker', 'BTCUSDC', true, '6000 × 0', '0'],
  ])('%s on 0.1 @ 60,000 (%s → %s)', (_name, symbol, maker, _how, expected) =>
    given(anAccountOpened(), aDeposit('100000'), aDeposit('100000', 'USDC'))
      .when(aFill({ symbol, maker, quantity: '0.1', price: '60000' }))
      .then((events) => {
        expect(fee(events)).toBe(expected);
        expect((events[0] as PositionChanged).data.maker).toBe(maker);
      }),
  );

  it('charges the fee in the margin asset: a USDC contract debits USDC, not USDT', () =>
    given(anAccountOpened(), aDeposit('100000'), aDeposit('100000', 'USDC'))
      .when(aFill({ symbol: 'BTCUSDC', quantity: '0.1', price: '60000' }))
      .then((_events, after) => {
        expect(after.wallets.get('USDC')?.toFixed()).toBe('99997.6');
        expect(after.wallets.get('USDT')?.toFixed()).toBe('100000');
      }));

  it('rounds the fee 8 dp HALF_UP: 0.001 × 60,000.01 × 0.0005 = 0.030000005 → 0.03000001', () =>
    given(anAccountOpened(), aDeposit('100000'))
      .when(aFill({ quantity: '0.001', price: '60000.01' }))
      .then((events) => expect(fee(events)).toBe('0.03000001')));

  it('a VIP level without its own row uses VIP 0 rates', () =>
    given(anAccountOpened({ vipLevel: 5 }), aDeposit('100000'))
      .when(aFill({ quantity: '0.1', price: '60000' }))
      .then((events) => expect(fee(events)).toBe('3')));

  it('a fee given on the Fill is charged as is', () =>
    given(anAccountOpened(), aDeposit('100000'))
      .when(aFill({ quantity: '0.1', price: '60000', fee: '7.77' }))
      .then((events) => expect(fee(events)).toBe('7.77')));
});
