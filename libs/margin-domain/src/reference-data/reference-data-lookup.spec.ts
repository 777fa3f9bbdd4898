/*
 * Goal: the hot-path lookups answer what RULES says for the shipped set. Brackets follow RULES §7's boundary rule
 * (floor < N ≤ cap, tier 1 includes 0, the last tier beyond its cap), and maintenance margin N × MMR − cum is
 * continuous at every boundary of every symbol (the left limit, at the cap, equals the right limit, the next tier's
 * formula at the same N). Thresholds follow RULES §3.1 by VIP level, fee rates RULES §2.6, asset-index defaults
 * RULES §9; unknown symbols and assets are typed rejections; books are cached per set.
 */
import shipped from '../../../../config/reference-data/binance-2024.json';
import { D, type Dec } from '../money/decimal';
import { AssertionFailed, LedgerDomainError } from '../shared/errors';
import {
  assetRef,
  autoExchangeThreshold,
  bracketFor,
  defaultAssetIndex,
  feeRate,
  maintenanceMargin,
  maxLeverageFor,
  ReferenceBook,
  referenceBook,
  symbolRef,
} from './reference-data.book';
import { applyOverrides } from './reference-data.overrides';
import { parseReferenceData } from './reference-data.parse';
import type { ReferenceData } from './reference-data.types';

const ref = parseReferenceData(shipped);
const d = (s: string): Dec => new D(s);
const EPSILON = d('0.00000001');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('symbolRef and assetRef', () => {
  it('return the references of known codes', () => {
    expect(symbolRef(ref, 'BTCUSDC').marginAsset).toBe('USDC');
    expect(assetRef(ref, 'BNFCR')).toEqual({ marginAvailable: true, precision: 8 });
  });

  it('reject an unknown symbol with UNKNOWN_SYMBOL, −1121 "Invalid symbol.", field symbol', () => {
    const error = thrown(() => symbolRef(ref, 'ETHUSDT'));
    expect(error).toBeInstanceOf(LedgerDomainError);
    expect(error).toMatchObject({ code: 'UNKNOWN_SYMBOL', message: 'Invalid symbol.' });
    expect((error as LedgerDomainError).binanceCode).toBe(-1121);
    expect((error as LedgerDomainError).field).toBe('symbol');
    expect(() => bracketFor(ref, 'btcusdt', d('1'))).toThrow('Invalid symbol.');
  });

  it('reject an unknown asset with UNKNOWN_ASSET, field asset', () => {
    const error = thrown(() => assetRef(ref, 'XRP')) as LedgerDomainError;
    expect(error.code).toBe('UNKNOWN_ASSET');
    expect(error.field).toBe('asset');
    expect(error.binanceCode).toBeUndefined();
  });
});

describe('bracketFor (RULES §7 boundaries)', () => {
  it.each<[string, number]>([
    ['0', 1],
    ['0.00000001', 1],
    ['50000', 1],
    ['50000.00000001', 2],
    ['600000', 2],
    ['600000.00000001', 3],
    ['1800000000', 12],
    ['1800000000.00000001', 12],
    ['99999999999999', 12],
  ])('BTCUSDT at N = %s is tier %d', (notional, tier) => {
    expect(bracketFor(ref, 'BTCUSDT', d(notional)).bracket).toBe(tier);
  });

  it('returns parsed amounts', () => {
    const tier = bracketFor(ref, 'BNBUSDT', d('150000'));
    expect(tier.bracket).toBe(3);
    expect(tier.initialLeverage).toBe(40);
    expect(tier.notionalFloor.toFixed()).toBe('50000');
    expect(tier.notionalCap.toFixed()).toBe('200000');
    expect(tier.maintMarginRatio.toFixed()).toBe('0.01');
    expect(tier.cum.toFixed()).toBe('210');
    expect(Object.isFrozen(tier)).toBe(true);
  });

  it('refuses a signed (negative) notional as a programmer error', () => {
    expect(() => bracketFor(ref, 'BTCUSDT', d('-1'))).toThrow(AssertionFailed);
  });

  it('maxLeverageFor is the tier max leverage on either side of a cap', () => {
    expect(maxLeverageFor(ref, 'BTCUSDT', d('50000'))).toBe(125);
    expect(maxLeverageFor(ref, 'BTCUSDT', d('50000.00000001'))).toBe(100);
    expect(maxLeverageFor(ref, 'BNBUSDT', d('10000'))).toBe(75);
    expect(maxLeverageFor(ref, 'BNBUSDT', d('10001'))).toBe(50);
    expect(maxLeverageFor(ref, 'BTCUSDC', d('2000000000'))).toBe(1);
  });
});

