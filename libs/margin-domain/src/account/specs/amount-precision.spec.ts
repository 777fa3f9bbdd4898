/*
 * Goal: an amount denominated in an asset has at most that asset's `assets.{A}.precision` decimals (issue 11 item
 * 5, reference-data.md). Deposit, Withdraw, AdjustIsolatedMargin (in the symbol's margin asset) and an explicit
 * Fill fee (in the margin asset) finer than that are rejected with AMOUNT_PRECISION_EXCEEDED (Binance −1111
 * BAD_PRECISION), the field at fault, a message naming the asset and its precision, and nothing appended. Trailing
 * zeros do not count. Quantities finer than the symbol's step stay accepted (quantityPrecision is informational).
 */
import {
  aDeposit,
  aFill,
  aLeverageChange,
  aMarginTypeChange,
  aPositionOpened,
  adjustIsolatedMarginCommand,
  anAccountOpened,
  depositCommand,
  given,
  marketWith,
  withOverrides,
  withdrawCommand,
} from '@ledger/testing';

import type { AccountCommand } from '../account.commands';

/** USDT with 2 decimals, BNB with none; the shipped set gives every asset 8. */
const ref = withOverrides({ 'assets.USDT.precision': 2, 'assets.BNB.precision': 0 });
const market = marketWith({ marks: { BTCUSDT: '60000' } });
const history = [
  anAccountOpened(),
  aDeposit('10000'),
  aDeposit('10', 'BNB'),
  aMarginTypeChange('BTCUSDT', 'ISOLATED'),
  aLeverageChange('BTCUSDT', 10),
  aPositionOpened({
    positionAmt: '0.1',
    entryPrice: '60000',
    marginType: 'ISOLATED',
    isolatedWallet: '600',
  }),
];

function rejected(command: AccountCommand, field: string, message: string): void {
  const error = given(...history)
    .with({ ref, market })
    .when(command)
    .error();
  expect(error.code).toBe('AMOUNT_PRECISION_EXCEEDED');
  expect(error.field).toBe(field);
  expect(error.binanceCode).toBe(-1111);
  expect(error.message).toContain(message);
}

function accepted(command: AccountCommand): void {
  given(...history)
    .with({ ref, market })
    .when(command)
    .then((events) => expect(events.length).toBeGreaterThan(0));
}

describe('amounts finer than the asset precision are rejected', () => {
  it.each<[string, AccountCommand, string, string]>([
    [
      'a USDT deposit of 1.005',
      depositCommand('1.005'),
      'amount',
      'USDT allows at most 2 decimals',
    ],
    [
      'a USDT deposit of 0.00000001',
      depositCommand('0.00000001'),
      'amount',
      'USDT allows at most 2 decimals',
    ],
    [
      'a BNB deposit of 1.5',
      depositCommand('1.5', 'BNB'),
      'amount',
      'BNB allows at most 0 decimals',
    ],
    [
      'a USDT withdrawal of 0.001',
      withdrawCommand('0.001'),
      'amount',
      'USDT allows at most 2 decimals',
    ],
    [
      'an isolated-margin add of 0.001 USDT',
      adjustIsolatedMarginCommand('BTCUSDT', '0.001'),
      'amount',
      'USDT allows at most 2 decimals',
    ],
    [
      'an isolated-margin removal of −0.001 USDT',
      adjustIsolatedMarginCommand('BTCUSDT', '-0.001'),
      'amount',
      'USDT allows at most 2 decimals',
    ],
    [
      'an explicit fill fee of 0.005 USDT',
      aFill({ symbol: 'BNBUSDT', quantity: '1', price: '600', fee: '0.005' }),
      'fee',
      'USDT allows at most 2 decimals',
    ],
  ])('%s', (_name, command, field, message) => rejected(command, field, message));

  it('says which amount and how many decimals it has', () =>
    rejected(
      depositCommand('1.005'),
      'amount',
      'amount 1.005 has 3 decimals: USDT allows at most 2 decimals',
    ));

  it('checks the precision before the balance: an over-precise withdrawal beyond the limit names the precision', () =>
    rejected(withdrawCommand('999999.001'), 'amount', 'USDT allows at most 2 decimals'));
});

describe('amounts within the precision are accepted', () => {
  it.each<[string, AccountCommand]>([
    ['a USDT deposit of 1.01', depositCommand('1.01')],
    ['trailing zeros beyond the precision (1.01000000)', depositCommand('1.01000000')],
    ['a whole BNB deposit', depositCommand('2', 'BNB')],
    ['a BNB amount with only zero decimals (2.000)', depositCommand('2.000', 'BNB')],
    ['a BTC deposit of 8 decimals (precision 8)', depositCommand('0.00000001', 'BTC')],
    ['a USDT withdrawal of 0.01', withdrawCommand('0.01')],
    ['an isolated-margin add of 0.01', adjustIsolatedMarginCommand('BTCUSDT', '0.01')],
    [
      'an explicit fill fee of 0.01 USDT',
      aFill({ symbol: 'BNBUSDT', quantity: '1', price: '600', fee: '0.01' }),
    ],
  ])('%s', (_name, command) => accepted(command));

  it('a quantity finer than the symbol step stays accepted (BNBUSDT quantityPrecision 2)', () =>
    given(...history)
      .with({ ref, market })
      .when(aFill({ symbol: 'BNBUSDT', quantity: '0.00000001', price: '600', fee: '0' }))
      .then((events) => expect(events).toHaveLength(1)));

  it('a fill without a fee is charged the schedule fee, unchecked against the precision', () =>
    given(...history)
      .with({ ref, market })
      .when(aFill({ symbol: 'BNBUSDT', quantity: '0.001', price: '600.01' }))
      .then((events) => {
        // 0.001 × 600.01 × 0.0005 = 0.000300005 → 0.00030001 (RULES §2.6: 8 dp HALF_UP).
        expect(events[0]?.type === 'PositionChanged' && events[0].data.fee).toBe('0.00030001');
      }));
});
