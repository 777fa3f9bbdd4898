/** Reference data (shared/spec/reference-data.md): the schema, its validation, versions, and hot-path lookups. */
export type {
  AssetIndexValues,
  AssetReference,
  AutoExchangeThresholdRow,
  Bracket,
  FeeRates,
  FeeScheduleRow,
  ReferenceData,
  ReferenceDataSpec,
  ShippedReferenceDataResolver,
  SymbolReference,
} from './reference-data.types';
export {
  INVALID_REFERENCE_DATA,
  REFERENCE_DECIMAL_PATTERN,
  isValidatedReferenceData,
  parseReferenceData,
} from './reference-data.parse';
export {
  UNKNOWN_REFERENCE_DATA,
  applyOverrides,
  loadReferenceDataSpec,
  loadShippedReferenceData,
} from './reference-data.overrides';
export type { AssetIndexDefaults, BracketTier } from './reference-data.book';
export {
  DEFAULT_FEE_MAX_RATE,
  DEFAULT_FILL_PRICE_BAND_RATIO,
  DEFAULT_FUNDING_MAX_ABS_RATE,
  DEFAULT_SLIPPAGE_BPS,
  ReferenceBook,
  assetRef,
  autoExchangeThreshold,
  bracketFor,
  defaultAssetIndex,
  feeRate,
  maintenanceMargin,
  maxLeverageFor,
  referenceBook,
  symbolRef,
} from './reference-data.book';
