import type { Dec } from '../money/decimal';
import type { BracketTier } from '../reference-data';
import { referenceBook } from '../reference-data';
import type { ReferenceData } from '../reference-data/reference-data.types';

/** Leverage tiers come from the reference book (parsed once per set); these name what the margin math needs. */
export type Tier = BracketTier;

export function tiersOf(ref: ReferenceData, symbol: string): readonly Tier[] {
  return referenceBook(ref).tiers(symbol);
}

/** The tier whose bracket holds the notional: floor < N ≤ cap, tier 1 includes 0 (RULES §7). */
export function tierFor(ref: ReferenceData, symbol: string, notional: Dec): Tier {
  return referenceBook(ref).bracketFor(symbol, notional);
}

export function tierIndexFor(ref: ReferenceData, symbol: string, notional: Dec): number {
  return tiersOf(ref, symbol).indexOf(tierFor(ref, symbol, notional));
}
