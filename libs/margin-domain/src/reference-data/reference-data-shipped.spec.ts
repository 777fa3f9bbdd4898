/*
 * Goal: the shipped set config/reference-data/binance-2024.json is valid and says what RULES says. It parses; its
 * brackets are exactly RULES §7's tables, and every tier's `cum` is recomputed here from the floors and MMRs
 * (cum_1 = 0, cum_k = cum_{k−1} + floor_k × (MMR_k − MMR_{k−1})) rather than trusted; its asset defaults, thresholds,
 * fees and flags are RULES §9, §3.1, §2.6 and reference-data.md's. Parsing returns a frozen copy and never changes
 * its input.
 */
import shipped from '../../../../config/reference-data/binance-2024.json';
import { D, type Dec, ZERO } from '../money/decimal';
import { parseReferenceData } from './reference-data.parse';

/** RULES §7 (S15, mid-2024): [floor, cap, max leverage, MMR, published cum]. */
type Row = [string, string, number, string, string];
const RULES_7: Record<string, Row[]> = {
  BTCUSDT: [
    ['0', '50000', 125, '0.004', '0'],
    ['50000', '600000', 100, '0.005', '50'],
    ['600000', '3000000', 75, '0.0065', '950'],
    ['3000000', '12000000', 50, '0.01', '11450'],
    ['12000000', '70000000', 25, '0.02', '131450'],
    ['70000000', '100000000', 20, '0.025', '481450'],
    ['100000000', '230000000', 10, '0.05', '2981450'],
    ['230000000', '480000000', 5, '0.10', '14481450'],
    ['480000000', '600000000', 4, '0.125', '26481450'],
    ['600000000', '800000000', 3, '0.15', '41481450'],
    ['800000000', '1200000000', 2, '0.25', '121481450'],
    ['1200000000', '1800000000', 1, '0.50', '421481450'],
  ],
  BTCUSDC: [
    ['0', '50000', 125, '0.004', '0'],
    ['50000', '500000', 100, '0.005', '50'],
    ['500000', '10000000', 50, '0.01', '2550'],
    ['10000000', '80000000', 20, '0.025', '152550'],
    ['80000000', '150000000', 10, '0.05', '2152550'],
    ['150000000', '300000000', 5, '0.10', '9652550'],
    ['300000000', '450000000', 4, '0.125', '17152550'],
    ['450000000', '600000000', 3, '0.15', '28402550'],
    ['600000000', '800000000', 2, '0.25', '88402550'],
    ['800000000', '1000000000', 1, '0.50', '288402550'],
  ],
  BNBUSDT: [
    ['0', '10000', 75, '0.005', '0'],
    ['10000', '50000', 50, '0.006', '10'],
    ['50000', '200000', 40, '0.01', '210'],
    ['200000', '1000000', 25, '0.02', '2210'],
    ['1000000', '2000000', 20, '0.025', '7210'],
    ['2000000', '10000000', 10, '0.05', '57210'],
    ['10000000', '20000000', 5, '0.10', '557210'],
    ['20000000', '25000000', 4, '0.125', '1057210'],
    ['25000000', '50000000', 2, '0.25', '4182210'],
    ['50000000', '100000000', 1, '0.50', '16682210'],
  ],
};

const d = (s: string): Dec => new D(s);

