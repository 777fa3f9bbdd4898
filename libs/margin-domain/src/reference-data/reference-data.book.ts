/**
 * Lookups into a reference-data set, on the margin hot paths (every fill, every margin check). A `ReferenceBook`
 * parses a set's decimal strings once and is cached per set object in a WeakMap, so a lookup costs a map access and
 * a scan of at most a dozen tiers, never a string parse. Sets are immutable (`parseReferenceData` freezes them),
 * which is what makes the cache safe.
 */
import { type Dec, dec, ZERO } from '../money/decimal';
import { assert, LedgerDomainError } from '../shared/errors';
import {
  DEFAULT_FEE_MAX_RATE,
  DEFAULT_FILL_PRICE_BAND_RATIO,
  DEFAULT_FUNDING_MAX_ABS_RATE,
  DEFAULT_SLIPPAGE_BPS,
  isValidatedReferenceData,
  parseReferenceData,
} from './reference-data.parse';

export {
  DEFAULT_FEE_MAX_RATE,
  DEFAULT_FILL_PRICE_BAND_RATIO,
  DEFAULT_FUNDING_MAX_ABS_RATE,
  DEFAULT_SLIPPAGE_BPS,
};
import type {
  AssetReference,
  FeeRates,
  ReferenceData,
  SymbolReference,
} from './reference-data.types';

/** A bracket with its amounts parsed (RULES §7): it applies to `notionalFloor < N ≤ notionalCap`. */
export interface BracketTier {
  readonly bracket: number;
  /** The tier's maximum leverage. */
  readonly initialLeverage: number;
  readonly notionalFloor: Dec;
  readonly notionalCap: Dec;
  readonly maintMarginRatio: Dec;
  readonly cum: Dec;
}

/** An asset's default index and buffers (RULES §9), in force until its first `UpdateAssetIndex`. */
export interface AssetIndexDefaults {
  readonly index: Dec;
  readonly bidBuffer: Dec;
  readonly askBuffer: Dec;
  readonly autoExchangeBidBuffer: Dec;
  readonly autoExchangeAskBuffer: Dec;
}

interface SymbolEntry {
  readonly ref: SymbolReference;
  readonly tiers: readonly BracketTier[];
  readonly liquidationFeeRate: Dec;
  readonly fillPriceBandRatio: Dec;
}

interface VipRow<T> {
  readonly minVipLevel: number;
  readonly cells: ReadonlyMap<string, T>;
}

interface ParsedFeeRates {
  readonly maker: Dec;
  readonly taker: Dec;
}

export class ReferenceBook {
  readonly version: string;
  /** LTV at or above which auto-exchange fires with no positions or open orders (RULES §3.1). */
  readonly ltvTrigger: Dec;
  /** `fees.maxRate` or its default: the upper bound of an explicit fill fee, as a fraction of the notional. */
  readonly feeMaxRate: Dec;
  /** `funding.maxAbsRate` or its default: a funding rate beyond ± this is refused (RULES §5). */
  readonly fundingMaxAbsRate: Dec;
  private readonly symbols = new Map<string, SymbolEntry>();
  private readonly assets = new Map<string, AssetReference>();
  private readonly indexDefaults = new Map<string, AssetIndexDefaults>();
  private readonly thresholdRows: readonly VipRow<Dec>[];
  private readonly feeRows: readonly VipRow<ParsedFeeRates>[];

  /** Use `referenceBook(data)`, which caches; `data` must come from `parseReferenceData`. */
  constructor(readonly data: ReferenceData) {
    assert(
      isValidatedReferenceData(data),
      'ReferenceBook needs a set returned by parseReferenceData',
    );
    this.version = data.version;
    this.ltvTrigger = dec(data.autoExchange.ltvTrigger);
    this.feeMaxRate = dec(data.fees.maxRate ?? DEFAULT_FEE_MAX_RATE);
    this.fundingMaxAbsRate = dec(data.funding.maxAbsRate ?? DEFAULT_FUNDING_MAX_ABS_RATE);
    for (const [code, asset] of Object.entries(data.assets)) {
      this.assets.set(code, asset);
      const d = asset.defaultIndex;
      if (d) {
        this.indexDefaults.set(
          code,
          Object.freeze({
            index: dec(d.index),
            bidBuffer: dec(d.bidBuffer),
            askBuffer: dec(d.askBuffer),
            autoExchangeBidBuffer: dec(d.autoExchangeBidBuffer),
            autoExchangeAskBuffer: dec(d.autoExchangeAskBuffer),
          }),
        );
      }
    }
    for (const [code, symbol] of Object.entries(data.symbols)) {
      const tiers = symbol.brackets.map((b) =>
        Object.freeze({
          bracket: b.bracket,
          initialLeverage: b.initialLeverage,
          notionalFloor: dec(b.notionalFloor),
          notionalCap: dec(b.notionalCap),
          maintMarginRatio: dec(b.maintMarginRatio),
          cum: dec(b.cum),
        }),
      );
      this.symbols.set(code, {
        ref: symbol,
        tiers: Object.freeze(tiers),
        liquidationFeeRate: dec(symbol.liquidationFeeRate),
        fillPriceBandRatio: dec(symbol.fillPriceBandRatio ?? DEFAULT_FILL_PRICE_BAND_RATIO),
      });
    }
    this.thresholdRows = vipRows(data.autoExchange.thresholds, (cell) => dec(cell as string));
    this.feeRows = vipRows(data.fees.schedule, (cell) => {
      const rates = cell as FeeRates;
      return Object.freeze({ maker: dec(rates.maker), taker: dec(rates.taker) });
    });
  }

