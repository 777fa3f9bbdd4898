import type { AssetIndexValues } from '../reference-data/reference-data.types';

/** Market streams: `market-{symbol}` and `asset-index` (ARCHITECTURE "Streams and events"). v1 each. */
export type MarkPriceUpdated = {
  type: 'MarkPriceUpdated';
  data: { symbol: string; markPrice: string; indexPrice: string };
};
export type FundingRateSet = { type: 'FundingRateSet'; data: { symbol: string; rate: string } };
export type AssetIndexUpdated = {
  type: 'AssetIndexUpdated';
  data: { asset: string } & AssetIndexValues;
};
export type MarketEvent = MarkPriceUpdated | FundingRateSet | AssetIndexUpdated;
export const MARKET_EVENT_TYPES: readonly MarketEvent['type'][] = [
  'MarkPriceUpdated',
  'FundingRateSet',
  'AssetIndexUpdated',
];
