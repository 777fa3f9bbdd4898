/*
 * Goal: an explicit Fill `fee` cannot create money (issue 11 item 3, RULES §2.6, reference-data.md `fees.maxRate`).
 * With N = |quantity| × price, the fee must lie in [floor × N, maxRate × N], both bounds rounded outward to 8 dp,
 * where floor is the most negative rate of the margin asset over the whole fee schedule (0 when none is negative)
 * and maxRate is `fees.maxRate` (default 0.01). Outside: FEE_OUT_OF_RANGE (Binance −4026 COMMISSION_INVALID),
 * field `fee`, nothing appended. A fill without a fee keeps the schedule's fee.
 */
import {
  aDeposit,
  aFill,
  anAccountOpened,
  given,
  shippedReferenceData,
  withOverrides,
} from '@ledger/testing';

import type { AccountEvent, PositionChanged } from '../account.events';

const funded = [anAccountOpened(), aDeposit('100000'), aDeposit('100000', 'USDC')];
const feeOf = (events: AccountEvent[]) => (events[0] as PositionChanged).data.fee;

/** A schedule whose only rebates sit in rows the VIP 0 account does not use. */
const rebates = withOverrides({
  'fees.schedule': [
    {
      minVipLevel: 0,
      USDT: { maker: '0.0002', taker: '0.0005' },
      USDC: { maker: '0', taker: '0.0004' },
    },
    { minVipLevel: 3, USDT: { maker: '-0.00005', taker: '0.0003' } },
    {
      minVipLevel: 6,
      USDT: { maker: '-0.0001', taker: '0.0002' },
      USDC: { maker: '-0.00002', taker: '0.0003' },
    },
  ],
});

describe('the shipped schedule (no negative rate): 0 ≤ fee ≤ 0.01 × N', () => {
  // N = 0.01 × 60,000 = 600: the fee may be 0 … 6.
  it.each(['0', '3', '6'])('accepts %s', (fee) =>
    given(...funded)
      .when(aFill({ fee }))
      .then((events) => expect(feeOf(events)).toBe(fee)),
  );

  it.each([
    ['a huge negative "rebate"', '-1000000'],
    ['the smallest negative fee', '-0.00000001'],
    ['a fee one unit above 1% of the notional', '6.00000001'],
    ['a fee far above it', '600'],
  ])('rejects %s with FEE_OUT_OF_RANGE (−4026), field fee, nothing appended', (_name, fee) =>
    given(...funded)
      .when(aFill({ fee }))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee', binanceCode: -4026 }),
  );

  it('names both bounds and the notional in the message', () => {
    const error = given(...funded)
      .when(aFill({ fee: '-1000000' }))
      .error();
    expect(error.message).toBe(
      'fee -1000000 USDT is outside [0, 6] (rates 0 … 0.01 of the notional 600)',
    );
  });

  it('keeps the default fee from the schedule when the fill has none', () =>
    given(...funded)
      .when(aFill({ quantity: '1', price: '60000' }))
      .then((events) => expect(feeOf(events)).toBe('30')));

  it('bounds a short by |quantity| × price the same way', () => {
    given(...funded)
      .when(aFill({ side: 'SELL', fee: '6' }))
      .then((events) => expect(feeOf(events)).toBe('6'));
    given(...funded)
      .when(aFill({ side: 'SELL', fee: '-0.00000001' }))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee' });
  });
});

describe('bounds rounded outward to 8 dp', () => {
  // N = 0.001 × 60,000.00001 = 60.00000001: 0.01 × N = 0.6000000001 → up to 0.60000001.
  const fill = (fee: string) => aFill({ quantity: '0.001', price: '60000.00001', fee });

  it('accepts the upper bound rounded up (0.60000001), rejects the next unit', () => {
    given(...funded)
      .when(fill('0.60000001'))
      .then((events) => expect(feeOf(events)).toBe('0.60000001'));
    given(...funded)
      .when(fill('0.60000002'))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee' });
  });

  it('accepts the lower bound rounded down (−0.0001 × N = −0.006000000001 → −0.00600001)', () => {
    given(...funded)
      .with({ ref: rebates })
      .when(fill('-0.00600001'))
      .then((events) => expect(feeOf(events)).toBe('-0.00600001'));
    given(...funded)
      .with({ ref: rebates })
      .when(fill('-0.00600002'))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee' });
  });
});

describe('a schedule with rebates: the floor is the most negative rate of the margin asset', () => {
  it('over the whole schedule, not only the account’s VIP row: VIP 0 may carry the VIP 6 rebate −0.0001 × N', () =>
    given(...funded)
      .with({ ref: rebates })
      .when(aFill({ fee: '-0.06' }))
      .then((events, after) => {
        expect(feeOf(events)).toBe('-0.06');
        // The rebate is credited: 100,000 + 0.06.
        expect(after.wallets.get('USDT')?.toFixed()).toBe('100000.06');
      }));

  it('but no further: −0.06000001 is refused', () =>
    given(...funded)
      .with({ ref: rebates })
      .when(aFill({ fee: '-0.06000001' }))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee', binanceCode: -4026 }));

  it('per margin asset: a USDC contract’s floor is USDC’s −0.00002 (× 600 = −0.012)', () => {
    given(...funded)
      .with({ ref: rebates })
      .when(aFill({ symbol: 'BTCUSDC', fee: '-0.012' }))
      .then((events, after) => {
        expect(feeOf(events)).toBe('-0.012');
        expect(after.wallets.get('USDC')?.toFixed()).toBe('100000.012');
      });
    given(...funded)
      .with({ ref: rebates })
      .when(aFill({ symbol: 'BTCUSDC', fee: '-0.01200001' }))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee' });
  });
});

describe('fees.maxRate', () => {
  it('a narrower maxRate (0.001 × 600 = 0.6) refuses what the default accepts', () => {
    const narrow = withOverrides({ 'fees.maxRate': '0.001' });
    given(...funded)
      .with({ ref: narrow })
      .when(aFill({ fee: '0.6' }))
      .then((events) => expect(feeOf(events)).toBe('0.6'));
    given(...funded)
      .with({ ref: narrow })
      .when(aFill({ fee: '0.60000001' }))
      .thenThrows('FEE_OUT_OF_RANGE', { field: 'fee' });
    given(...funded)
      .with({ ref: shippedReferenceData() })
      .when(aFill({ fee: '0.60000001' }))
      .then((events) => expect(feeOf(events)).toBe('0.60000001'));
  });
});
