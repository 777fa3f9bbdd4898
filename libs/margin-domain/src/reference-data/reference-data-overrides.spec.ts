/*
 * Goal: new versions from overrides (reference-data.md "Versions") and the three forms of a scenario's
 * `referenceData` (scenario-format.md). An override's value replaces what is at its dotted path whole (arrays too);
 * a new symbol can be added; the new version is named `<base>+<n>` unless named; an invalid override is rejected with
 * INVALID_REFERENCE_DATA naming its key, and the base set is left exactly as it was. Nothing is ever mutated.
 */
import shipped from '../../../../config/reference-data/binance-2024.json';
import { D } from '../money/decimal';
import { LedgerDomainError } from '../shared/errors';
import { bracketFor, maintenanceMargin, symbolRef } from './reference-data.book';
import { applyOverrides, loadReferenceDataSpec } from './reference-data.overrides';
import { parseReferenceData } from './reference-data.parse';
import type { ReferenceData, SymbolReference } from './reference-data.types';

const base = parseReferenceData(shipped);
const snapshot = JSON.stringify(base);

afterEach(() => {
  // Every test leaves the base set exactly as it was.
  expect(JSON.stringify(base)).toBe(snapshot);
});

function rejectionOf(fn: () => unknown): LedgerDomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LedgerDomainError) return error;
    throw error;
  }
  throw new Error('expected a LedgerDomainError');
}

/** A one-tier test bracket, as RULES §9 allows for a vector that states its own MMR (TV-02's ETHUSDC). */
const ethusdt = (): SymbolReference => ({
  baseAsset: 'ETH',
  marginAsset: 'USDT',
  quantityPrecision: 3,
  pricePrecision: 2,
  liquidationFeeRate: '0',
  brackets: [
    {
      bracket: 1,
      initialLeverage: 100,
      notionalFloor: '0',
      notionalCap: '10000',
      maintMarginRatio: '0.005',
      cum: '0',
    },
    {
      bracket: 2,
      initialLeverage: 75,
      notionalFloor: '10000',
      notionalCap: '100000',
      maintMarginRatio: '0.0065',
      cum: '15',
    },
  ],
});

