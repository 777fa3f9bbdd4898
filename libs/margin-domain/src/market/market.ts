import type { Dec } from '../money/decimal';
import { D, ONE, ZERO } from '../money/decimal';
import type { AssetIndexValues, ReferenceData } from '../reference-data/reference-data.types';
import { referenceBook } from '../reference-data';

/**
 * Prices the margin rules read (RULES §6, §9). A mark price is set only by UpdateMarkPrice; an asset's USD index
 * and its four buffers only by UpdateAssetIndex. Neither is ever derived from the other.
 */
export interface AssetIndex {
  index: Dec;
  bidBuffer: Dec;
  askBuffer: Dec;
  autoExchangeBidBuffer: Dec;
  autoExchangeAskBuffer: Dec;
}

export interface MarketView {
  readonly marks: ReadonlyMap<string, Dec>;
  readonly assetIndexes: ReadonlyMap<string, AssetIndex>;
  readonly fundingRates: ReadonlyMap<string, Dec>;
}

export const EMPTY_MARKET: MarketView = {
  marks: new Map(),
  assetIndexes: new Map(),
  fundingRates: new Map(),
};

export function parseAssetIndex(values: AssetIndexValues): AssetIndex {
  return {
    index: new D(values.index),
    bidBuffer: new D(values.bidBuffer),
    askBuffer: new D(values.askBuffer),
    autoExchangeBidBuffer: new D(values.autoExchangeBidBuffer),
    autoExchangeAskBuffer: new D(values.autoExchangeAskBuffer),
  };
}

/**
 * The asset index in force: the latest UpdateAssetIndex, else the reference data's default (RULES §9), else none
 * (the asset counts for nothing as collateral).
 */
export function assetIndexOf(
  market: MarketView,
  ref: ReferenceData,
  asset: string,
): AssetIndex | undefined {
  return (
    market.assetIndexes.get(asset) ??
    (ref.assets[asset] ? referenceBook(ref).defaultAssetIndex(asset) : undefined)
  );
}

/** Collateral valuation rates of one asset (RULES §1.2, [B-num]). Zero when the asset is not indexed. */
export interface AssetRates {
  index: Dec;
  bidRate: Dec;
  askRate: Dec;
  autoExchangeBidRate: Dec;
  autoExchangeAskRate: Dec;
}

const NO_RATES: AssetRates = {
  index: ZERO,
  bidRate: ZERO,
  askRate: ZERO,
  autoExchangeBidRate: ZERO,
  autoExchangeAskRate: ZERO,
};

export function ratesOf(market: MarketView, ref: ReferenceData, asset: string): AssetRates {
  const ix = assetIndexOf(market, ref, asset);
  if (!ix) return NO_RATES;
  return {
    index: ix.index,
    bidRate: ix.index.times(ONE.minus(ix.bidBuffer)),
    askRate: ix.index.times(ONE.plus(ix.askBuffer)),
    autoExchangeBidRate: ix.index.times(ONE.minus(ix.autoExchangeBidBuffer)),
    autoExchangeAskRate: ix.index.times(ONE.plus(ix.autoExchangeAskBuffer)),
  };
}

/** USD value of an asset amount: positive at the bid rate (haircut), negative at the ask rate (RULES §2.5). */
export function usdValue(amount: Dec, rates: AssetRates): Dec {
  return amount.isNegative() ? amount.times(rates.askRate) : amount.times(rates.bidRate);
}
