/*
 * Goal: the negative space of every account command (STYLE §6, TigerBeetle). Each malformed or forbidden command is
 * rejected with its exact stable code, the field at fault and Binance's code where Binance has one, and `decide`
 * returns nothing else (a rejection appends no event). Covers decimal input (zero, negative, > 8 decimals, exponent,
 * '+', NaN/Infinity, non-strings, > 1e18), unknown assets and symbols, leverage limits (−4028, −2027, −4161),
 * position-side mismatch (−4061), the withdrawal limit, the −2019 pre-trade check (never applied to a reduction),
 * margin-type and position-mode codes (−4046/−4047/−4048/−4168, −4059/−4067/−4068) and unknown orders (−2011).
 */
import {
  aDeposit,
  aFill,
  aLeverageChange,
  aMarginTypeChange,
  aPlaceOrder,
  aPositionOpened,
  anAccountOpened,
  anAssetModeChange,
  anOrderPlaced,
  adjustIsolatedMarginCommand,
  cancelOrderCommand,
  depositCommand,
  given,
  marketWith,
  setLeverageCommand,
  setMarginTypeCommand,
  setPositionModeCommand,
  switchAssetModeCommand,
  withOverrides,
  withdrawCommand,
} from '@ledger/testing';

import type { AccountCommand } from '../account.commands';

const opened = anAccountOpened();

/** Every malformed decimal and the code it must get (RULES §2.6 input rule; scenario-format "Commands"). */
const MALFORMED: [string, unknown, string, number | undefined][] = [
  ['more than 8 decimals', '1.123456789', 'TOO_MANY_DECIMALS', -1111],
  ['more than 8 decimals (many)', '0.0000000000001', 'TOO_MANY_DECIMALS', -1111],
  ['an exponent', '1e5', 'INVALID_DECIMAL', -1100],
  ['an exponent with a fraction', '1.5E3', 'INVALID_DECIMAL', -1100],
  ["a leading '+'", '+1', 'INVALID_DECIMAL', -1100],
  ['NaN', 'NaN', 'INVALID_DECIMAL', -1100],
  ['Infinity', 'Infinity', 'INVALID_DECIMAL', -1100],
  ['-Infinity', '-Infinity', 'INVALID_DECIMAL', -1100],
  ['an empty string', '', 'INVALID_DECIMAL', -1100],
  ['surrounding spaces', ' 1', 'INVALID_DECIMAL', -1100],
  ['a leading zero', '01', 'INVALID_DECIMAL', -1100],
  ['a trailing point', '1.', 'INVALID_DECIMAL', -1100],
  ['no integer part', '.5', 'INVALID_DECIMAL', -1100],
  ['a thousands separator', '1,000', 'INVALID_DECIMAL', -1100],
  ['hexadecimal', '0x10', 'INVALID_DECIMAL', -1100],
  ['a number, not a string', 100, 'INVALID_DECIMAL', -1100],
  ['a boolean', true, 'INVALID_DECIMAL', -1100],
  ['an object', { value: '1' }, 'INVALID_DECIMAL', -1100],
  ['null', null, 'MISSING_FIELD', -1102],
  ['missing', undefined, 'MISSING_FIELD', -1102],
  ['beyond 1e18', '1000000000000000001', 'AMOUNT_TOO_LARGE', undefined],
  ['beyond 1e18 by a fraction', '1000000000000000000.00000001', 'AMOUNT_TOO_LARGE', undefined],
];

/** Positive-only amounts: zero and negatives are rejected with the command's own code. */
const NOT_POSITIVE = ['0', '0.00000000', '-0', '-5', '-0.00000001'];

function expectRejected(
  command: AccountCommand,
  code: string,
  field: string,
  binanceCode?: number,
): void {
  given(opened, aDeposit('100000'), aDeposit('10', 'BTC'))
    .with({ market: marketWith({ marks: { BTCUSDT: '60000' } }) })
    .when(command)
    .thenThrows(code, { field, ...(binanceCode === undefined ? {} : { binanceCode }) });
}

