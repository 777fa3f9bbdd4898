import type { Dec } from '../money/decimal';
import { ZERO } from '../money/decimal';
import type { AccountState } from '../account/account.state';
import { positionKey } from '../account/account.state';
import type { ReferenceData } from '../reference-data/reference-data.types';
import type { Tier } from './brackets';
import { tierIndexFor, tiersOf } from './brackets';
import type { AccountFigures, AssetFigures } from './margin-state';
import type { PositionFigures } from './position-math';

/** Bound on tier re-checks per liquidation price (RULES §2.4 "retry with the adjacent tier"). */
export const LIQUIDATION_PRICE_MAX_TIER_STEPS = 32;

interface Side {
  key: string;
  /** Signed quantity. */
  quantity: Dec;
  entryPrice: Dec;
  tierIndex: number;
  tiers: readonly Tier[];
}

/**
 * Liquidation prices of every position (RULES §2.4). SINGLE: the reconstructed S9 formula per symbol (both hedge
 * sides together), cross with the pool's other positions held fixed (TMM1, UPNL1), isolated with its own wallet
 * (TMM1 = UPNL1 = 0); the tier is re-checked at the price found and the adjacent tier tried until it holds.
 * MULTI: Binance publishes no formula; the ledger's estimate holds every other price and collateral fixed.
 * A price ≤ 0 is reported as 0 (the position cannot be liquidated by its own price).
 */
export function liquidationPrices(
  state: AccountState,
  ref: ReferenceData,
  figures: PositionFigures[],
  margin: { account: AccountFigures; assets: Map<string, AssetFigures> },
): Map<string, Dec> {
  const result = new Map<string, Dec>();
  if (state.assetMode === 'MULTI') {
    for (const f of figures) result.set(keyOf(f), multiAssetsEstimate(f, margin));
    return result;
  }
  // Group cross positions by symbol (hedge sides solve together); isolated positions stand alone.
  const crossBySymbol = new Map<string, PositionFigures[]>();
  for (const f of figures) {
    if (f.position.marginType === 'ISOLATED') {
      result.set(
        keyOf(f),
        solve(ref, f.position.symbol, [f], f.position.isolatedWallet, ZERO, ZERO),
      );
    } else {
      const list = crossBySymbol.get(f.position.symbol) ?? [];
      list.push(f);
      crossBySymbol.set(f.position.symbol, list);
    }
  }
  for (const [symbol, group] of crossBySymbol) {
    const asset = group[0]?.marginAsset ?? '';
    const pool = margin.assets.get(asset);
    let tmm1 = pool?.crossMaintMargin ?? ZERO;
    let upnl1 = pool?.crossUnrealizedProfit ?? ZERO;
    for (const f of group) {
      tmm1 = tmm1.minus(f.maintMargin);
      upnl1 = upnl1.minus(f.unrealizedProfit);
    }
    const lp = solve(ref, symbol, group, pool?.crossWalletBalance ?? ZERO, tmm1, upnl1);
    for (const f of group) result.set(keyOf(f), lp);
  }
  return result;
}

function keyOf(f: PositionFigures): string {
  return positionKey(f.position.symbol, f.position.positionSide);
}

/**
 * LP = (WB − TMM1 + UPNL1 + Σ cum_i − Σ q_i·EP_i) / (Σ |q_i|·MMR_i − Σ q_i), q signed: the S9 formula with
 * Side1BOTH × Position1BOTH = q, LONG = +|q|, SHORT = −|q|.
 */