  /** The symbol's reference; `UNKNOWN_SYMBOL` (−1121 "Invalid symbol.") when the set has none. */
  symbol(symbol: string): SymbolReference {
    return this.symbolEntry(symbol).ref;
  }

  /** The asset's reference; `UNKNOWN_ASSET` when the set has none. */
  asset(asset: string): AssetReference {
    const found = this.assets.get(asset);
    if (!found) {
      throw new LedgerDomainError('UNKNOWN_ASSET', `Unknown asset "${asset}".`, { field: 'asset' });
    }
    return found;
  }

  hasSymbol(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  hasAsset(asset: string): boolean {
    return this.assets.has(asset);
  }

  /** All tiers of a symbol, in order. */
  tiers(symbol: string): readonly BracketTier[] {
    return this.symbolEntry(symbol).tiers;
  }

  /**
   * The tier with `notionalFloor < N ≤ notionalCap`; tier 1 includes 0; above the last cap, the last tier
   * (RULES §7, the boundary [A]). `notional` is |N| = |qty| × mark (RULES §2.1), never signed.
   */
  bracketFor(symbol: string, notional: Dec): BracketTier {
    assert(notional.gte(ZERO), `bracketFor needs |notional| ≥ 0, got ${notional.toString()}`);
    const tiers = this.symbolEntry(symbol).tiers;
    for (const tier of tiers) {
      if (notional.lte(tier.notionalCap)) return tier;
    }
    // Validation guarantees at least one tier.
    return tiers[tiers.length - 1] as BracketTier;
  }

  /** The maximum leverage at notional `N` (RULES §7). */
  maxLeverageFor(symbol: string, notional: Dec): number {
    return this.bracketFor(symbol, notional).initialLeverage;
  }

  /** MM = N × MMR − cum of N's tier (RULES §2.1), unrounded: callers round where they store (RULES §8 (iv)). */
  maintenanceMargin(symbol: string, notional: Dec): Dec {
    const tier = this.bracketFor(symbol, notional);
    return notional.times(tier.maintMarginRatio).minus(tier.cum);
  }

  /** Fraction of the liquidated notional charged as the liquidation fee (RULES §10.12). */
  liquidationFeeRate(symbol: string): Dec {
    return this.symbolEntry(symbol).liquidationFeeRate;
  }

  /** `symbols.{S}.fillPriceBandRatio` or its default: how far from the mark a fill's price may be. */
  fillPriceBandRatio(symbol: string): Dec {
    return this.symbolEntry(symbol).fillPriceBandRatio;
  }

  /** `symbols.{S}.slippageBps` or its default (0); read by the Binance-compatible facade, not by the rules. */
  slippageBps(symbol: string): number {
    return this.symbolEntry(symbol).ref.slippageBps ?? DEFAULT_SLIPPAGE_BPS;
  }

  /**
   * The lower bound of an explicit fill fee, as a rate of the notional (RULES §2.6, reference-data.md
   * `fees.maxRate`): the most negative maker or taker rate of `marginAsset` over the whole schedule (every VIP
   * row), or 0 when none is negative. The whole schedule, not the account's row: a fill carrying a rebate earned
   * at another VIP level than the one recorded is still plausible, and any rebate beyond every row is not.
   */
  feeRateFloor(marginAsset: string): Dec {
    let floor = ZERO;
    for (const row of this.feeRows) {
      const rates = row.cells.get(marginAsset);
      if (!rates) continue;
      if (rates.maker.lt(floor)) floor = rates.maker;
      if (rates.taker.lt(floor)) floor = rates.taker;
    }
    return floor;
  }

  /**
   * The auto-exchange threshold of `asset` at `vipLevel` (RULES §3.1): from the row with the largest
   * minVipLevel ≤ vipLevel; `undefined` when that row has no entry for the asset (no threshold trigger).
   */
  autoExchangeThreshold(vipLevel: number, asset: string): Dec | undefined {
    return rowFor(this.thresholdRows, vipLevel).cells.get(asset);
  }

  /**
   * The fee rate for a fill in a `marginAsset` contract (RULES §2.6): from the row with the largest
   * minVipLevel ≤ vipLevel; if that row has no entry for the asset, the VIP 0 row's; if neither has one, 0.
   */
  feeRate(vipLevel: number, marginAsset: string, maker: boolean): Dec {
    const rates =
      rowFor(this.feeRows, vipLevel).cells.get(marginAsset) ??
      this.feeRows[0]?.cells.get(marginAsset);
    if (!rates) return ZERO;
    return maker ? rates.maker : rates.taker;
  }

  /**
   * The asset's default index and buffers (RULES §9), or `undefined` when it has none (an asset of the set without
   * `defaultIndex`, or an asset the set does not list): such an asset counts for nothing as collateral until indexed.
   */
  defaultAssetIndex(asset: string): AssetIndexDefaults | undefined {
    return this.indexDefaults.get(asset);
  }

  private symbolEntry(symbol: string): SymbolEntry {
    const found = this.symbols.get(symbol);
    if (!found) {
      throw new LedgerDomainError('UNKNOWN_SYMBOL', 'Invalid symbol.', {
        binanceCode: -1121,
        field: 'symbol',
      });
    }
    return found;
  }
}

function vipRows<T>(
  rows: ReadonlyArray<{ minVipLevel: number; [key: string]: unknown }>,
  cell: (value: unknown) => T,
): readonly VipRow<T>[] {
  return Object.freeze(
    rows.map((row) => {
      const cells = new Map<string, T>();
      for (const [key, value] of Object.entries(row)) {
        if (key !== 'minVipLevel') cells.set(key, cell(value));
      }
      return Object.freeze({ minVipLevel: row.minVipLevel, cells });
    }),
  );
}

/** Rows are sorted by minVipLevel and the first is at 0 (validated), so a row always applies. */
function rowFor<T>(rows: readonly VipRow<T>[], vipLevel: number): VipRow<T> {
  assert(
    Number.isSafeInteger(vipLevel) && vipLevel >= 0,
    `VIP level must be an integer ≥ 0, got ${vipLevel}`,
  );
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i] as VipRow<T>;
    if (row.minVipLevel <= vipLevel) return row;
  }
  assert(false, 'reference data has no VIP 0 row');
}