describe('maintenanceMargin = N × MMR − cum (RULES §2.1)', () => {
  it.each<[string, string, string]>([
    ['BTCUSDT', '0', '0'],
    ['BTCUSDT', '10000', '40'],
    ['BTCUSDT', '100000', '450'],
    // TV-18's position: 0.001 BTC at 61,788.9, tier 1.
    ['BTCUSDT', '61.7889', '0.2471556'],
    ['BTCUSDC', '1000000', '7450'],
    ['BNBUSDT', '30000', '170'],
  ])('%s at N = %s is %s', (symbol, notional, mm) => {
    expect(maintenanceMargin(ref, symbol, d(notional)).toFixed()).toBe(mm);
  });

  describe.each(['BTCUSDT', 'BTCUSDC', 'BNBUSDT'])('%s', (symbol) => {
    const tiers = referenceBook(ref).tiers(symbol);
    const boundaries = tiers
      .slice(0, -1)
      .map((tier, i) => [tier.notionalCap.toFixed(), i + 1] as const);

    it('has a boundary between each pair of tiers', () => {
      expect(boundaries.length).toBe(tiers.length - 1);
      expect(boundaries.length).toBeGreaterThanOrEqual(9);
    });

    it.each(boundaries)('is continuous at the cap %s of tier %d', (cap, k) => {
      const n = d(cap);
      const left = bracketFor(ref, symbol, n);
      const right = bracketFor(ref, symbol, n.plus(EPSILON));
      expect(left.bracket).toBe(k);
      expect(right.bracket).toBe(k + 1);
      const leftLimit = maintenanceMargin(ref, symbol, n);
      const rightLimit = n.times(right.maintMarginRatio).minus(right.cum);
      expect(rightLimit.toFixed()).toBe(leftLimit.toFixed());
      // Just past the cap, MM grows by ε × MMR of the new tier: no jump.
      expect(maintenanceMargin(ref, symbol, n.plus(EPSILON)).minus(leftLimit).toFixed()).toBe(
        EPSILON.times(right.maintMarginRatio).toFixed(),
      );
    });
  });
});

describe('autoExchangeThreshold (RULES §3.1)', () => {
  it.each<[number, string, string | undefined]>([
    [0, 'USDT', '-5000'],
    [1, 'USDT', '-5000'],
    [1, 'USDC', '-5000'],
    [2, 'USDT', '-10000'],
    [2, 'USDC', '-10000'],
    [9, 'USDT', '-10000'],
    [9, 'BNFCR', '-5000'],
    [1, 'BNFCR', '-5000'],
    [0, 'BTC', '-0.1'],
    [9, 'BTC', '-0.1'],
    [0, 'ETH', undefined],
    [2, 'BNB', undefined],
    [2, 'XRP', undefined],
  ])('VIP %d, %s → %s', (vipLevel, asset, threshold) => {
    expect(autoExchangeThreshold(ref, vipLevel, asset)?.toFixed()).toBe(threshold);
  });

  it('refuses a VIP level that is not an integer ≥ 0', () => {
    expect(() => autoExchangeThreshold(ref, -1, 'USDT')).toThrow(AssertionFailed);
    expect(() => autoExchangeThreshold(ref, 1.5, 'USDT')).toThrow(AssertionFailed);
  });
});