describe('decimal input', () => {
  const fields: [string, (v: unknown) => AccountCommand, string, string, number | undefined][] = [
    ['Deposit amount', (v) => depositCommand(v), 'amount', 'INVALID_AMOUNT', undefined],
    ['Withdraw amount', (v) => withdrawCommand(v), 'amount', 'INVALID_AMOUNT', undefined],
    ['Fill quantity', (v) => aFill({ quantity: v }), 'quantity', 'INVALID_QUANTITY', -4003],
    ['Fill price', (v) => aFill({ price: v }), 'price', 'INVALID_PRICE', -4001],
    [
      'PlaceOrder quantity',
      (v) => aPlaceOrder({ quantity: v }),
      'quantity',
      'INVALID_QUANTITY',
      -4003,
    ],
    ['PlaceOrder price', (v) => aPlaceOrder({ price: v }), 'price', 'INVALID_PRICE', -4001],
  ];

  describe.each(fields)('%s', (_name, build, field, notPositiveCode, notPositiveBinance) => {
    it.each(MALFORMED)('rejects %s', (_case, value, code, binanceCode) =>
      expectRejected(build(value), code, field, binanceCode),
    );
    it.each(NOT_POSITIVE)('rejects %s as not positive', (value) =>
      expectRejected(build(value), notPositiveCode, field, notPositiveBinance),
    );
  });

  describe('Fill fee (any sign: a maker rebate is negative)', () => {
    it.each(MALFORMED.filter(([, v]) => v !== undefined && v !== null))(
      'rejects %s',
      (_case, value, code, binanceCode) =>
        expectRejected(aFill({ fee: value }), code, 'fee', binanceCode),
    );
    // A rebate must be one the schedule grants (FEE_OUT_OF_RANGE otherwise: fill-fee-bounds.spec.ts); this
    // schedule's maker rebate −0.001 allows down to −0.001 × 600 = −0.6.
    const withRebate = withOverrides({
      'fees.schedule': [
        {
          minVipLevel: 0,
          USDT: { maker: '-0.001', taker: '0.0005' },
          USDC: { maker: '0', taker: '0.0004' },
        },
      ],
    });
    it('accepts a negative fee (a rebate) and credits it', () =>
      given(opened, aDeposit('1000'))
        .with({ ref: withRebate })
        .when(aFill({ fee: '-0.5' }))
        .then((events, after) => {
          expect(events).toHaveLength(1);
          expect(after.wallets.get('USDT')?.toFixed()).toBe('1000.5');
        }));
  });

  describe('AdjustIsolatedMargin amount (signed)', () => {
    it.each(MALFORMED)('rejects %s', (_case, value, code, binanceCode) =>
      expectRejected(adjustIsolatedMarginCommand('BTCUSDT', value), code, 'amount', binanceCode),
    );
    it('rejects 0', () =>
      expectRejected(adjustIsolatedMarginCommand('BTCUSDT', '0'), 'INVALID_AMOUNT', 'amount'));
  });

  it('accepts exactly 1e18 and exactly 8 decimals', () => {
    given(opened)
      .when(depositCommand('1000000000000000000'))
      .then([{ type: 'Deposited', data: { asset: 'USDT', amount: '1000000000000000000' } }]);
    given(opened)
      .when(depositCommand('0.00000001'))
      .then([{ type: 'Deposited', data: { asset: 'USDT', amount: '0.00000001' } }]);
  });

  it('stores a canonical amount: trailing zeros dropped', () =>
    given(opened)
      .when(depositCommand('12.50000000'))
      .then([{ type: 'Deposited', data: { asset: 'USDT', amount: '12.5' } }]));
});

