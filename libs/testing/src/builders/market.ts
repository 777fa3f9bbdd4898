/**
 * Market builders: a `MarketView` from plain strings. Marks arrive only as marks and asset indexes only as asset
 * indexes (RULES §9 "Asset index vs. mark price"): `marketWith` never derives one from the other.
 */
import type { AssetIndex, Dec, MarketView } from '@ledger/margin-domain';
import { D } from '@ledger/margin-domain';

export interface AssetIndexInput {
  index: string;
  bidBuffer?: string;
  askBuffer?: string;
  autoExchangeBidBuffer?: string;
  autoExchangeAskBuffer?: string;
}

/** An asset index; every buffer defaults to 0. */
export function anAssetIndex(input: AssetIndexInput | string): AssetIndex {
  const i = typeof input === 'string' ? { index: input } : input;
  return {
    index: new D(i.index),
    bidBuffer: new D(i.bidBuffer ?? '0'),
    askBuffer: new D(i.askBuffer ?? '0'),
    autoExchangeBidBuffer: new D(i.autoExchangeBidBuffer ?? '0'),
    autoExchangeAskBuffer: new D(i.autoExchangeAskBuffer ?? '0'),
  };
}

/** RULES §9 test-vector BTCUSD index: bid = ask buffer 0.05 (value ratio 95%), auto-exchange haircut 0.025 (S2). */
export function btcIndex(index: string): AssetIndexInput {
  return {
    index,
    bidBuffer: '0.05',
    askBuffer: '0.05',
    autoExchangeBidBuffer: '0.025',
    autoExchangeAskBuffer: '0',
  };
}

/** A stablecoin at 1 with every buffer 0 (the [A] "USDT buffers 0" of TV-05, TV-06, TV-12). */
export const FLAT_USD: AssetIndexInput = { index: '1' };

export interface MarketInput {
  marks?: Record<string, string>;
  assetIndexes?: Record<string, AssetIndexInput | string>;
  fundingRates?: Record<string, string>;
}

export interface MutableMarket extends MarketView {
  readonly marks: Map<string, Dec>;
  readonly assetIndexes: Map<string, AssetIndex>;
  readonly fundingRates: Map<string, Dec>;
}

/** A market view holding exactly what it is given. */
export function marketWith(input: MarketInput = {}): MutableMarket {
  return {
    marks: new Map(Object.entries(input.marks ?? {}).map(([s, v]) => [s, new D(v)])),
    assetIndexes: new Map(
      Object.entries(input.assetIndexes ?? {}).map(([a, v]) => [a, anAssetIndex(v)]),
    ),
    fundingRates: new Map(Object.entries(input.fundingRates ?? {}).map(([s, v]) => [s, new D(v)])),
  };
}

/** A copy of `market` with some marks or asset indexes replaced. */
export function withMarket(market: MarketView, changes: MarketInput): MutableMarket {
  const next = marketWith(changes);
  return {
    marks: new Map([...market.marks, ...next.marks]),
    assetIndexes: new Map([...market.assetIndexes, ...next.assetIndexes]),
    fundingRates: new Map([...market.fundingRates, ...next.fundingRates]),
  };
}