const BOOKS = new WeakMap<ReferenceData, ReferenceBook>();

/**
 * The cached book of a set. A set that did not come from `parseReferenceData` is validated first (and throws
 * `INVALID_REFERENCE_DATA` if it is not valid); it must not change afterwards.
 */
export function referenceBook(ref: ReferenceData): ReferenceBook {
  let book = BOOKS.get(ref);
  if (!book) {
    const parsed = parseReferenceData(ref);
    book = BOOKS.get(parsed) ?? new ReferenceBook(parsed);
    BOOKS.set(parsed, book);
    BOOKS.set(ref, book);
  }
  return book;
}

/** RULES §7, §2: the symbol's reference. Throws `UNKNOWN_SYMBOL` (−1121, field `symbol`). */
export function symbolRef(ref: ReferenceData, symbol: string): SymbolReference {
  return referenceBook(ref).symbol(symbol);
}

/** RULES §1, §9: the asset's reference. Throws `UNKNOWN_ASSET` (field `asset`). */
export function assetRef(ref: ReferenceData, asset: string): AssetReference {
  return referenceBook(ref).asset(asset);
}

/** RULES §7: the tier of |notional| (`floor < N ≤ cap`, tier 1 includes 0, the last tier beyond its cap). */
export function bracketFor(ref: ReferenceData, symbol: string, notional: Dec): BracketTier {
  return referenceBook(ref).bracketFor(symbol, notional);
}

/** RULES §7: the maximum leverage at |notional|. */
export function maxLeverageFor(ref: ReferenceData, symbol: string, notional: Dec): number {
  return referenceBook(ref).maxLeverageFor(symbol, notional);
}

/** RULES §2.1: MM = N × MMR − cum, unrounded. */
export function maintenanceMargin(ref: ReferenceData, symbol: string, notional: Dec): Dec {
  return referenceBook(ref).maintenanceMargin(symbol, notional);
}

/** RULES §3.1: the threshold of `asset` at `vipLevel`, or `undefined` (no threshold trigger for that asset). */
export function autoExchangeThreshold(
  ref: ReferenceData,
  vipLevel: number,
  asset: string,
): Dec | undefined {
  return referenceBook(ref).autoExchangeThreshold(vipLevel, asset);
}

/** RULES §2.6: the maker or taker rate for `marginAsset` contracts at `vipLevel` (VIP 0 row fallback, else 0). */
export function feeRate(
  ref: ReferenceData,
  vipLevel: number,
  marginAsset: string,
  maker: boolean,
): Dec {
  return referenceBook(ref).feeRate(vipLevel, marginAsset, maker);
}

/** RULES §9: the asset's default index and buffers, or `undefined` when it has none. */
export function defaultAssetIndex(
  ref: ReferenceData,
  asset: string,
): AssetIndexDefaults | undefined {
  return referenceBook(ref).defaultAssetIndex(asset);
}