function solve(
  ref: ReferenceData,
  symbol: string,
  group: PositionFigures[],
  wallet: Dec,
  tmm1: Dec,
  upnl1: Dec,
): Dec {
  const tiers = tiersOf(ref, symbol);
  const sides: Side[] = group.map((f) => ({
    key: keyOf(f),
    quantity: f.position.quantity,
    entryPrice: f.position.entryPrice,
    tierIndex: tierIndexFor(ref, symbol, f.notional),
    tiers,
  }));
  let lp = ZERO;
  for (let step = 0; step < LIQUIDATION_PRICE_MAX_TIER_STEPS; step++) {
    let numerator = wallet.minus(tmm1).plus(upnl1);
    let denominator = ZERO;
    for (const side of sides) {
      const tier = side.tiers[side.tierIndex];
      if (!tier) throw new Error(`tier ${side.tierIndex} of ${symbol}`);
      numerator = numerator.plus(tier.cum).minus(side.quantity.times(side.entryPrice));
      denominator = denominator
        .plus(side.quantity.abs().times(tier.maintMarginRatio))
        .minus(side.quantity);
    }
    if (denominator.isZero()) return ZERO;
    lp = numerator.div(denominator);
    if (lp.lte(0)) return ZERO;
    let moved = false;
    for (const side of sides) {
      const at = tierIndexFor(ref, symbol, side.quantity.abs().times(lp));
      if (at !== side.tierIndex) {
        side.tierIndex += at > side.tierIndex ? 1 : -1;
        moved = true;
      }
    }
    if (!moved) return lp;
  }
  // RULES §2.4 [A] "retry with the adjacent tier": with both hedge sides in one formula the retry can cycle between
  // tier pairs (seen with large offsetting LONG/SHORT sides, whose MM grows faster than their net PnL), and the last
  // formula's price is then no root at all. Try every tier combination instead; a price that falls in its own tiers
  // solves margin balance = MM. None: the pool is at or below MM at every price, so there is no liquidation price (0).
  return solveByEveryTier(sides, wallet.minus(tmm1).plus(upnl1), ref, symbol, group[0]?.mark ?? lp);
}

/** Every tier combination (≤ 2 sides × a dozen tiers); of several roots, the one nearest the mark. */
function solveByEveryTier(
  sides: Side[],
  base: Dec,
  ref: ReferenceData,
  symbol: string,
  near: Dec,
): Dec {
  let best = ZERO;
  const combos = sides.reduce<number[][]>(
    (acc, side) => acc.flatMap((c) => side.tiers.map((_, i) => [...c, i])),
    [[]],
  );
  for (const combo of combos) {
    let numerator = base;
    let denominator = ZERO;
    sides.forEach((side, k) => {
      const tier = side.tiers[combo[k] ?? 0];
      if (!tier) return;
      numerator = numerator.plus(tier.cum).minus(side.quantity.times(side.entryPrice));
      denominator = denominator
        .plus(side.quantity.abs().times(tier.maintMarginRatio))
        .minus(side.quantity);
    });
    if (denominator.isZero()) continue;
    const lp = numerator.div(denominator);
    if (lp.lte(0)) continue;
    const consistent = sides.every(
      (side, k) => tierIndexFor(ref, symbol, side.quantity.abs().times(lp)) === combo[k],
    );
    if (consistent && (best.isZero() || lp.minus(near).abs().lt(best.minus(near).abs()))) best = lp;
  }
  return best;
}

/**
 * MULTI estimate [A]: the mark of this symbol at which account MM (USD) = account equity (USD), every other price
 * fixed, the position's asset valued at its current side's rate.
 */
function multiAssetsEstimate(
  f: PositionFigures,
  margin: { account: AccountFigures; assets: Map<string, AssetFigures> },
): Dec {
  const asset = margin.assets.get(f.marginAsset);
  if (!asset) return ZERO;
  const r = asset.marginBalance.isNegative() ? asset.rates.askRate : asset.rates.bidRate;
  const ask = asset.rates.askRate;
  const q = f.position.quantity;
  const mmOthers = margin.account.totalMaintMargin.minus(f.maintMargin.times(ask));
  const numerator = mmOthers
    .minus(ask.times(f.maintAmount))
    .minus(margin.account.totalMarginBalance)
    .plus(r.times(q).times(f.mark));
  const denominator = r.times(q).minus(ask.times(q.abs()).times(f.maintMarginRatio));
  if (denominator.isZero()) return ZERO;
  const lp = numerator.div(denominator);
  return lp.lte(0) ? ZERO : lp;
}
