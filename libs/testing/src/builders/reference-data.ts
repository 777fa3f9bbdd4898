/**
 * Reference-data builders for tests: the shipped set (config/reference-data/binance-2024.json, read from disk since
 * the domain does no I/O), a set with dotted-key overrides (reference-data.md "Versions"), and one-tier test
 * brackets for the RULES §9 vectors that state their own MMR (TV-02's ETHUSDC, TV-17's ADAUSDT).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { ReferenceData, SymbolReference } from '@ledger/margin-domain';
import { applyOverrides, parseReferenceData } from '@ledger/margin-domain';

/** Path of a shipped reference-data set. */
export function shippedReferenceDataPath(name = 'binance-2024'): string {
  return resolve(__dirname, '../../../../config/reference-data', `${name}.json`);
}

const cache = new Map<string, ReferenceData>();

/** The shipped set `name` (default binance-2024), parsed and validated; cached per name (sets are frozen). */
export function shippedReferenceData(name = 'binance-2024'): ReferenceData {
  let ref = cache.get(name);
  if (!ref) {
    ref = parseReferenceData(
      JSON.parse(readFileSync(shippedReferenceDataPath(name), 'utf8')) as unknown,
    );
    cache.set(name, ref);
  }
  return ref;
}

/** A new version of `base` (default: the shipped set) with dotted-key overrides, validated as a whole. */
export function withOverrides(
  overrides: Record<string, unknown>,
  base: ReferenceData = shippedReferenceData(),
  version?: string,
): ReferenceData {
  return applyOverrides(base, overrides, version);
}

export interface OneTierOptions {
  baseAsset: string;
  marginAsset: string;
  maintMarginRatio: string;
  /** Default 125. */
  initialLeverage?: number;
  /** Default 1e15: wide enough that no test notional leaves the tier. */
  notionalCap?: string;
  liquidationFeeRate?: string;
}

/** A symbol with a single bracket [0, cap], cum 0: a TV that states its own MMR (RULES §9 preamble). */
export function oneTierSymbol(options: OneTierOptions): SymbolReference {
  return {
    baseAsset: options.baseAsset,
    marginAsset: options.marginAsset,
    quantityPrecision: 3,
    pricePrecision: 2,
    liquidationFeeRate: options.liquidationFeeRate ?? '0',
    brackets: [
      {
        bracket: 1,
        initialLeverage: options.initialLeverage ?? 125,
        notionalFloor: '0',
        notionalCap: options.notionalCap ?? '1000000000000000',
        maintMarginRatio: options.maintMarginRatio,
        cum: '0',
      },
    ],
  };
}
