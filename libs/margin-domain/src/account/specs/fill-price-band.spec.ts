/*
 * Goal: a Fill's price must be near the symbol's current mark (issue 11 item 9, reference-data.md
 * `symbols.{S}.fillPriceBandRatio`, default 0.5). With mark M and ratio r, a price above M × (1 + r) is refused with
 * FILL_PRICE_OUT_OF_BAND and Binance −4016 (PRICE_HIGHTER_THAN_MULTIPLIER_UP), a price below M × (1 − r) with −4024
 * (PRICE_LOWER_THAN_MULTIPLIER_DOWN), field `price`, nothing appended. The edges themselves are accepted. Before
 * the symbol's first mark there is no check. Fills of a placed order are checked the same way.
 */
import {
  aDeposit,
  aFill,
  anAccountOpened,
  anOrderPlaced,
  given,
  marketWith,
  withOverrides,
} from '@ledger/testing';

const funded = [anAccountOpened(), aDeposit('1000000')];
const marked = marketWith({ marks: { BTCUSDT: '60000' } });

describe('the default band of 50% around the mark (60,000: 30,000 … 90,000)', () => {
  it.each(['30000', '59999.99', '60000', '90000'])('accepts a fill at %s', (price) =>
    given(...funded)
      .with({ market: marked })
      .when(aFill({ price, fee: '0' }))
      .then((events) => expect(events).toHaveLength(1)),
  );

  it.each([
    ['just above the cap', '90000.00000001', -4016],
    ['1e18', '1000000000000000000', -4016],
    ['just below the floor', '29999.99999999', -4024],
    ['the smallest price', '0.00000001', -4024],
  ])('rejects a fill %s (%s) with FILL_PRICE_OUT_OF_BAND, field price', (_name, price, code) =>
    given(...funded)
      .with({ market: marked })
      .when(aFill({ price, fee: '0' }))
      .thenThrows('FILL_PRICE_OUT_OF_BAND', { field: 'price', binanceCode: code }),
  );

  it('says where the band is', () => {
    const error = given(...funded)
      .with({ market: marked })
      .when(aFill({ price: '90000.01', fee: '0' }))
      .error();
    expect(error.message).toBe(
      'price 90000.01 is above 90000, the cap of BTCUSDT (mark 60000 × (1 + 0.5))',
    );
  });

  it('applies to a reduction and a close too: a price is a price', () =>
    given(...funded, {
      type: 'PositionChanged',
      data: {
        symbol: 'BTCUSDT',
        positionSide: 'BOTH',
        side: 'BUY',
        quantity: '1',
        price: '60000',
        fee: '0',
        maker: false,
        marginAsset: 'USDT',
        marginType: 'CROSSED',
        realizedPnl: '0',
        positionAmt: '1',
        entryPrice: '60000',
        isolatedTransfer: '0',
      },
    })
      .with({ market: marked })
      .when(aFill({ side: 'SELL', quantity: '1', price: '1', fee: '0' }))
      .thenThrows('FILL_PRICE_OUT_OF_BAND', { field: 'price', binanceCode: -4024 }));

  it('applies to the fill of a placed order', () =>
    given(...funded, anOrderPlaced({ orderId: 'o-1', quantity: '0.01', price: '50000' }))
      .with({ market: marketWith({ marks: { BTCUSDT: '20000' } }) })
      .when(aFill({ orderId: 'o-1', quantity: '0.01', price: '50000', fee: '0' }))
      .thenThrows('FILL_PRICE_OUT_OF_BAND', { field: 'price', binanceCode: -4016 }));
});

describe('no mark yet, other symbols, other ratios', () => {
  it('does not check a symbol never marked', () =>
    given(...funded)
      .with({ market: marketWith({ marks: { BNBUSDT: '600' } }) })
      .when(aFill({ price: '1000000', quantity: '0.001', fee: '0' }))
      .then((events) => expect(events).toHaveLength(1)));

  it('reads the ratio of the fill’s symbol: 0.01 around 60,000 is 59,400 … 60,600', () => {
    const narrow = withOverrides({ 'symbols.BTCUSDT.fillPriceBandRatio': '0.01' });
    given(...funded)
      .with({ ref: narrow, market: marked })
      .when(aFill({ price: '60600', fee: '0' }))
      .then((events) => expect(events).toHaveLength(1));
    given(...funded)
      .with({ ref: narrow, market: marked })
      .when(aFill({ price: '60600.01', fee: '0' }))
      .thenThrows('FILL_PRICE_OUT_OF_BAND', { binanceCode: -4016 });
    given(...funded)
      .with({ ref: narrow, market: marked })
      .when(aFill({ price: '59399.99', fee: '0' }))
      .thenThrows('FILL_PRICE_OUT_OF_BAND', { binanceCode: -4024 });
  });

  it('a ratio of 1 or more leaves no floor above 0', () =>
    given(...funded)
      .with({
        ref: withOverrides({ 'symbols.BTCUSDT.fillPriceBandRatio': '2' }),
        market: marked,
      })
      .when(aFill({ price: '0.01', quantity: '0.001', fee: '0' }))
      .then((events) => expect(events).toHaveLength(1)));
});