describe('unknown names', () => {
  it('rejects an unknown asset', () =>
    expectRejected(depositCommand('1', 'DOGE'), 'UNKNOWN_ASSET', 'asset'));
  it('rejects an unknown asset on withdrawal', () =>
    expectRejected(withdrawCommand('1', 'DOGE'), 'UNKNOWN_ASSET', 'asset'));
  it('rejects a non-string asset', () =>
    expectRejected(depositCommand('1', 5), 'INVALID_FIELD', 'asset'));
  it('rejects a missing asset', () =>
    expectRejected(
      { type: 'Deposit', accountId: 'acc-1', asset: undefined, amount: '1' },
      'MISSING_FIELD',
      'asset',
      -1102,
    ));
  it.each<[string, AccountCommand]>([
    ['Fill', aFill({ symbol: 'ETHUSDT' })],
    ['PlaceOrder', aPlaceOrder({ symbol: 'ETHUSDT' })],
    ['SetLeverage', setLeverageCommand('ETHUSDT', 10)],
    ['SetMarginType', setMarginTypeCommand('ETHUSDT', 'ISOLATED')],
    ['AdjustIsolatedMargin', adjustIsolatedMarginCommand('ETHUSDT', '1')],
  ])('%s rejects an unknown symbol (−1121)', (_name, command) =>
    expectRejected(command, 'UNKNOWN_SYMBOL', 'symbol', -1121),
  );
  it('rejects an unknown side (−1117)', () =>
    expectRejected(aFill({ side: 'HOLD' }), 'INVALID_ENUM', 'side', -1117));
  it('rejects an unknown margin type', () =>
    expectRejected(setMarginTypeCommand('BTCUSDT', 'PORTFOLIO'), 'INVALID_ENUM', 'marginType'));
  it('rejects an unknown asset mode', () =>
    expectRejected(switchAssetModeCommand('BOTH'), 'INVALID_ENUM', 'assetMode'));
  it('rejects commands to an account never opened', () =>
    given().when(depositCommand('1')).thenThrows('ACCOUNT_NOT_FOUND', { field: 'accountId' }));
  it('rejects opening an account twice', () =>
    given(opened)
      .when({ type: 'OpenAccount', accountId: 'acc-1' })
      .thenThrows('ACCOUNT_EXISTS', { field: 'accountId' }));
  it.each([-1, 10, 1.5, '1'])('rejects VIP level %p', (vipLevel) =>
    given()
      .when({ type: 'OpenAccount', accountId: 'acc-1', vipLevel })
      .thenThrows('INVALID_VIP_LEVEL', { field: 'vipLevel' }),
  );
});

