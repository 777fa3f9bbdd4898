/** Stream ids (ARCHITECTURE "Streams and events"). */
export const ACCOUNT_STREAM_PREFIX = 'account-';
export const MARKET_STREAM_PREFIX = 'market-';
export const ASSET_INDEX_STREAM = 'asset-index';
export const REFERENCE_DATA_STREAM = 'reference-data';
/** Records of funding settlements (`FundingSettlementRecorded`): who a settlement pays. Moves no price. */
export const FUNDING_SETTLEMENT_STREAM_PREFIX = 'funding-';

export const accountStream = (accountId: string): string => `${ACCOUNT_STREAM_PREFIX}${accountId}`;
export const marketStream = (symbol: string): string => `${MARKET_STREAM_PREFIX}${symbol}`;
export const fundingSettlementStream = (symbol: string): string =>
  `${FUNDING_SETTLEMENT_STREAM_PREFIX}${symbol}`;

export function accountIdOf(streamId: string): string | undefined {
  return streamId.startsWith(ACCOUNT_STREAM_PREFIX)
    ? streamId.slice(ACCOUNT_STREAM_PREFIX.length)
    : undefined;
}

/** Streams whose events move prices or rules: what an as-of read folds beside the account. */
export const MARKET_STREAM_PREFIXES = [
  MARKET_STREAM_PREFIX,
  ASSET_INDEX_STREAM,
  REFERENCE_DATA_STREAM,
];

export const isMarketStream = (streamId: string): boolean =>
  MARKET_STREAM_PREFIXES.some((prefix) => streamId.startsWith(prefix));
