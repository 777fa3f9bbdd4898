/**
 * The reference-data schema of shared/spec/reference-data.md, as TypeScript. Amounts, rates and prices are decimal
 * strings; levels and leverages are integers; flags are booleans. Closed schema: unknown keys are errors.
 */

export interface AssetIndexValues {
  index: string;
  bidBuffer: string;
  askBuffer: string;
  autoExchangeBidBuffer: string;
  autoExchangeAskBuffer: string;
}

export interface AssetReference {
  /** Counts as collateral in Multi-Assets Mode (RULES §1, §2.5). */
  marginAvailable: boolean;
  /** Decimals of stored amounts; auto-exchange rounds the quantity sold UP to it (RULES §3.2). */
  precision: number;
  /** Index and buffers until the asset's first UpdateAssetIndex (RULES §9). */
  defaultIndex?: AssetIndexValues;
}

export interface Bracket {
  bracket: number;
  initialLeverage: number;
  notionalFloor: string;
  notionalCap: string;
  maintMarginRatio: string;
  cum: string;
}

export interface SymbolReference {
  baseAsset: string;
  marginAsset: string;
  quantityPrecision: number;
  pricePrecision: number;
  liquidationFeeRate: string;
  brackets: Bracket[];
  /**
   * Optional (default "0.5"): a Fill whose price is further than this fraction from the symbol's mark is refused
   * (no check before the symbol's first mark). A decimal string > 0.
   */
  fillPriceBandRatio?: string;
  /**
   * Optional (default 0): basis points by which a paper MARKET order's fill moves away from the mark (the
   * Binance-compatible facade). An integer in [0, 9999], at most fillPriceBandRatio × 10000.
   */
  slippageBps?: number;
}

/** One row per VIP level band; keys other than `minVipLevel` are asset → threshold (decimal string). */
export interface AutoExchangeThresholdRow {
  minVipLevel: number;
  [asset: string]: string | number;
}

export interface FeeRates {
  maker: string;
  taker: string;
}

/** One row per VIP level band; keys other than `minVipLevel` are margin asset → rates. */
export interface FeeScheduleRow {
  minVipLevel: number;
  [marginAsset: string]: FeeRates | number;
}

export interface ReferenceData {
  version: string;
  assets: Record<string, AssetReference>;
  symbols: Record<string, SymbolReference>;
  autoExchange: {
    thresholds: AutoExchangeThresholdRow[];
    thresholdInclusive: boolean;
    ltvTrigger: string;
    proportion: 'INDEX' | 'AUTO_EXCHANGE';
  };
  fees: {
    schedule: FeeScheduleRow[];
    bnbFeeBurn: boolean;
    /**
     * Optional (default "0.01"): an explicit Fill `fee` may not exceed this fraction of the notional; its lower
     * bound is the schedule's most negative rate of the margin asset × notional (RULES §2.6). In [0, 1), and at
     * least the schedule's largest rate.
     */
    maxRate?: string;
  };
  liquidation: { closePrice: 'MARK' | 'BANKRUPTCY' };
  funding: {
    intervalHours: number;
    /** Optional (default "0.03"): a funding rate beyond ± this is refused (RULES §5). In (0, 1). */
    maxAbsRate?: string;
  };
  defaultLeverage: number;
  flags: {
    isolatedSettingBlocks: boolean;
    refuseSwitchWithPositions: boolean;
    negativeBalanceInterestRate: string;
  };
}

/**
 * A scenario's `referenceData` (scenario-format.md "Rules"): the name of a shipped set, an inline set, or a shipped
 * set with overrides (dotted keys, reference-data.md "Versions"). `version` in the third form is our extension: it
 * names the derived set (default `<base>+1`).
 */
export type ReferenceDataSpec =
  string | ReferenceData | { base: string; overrides: Record<string, unknown>; version?: string };

/**
 * Looks up a shipped set by name (the file `config/reference-data/<name>.json`, read by the caller, since the domain
 * does no I/O) and returns its raw JSON, or `undefined` when there is none.
 */
export type ShippedReferenceDataResolver = (name: string) => unknown;