describe('leverage', () => {
  it.each<[string, unknown]>([
    ['0', 0],
    ['126', 126],
    ['1.5', 1.5],
    ['-1', -1],
    ['a string', '20'],
    ['NaN', Number.NaN],
  ])('rejects leverage %s (−4028)', (_name, leverage) =>
    expectRejected(setLeverageCommand('BTCUSDT', leverage), 'INVALID_LEVERAGE', 'leverage', -4028),
  );

  it('rejects leverage above the first bracket of the symbol (BNBUSDT max 75) with −4028', () => {
    expectRejected(setLeverageCommand('BNBUSDT', 76), 'INVALID_LEVERAGE', 'leverage', -4028);
    given(opened)
      .when(setLeverageCommand('BNBUSDT', 75))
      .then([{ type: 'LeverageChanged', data: { symbol: 'BNBUSDT', leverage: 75, previous: 20 } }]);
  });

  const tier2 = [
    opened,
    aDeposit('100000'),
    aPositionOpened({ positionAmt: '2', entryPrice: '60000' }),
  ];

  it("rejects leverage above the position's bracket (notional 120,000 → tier 2, max 100) with −2027", () => {
    given(...tier2)
      .with({ market: marketWith({ marks: { BTCUSDT: '60000' } }) })
      .when(setLeverageCommand('BTCUSDT', 101))
      .thenThrows('LEVERAGE_EXCEEDS_BRACKET', { field: 'leverage', binanceCode: -2027 });
    given(...tier2)
      .with({ market: marketWith({ marks: { BTCUSDT: '60000' } }) })
      .when(setLeverageCommand('BTCUSDT', 100))
      .then([
        { type: 'LeverageChanged', data: { symbol: 'BTCUSDT', leverage: 100, previous: 20 } },
      ]);
  });

  it('reads the bracket at the mark: the same position at mark 25,000 (notional 50,000, tier 1) may use 125', () =>
    given(...tier2)
      .with({ market: marketWith({ marks: { BTCUSDT: '25000' } }) })
      .when(setLeverageCommand('BTCUSDT', 125))
      .then([
        { type: 'LeverageChanged', data: { symbol: 'BTCUSDT', leverage: 125, previous: 20 } },
      ]));

  it('rejects a fill that takes the position past the bracket of its leverage (−2027, field quantity)', () =>
    given(opened, aDeposit('100000'), aLeverageChange('BTCUSDT', 125))
      .with({ market: marketWith({ marks: { BTCUSDT: '60000' } }) })
      .when(aFill({ quantity: '1', price: '60000', fee: '0' }))
      .thenThrows('LEVERAGE_EXCEEDS_BRACKET', { field: 'quantity', binanceCode: -2027 }));

  const isolated = [
    opened,
    aDeposit('10000'),
    aMarginTypeChange('BTCUSDT', 'ISOLATED'),
    aPositionOpened({
      positionAmt: '0.1',
      entryPrice: '60000',
      marginType: 'ISOLATED',
      isolatedWallet: '300',
    }),
  ];

  it('rejects reducing the leverage of an isolated position (−4161)', () =>
    given(...isolated)
      .when(setLeverageCommand('BTCUSDT', 10))
      .thenThrows('ISOLATED_LEVERAGE_REDUCTION', { field: 'leverage', binanceCode: -4161 }));

  it('accepts raising the leverage of an isolated position', () =>
    given(...isolated)
      .when(setLeverageCommand('BTCUSDT', 25))
      .then([
        { type: 'LeverageChanged', data: { symbol: 'BTCUSDT', leverage: 25, previous: 20 } },
      ]));

  it('rejects reducing cross leverage when the IM no longer fits (−2019), accepts it when it does', () => {
    const thin = [
      opened,
      aDeposit('400'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
    ];
    const market = marketWith({ marks: { BTCUSDT: '60000' } });
    // IM at 20x = 300 ≤ 400; at 10x = 600 > 400.
    given(...thin)
      .with({ market })
      .when(setLeverageCommand('BTCUSDT', 10))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 });
    given(...thin)
      .with({ market })
      .when(setLeverageCommand('BTCUSDT', 15))
      .then([{ type: 'LeverageChanged', data: { symbol: 'BTCUSDT', leverage: 15, previous: 20 } }]);
  });

  it('decides nothing when the leverage is unchanged', () =>
    given(opened).when(setLeverageCommand('BTCUSDT', 20)).thenNothing());
});

describe('position side (−4061)', () => {
  it.each<[string, AccountCommand]>([
    ['Fill LONG', aFill({ positionSide: 'LONG' })],
    ['Fill SHORT', aFill({ positionSide: 'SHORT' })],
    ['PlaceOrder LONG', aPlaceOrder({ positionSide: 'LONG' })],
  ])('one-way mode rejects %s', (_name, command) =>
    expectRejected(command, 'POSITION_SIDE_MISMATCH', 'positionSide', -4061),
  );

  it.each<[string, AccountCommand]>([
    ['Fill without positionSide', aFill()],
    ['Fill BOTH', aFill({ positionSide: 'BOTH' })],
    ['PlaceOrder BOTH', aPlaceOrder({ positionSide: 'BOTH' })],
  ])('hedge mode rejects %s', (_name, command) =>
    given(anAccountOpened({ positionMode: 'HEDGE' }), aDeposit('100000'))
      .when(command)
      .thenThrows('POSITION_SIDE_MISMATCH', { field: 'positionSide', binanceCode: -4061 }),
  );

  it('rejects an unknown positionSide', () =>
    expectRejected(aFill({ positionSide: 'UP' }), 'INVALID_ENUM', 'positionSide'));

  it('hedge mode rejects a BUY that would take the SHORT side past zero (−2022)', () =>
    given(
      anAccountOpened({ positionMode: 'HEDGE' }),
      aDeposit('100000'),
      aPositionOpened({ positionAmt: '-0.1', entryPrice: '60000', positionSide: 'SHORT' }),
    )
      .when(aFill({ positionSide: 'SHORT', quantity: '0.2' }))
      .thenThrows('REDUCE_EXCEEDS_POSITION', { field: 'quantity', binanceCode: -2022 }));
});

