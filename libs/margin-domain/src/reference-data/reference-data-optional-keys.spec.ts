/*
 * Goal: the four optional keys reference-data.md added in the second wave (`symbols.{S}.fillPriceBandRatio`,
 * `symbols.{S}.slippageBps`, `fees.maxRate`, `funding.maxAbsRate`). A set without them stays valid and parses to
 * the same content (the shipped set has none); a set with them keeps them as written; a bad value is rejected with
 * INVALID_REFERENCE_DATA naming the key, like every other key; the lookups answer the value or its default
 * ("0.5", 0, "0.01", "0.03"), and the fee bounds of RULES §2.6 come from the whole schedule of a margin asset.
 */
import shipped from '../../../../config/reference-data/binance-2024.json';
import { LedgerDomainError } from '../shared/errors';
import {
  DEFAULT_FEE_MAX_RATE,
  DEFAULT_FILL_PRICE_BAND_RATIO,
  DEFAULT_FUNDING_MAX_ABS_RATE,
  DEFAULT_SLIPPAGE_BPS,
  referenceBook,
} from './reference-data.book';
import { applyOverrides } from './reference-data.overrides';
import { parseReferenceData } from './reference-data.parse';

type Json = Record<string, unknown>;

function copy(): Json {
  return JSON.parse(JSON.stringify(shipped)) as Json;
}

/** A copy of the shipped set with `value` at a dotted path (no array indexes needed here). */
function withValue(path: string, value: unknown, root: Json = copy()): Json {
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<Json>((node, key) => node[key] as Json, root);
  parent[last] = value;
  return root;
}