describe('applyOverrides', () => {
  it('replaces a scalar and names the version <base>+1', () => {
    const next = applyOverrides(base, { 'autoExchange.ltvTrigger': '1' });
    expect(next.autoExchange.ltvTrigger).toBe('1');
    expect(next.version).toBe('binance-2024+1');
    expect(next.autoExchange.thresholds).toEqual(base.autoExchange.thresholds);
    expect(base.autoExchange.ltvTrigger).toBe('0.995');
  });

  it('names the version <base>+<sequence>, or as given', () => {
    expect(applyOverrides(base, {}, undefined, 3).version).toBe('binance-2024+3');
    expect(applyOverrides(base, {}, 'old-rules-2021').version).toBe('old-rules-2021');
    const second = applyOverrides(applyOverrides(base, {}), {}, undefined, 2);
    expect(second.version).toBe('binance-2024+1+2');
  });

  it('replaces an array whole instead of merging it', () => {
    const next = applyOverrides(base, {
      'autoExchange.thresholds': [{ minVipLevel: 0, USDT: '-10000', USDC: '-10000' }],
      'symbols.BTCUSDT.brackets': [
        {
          bracket: 1,
          initialLeverage: 125,
          notionalFloor: '0',
          notionalCap: '1000000000',
          maintMarginRatio: '0.008',
          cum: '0',
        },
      ],
    });
    expect(next.autoExchange.thresholds).toEqual([
      { minVipLevel: 0, USDT: '-10000', USDC: '-10000' },
    ]);
    expect(next.symbols.BTCUSDT?.brackets).toHaveLength(1);
    expect(maintenanceMargin(next, 'BTCUSDT', new D('10000')).toFixed()).toBe('80');
    expect(next.symbols.BTCUSDT?.marginAsset).toBe('USDT');
    expect(base.symbols.BTCUSDT?.brackets).toHaveLength(12);
  });

  it('adds a new symbol, usable by the lookups, without adding it to the base', () => {
    const next = applyOverrides(base, { 'symbols.ETHUSDT': ethusdt() });
    expect(symbolRef(next, 'ETHUSDT')).toEqual(ethusdt());
    expect(bracketFor(next, 'ETHUSDT', new D('10000.5')).bracket).toBe(2);
    expect(Object.keys(next.symbols)).toEqual(['BTCUSDT', 'BTCUSDC', 'BNBUSDT', 'ETHUSDT']);
    expect(() => symbolRef(base, 'ETHUSDT')).toThrow('Invalid symbol.');
  });

  it('replaces flags and creates an optional key that was absent', () => {
    const index = {
      index: '60000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
    };
    const next = applyOverrides(base, {
      'flags.refuseSwitchWithPositions': true,
      'assets.BTC.defaultIndex': index,
      'liquidation.closePrice': 'BANKRUPTCY',
      defaultLeverage: 10,
    });
    expect(next.flags).toEqual({
      isolatedSettingBlocks: true,
      refuseSwitchWithPositions: true,
      negativeBalanceInterestRate: '0',
    });
    expect(next.assets.BTC).toEqual({ marginAvailable: true, precision: 8, defaultIndex: index });
    expect(next.liquidation.closePrice).toBe('BANKRUPTCY');
    expect(next.defaultLeverage).toBe(10);
    expect(base.assets.BTC?.defaultIndex).toBeUndefined();
  });

  it('applies keys in order, so a later path refines an earlier whole object', () => {
    const next = applyOverrides(base, {
      autoExchange: { ...base.autoExchange, proportion: 'AUTO_EXCHANGE' },
      'autoExchange.ltvTrigger': '1',
    });
    expect(next.autoExchange.proportion).toBe('AUTO_EXCHANGE');
    expect(next.autoExchange.ltvTrigger).toBe('1');
  });

  it('returns a frozen set that shares nothing mutable with the overrides', () => {
    const symbol = ethusdt();
    const next = applyOverrides(base, { 'symbols.ETHUSDT': symbol });
    expect(Object.isFrozen(next.symbols.ETHUSDT)).toBe(true);
    expect(Object.isFrozen(symbol)).toBe(false);
    symbol.brackets[0]!.cum = '999';
    expect(next.symbols.ETHUSDT?.brackets[0]?.cum).toBe('0');
  });

  describe('rejects, naming the key, and changes nothing', () => {
    it.each<[string, Record<string, unknown>, string]>([
      [
        'a bad decimal',
        { 'autoExchange.ltvTrigger': 'abc' },
        'autoExchange.ltvTrigger: expected a decimal string',
      ],
      [
        'an out-of-range value',
        { 'autoExchange.ltvTrigger': '0' },
        'autoExchange.ltvTrigger: must be > 0',
      ],
      [
        'a new symbol with a discontinuous cum',
        {
          'symbols.ETHUSDT': {
            ...ethusdt(),
            brackets: [ethusdt().brackets[0], { ...ethusdt().brackets[1], cum: '16' }],
          },
        },
        'symbols.ETHUSDT.brackets[1].cum: expected 15 (cum_1 + notionalFloor × (maintMarginRatio − maintMarginRatio_1)), got 16',
      ],
      ['an unknown flag', { 'flags.foo': true }, 'flags.foo: unknown key'],
      ['an unknown top-level key', { 'foo.bar': 1 }, 'foo.bar: unknown key "foo"'],
      ['an unknown single key', { leverage: 20 }, 'leverage: unknown key "leverage"'],
      [
        'the version as an override',
        { version: 'x' },
        'version: not an override: name the new version with the version argument',
      ],
      [
        'a path through an array',
        { 'symbols.BTCUSDT.brackets.0.cum': '1' },
        'symbols.BTCUSDT.brackets.0.cum: "brackets" is an array: override it whole, not by index',
      ],
      [
        'a path through a scalar',
        { 'autoExchange.ltvTrigger.value': '1' },
        'autoExchange.ltvTrigger.value: "ltvTrigger" is not an object',
      ],
      [
        'an empty segment',
        { 'flags..isolatedSettingBlocks': true },
        'flags..isolatedSettingBlocks: expected a dotted path (no empty segment)',
      ],
      [
        'removing a required key',
        { 'flags.isolatedSettingBlocks': undefined },
        'flags.isolatedSettingBlocks: expected a boolean',
      ],
      [
        'a "__proto__" asset',
        { 'assets.__proto__': { marginAvailable: true, precision: 8 } },
        'assets.__proto__: expected an asset code (A-Z, 0-9)',
      ],
      [
        'a margin asset left without its asset',
        { assets: { USDC: base.assets.USDC } },
        'symbols.BTCUSDT.marginAsset: unknown asset "USDT" (not in assets)',
      ],
    ])('%s', (_name, overrides, message) => {
      const error = rejectionOf(() => applyOverrides(base, overrides));
      expect(error.code).toBe('INVALID_REFERENCE_DATA');
      expect(error.message).toBe(message);
      expect(error.field).toBe(message.slice(0, message.indexOf(': ')));
    });

    it('an invalid version name', () => {
      expect(rejectionOf(() => applyOverrides(base, {}, 'two words')).message).toBe(
        'version: expected a non-empty string without whitespace (at most 128 characters)',
      );
    });

    it('a sequence that is not an integer ≥ 1', () => {
      expect(rejectionOf(() => applyOverrides(base, {}, undefined, 0)).field).toBe('version');
    });

    it('leaves Object.prototype alone', () => {
      rejectionOf(() => applyOverrides(base, { 'assets.__proto__.polluted': true }));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe('loadReferenceDataSpec', () => {
  const calls: string[] = [];
  const resolve = (name: string): unknown => {
    calls.push(name);
    return name === 'binance-2024' ? JSON.parse(JSON.stringify(shipped)) : undefined;
  };
  beforeEach(() => (calls.length = 0));

  it('resolves a shipped name through the caller', () => {
    const ref = loadReferenceDataSpec('binance-2024', resolve);
    expect(calls).toEqual(['binance-2024']);
    expect(ref).toEqual(base);
  });

  it('rejects a name nobody ships with UNKNOWN_REFERENCE_DATA', () => {
    const error = rejectionOf(() => loadReferenceDataSpec('binance-2019', resolve));
    expect(error.code).toBe('UNKNOWN_REFERENCE_DATA');
    expect(error.field).toBe('referenceData');
    expect(error.message).toBe('referenceData: no shipped reference data named "binance-2019"');
  });

  it('rejects a shipped set whose version is not its name', () => {
    const error = rejectionOf(() => loadReferenceDataSpec('renamed', () => shipped));
    expect(error.message).toBe(
      'version: expected "renamed" (the shipped set\'s name), got "binance-2024"',
    );
  });

  it('validates an inline set without resolving anything', () => {
    const inline = {
      ...(JSON.parse(JSON.stringify(shipped)) as ReferenceData),
      version: 'inline-1',
      defaultLeverage: 5,
    };
    const ref = loadReferenceDataSpec(inline, resolve);
    expect(ref.version).toBe('inline-1');
    expect(ref.defaultLeverage).toBe(5);
    expect(calls).toEqual([]);
    expect(
      rejectionOf(() => loadReferenceDataSpec({ ...inline, defaultLeverage: '5' }, resolve))
        .message,
    ).toBe('defaultLeverage: expected an integer');
  });

  it('applies overrides to a shipped base, as version <base>+1 unless named', () => {
    const ref = loadReferenceDataSpec(
      { base: 'binance-2024', overrides: { 'autoExchange.thresholdInclusive': false } },
      resolve,
    );
    expect(ref.version).toBe('binance-2024+1');
    expect(ref.autoExchange.thresholdInclusive).toBe(false);
    const named = loadReferenceDataSpec(
      { base: 'binance-2024', overrides: {}, version: 'mine' },
      resolve,
    );
    expect(named.version).toBe('mine');
  });

  it.each<[string, unknown, string, string]>([
    [
      'an unknown base',
      { base: 'nope', overrides: {} },
      'UNKNOWN_REFERENCE_DATA',
      'base: no shipped reference data named "nope"',
    ],
    [
      'a base that is not a name',
      { base: 1, overrides: {} },
      'INVALID_REFERENCE_DATA',
      'base: expected the name of a shipped set',
    ],
    [
      'overrides that are not an object',
      { base: 'binance-2024', overrides: [] },
      'INVALID_REFERENCE_DATA',
      'overrides: expected an object',
    ],
    [
      'an unknown key beside base',
      { base: 'binance-2024', override: {} },
      'INVALID_REFERENCE_DATA',
      'override: unknown key',
    ],
    [
      'a bad override',
      { base: 'binance-2024', overrides: { 'fees.bnbFeeBurn': true } },
      'INVALID_REFERENCE_DATA',
      'fees.bnbFeeBurn: not yet specified: only false is accepted',
    ],
    ['neither a name nor an object', 42, 'INVALID_REFERENCE_DATA', '(root): expected an object'],
  ])('rejects %s', (_name, spec, code, message) => {
    const error = rejectionOf(() => loadReferenceDataSpec(spec, resolve));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});
