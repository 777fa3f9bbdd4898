/*
 * Goal: the negative space of reference-data validation (TIGER_STYLE). Each case breaks one rule of
 * reference-data.md's closed schema in an otherwise valid copy of the shipped set, and checks that parsing rejects
 * it with INVALID_REFERENCE_DATA, the exact message `<path>: <reason>` and `field` = the path of the first bad key.
 * A few positive cases check what must stay accepted (more than 8 decimals, optional defaultIndex, a threshold of 0).
 */
import shipped from '../../../../config/reference-data/binance-2024.json';
import { LedgerDomainError } from '../shared/errors';
import { parseReferenceData } from './reference-data.parse';

type Json = Record<string, unknown>;

/** Marks a key to delete in a case. */
const DELETE = Symbol('delete');

function copy(): Json {
  return JSON.parse(JSON.stringify(shipped)) as Json;
}

/** The node at a path written like the error paths (`symbols.BTCUSDT.brackets[2]`). */
function get(root: Json, path: string): unknown {
  return segments(path).reduce<unknown>((node, key) => (node as Json)[key], root);
}

/** Sets (or, with DELETE, removes) the value at a path in a copy of the shipped set, and returns the copy. */
function withValue(path: string, value: unknown, root: Json = copy()): Json {
  const keys = segments(path);
  const last = keys.pop() as string;
  const parent = keys.reduce<unknown>((node, key) => (node as Json)[key], root) as Json;
  if (value === DELETE) delete parent[last];
  else parent[last] = value;
  return root;
}

function segments(path: string): string[] {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.');
}

function rejectionOf(input: unknown): LedgerDomainError {
  try {
    parseReferenceData(input);
  } catch (error) {
    if (error instanceof LedgerDomainError) return error;
    throw error;
  }
  throw new Error('expected parseReferenceData to throw');
}

function expectRejected(input: Json, message: string): void {
  const error = rejectionOf(input);
  expect(error.code).toBe('INVALID_REFERENCE_DATA');
  expect(error.message).toBe(message);
  expect(error.field).toBe(message.slice(0, message.indexOf(': ')));
}

/** [what, path, value or DELETE, expected message] */
type Case = [string, string, unknown, string];

const reversed = (path: string): unknown[] => [...(get(copy(), path) as unknown[])].reverse();
const B = 'symbols.BTCUSDT.brackets';