describe('the shipped set binance-2024', () => {
  const ref = parseReferenceData(shipped);

  it('parses, under its own name', () => {
    expect(ref.version).toBe('binance-2024');
    expect(Object.keys(ref.symbols).sort()).toEqual(['BNBUSDT', 'BTCUSDC', 'BTCUSDT']);
    expect(Object.keys(ref.assets).sort()).toEqual(['BNB', 'BNFCR', 'BTC', 'ETH', 'USDC', 'USDT']);
  });

  it('returns a deeply frozen copy with the same content, leaving the input as it was', () => {
    const input: unknown = JSON.parse(JSON.stringify(shipped));
    const parsed = parseReferenceData(input);
    expect(parsed).not.toBe(input);
    expect(parsed).toEqual(shipped);
    expect(input).toEqual(shipped);
    expect(Object.isFrozen(input)).toBe(false);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.symbols.BTCUSDT?.brackets[3])).toBe(true);
    expect(Object.isFrozen(parsed.autoExchange.thresholds[1])).toBe(true);
  });

  it('parsing a parsed set again returns it unchanged (no second walk)', () => {
    expect(parseReferenceData(ref)).toBe(ref);
  });

  describe.each(Object.keys(RULES_7))('%s brackets', (symbol) => {
    const table = RULES_7[symbol] as Row[];
    const brackets = ref.symbols[symbol]?.brackets ?? [];

    it('are every tier of RULES §7, in order', () => {
      expect(brackets).toHaveLength(table.length);
      table.forEach(([floor, cap, leverage, mmr], i) => {
        const b = brackets[i];
        expect(b?.bracket).toBe(i + 1);
        expect(b?.initialLeverage).toBe(leverage);
        expect(d(b?.notionalFloor ?? 'NaN').eq(d(floor))).toBe(true);
        expect(d(b?.notionalCap ?? 'NaN').eq(d(cap))).toBe(true);
        expect(d(b?.maintMarginRatio ?? 'NaN').eq(d(mmr))).toBe(true);
      });
    });

    it('have a continuous cum, recomputed from floors and MMRs, equal to the shipped and the published cum', () => {
      let cum = ZERO;
      let previousMmr = ZERO;
      table.forEach(([floor, , , mmr, publishedCum], i) => {
        // Tier 1: cum_1 = 0 since floor_1 = 0 and MMR_0 is taken as 0.
        cum = cum.plus(d(floor).times(d(mmr).minus(previousMmr)));
        previousMmr = d(mmr);
        expect(cum.toFixed()).toBe(d(publishedCum).toFixed());
        expect(cum.toFixed()).toBe(d(brackets[i]?.cum ?? 'NaN').toFixed());
      });
    });
  });

  it('has the symbols of reference-data.md with their contract assets and informational precisions', () => {
    const pick = (s: string) => {
      const x = ref.symbols[s];
      return [
        x?.baseAsset,
        x?.marginAsset,
        x?.quantityPrecision,
        x?.pricePrecision,
        x?.liquidationFeeRate,
      ];
    };
    expect(pick('BTCUSDT')).toEqual(['BTC', 'USDT', 3, 2, '0']);
    expect(pick('BTCUSDC')).toEqual(['BTC', 'USDC', 3, 1, '0']);
    expect(pick('BNBUSDT')).toEqual(['BNB', 'USDT', 2, 2, '0']);
  });

  it('has the asset-index defaults of RULES §9 for USDT and USDC, and none for other assets', () => {
    expect(ref.assets.USDT?.defaultIndex).toEqual({
      index: '1',
      bidBuffer: '0.0001',
      askBuffer: '0.0001',
      autoExchangeBidBuffer: '0',
      autoExchangeAskBuffer: '0',
    });
    expect(ref.assets.USDC?.defaultIndex).toEqual({
      index: '1',
      bidBuffer: '0',
      askBuffer: '0',
      autoExchangeBidBuffer: '0',
      autoExchangeAskBuffer: '0',
    });
    for (const asset of ['BTC', 'BNB', 'ETH', 'BNFCR']) {
      expect(ref.assets[asset]).toEqual({ marginAvailable: true, precision: 8 });
    }
  });

  it('has the auto-exchange parameters of RULES §3.1', () => {
    expect(ref.autoExchange).toEqual({
      thresholds: [
        { minVipLevel: 0, USDT: '-5000', USDC: '-5000', BNFCR: '-5000', BTC: '-0.1' },
        { minVipLevel: 2, USDT: '-10000', USDC: '-10000', BNFCR: '-5000', BTC: '-0.1' },
      ],
      thresholdInclusive: true,
      ltvTrigger: '0.995',
      proportion: 'INDEX',
    });
  });

  it('has the default fee schedule of RULES §2.6 and the defaults of the remaining keys', () => {
    expect(ref.fees).toEqual({
      schedule: [
        {
          minVipLevel: 0,
          USDT: { maker: '0.0002', taker: '0.0005' },
          USDC: { maker: '0', taker: '0.0004' },
        },
      ],
      bnbFeeBurn: false,
    });
    expect(ref.liquidation).toEqual({ closePrice: 'MARK' });
    expect(ref.funding).toEqual({ intervalHours: 8 });
    expect(ref.defaultLeverage).toBe(20);
    expect(ref.flags).toEqual({
      isolatedSettingBlocks: true,
      refuseSwitchWithPositions: false,
      negativeBalanceInterestRate: '0',
    });
  });
});