describe('withdrawal limit (maxWithdrawAmount, RULES §2.2 / §2.5)', () => {
  const single = [
    opened,
    aDeposit('1000'),
    aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
  ];

  it('SINGLE: available 1,000 − IM 300 = 700 may be withdrawn, 700.00000001 may not', () => {
    const market = marketWith({ marks: { BTCUSDT: '60000' } });
    given(...single)
      .with({ market })
      .when(withdrawCommand('700'))
      .then([{ type: 'Withdrawn', data: { asset: 'USDT', amount: '700' } }]);
    given(...single)
      .with({ market })
      .when(withdrawCommand('700.00000001'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
  });

  it('SINGLE: an unrealized profit counts (mark 61,000: 1,000 + 100 − 305 = 795), capped at the wallet', () => {
    const market = marketWith({ marks: { BTCUSDT: '61000' } });
    given(...single)
      .with({ market })
      .when(withdrawCommand('795'))
      .then((events) => expect(events).toHaveLength(1));
    given(...single)
      .with({ market })
      .when(withdrawCommand('795.00000001'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
    const rich = marketWith({ marks: { BTCUSDT: '80000' } });
    given(...single)
      .with({ market: rich })
      .when(withdrawCommand('1000'))
      .then((events) => expect(events).toHaveLength(1));
    given(...single)
      .with({ market: rich })
      .when(withdrawCommand('1000.00000001'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
  });

  it('SINGLE: an empty wallet withdraws nothing; an asset never deposited neither', () => {
    given(opened)
      .when(withdrawCommand('0.00000001'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
    given(opened, aDeposit('5'))
      .when(withdrawCommand('0.00000001', 'USDC'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
  });

  it('MULTI: uni = 1,000 × 0.9999 − 300 × 1.0001 = 699.87; x = 699.87 / 0.9999 = 699.93999399…', () => {
    const multi = [
      anAccountOpened({ assetMode: 'MULTI' }),
      aDeposit('1000'),
      aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }),
    ];
    const market = marketWith({ marks: { BTCUSDT: '60000' } });
    given(...multi)
      .with({ market })
      .when(withdrawCommand('699.93999399'))
      .then((events) => expect(events).toHaveLength(1));
    given(...multi)
      .with({ market })
      .when(withdrawCommand('699.939994'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
  });

  it('MULTI: an asset never indexed counts for nothing as collateral, so all of it may be withdrawn', () => {
    const multi = [anAccountOpened({ assetMode: 'MULTI' }), aDeposit('5', 'BNB')];
    given(...multi)
      .when(withdrawCommand('5', 'BNB'))
      .then([{ type: 'Withdrawn', data: { asset: 'BNB', amount: '5' } }]);
    given(...multi)
      .when(withdrawCommand('5.00000001', 'BNB'))
      .thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' });
  });
});

describe('the −2019 pre-trade check (RULES §2.6)', () => {
  const market = marketWith({ marks: { BTCUSDT: '60000' } });

  it('rejects an opening fill whose IM exceeds the available balance', () =>
    given(opened, aDeposit('100'))
      .with({ market })
      .when(aFill({ quantity: '1', price: '60000', fee: '0' }))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 }));

  it('counts the fee: exactly enough margin passes with fee 0 and fails with fee 0.00000001', () => {
    // IM of 0.1 at 60,000 and 20x = 300.
    given(opened, aDeposit('300'))
      .with({ market })
      .when(aFill({ quantity: '0.1', fee: '0' }))
      .then((e) => expect(e).toHaveLength(1));
    given(opened, aDeposit('300'))
      .with({ market })
      .when(aFill({ quantity: '0.1', fee: '0.00000001' }))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 });
  });

  it('rejects a PlaceOrder whose reservation does not fit', () =>
    given(opened, aDeposit('100'))
      .when(aPlaceOrder({ quantity: '1', price: '50000' }))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 }));

  it('rejects in MULTI on the unclamped uniAvailableForOrder', () =>
    given(anAccountOpened({ assetMode: 'MULTI' }), aDeposit('100'))
      .with({ market })
      .when(aFill({ quantity: '0.1', fee: '0' }))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 }));

  it('never rejects a reduction or a close, even deep under water', () => {
    const underwater = [
      opened,
      aDeposit('100'),
      aPositionOpened({ positionAmt: '1', entryPrice: '60000' }),
    ];
    const crash = marketWith({ marks: { BTCUSDT: '40000' } });
    given(...underwater)
      .with({ market: crash })
      .when(aFill({ side: 'SELL', quantity: '0.5', price: '40000' }))
      .then((events, after) => {
        expect(events).toHaveLength(1);
        // −10,000 realized, fee 0.0005 × 20,000 = 10.
        expect(after.wallets.get('USDT')?.toFixed()).toBe('-9910');
      });
    given(...underwater)
      .with({ market: crash })
      .when(aFill({ side: 'SELL', quantity: '1', price: '40000', fee: '0' }))
      .then((events, after) => {
        expect(after.positions.size).toBe(0);
        expect(after.wallets.get('USDT')?.toFixed()).toBe('-19900');
      });
  });

  it('checks a flip like an increase', () =>
    given(opened, aDeposit('100'), aPositionOpened({ positionAmt: '0.001', entryPrice: '60000' }))
      .with({ market })
      .when(aFill({ side: 'SELL', quantity: '1', price: '60000', fee: '0' }))
      .thenThrows('MARGIN_INSUFFICIENT', { binanceCode: -2019 }));
});

describe('margin type (−4046, −4047, −4048, −4168)', () => {
  it('−4046: no change', () =>
    given(opened)
      .when(setMarginTypeCommand('BTCUSDT', 'CROSSED'))
      .thenThrows('NO_NEED_TO_CHANGE_MARGIN_TYPE', { field: 'marginType', binanceCode: -4046 }));
  it('−4046: no change back to ISOLATED either', () =>
    given(opened, aMarginTypeChange('BTCUSDT', 'ISOLATED'))
      .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
      .thenThrows('NO_NEED_TO_CHANGE_MARGIN_TYPE', { binanceCode: -4046 }));
  it('−4047: open orders on the symbol', () =>
    given(opened, aDeposit('10000'), anOrderPlaced())
      .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
      .thenThrows('MARGIN_TYPE_CHANGE_WITH_OPEN_ORDERS', {
        field: 'marginType',
        binanceCode: -4047,
      }));
  it('−4048: a position on the symbol', () =>
    given(opened, aDeposit('10000'), aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
      .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
      .thenThrows('MARGIN_TYPE_CHANGE_WITH_POSITION', { field: 'marginType', binanceCode: -4048 }));
  it('an order or position on another symbol does not block', () =>
    given(opened, aDeposit('10000'), anOrderPlaced({ symbol: 'BNBUSDT', price: '500' }))
      .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
      .then([{ type: 'MarginTypeChanged', data: { symbol: 'BTCUSDT', marginType: 'ISOLATED' } }]));
  it('−4168: ISOLATED in Multi-Assets Mode', () =>
    given(opened, anAssetModeChange('MULTI'))
      .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
      .thenThrows('JOINT_MARGIN_REJECT_WITH_ISOLATED', {
        field: 'marginType',
        binanceCode: -4168,
      }));
});

describe('position mode (−4059, −4067, −4068)', () => {
  it('−4059: no change', () =>
    given(opened)
      .when(setPositionModeCommand('ONE_WAY'))
      .thenThrows('NO_NEED_TO_CHANGE_POSITION_SIDE', {
        field: 'positionMode',
        binanceCode: -4059,
      }));
  it('−4067: open orders', () =>
    given(opened, aDeposit('10000'), anOrderPlaced())
      .when(setPositionModeCommand('HEDGE'))
      .thenThrows('POSITION_MODE_CHANGE_WITH_OPEN_ORDERS', {
        field: 'positionMode',
        binanceCode: -4067,
      }));
  it('−4068: a position', () =>
    given(opened, aDeposit('10000'), aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
      .when(setPositionModeCommand('HEDGE'))
      .thenThrows('POSITION_MODE_CHANGE_WITH_POSITION', {
        field: 'positionMode',
        binanceCode: -4068,
      }));
  it('accepts a change with nothing open', () =>
    given(opened)
      .when(setPositionModeCommand('HEDGE'))
      .then([{ type: 'PositionModeChanged', data: { from: 'ONE_WAY', to: 'HEDGE' } }]));
});

describe('orders', () => {
  it('CancelOrder of an unknown order: −2011', () =>
    given(opened)
      .when(cancelOrderCommand('nope'))
      .thenThrows('UNKNOWN_ORDER', { field: 'orderId', binanceCode: -2011 }));
  it('CancelOrder of a known order', () =>
    given(opened, aDeposit('10000'), anOrderPlaced())
      .when(cancelOrderCommand('o-1'))
      .then([{ type: 'OrderCanceled', data: { orderId: 'o-1', reason: 'USER' } }]));
  it('a Fill naming an unknown order: −2013', () =>
    given(opened, aDeposit('10000'))
      .when(aFill({ orderId: 'nope' }))
      .thenThrows('UNKNOWN_ORDER', { field: 'orderId', binanceCode: -2013 }));
  it('a Fill larger than the order', () =>
    given(opened, aDeposit('10000'), anOrderPlaced({ quantity: '0.01' }))
      .when(aFill({ orderId: 'o-1', quantity: '0.02', price: '50000' }))
      .thenThrows('FILL_EXCEEDS_ORDER', { field: 'quantity' }));
  it('a Fill on the other side of the order', () =>
    given(opened, aDeposit('10000'), anOrderPlaced())
      .when(aFill({ orderId: 'o-1', side: 'SELL', price: '50000' }))
      .thenThrows('ORDER_MISMATCH', { field: 'orderId' }));
  it('a duplicate order id', () =>
    given(opened, aDeposit('10000'), anOrderPlaced())
      .when(aPlaceOrder())
      .thenThrows('DUPLICATE_ORDER_ID', { field: 'orderId' }));
});

describe('isolated margin adjustments (RULES §2.3)', () => {
  const iso = [
    opened,
    aDeposit('1000'),
    aMarginTypeChange('BTCUSDT', 'ISOLATED'),
    aPositionOpened({
      positionAmt: '0.1',
      entryPrice: '60000',
      marginType: 'ISOLATED',
      isolatedWallet: '300',
    }),
  ];
  const market = marketWith({ marks: { BTCUSDT: '60000' } });
  it('rejects an adjustment with no isolated position', () =>
    given(opened, aDeposit('1000'), aPositionOpened({ positionAmt: '0.1', entryPrice: '60000' }))
      .when(adjustIsolatedMarginCommand('BTCUSDT', '10'))
      .thenThrows('NO_ISOLATED_POSITION', { field: 'symbol' }));
  it('rejects adding more than the cross pool has available (−4050)', () =>
    given(...iso)
      .with({ market })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '1000.00000001'))
      .thenThrows('CROSS_BALANCE_INSUFFICIENT', { field: 'amount', binanceCode: -4050 }));
  it('rejects removing more than isolated margin − IM (−4051)', () =>
    given(...iso)
      .with({ market })
      .when(adjustIsolatedMarginCommand('BTCUSDT', '-0.00000001'))
      .thenThrows('ISOLATED_BALANCE_INSUFFICIENT', { field: 'amount', binanceCode: -4051 }));
});

describe('Single → Multi is not the only direction the asset-mode checks run in', () => {
  it('−4170 applies to Multi → Single too', () =>
    given(anAccountOpened({ assetMode: 'MULTI' }), aDeposit('1000'), anOrderPlaced())
      .when(switchAssetModeCommand('SINGLE'))
      .thenThrows('JOINT_MARGIN_REJECT_WITH_OPEN_ORDER', { binanceCode: -4170 }));
  it('−4167 also for an ISOLATED setting with no position (isolatedSettingBlocks)', () =>
    given(opened, aMarginTypeChange('BNBUSDT', 'ISOLATED'))
      .when(switchAssetModeCommand('MULTI'))
      .thenThrows('ISOLATED_REJECT_WITH_JOINT_MARGIN', { binanceCode: -4167 }));
});
