/**
 * Validation of a reference-data set against the closed schema of shared/spec/reference-data.md. The walk visits
 * keys in schema order and throws on the first problem, naming it by path (`symbols.BTCUSDT.brackets[2].cum`; array
 * indexes are 0-based, as in a JSON path), so a user can find the bad key in the file they wrote. The result is a
 * fresh, deeply frozen copy: the lookup cache (reference-data.book.ts) relies on a set never changing after it was
 * validated.
 */
import { type Dec, dec, ONE, STORED_DECIMALS, ZERO } from '../money/decimal';
import { LedgerDomainError } from '../shared/errors';
import type {
  AssetIndexValues,
  AssetReference,
  AutoExchangeThresholdRow,
  Bracket,
  FeeRates,
  FeeScheduleRow,
  ReferenceData,
  SymbolReference,
} from './reference-data.types';

/** Error code of every rejected set (STYLE §4: exact string, no prefix). */
export const INVALID_REFERENCE_DATA = 'INVALID_REFERENCE_DATA';

/**
 * Reference data may carry more decimals than command input (a rate such as 0.0065 times a cap is exact, and a
 * bracket's `cum` can need more than 8 decimals), so this is DECIMAL_INPUT_PATTERN without its 8-decimal limit.
 */
export const REFERENCE_DECIMAL_PATTERN = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** Asset and symbol codes: upper-case letters and digits (Binance's own codes are of this form). */
export const CODE_PATTERN = /^[A-Z0-9]+$/;

const VERSION_PATTERN = /^\S{1,128}$/;

/** Defaults of the optional keys (reference-data.md): a set without them stays valid and uses these. */
export const DEFAULT_FILL_PRICE_BAND_RATIO = '0.5';
export const DEFAULT_SLIPPAGE_BPS = 0;
export const DEFAULT_FEE_MAX_RATE = '0.01';
export const DEFAULT_FUNDING_MAX_ABS_RATE = '0.03';

/** Slippage of 10000 bps (100%) or more would price a paper MARKET sell at or below 0. */
const MAX_SLIPPAGE_BPS = 9999;
const BPS_PER_UNIT = 10000;

/** Sets already validated (and frozen) by `parseReferenceData`: parsing one again returns it unchanged. */
const VALIDATED = new WeakSet<object>();

export function invalidReferenceData(path: string, reason: string): never {
  const field = path === '' ? '(root)' : path;
  throw new LedgerDomainError(INVALID_REFERENCE_DATA, `${field}: ${reason}`, { field });
}

/**
 * Validates `input` as a whole reference-data set and returns a fresh, deeply frozen copy. Throws
 * `LedgerDomainError('INVALID_REFERENCE_DATA', '<path>: <reason>', { field: '<path>' })` on the first bad key.
 */
export function parseReferenceData(input: unknown): ReferenceData {
  if (typeof input === 'object' && input !== null && VALIDATED.has(input))
    return input as ReferenceData;
  const o = closedObject(input, '', [
    'version',
    'assets',
    'symbols',
    'autoExchange',
    'fees',
    'liquidation',
    'funding',
    'defaultLeverage',
    'flags',
  ]);
  const version = versionString(o.version, 'version');
  const assets = parseAssets(o.assets, 'assets');
  const data: ReferenceData = {
    version,
    assets,
    symbols: parseSymbols(o.symbols, 'symbols', assets),
    autoExchange: parseAutoExchange(o.autoExchange, 'autoExchange', assets),
    fees: parseFees(o.fees, 'fees', assets),
    liquidation: parseLiquidation(o.liquidation, 'liquidation'),
    funding: parseFunding(o.funding, 'funding'),
    defaultLeverage: integer(o.defaultLeverage, 'defaultLeverage', 1),
    flags: parseFlags(o.flags, 'flags'),
  };
  deepFreeze(data);
  VALIDATED.add(data);
  return data;
}

/** True when `value` is a set returned by `parseReferenceData` (validated, frozen). */
export function isValidatedReferenceData(value: unknown): value is ReferenceData {
  return typeof value === 'object' && value !== null && VALIDATED.has(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

function parseAssets(value: unknown, path: string): Record<string, AssetReference> {
  const o = record(value, path);
  const out: Record<string, AssetReference> = {};
  for (const code of Object.keys(o)) {
    const p = join(path, code);
    if (!CODE_PATTERN.test(code)) invalidReferenceData(p, 'expected an asset code (A-Z, 0-9)');
    const a = closedObject(
      o[code],
      p,
      ['marginAvailable', 'precision', 'defaultIndex'],
      ['defaultIndex'],
    );
    const asset: AssetReference = {
      marginAvailable: boolean(a.marginAvailable, join(p, 'marginAvailable')),
      precision: integer(a.precision, join(p, 'precision'), 0, STORED_DECIMALS),
    };
    if (a.defaultIndex !== undefined)
      asset.defaultIndex = parseIndex(a.defaultIndex, join(p, 'defaultIndex'));
    out[code] = asset;
  }
  return out;
}

function parseIndex(value: unknown, path: string): AssetIndexValues {
  const keys = [
    'index',
    'bidBuffer',
    'askBuffer',
    'autoExchangeBidBuffer',
    'autoExchangeAskBuffer',
  ] as const;
  const o = closedObject(value, path, keys);
  const index = decimal(o.index, join(path, 'index'));
  if (!index.gt(ZERO)) invalidReferenceData(join(path, 'index'), 'must be > 0');
  const buffer = (key: (typeof keys)[number]): string => {
    const p = join(path, key);
    const b = decimal(o[key], p);
    if (b.lt(ZERO) || b.gte(ONE)) invalidReferenceData(p, 'must be in [0, 1)');
    return o[key] as string;
  };
  return {
    index: o.index as string,
    bidBuffer: buffer('bidBuffer'),
    askBuffer: buffer('askBuffer'),
    autoExchangeBidBuffer: buffer('autoExchangeBidBuffer'),
    autoExchangeAskBuffer: buffer('autoExchangeAskBuffer'),
  };
}

function parseSymbols(
  value: unknown,
  path: string,
  assets: Record<string, AssetReference>,
): Record<string, SymbolReference> {
  const o = record(value, path);
  const out: Record<string, SymbolReference> = {};
  for (const code of Object.keys(o)) {
    const p = join(path, code);
    if (!CODE_PATTERN.test(code)) invalidReferenceData(p, 'expected a symbol code (A-Z, 0-9)');
    const s = closedObject(
      o[code],
      p,
      [
        'baseAsset',
        'marginAsset',
        'quantityPrecision',
        'pricePrecision',
        'liquidationFeeRate',
        'brackets',
        'fillPriceBandRatio',
        'slippageBps',
      ],
      ['fillPriceBandRatio', 'slippageBps'],
    );
    const baseAsset = assetCode(s.baseAsset, join(p, 'baseAsset'));
    const marginAsset = assetCode(s.marginAsset, join(p, 'marginAsset'));
    if (!hasOwn(assets, marginAsset)) {
      invalidReferenceData(
        join(p, 'marginAsset'),
        `unknown asset "${marginAsset}" (not in assets)`,
      );
    }
    const liquidationFeeRate = decimal(s.liquidationFeeRate, join(p, 'liquidationFeeRate'));
    if (liquidationFeeRate.lt(ZERO) || liquidationFeeRate.gte(ONE)) {
      invalidReferenceData(join(p, 'liquidationFeeRate'), 'must be in [0, 1)');
    }
    out[code] = {
      baseAsset,
      marginAsset,
      quantityPrecision: integer(s.quantityPrecision, join(p, 'quantityPrecision'), 0),
      pricePrecision: integer(s.pricePrecision, join(p, 'pricePrecision'), 0),
      liquidationFeeRate: s.liquidationFeeRate as string,
      brackets: parseBrackets(s.brackets, join(p, 'brackets')),
      ...parseFillPricing(s, p),
    };
  }
  return out;
}

/**
 * The optional fill-pricing keys of a symbol (reference-data.md): `fillPriceBandRatio` > 0 (default "0.5"), and
 * `slippageBps` an integer in [0, 9999] (default 0) that keeps a fill at mark ± slippage inside the band, or every
 * paper MARKET order of the symbol would be refused. Absent keys stay absent: the lookups apply the defaults.
 */
function parseFillPricing(
  s: Record<string, unknown>,
  path: string,
): Pick<SymbolReference, 'fillPriceBandRatio' | 'slippageBps'> {
  const out: Pick<SymbolReference, 'fillPriceBandRatio' | 'slippageBps'> = {};
  let band = dec(DEFAULT_FILL_PRICE_BAND_RATIO);
  if (s.fillPriceBandRatio !== undefined) {
    const p = join(path, 'fillPriceBandRatio');
    band = decimal(s.fillPriceBandRatio, p);
    if (!band.gt(ZERO)) invalidReferenceData(p, 'must be > 0');
    out.fillPriceBandRatio = s.fillPriceBandRatio as string;
  }
  if (s.slippageBps !== undefined) {
    const p = join(path, 'slippageBps');
    const bps = integer(s.slippageBps, p, 0, MAX_SLIPPAGE_BPS);
    const limit = band.times(BPS_PER_UNIT);
    if (limit.lt(bps)) {
      invalidReferenceData(
        p,
        `must be ≤ fillPriceBandRatio × 10000 (${limit.toFixed()}): a fill at mark ± slippage must stay inside the price band`,
      );
    }
    out.slippageBps = bps;
  }
  return out;
}

/**
 * Brackets (RULES §7): numbered 1..n, tier 1 from 0, contiguous, cap > floor, max leverage non-increasing,
 * 0 < MMR < 1, and `cum` continuous so that MM = N × MMR − cum has no jump at a boundary (RULES §2.1).
 */
function parseBrackets(value: unknown, path: string): Bracket[] {
  const items = array(value, path);
  if (items.length === 0) invalidReferenceData(path, 'expected at least one bracket');
  const out: Bracket[] = [];
  let previous: { cap: Dec; mmr: Dec; cum: Dec; leverage: number } | undefined;
  items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const b = closedObject(item, p, [
      'bracket',
      'initialLeverage',
      'notionalFloor',
      'notionalCap',
      'maintMarginRatio',
      'cum',
    ]);
    const bracket = integer(b.bracket, join(p, 'bracket'));
    if (bracket !== i + 1)
      invalidReferenceData(
        join(p, 'bracket'),
        `expected ${i + 1} (brackets numbered 1..n in order)`,
      );
    const leverage = integer(b.initialLeverage, join(p, 'initialLeverage'), 1);
    if (previous && leverage > previous.leverage) {
      invalidReferenceData(
        join(p, 'initialLeverage'),
        `must be ≤ ${previous.leverage} (non-increasing)`,
      );
    }
    const floor = decimal(b.notionalFloor, join(p, 'notionalFloor'));
    const expectedFloor = previous ? previous.cap : ZERO;
    if (!floor.eq(expectedFloor)) {
      const why = previous
        ? 'the previous notionalCap: tiers are contiguous'
        : 'tier 1 starts at 0';
      invalidReferenceData(
        join(p, 'notionalFloor'),
        `expected ${expectedFloor.toFixed()} (${why})`,
      );
    }
    const cap = decimal(b.notionalCap, join(p, 'notionalCap'));
    if (!cap.gt(floor)) invalidReferenceData(join(p, 'notionalCap'), 'must be > notionalFloor');
    const mmr = decimal(b.maintMarginRatio, join(p, 'maintMarginRatio'));
    if (!mmr.gt(ZERO) || !mmr.lt(ONE))
      invalidReferenceData(join(p, 'maintMarginRatio'), 'must be in (0, 1)');
    const cum = decimal(b.cum, join(p, 'cum'));
    const expectedCum = previous ? previous.cum.plus(floor.times(mmr.minus(previous.mmr))) : ZERO;
    if (!cum.eq(expectedCum)) {
      const rule = previous
        ? `cum_${i} + notionalFloor × (maintMarginRatio − maintMarginRatio_${i})`
        : 'cum of tier 1 is 0';
      invalidReferenceData(
        join(p, 'cum'),
        `expected ${expectedCum.toFixed()} (${rule}), got ${cum.toFixed()}`,
      );
    }
    out.push({
      bracket,
      initialLeverage: leverage,
      notionalFloor: b.notionalFloor as string,
      notionalCap: b.notionalCap as string,
      maintMarginRatio: b.maintMarginRatio as string,
      cum: b.cum as string,
    });
    previous = { cap, mmr, cum, leverage };
  });
  return out;
}

function parseAutoExchange(
  value: unknown,
  path: string,
  assets: Record<string, AssetReference>,
): ReferenceData['autoExchange'] {
  const o = closedObject(value, path, [
    'thresholds',
    'thresholdInclusive',
    'ltvTrigger',
    'proportion',
  ]);
  const thresholds = vipRows(o.thresholds, join(path, 'thresholds'), assets, (cell, p) => {
    // A threshold above 0 would fire on a positive balance; 0 with thresholdInclusive false fires on any debt.
    if (decimal(cell, p).gt(ZERO)) invalidReferenceData(p, 'must be ≤ 0');
    return cell as string;
  }) as AutoExchangeThresholdRow[];
  const ltvTrigger = decimal(o.ltvTrigger, join(path, 'ltvTrigger'));
  if (!ltvTrigger.gt(ZERO)) invalidReferenceData(join(path, 'ltvTrigger'), 'must be > 0');
  return {
    thresholds,
    thresholdInclusive: boolean(o.thresholdInclusive, join(path, 'thresholdInclusive')),
    ltvTrigger: o.ltvTrigger as string,
    proportion: oneOf(o.proportion, join(path, 'proportion'), ['INDEX', 'AUTO_EXCHANGE'] as const),
  };
}

function parseFees(
  value: unknown,
  path: string,
  assets: Record<string, AssetReference>,
): ReferenceData['fees'] {
  const o = closedObject(value, path, ['schedule', 'bnbFeeBurn', 'maxRate'], ['maxRate']);
  const schedule = vipRows(o.schedule, join(path, 'schedule'), assets, (cell, p): FeeRates => {
    const r = closedObject(cell, p, ['maker', 'taker']);
    const rate = (key: 'maker' | 'taker'): string => {
      const v = decimal(r[key], join(p, key));
      if (v.lte(ONE.neg()) || v.gte(ONE)) invalidReferenceData(join(p, key), 'must be in (-1, 1)');
      return r[key] as string;
    };
    return { maker: rate('maker'), taker: rate('taker') };
  }) as FeeScheduleRow[];
  const bnbFeeBurn = boolean(o.bnbFeeBurn, join(path, 'bnbFeeBurn'));
  // RULES §5: fees in BNB at a discount are not specified yet, so the only accepted value is the default.
  if (bnbFeeBurn)
    invalidReferenceData(join(path, 'bnbFeeBurn'), 'not yet specified: only false is accepted');
  if (o.maxRate === undefined) return { schedule, bnbFeeBurn };
  const p = join(path, 'maxRate');
  const maxRate = decimal(o.maxRate, p);
  if (maxRate.lt(ZERO) || maxRate.gte(ONE)) invalidReferenceData(p, 'must be in [0, 1)');
  // An explicit fee equal to the schedule's own fee must always be accepted (RULES §2.6).
  const largest = largestScheduleRate(schedule);
  if (maxRate.lt(largest))
    invalidReferenceData(p, `must be ≥ the schedule's largest rate (${largest.toFixed()})`);
  return { schedule, bnbFeeBurn, maxRate: o.maxRate as string };
}

function largestScheduleRate(schedule: FeeScheduleRow[]): Dec {
  let largest = ZERO;
  for (const row of schedule) {
    for (const [key, cell] of Object.entries(row)) {
      if (key === 'minVipLevel' || typeof cell === 'number') continue;
      for (const rate of [dec(cell.maker), dec(cell.taker)]) if (rate.gt(largest)) largest = rate;
    }
  }
  return largest;
}

function parseLiquidation(value: unknown, path: string): ReferenceData['liquidation'] {
  const o = closedObject(value, path, ['closePrice']);
  return {
    closePrice: oneOf(o.closePrice, join(path, 'closePrice'), ['MARK', 'BANKRUPTCY'] as const),
  };
}

function parseFunding(value: unknown, path: string): ReferenceData['funding'] {
  const o = closedObject(value, path, ['intervalHours', 'maxAbsRate'], ['maxAbsRate']);
  const intervalHours = integer(o.intervalHours, join(path, 'intervalHours'), 1);
  if (o.maxAbsRate === undefined) return { intervalHours };
  const p = join(path, 'maxAbsRate');
  const maxAbsRate = decimal(o.maxAbsRate, p);
  if (!maxAbsRate.gt(ZERO) || !maxAbsRate.lt(ONE)) invalidReferenceData(p, 'must be in (0, 1)');
  return { intervalHours, maxAbsRate: o.maxAbsRate as string };
}

function parseFlags(value: unknown, path: string): ReferenceData['flags'] {
  const o = closedObject(value, path, [
    'isolatedSettingBlocks',
    'refuseSwitchWithPositions',
    'negativeBalanceInterestRate',
  ]);
  const isolatedSettingBlocks = boolean(
    o.isolatedSettingBlocks,
    join(path, 'isolatedSettingBlocks'),
  );
  const refuseSwitchWithPositions = boolean(
    o.refuseSwitchWithPositions,
    join(path, 'refuseSwitchWithPositions'),
  );
  const ratePath = join(path, 'negativeBalanceInterestRate');
  decimal(o.negativeBalanceInterestRate, ratePath);
  // RULES §5: Binance documents no interest on negative balances; a rate would need rules we have not written.
  if (o.negativeBalanceInterestRate !== '0')
    invalidReferenceData(ratePath, 'not yet specified: only "0" is accepted');
  return { isolatedSettingBlocks, refuseSwitchWithPositions, negativeBalanceInterestRate: '0' };
}

/**
 * Rows by VIP level (auto-exchange thresholds, fee schedule): the first row at minVipLevel 0, then strictly
 * increasing, so "the row with the largest minVipLevel ≤ the account's level" always exists and is unique. Every
 * other key of a row names an asset of `assets`.
 */
function vipRows<T>(
  value: unknown,
  path: string,
  assets: Record<string, AssetReference>,
  cell: (cellValue: unknown, cellPath: string) => T,
): Array<Record<string, T | number>> {
  const items = array(value, path);
  if (items.length === 0) invalidReferenceData(path, 'expected at least one row (minVipLevel 0)');
  let previousLevel = -1;
  return items.map((item, i) => {
    const p = `${path}[${i}]`;
    const row = record(item, p);
    if (!hasOwn(row, 'minVipLevel'))
      invalidReferenceData(join(p, 'minVipLevel'), 'required key missing');
    const level = integer(row.minVipLevel, join(p, 'minVipLevel'), 0);
    if (i === 0 && level !== 0)
      invalidReferenceData(join(p, 'minVipLevel'), 'expected 0 (the first row covers VIP 0)');
    if (i > 0 && level <= previousLevel) {
      invalidReferenceData(
        join(p, 'minVipLevel'),
        `must be > ${previousLevel} (rows sorted by minVipLevel)`,
      );
    }
    previousLevel = level;
    const out: Record<string, T | number> = { minVipLevel: level };
    for (const key of Object.keys(row)) {
      if (key === 'minVipLevel') continue;
      const cp = join(p, key);
      if (!CODE_PATTERN.test(key) || !hasOwn(assets, key))
        invalidReferenceData(cp, 'unknown asset (not in assets)');
      out[key] = cell(row[key], cp);
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Primitives

type Json = Record<string, unknown>;

export function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

export function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** An object whose keys are exactly `keys` (those in `optional` may be absent). Unknown keys are reported first. */
function closedObject<K extends string>(
  value: unknown,
  path: string,
  keys: readonly K[],
  optional: readonly K[] = [],
): Record<K, unknown> {
  const o = record(value, path);
  for (const key of Object.keys(o)) {
    if (!(keys as readonly string[]).includes(key))
      invalidReferenceData(join(path, key), 'unknown key');
  }
  for (const key of keys) {
    if (!hasOwn(o, key) && !optional.includes(key))
      invalidReferenceData(join(path, key), 'required key missing');
  }
  return o as Record<K, unknown>;
}

function record(value: unknown, path: string): Json {
  if (!isPlainObject(value)) invalidReferenceData(path, 'expected an object');
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) invalidReferenceData(path, 'expected an array');
  return value;
}

function decimal(value: unknown, path: string): Dec {
  if (typeof value !== 'string' || !REFERENCE_DECIMAL_PATTERN.test(value)) {
    invalidReferenceData(path, 'expected a decimal string');
  }
  return dec(value);
}

function integer(value: unknown, path: string, min?: number, max?: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    invalidReferenceData(path, 'expected an integer');
  if (min !== undefined && value < min) invalidReferenceData(path, `must be ≥ ${min}`);
  if (max !== undefined && value > max) invalidReferenceData(path, `must be ≤ ${max}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') invalidReferenceData(path, 'expected a boolean');
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    invalidReferenceData(path, `expected one of ${options.join(', ')}`);
  }
  return value as T;
}

function assetCode(value: unknown, path: string): string {
  if (typeof value !== 'string' || !CODE_PATTERN.test(value)) {
    invalidReferenceData(path, 'expected an asset code (A-Z, 0-9)');
  }
  return value;
}

function versionString(value: unknown, path: string): string {
  if (typeof value !== 'string' || !VERSION_PATTERN.test(value)) {
    invalidReferenceData(
      path,
      'expected a non-empty string without whitespace (at most 128 characters)',
    );
  }
  return value;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