describe('feeRate (RULES §2.6)', () => {
  it.each<[number, string, boolean, string]>([
    [0, 'USDT', true, '0.0002'],
    [0, 'USDT', false, '0.0005'],
    [0, 'USDC', true, '0'],
    [0, 'USDC', false, '0.0004'],
    [5, 'USDT', false, '0.0005'],
    [9, 'USDC', false, '0.0004'],
    [0, 'BTC', false, '0'],
    [3, 'BNFCR', true, '0'],
  ])('VIP %d, %s, maker %s → %s', (vipLevel, asset, maker, rate) => {
    expect(feeRate(ref, vipLevel, asset, maker).toFixed()).toBe(rate);
  });

  it('uses the row of the largest minVipLevel ≤ level, and the VIP 0 row for an asset that row lacks', () => {
    const vip = applyOverrides(ref, {
      'fees.schedule': [
        {
          minVipLevel: 0,
          USDT: { maker: '0.0002', taker: '0.0005' },
          USDC: { maker: '0', taker: '0.0004' },
        },
        { minVipLevel: 3, USDT: { maker: '0.00012', taker: '0.0003' } },
      ],
    });
    expect(feeRate(vip, 2, 'USDT', false).toFixed()).toBe('0.0005');
    expect(feeRate(vip, 3, 'USDT', false).toFixed()).toBe('0.0003');
    expect(feeRate(vip, 7, 'USDT', true).toFixed()).toBe('0.00012');
    expect(feeRate(vip, 7, 'USDC', false).toFixed()).toBe('0.0004');
  });
});

describe('defaultAssetIndex (RULES §9)', () => {
  it('gives USDT and USDC their defaults, parsed', () => {
    const usdt = defaultAssetIndex(ref, 'USDT');
    expect(usdt?.index.toFixed()).toBe('1');
    expect(usdt?.bidBuffer.toFixed()).toBe('0.0001');
    expect(usdt?.askBuffer.toFixed()).toBe('0.0001');
    expect(usdt?.autoExchangeBidBuffer.isZero()).toBe(true);
    expect(usdt?.autoExchangeAskBuffer.isZero()).toBe(true);
    const usdc = defaultAssetIndex(ref, 'USDC');
    expect(usdc?.index.toFixed()).toBe('1');
    expect(usdc?.bidBuffer.isZero()).toBe(true);
    expect(usdc?.askBuffer.isZero()).toBe(true);
  });

  it('gives nothing for an asset without defaults or not in the set (it counts for nothing until indexed)', () => {
    expect(defaultAssetIndex(ref, 'BTC')).toBeUndefined();
    expect(defaultAssetIndex(ref, 'BNFCR')).toBeUndefined();
    expect(defaultAssetIndex(ref, 'XRP')).toBeUndefined();
  });
});

describe('referenceBook', () => {
  it('is cached per set', () => {
    expect(referenceBook(ref)).toBe(referenceBook(ref));
    expect(referenceBook(ref).version).toBe('binance-2024');
    expect(referenceBook(ref).ltvTrigger.toFixed()).toBe('0.995');
    expect(referenceBook(ref).liquidationFeeRate('BTCUSDT').isZero()).toBe(true);
  });

  it('validates a set that did not come from parseReferenceData before using it', () => {
    const raw = JSON.parse(JSON.stringify(shipped)) as ReferenceData;
    expect(maintenanceMargin(raw, 'BTCUSDT', d('100000')).toFixed()).toBe('450');
    expect(referenceBook(raw)).toBe(referenceBook(raw));
    const broken = JSON.parse(JSON.stringify(shipped)) as ReferenceData;
    (broken.symbols.BTCUSDT?.brackets[1] as { cum: string }).cum = '49';
    expect(() => maintenanceMargin(broken, 'BTCUSDT', d('100000'))).toThrow(
      'symbols.BTCUSDT.brackets[1].cum: expected 50',
    );
  });

  it('cannot be built directly from an unvalidated set', () => {
    const raw = JSON.parse(JSON.stringify(shipped)) as ReferenceData;
    expect(() => new ReferenceBook(raw)).toThrow(AssertionFailed);
  });
});