function expectRejected(input: Json, message: string): void {
  let caught: unknown;
  try {
    parseReferenceData(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(LedgerDomainError);
  const error = caught as LedgerDomainError;
  expect(error.code).toBe('INVALID_REFERENCE_DATA');
  expect(error.message).toBe(message);
  expect(error.field).toBe(message.slice(0, message.indexOf(': ')));
}

const ref = parseReferenceData(shipped);
const S = 'symbols.BTCUSDT';

describe('a set without the optional keys', () => {
  it('stays valid, parses to the same content and gets the defaults of reference-data.md', () => {
    expect(ref).toEqual(shipped);
    expect(ref.symbols.BTCUSDT).not.toHaveProperty('fillPriceBandRatio');
    expect(ref.fees).not.toHaveProperty('maxRate');
    expect(ref.funding).not.toHaveProperty('maxAbsRate');
    const book = referenceBook(ref);
    expect(DEFAULT_FILL_PRICE_BAND_RATIO).toBe('0.5');
    expect(DEFAULT_SLIPPAGE_BPS).toBe(0);
    expect(DEFAULT_FEE_MAX_RATE).toBe('0.01');
    expect(DEFAULT_FUNDING_MAX_ABS_RATE).toBe('0.03');
    expect(book.fillPriceBandRatio('BTCUSDT').toFixed()).toBe('0.5');
    expect(book.slippageBps('BNBUSDT')).toBe(0);
    expect(book.feeMaxRate.toFixed()).toBe('0.01');
    expect(book.fundingMaxAbsRate.toFixed()).toBe('0.03');
  });
});

describe('a set with the optional keys', () => {
  it('keeps them as written and the lookups answer them', () => {
    let r = withValue(`${S}.fillPriceBandRatio`, '0.1');
    r = withValue(`${S}.slippageBps`, 5, r);
    r = withValue('fees.maxRate', '0.002', r);
    r = withValue('funding.maxAbsRate', '0.0075', r);
    const parsed = parseReferenceData(r);
    expect(parsed.symbols.BTCUSDT).toMatchObject({ fillPriceBandRatio: '0.1', slippageBps: 5 });
    expect(parsed.fees.maxRate).toBe('0.002');
    expect(parsed.funding.maxAbsRate).toBe('0.0075');
    const book = referenceBook(parsed);
    expect(book.fillPriceBandRatio('BTCUSDT').toFixed()).toBe('0.1');
    expect(book.fillPriceBandRatio('BTCUSDC').toFixed()).toBe('0.5');
    expect(book.slippageBps('BTCUSDT')).toBe(5);
    expect(book.feeMaxRate.toFixed()).toBe('0.002');
    expect(book.fundingMaxAbsRate.toFixed()).toBe('0.0075');
  });

  it('can be published as dotted overrides (reference-data.md "Versions")', () => {
    const next = applyOverrides(ref, {
      'symbols.BTCUSDT.fillPriceBandRatio': '0.05',
      'fees.maxRate': '0.001',
      'funding.maxAbsRate': '0.01',
    });
    expect(referenceBook(next).fillPriceBandRatio('BTCUSDT').toFixed()).toBe('0.05');
    expect(referenceBook(next).feeMaxRate.toFixed()).toBe('0.001');
    expect(referenceBook(next).fundingMaxAbsRate.toFixed()).toBe('0.01');
    expect(() => applyOverrides(ref, { 'funding.maxAbsRate': 0.01 })).toThrow(
      'funding.maxAbsRate: expected a decimal string',
    );
  });

  it('accepts the edges of each range', () => {
    let r = withValue(`${S}.fillPriceBandRatio`, '3');
    r = withValue(`${S}.slippageBps`, 9999, r);
    r = withValue('fees.maxRate', '0.0005', r);
    r = withValue('funding.maxAbsRate', '0.999999999', r);
    expect(() => parseReferenceData(r)).not.toThrow();
    expect(() =>
      parseReferenceData(
        withValue('fees.maxRate', '0', withValue('fees.schedule', [{ minVipLevel: 0 }])),
      ),
    ).not.toThrow();
  });
});

describe('a bad optional key is rejected, naming it', () => {
  it.each<[string, string, unknown, string]>([
    [
      'a band ratio as a number',
      `${S}.fillPriceBandRatio`,
      0.5,
      `${S}.fillPriceBandRatio: expected a decimal string`,
    ],
    ['a band ratio of 0', `${S}.fillPriceBandRatio`, '0', `${S}.fillPriceBandRatio: must be > 0`],
    [
      'a negative band ratio',
      `${S}.fillPriceBandRatio`,
      '-0.5',
      `${S}.fillPriceBandRatio: must be > 0`,
    ],
    ['slippage as a string', `${S}.slippageBps`, '5', `${S}.slippageBps: expected an integer`],
    ['fractional slippage', `${S}.slippageBps`, 1.5, `${S}.slippageBps: expected an integer`],
    ['negative slippage', `${S}.slippageBps`, -1, `${S}.slippageBps: must be ≥ 0`],
    ['slippage of 100%', `${S}.slippageBps`, 10000, `${S}.slippageBps: must be ≤ 9999`],
    [
      'slippage outside the default band',
      `${S}.slippageBps`,
      5001,
      `${S}.slippageBps: must be ≤ fillPriceBandRatio × 10000 (5000): a fill at mark ± slippage must stay inside the price band`,
    ],
    ['a max fee rate as a number', 'fees.maxRate', 0.01, 'fees.maxRate: expected a decimal string'],
    ['a negative max fee rate', 'fees.maxRate', '-0.01', 'fees.maxRate: must be in [0, 1)'],
    ['a max fee rate of 1', 'fees.maxRate', '1', 'fees.maxRate: must be in [0, 1)'],
    [
      'a max fee rate below a scheduled rate',
      'fees.maxRate',
      '0.0004',
      "fees.maxRate: must be ≥ the schedule's largest rate (0.0005)",
    ],
    ['an unknown fees key', 'fees.minRate', '0', 'fees.minRate: unknown key'],
    [
      'a funding bound as a number',
      'funding.maxAbsRate',
      0.03,
      'funding.maxAbsRate: expected a decimal string',
    ],
    ['a funding bound of 0', 'funding.maxAbsRate', '0', 'funding.maxAbsRate: must be in (0, 1)'],
    ['a funding bound of 1', 'funding.maxAbsRate', '1', 'funding.maxAbsRate: must be in (0, 1)'],
    ['an unknown funding key', 'funding.maxRate', '0.03', 'funding.maxRate: unknown key'],
  ])('%s', (_name, path, value, message) => expectRejected(withValue(path, value), message));

  it('names slippageBps when a narrower band leaves it outside', () => {
    const r = withValue(`${S}.slippageBps`, 20, withValue(`${S}.fillPriceBandRatio`, '0.001'));
    expectRejected(
      r,
      `${S}.slippageBps: must be ≤ fillPriceBandRatio × 10000 (10): a fill at mark ± slippage must stay inside the price band`,
    );
  });
});

describe('fee bounds of an explicit fill fee (RULES §2.6, reference-data.md fees.maxRate)', () => {
  const schedule = [
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
  ];

  it('the lower rate is the most negative rate of the asset over the whole schedule, else 0', () => {
    const book = referenceBook(applyOverrides(ref, { 'fees.schedule': schedule }));
    expect(book.feeRateFloor('USDT').toFixed()).toBe('-0.0001');
    expect(book.feeRateFloor('USDC').toFixed()).toBe('-0.00002');
    expect(book.feeRateFloor('BTC').toFixed()).toBe('0');
    expect(referenceBook(ref).feeRateFloor('USDT').toFixed()).toBe('0');
  });
});
