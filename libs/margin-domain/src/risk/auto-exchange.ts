import type { Dec } from '../money/decimal';
import { ZERO, min, round8, roundUp, str, sum } from '../money/decimal';
import type { AccountState } from '../account/account.state';
import type {
  AutoExchangeExecuted,
  AutoExchangeLeg,
  AutoExchangeTrigger,
} from '../account/account.events';
import type { AssetRates, MarketView } from '../market/market';
import { ratesOf } from '../market/market';
import type { ReferenceData } from '../reference-data/reference-data.types';
import { autoExchangeThreshold } from '../reference-data';

/** Auto-exchange happens only in Multi-Assets Mode (RULES §3). */
export interface AutoExchangeDue {
  asset: string;
  trigger: AutoExchangeTrigger;
}

function marginAssetsWithBalances(state: AccountState, ref: ReferenceData): [string, Dec][] {
  return [...state.wallets.entries()]
    .filter(([asset]) => ref.assets[asset]?.marginAvailable ?? false)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * LTV (RULES §3.1, [3P] S17 formula adopted [A]): Σ negative wallets at their auto-exchange ask rate over Σ positive
 * wallets at their auto-exchange bid rate. Infinity (null) when there is debt and no collateral value.
 */
export function loanToValue(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
): Dec | null {
  let debt = ZERO;
  let collateral = ZERO;
  for (const [asset, wb] of marginAssetsWithBalances(state, ref)) {
    const rates = ratesOf(market, ref, asset);
    if (wb.isNegative()) debt = debt.plus(wb.abs().times(rates.autoExchangeAskRate));
    else collateral = collateral.plus(wb.times(rates.autoExchangeBidRate));
  }
  if (debt.isZero()) return ZERO;
  if (collateral.isZero()) return null;
  return debt.div(collateral);
}

/**
 * Which negative assets must be exchanged now (RULES §3.1): the per-asset threshold by VIP level (`≤` when
 * thresholdInclusive), or, with no positions and no open orders, LTV ≥ ltvTrigger. After a liquidation every
 * negative margin asset is exchanged (trigger LIQUIDATION).
 */
export function autoExchangesDue(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  afterLiquidation = false,
): AutoExchangeDue[] {
  if (state.assetMode !== 'MULTI') return [];
  const negatives = marginAssetsWithBalances(state, ref).filter(([, wb]) => wb.isNegative());
  if (negatives.length === 0) return [];
  if (afterLiquidation) return negatives.map(([asset]) => ({ asset, trigger: 'LIQUIDATION' }));
  const due: AutoExchangeDue[] = [];
  for (const [asset, wb] of negatives) {
    const threshold = autoExchangeThreshold(ref, state.vipLevel, asset);
    if (threshold === undefined) continue;
    const fires = ref.autoExchange.thresholdInclusive ? wb.lte(threshold) : wb.lt(threshold);
    if (fires) due.push({ asset, trigger: 'THRESHOLD' });
  }
  if (due.length > 0) return due;
  if (state.positions.size > 0 || state.orders.size > 0) return [];
  const ltv = loanToValue(state, market, ref);
  if (ltv === null || ltv.gte(ref.autoExchange.ltvTrigger)) {
    return negatives.map(([asset]) => ({ asset, trigger: 'LTV' }));
  }
  return [];
}

interface Candidate {
  asset: string;
  balance: Dec;
  rates: AssetRates;
  precision: number;
  weight: Dec;
}

/**
 * The exchange itself (RULES §3.2): the whole deficit, priced at the negative asset's auto-exchange ask rate, is
 * covered from every positive margin asset in proportion (INDEX: USD value at index; AUTO_EXCHANGE: at the
 * auto-exchange bid rate), each sold at its auto-exchange bid rate, the quantity rounded UP to the asset's
 * precision (the surplus is credited). A leg that runs out is capped and its share goes to the others. Returns
 * null when nothing can be sold.
 */
export function executeAutoExchange(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  negAsset: string,
  trigger: AutoExchangeTrigger,
): AutoExchangeExecuted | null {
  const wb = state.wallets.get(negAsset) ?? ZERO;
  if (!wb.isNegative()) return null;
  const negRates = ratesOf(market, ref, negAsset);
  if (negRates.autoExchangeAskRate.isZero()) return null;
  const deficit = wb.abs();
  const deficitUsd = deficit.times(negRates.autoExchangeAskRate);
  const candidates: Candidate[] = [];
  for (const [asset, balance] of marginAssetsWithBalances(state, ref)) {
    if (asset === negAsset || !balance.gt(0)) continue;
    const rates = ratesOf(market, ref, asset);
    if (rates.autoExchangeBidRate.lte(0)) continue;
    const weight =
      ref.autoExchange.proportion === 'INDEX'
        ? balance.times(rates.index)
        : balance.times(rates.autoExchangeBidRate);
    candidates.push({
      asset,
      balance,
      rates,
      precision: ref.assets[asset]?.precision ?? 8,
      weight,
    });
  }
  if (candidates.length === 0) return null;
  const quantities = allocate(candidates, deficitUsd);
  topUp(candidates, quantities, deficit, negRates);
  const legs = candidates
    .map((c) => leg(c, quantities.get(c.asset) ?? ZERO, negRates))
    .filter((l): l is AutoExchangeLeg => l !== null);
  if (legs.length === 0) return null;
  const credited = sum(legs.map((l) => ZERO.plus(l.credited)));
  const soldUsd = sum(legs.map((l) => ZERO.plus(l.usdValueAtIndex)));
  return {
    type: 'AutoExchangeExecuted',
    data: {
      trigger,
      negAsset,
      deficit: str(deficit),
      deficitUsd: str(deficitUsd),
      legs,
      haircutCostUsd: str(round8(soldUsd.minus(credited.times(negRates.index)))),
    },
  };
}

/** Water-filling: proportional shares of the USD deficit, capped by each asset's balance. */
function allocate(candidates: Candidate[], deficitUsd: Dec): Map<string, Dec> {
  const quantities = new Map<string, Dec>();
  let open = candidates;
  let remainingUsd = deficitUsd;
  while (open.length > 0 && remainingUsd.gt(0)) {
    const totalWeight = sum(open.map((c) => c.weight));
    const capped: Candidate[] = [];
    const next: Candidate[] = [];
    const shares = new Map<string, Dec>();
    for (const c of open) {
      const usd = remainingUsd.times(c.weight).div(totalWeight);
      const qty = roundUp(usd.div(c.rates.autoExchangeBidRate), c.precision);
      if (qty.gte(c.balance)) capped.push(c);
      else next.push(c);
      shares.set(c.asset, qty);
    }
    if (capped.length === 0) {
      for (const [asset, qty] of shares) quantities.set(asset, qty);
      break;
    }
    for (const c of capped) {
      quantities.set(c.asset, c.balance);
      remainingUsd = remainingUsd.minus(c.balance.times(c.rates.autoExchangeBidRate));
    }
    open = next;
  }
  return quantities;
}

/**
 * RULES §3.2 / §8 (ii): quantities are rounded UP so that the negative balance reaches ≥ 0, but each leg's credit is
 * rounded 8 dp HALF_UP, so with several legs (or a leg whose quantity unit is worth less than 1e-8 of the negative
 * asset, e.g. USDT sold for a negative BTC) the credits could sum to a few 1e-8 below the deficit and leave the
 * asset negative with collateral left. Sell the shortfall from the first leg with balance to spare, its quantity
 * again rounded UP (one pass suffices unless a leg runs out: the shortfall is on the 8 dp grid).
 */
function topUp(
  candidates: Candidate[],
  quantities: Map<string, Dec>,
  deficit: Dec,
  negRates: AssetRates,
): void {
  const creditOf = (c: Candidate): Dec =>
    round8(
      min(quantities.get(c.asset) ?? ZERO, c.balance)
        .times(c.rates.autoExchangeBidRate)
        .div(negRates.autoExchangeAskRate),
    );
  for (const c of candidates) {
    const shortfall = deficit.minus(sum(candidates.map(creditOf)));
    if (!shortfall.gt(0)) return;
    const qty = min(quantities.get(c.asset) ?? ZERO, c.balance);
    const spare = c.balance.minus(qty);
    if (!spare.gt(0)) continue;
    const extra = roundUp(
      shortfall.times(negRates.autoExchangeAskRate).div(c.rates.autoExchangeBidRate),
      c.precision,
    );
    quantities.set(c.asset, qty.plus(min(extra, spare)));
  }
}

function leg(c: Candidate, qty: Dec, negRates: AssetRates): AutoExchangeLeg | null {
  const sold = min(qty, c.balance);
  if (!sold.gt(0)) return null;
  return {
    asset: c.asset,
    qty: str(sold),
    index: str(c.rates.index),
    haircut: str(
      c.rates.index.isZero()
        ? ZERO
        : c.rates.index.minus(c.rates.autoExchangeBidRate).div(c.rates.index),
    ),
    usdValueAtIndex: str(sold.times(c.rates.index)),
    credited: str(
      round8(sold.times(c.rates.autoExchangeBidRate).div(negRates.autoExchangeAskRate)),
    ),
  };
}