describe('parseReferenceData rejects', () => {
  it('a set that is not an object', () => {
    for (const input of [null, 'binance-2024', [], 42]) {
      const error = rejectionOf(input);
      expect(error.message).toBe('(root): expected an object');
      expect(error.field).toBe('(root)');
    }
  });

  describe('the closed schema', () => {
    it.each<Case>([
      ['an unknown top-level key', 'foo', 1, 'foo: unknown key'],
      ['an unknown flag', 'flags.foo', true, 'flags.foo: unknown key'],
      ['an unknown bracket key', `${B}[2].extra`, '1', `${B}[2].extra: unknown key`],
      ['an unknown asset key', 'assets.BTC.haircut', '0.05', 'assets.BTC.haircut: unknown key'],
      [
        'an unknown index key',
        'assets.USDT.defaultIndex.bidRate',
        '1',
        'assets.USDT.defaultIndex.bidRate: unknown key',
      ],
      [
        'an unknown fee-rate key',
        'fees.schedule[0].USDT.rebate',
        '0',
        'fees.schedule[0].USDT.rebate: unknown key',
      ],
      [
        'a missing top-level key',
        'defaultLeverage',
        DELETE,
        'defaultLeverage: required key missing',
      ],
      ['a missing bracket key', `${B}[4].cum`, DELETE, `${B}[4].cum: required key missing`],
      [
        'a missing flag',
        'flags.isolatedSettingBlocks',
        DELETE,
        'flags.isolatedSettingBlocks: required key missing',
      ],
      [
        'a missing index buffer',
        'assets.USDC.defaultIndex.askBuffer',
        DELETE,
        'assets.USDC.defaultIndex.askBuffer: required key missing',
      ],
      [
        'a row without minVipLevel',
        'fees.schedule[0].minVipLevel',
        DELETE,
        'fees.schedule[0].minVipLevel: required key missing',
      ],
      ['a section that is not an object', 'flags', [], 'flags: expected an object'],
      ['a section that is null', 'funding', null, 'funding: expected an object'],
      [
        'brackets that are not an array',
        'symbols.BNBUSDT.brackets',
        {},
        'symbols.BNBUSDT.brackets: expected an array',
      ],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

    it('reports the first bad key in schema order', () => {
      expectRejected(
        withValue('version', '', withValue('flags.foo', true)),
        'version: expected a non-empty string without whitespace (at most 128 characters)',
      );
    });
  });

  describe('types', () => {
    it.each<[string, unknown]>([
      ['a number', 950],
      ['an exponent', '9.5e2'],
      ['a leading +', '+950'],
      ['a leading zero', '0950'],
      ['a trailing dot', '950.'],
      ['a bare fraction', '.5'],
      ['a comma', '950,0'],
      ['whitespace', ' 950'],
      ['an empty string', ''],
      ['null', null],
    ])('a decimal given as %s', (_name, value) =>
      expectRejected(withValue(`${B}[2].cum`, value), `${B}[2].cum: expected a decimal string`),
    );

    it.each<Case>([
      [
        'a fractional leverage',
        `${B}[0].initialLeverage`,
        125.5,
        `${B}[0].initialLeverage: expected an integer`,
      ],
      [
        'a leverage as a string',
        `${B}[0].initialLeverage`,
        '125',
        `${B}[0].initialLeverage: expected an integer`,
      ],
      [
        'a bracket number as a string',
        `${B}[0].bracket`,
        '1',
        `${B}[0].bracket: expected an integer`,
      ],
      [
        'a VIP level as a string',
        'autoExchange.thresholds[1].minVipLevel',
        '2',
        'autoExchange.thresholds[1].minVipLevel: expected an integer',
      ],
      [
        'a precision as a string',
        'assets.BTC.precision',
        '8',
        'assets.BTC.precision: expected an integer',
      ],
      [
        'a precision above the stored 8 decimals',
        'assets.BTC.precision',
        9,
        'assets.BTC.precision: must be ≤ 8',
      ],
      [
        'a negative quantity precision',
        'symbols.BTCUSDT.quantityPrecision',
        -1,
        'symbols.BTCUSDT.quantityPrecision: must be ≥ 0',
      ],
      ['a default leverage of 0', 'defaultLeverage', 0, 'defaultLeverage: must be ≥ 1'],
      ['a funding interval of 0', 'funding.intervalHours', 0, 'funding.intervalHours: must be ≥ 1'],
      [
        'a flag as a string',
        'flags.isolatedSettingBlocks',
        'true',
        'flags.isolatedSettingBlocks: expected a boolean',
      ],
      [
        'a flag as a number',
        'autoExchange.thresholdInclusive',
        1,
        'autoExchange.thresholdInclusive: expected a boolean',
      ],
      [
        'marginAvailable as null',
        'assets.ETH.marginAvailable',
        null,
        'assets.ETH.marginAvailable: expected a boolean',
      ],
      [
        'a version that is not a string',
        'version',
        2024,
        'version: expected a non-empty string without whitespace (at most 128 characters)',
      ],
      [
        'a version with whitespace',
        'version',
        'binance 2024',
        'version: expected a non-empty string without whitespace (at most 128 characters)',
      ],
      [
        'an asset code in lower case',
        'assets.usdt',
        { marginAvailable: true, precision: 8 },
        'assets.usdt: expected an asset code (A-Z, 0-9)',
      ],
      [
        'a symbol code with a slash',
        'symbols.BTC/USDT',
        get(copy(), 'symbols.BTCUSDT'),
        'symbols.BTC/USDT: expected a symbol code (A-Z, 0-9)',
      ],
      [
        'a base asset that is not a code',
        'symbols.BTCUSDT.baseAsset',
        '',
        'symbols.BTCUSDT.baseAsset: expected an asset code (A-Z, 0-9)',
      ],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));
  });

  describe('enums and values not yet specified', () => {
    it.each<Case>([
      [
        'an unknown proportion',
        'autoExchange.proportion',
        'USD',
        'autoExchange.proportion: expected one of INDEX, AUTO_EXCHANGE',
      ],
      [
        'a proportion in lower case',
        'autoExchange.proportion',
        'index',
        'autoExchange.proportion: expected one of INDEX, AUTO_EXCHANGE',
      ],
      [
        'an unknown close price',
        'liquidation.closePrice',
        'LAST',
        'liquidation.closePrice: expected one of MARK, BANKRUPTCY',
      ],
      [
        'BNB fee burn on',
        'fees.bnbFeeBurn',
        true,
        'fees.bnbFeeBurn: not yet specified: only false is accepted',
      ],
      [
        'a negative-balance interest rate',
        'flags.negativeBalanceInterestRate',
        '0.0001',
        'flags.negativeBalanceInterestRate: not yet specified: only "0" is accepted',
      ],
      [
        'a zero interest rate written "0.0"',
        'flags.negativeBalanceInterestRate',
        '0.0',
        'flags.negativeBalanceInterestRate: not yet specified: only "0" is accepted',
      ],
      [
        'an interest rate that is not a decimal string',
        'flags.negativeBalanceInterestRate',
        0,
        'flags.negativeBalanceInterestRate: expected a decimal string',
      ],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

    it('accepts the other enum values', () => {
      const r = withValue(
        'liquidation.closePrice',
        'BANKRUPTCY',
        withValue('autoExchange.proportion', 'AUTO_EXCHANGE'),
      );
      const parsed = parseReferenceData(r);
      expect(parsed.autoExchange.proportion).toBe('AUTO_EXCHANGE');
      expect(parsed.liquidation.closePrice).toBe('BANKRUPTCY');
    });
  });

  describe('brackets', () => {
    const contiguous = (expected: string): string =>
      `${B}[1].notionalFloor: expected ${expected} (the previous notionalCap: tiers are contiguous)`;
    const cumRule = (k: number): string =>
      `cum_${k} + notionalFloor × (maintMarginRatio − maintMarginRatio_${k})`;

    it.each<Case>([
      [
        'no brackets',
        'symbols.BNBUSDT.brackets',
        [],
        'symbols.BNBUSDT.brackets: expected at least one bracket',
      ],
      [
        'numbering that starts at 0',
        `${B}[0].bracket`,
        0,
        `${B}[0].bracket: expected 1 (brackets numbered 1..n in order)`,
      ],
      [
        'a gap in the numbering',
        `${B}[1].bracket`,
        3,
        `${B}[1].bracket: expected 2 (brackets numbered 1..n in order)`,
      ],
      [
        'tiers out of order',
        B,
        reversed(B),
        `${B}[0].bracket: expected 1 (brackets numbered 1..n in order)`,
      ],
      [
        'tier 1 not starting at 0',
        `${B}[0].notionalFloor`,
        '1',
        `${B}[0].notionalFloor: expected 0 (tier 1 starts at 0)`,
      ],
      ['a gap between tiers', `${B}[1].notionalFloor`, '50001', contiguous('50000')],
      ['overlapping tiers', `${B}[0].notionalCap`, '60000', contiguous('60000')],
      [
        'a cap equal to the floor',
        `${B}[11].notionalCap`,
        '1200000000',
        `${B}[11].notionalCap: must be > notionalFloor`,
      ],
      [
        'a cap below the floor',
        `${B}[11].notionalCap`,
        '1000',
        `${B}[11].notionalCap: must be > notionalFloor`,
      ],
      ['a leverage of 0', `${B}[11].initialLeverage`, 0, `${B}[11].initialLeverage: must be ≥ 1`],
      [
        'an increasing leverage',
        `${B}[1].initialLeverage`,
        126,
        `${B}[1].initialLeverage: must be ≤ 125 (non-increasing)`,
      ],
      [
        'an MMR of 0',
        `${B}[0].maintMarginRatio`,
        '0',
        `${B}[0].maintMarginRatio: must be in (0, 1)`,
      ],
      [
        'an MMR of 1',
        `${B}[11].maintMarginRatio`,
        '1',
        `${B}[11].maintMarginRatio: must be in (0, 1)`,
      ],
      [
        'a negative MMR',
        `${B}[0].maintMarginRatio`,
        '-0.004',
        `${B}[0].maintMarginRatio: must be in (0, 1)`,
      ],
      [
        'a tier-1 cum other than 0',
        `${B}[0].cum`,
        '1',
        `${B}[0].cum: expected 0 (cum of tier 1 is 0), got 1`,
      ],
      [
        'a discontinuous cum',
        `${B}[2].cum`,
        '951',
        `${B}[2].cum: expected 950 (${cumRule(2)}), got 951`,
      ],
      [
        'a cum off in the 10th decimal',
        `${B}[2].cum`,
        '950.0000000001',
        `${B}[2].cum: expected 950 (${cumRule(2)}), got 950.0000000001`,
      ],
      [
        // cum_4 = 950 + 3,000,000 × (0.011 − 0.0065) = 14,450
        'an MMR changed without its cum',
        `${B}[3].maintMarginRatio`,
        '0.011',
        `${B}[3].cum: expected 14450 (${cumRule(3)}), got 11450`,
      ],
      [
        'a liquidation fee rate of 1',
        'symbols.BTCUSDT.liquidationFeeRate',
        '1',
        'symbols.BTCUSDT.liquidationFeeRate: must be in [0, 1)',
      ],
      [
        'a negative liquidation fee rate',
        'symbols.BTCUSDT.liquidationFeeRate',
        '-0.01',
        'symbols.BTCUSDT.liquidationFeeRate: must be in [0, 1)',
      ],
      [
        'a margin asset not in assets',
        'symbols.BTCUSDT.marginAsset',
        'BUSD',
        'symbols.BTCUSDT.marginAsset: unknown asset "BUSD" (not in assets)',
      ],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

    it('accepts decimals finer than 8 places when cum stays continuous', () => {
      const brackets = [
        {
          bracket: 1,
          initialLeverage: 20,
          notionalFloor: '0',
          notionalCap: '0.123456789',
          maintMarginRatio: '0.0000000001',
          cum: '0',
        },
        // cum_2 = 0 + 0.123456789 × (0.5 − 0.0000000001) = 0.0617283944876543211
        {
          bracket: 2,
          initialLeverage: 1,
          notionalFloor: '0.123456789',
          notionalCap: '1',
          maintMarginRatio: '0.5',
          cum: '0.0617283944876543211',
        },
      ];
      const parsed = parseReferenceData(withValue('symbols.BNBUSDT.brackets', brackets));
      expect(parsed.symbols.BNBUSDT?.brackets[1]?.cum).toBe('0.0617283944876543211');
    });
  });

  describe('assets', () => {
    const I = 'assets.USDT.defaultIndex';
    it.each<Case>([
      ['an index of 0', `${I}.index`, '0', `${I}.index: must be > 0`],
      ['a negative index', `${I}.index`, '-1', `${I}.index: must be > 0`],
      ['a bid buffer of 1', `${I}.bidBuffer`, '1', `${I}.bidBuffer: must be in [0, 1)`],
      ['a negative ask buffer', `${I}.askBuffer`, '-0.0001', `${I}.askBuffer: must be in [0, 1)`],
      [
        'an auto-exchange bid buffer of 1.5',
        `${I}.autoExchangeBidBuffer`,
        '1.5',
        `${I}.autoExchangeBidBuffer: must be in [0, 1)`,
      ],
      [
        'an auto-exchange ask buffer as a number',
        `${I}.autoExchangeAskBuffer`,
        0,
        `${I}.autoExchangeAskBuffer: expected a decimal string`,
      ],
      ['a default index that is null', I, null, `${I}: expected an object`],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

    it('accepts a buffer just below 1 and an index with more than 8 decimals', () => {
      const index = {
        index: '65000.123456789',
        bidBuffer: '0.999999999',
        askBuffer: '0',
        autoExchangeBidBuffer: '0.025',
        autoExchangeAskBuffer: '0',
      };
      const parsed = parseReferenceData(withValue('assets.BTC.defaultIndex', index));
      expect(parsed.assets.BTC?.defaultIndex).toEqual(index);
    });
  });

  describe('auto-exchange and fee rows by VIP level', () => {
    const T = 'autoExchange.thresholds';
    const S = 'fees.schedule';
    const firstRow = (path: string): string =>
      `${path}[0].minVipLevel: expected 0 (the first row covers VIP 0)`;

    it.each<Case>([
      ['no threshold rows', T, [], `${T}: expected at least one row (minVipLevel 0)`],
      ['no threshold row at VIP 0', T, (get(copy(), T) as unknown[]).slice(1), firstRow(T)],
      ['threshold rows out of order', T, reversed(T), firstRow(T)],
      [
        'two threshold rows at the same level',
        `${T}[1].minVipLevel`,
        0,
        `${T}[1].minVipLevel: must be > 0 (rows sorted by minVipLevel)`,
      ],
      ['a negative VIP level', `${T}[1].minVipLevel`, -1, `${T}[1].minVipLevel: must be ≥ 0`],
      [
        'a threshold for an asset not in assets',
        `${T}[0].XRP`,
        '-100',
        `${T}[0].XRP: unknown asset (not in assets)`,
      ],
      ['a positive threshold', `${T}[1].BTC`, '0.1', `${T}[1].BTC: must be ≤ 0`],
      ['a threshold as a number', `${T}[0].USDT`, -5000, `${T}[0].USDT: expected a decimal string`],
      [
        'an LTV trigger of 0',
        'autoExchange.ltvTrigger',
        '0',
        'autoExchange.ltvTrigger: must be > 0',
      ],
      [
        'an LTV trigger as a number',
        'autoExchange.ltvTrigger',
        0.995,
        'autoExchange.ltvTrigger: expected a decimal string',
      ],
      ['no fee rows', S, [], `${S}: expected at least one row (minVipLevel 0)`],
      ['no fee row at VIP 0', `${S}[0].minVipLevel`, 1, firstRow(S)],
      [
        'fee rows out of order',
        S,
        [get(copy(), `${S}[0]`), { minVipLevel: 3 }, { minVipLevel: 2 }],
        `${S}[2].minVipLevel: must be > 3 (rows sorted by minVipLevel)`,
      ],
      [
        'fees for an asset not in assets',
        `${S}[0].EUR`,
        { maker: '0', taker: '0' },
        `${S}[0].EUR: unknown asset (not in assets)`,
      ],
      ['a fee rate of 1', `${S}[0].USDT.taker`, '1', `${S}[0].USDT.taker: must be in (-1, 1)`],
      ['a fee rate of -1', `${S}[0].USDT.maker`, '-1', `${S}[0].USDT.maker: must be in (-1, 1)`],
      [
        'fee rates that are not an object',
        `${S}[0].USDC`,
        '0.0004',
        `${S}[0].USDC: expected an object`,
      ],
      [
        'a fee rate missing',
        `${S}[0].USDC.maker`,
        DELETE,
        `${S}[0].USDC.maker: required key missing`,
      ],
    ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

    it('accepts a threshold of 0, a maker rebate and a threshold finer than 8 decimals', () => {
      let r = withValue(`${T}[0].USDT`, '0');
      r = withValue(`${T}[0].BTC`, '-0.123456789', r);
      r = withValue(`${S}[0].USDT.maker`, '-0.0001', r);
      const parsed = parseReferenceData(r);
      expect(parsed.autoExchange.thresholds[0]?.USDT).toBe('0');
      expect(parsed.autoExchange.thresholds[0]?.BTC).toBe('-0.123456789');
      expect(parsed.fees.schedule[0]?.USDT).toEqual({ maker: '-0.0001', taker: '0.0005' });
    });
  });

  it('rejects "__proto__" as an asset code instead of following it', () => {
    // JSON.parse makes "__proto__" an own key, as a set read from a file would have it.
    const asset = '"__proto__":{"marginAvailable":true,"precision":8},';
    const r = JSON.parse(
      JSON.stringify(shipped).replace('"assets":{', `"assets":{${asset}`),
    ) as Json;
    expect(Object.keys(get(r, 'assets') as Json)).toContain('__proto__');
    expectRejected(r, 'assets.__proto__: expected an asset code (A-Z, 0-9)');
  });
});
