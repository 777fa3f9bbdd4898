import type { Dec } from '../money/decimal';
import { D, ZERO, round8, str, sum } from '../money/decimal';
import type { AccountEvent, LiquidationScope } from '../account/account.events';
import { evolve } from '../account/account.evolve';
import type { AccountState, Position } from '../account/account.state';
import type { MarketView } from '../market/market';
import type { MarginState, PositionView } from '../margin/margin-state';
import { computeMargin } from '../margin/margin-state';
import type { ReferenceData } from '../reference-data/reference-data.types';

/** One liquidation the rules call for now (RULES §2.2, §2.3, §2.5). */
export interface LiquidationDue {
  scope: LiquidationScope;
  asset?: string;
  symbol?: string;
  positionSide?: Position['positionSide'];
  marginBalance: Dec;
  maintMargin: Dec;
  /** Keys of the positions to close. */
  positions: string[];
}

/**
 * SINGLE: a cross pool with positions whose margin balance ≤ its maintenance margin (§2.2); an isolated position
 * whose isolated margin ≤ its MM (§2.3). MULTI: account MM (USD) ≥ equity, or equity ≤ 0 [A] (§2.5).
 */
export function liquidationsDue(state: AccountState, margin: MarginState): LiquidationDue[] {
  const due: LiquidationDue[] = [];
  if (state.positions.size === 0) return due;
  if (state.assetMode === 'MULTI') {
    const { totalMarginBalance, totalMaintMargin } = margin.account;
    if (totalMarginBalance.lte(0) || totalMaintMargin.gte(totalMarginBalance)) {
      due.push({
        scope: 'ACCOUNT',
        marginBalance: totalMarginBalance,
        maintMargin: totalMaintMargin,
        positions: [...margin.positions.keys()],
      });
    }
    return due;
  }
  const crossByAsset = new Map<string, PositionView[]>();
  for (const view of margin.positions.values()) {
    if (view.position.marginType === 'ISOLATED') {
      if (view.isolatedMargin.lte(view.maintMargin)) {
        due.push({
          scope: 'ISOLATED',
          symbol: view.position.symbol,
          positionSide: view.position.positionSide,
          marginBalance: view.isolatedMargin,
          maintMargin: view.maintMargin,
          positions: [view.key],
        });
      }
    } else {
      const list = crossByAsset.get(view.marginAsset) ?? [];
      list.push(view);
      crossByAsset.set(view.marginAsset, list);
    }
  }
  for (const [asset, views] of crossByAsset) {
    const pool = margin.assets.get(asset);
    if (!pool) continue;
    const marginBalance = pool.crossWalletBalance.plus(pool.crossUnrealizedProfit);
    if (marginBalance.lte(pool.crossMaintMargin)) {
      due.push({
        scope: 'CROSS_POOL',
        asset,
        marginBalance,
        maintMargin: pool.crossMaintMargin,
        positions: views.map((v) => v.key),
      });
    }
  }
  return due;
}

/**
 * The liquidation itself: open orders in scope canceled, every position in scope closed at the mark (or at the
 * bankruptcy price, `liquidation.closePrice`), PnL booked, the liquidation fee charged; a Single-Asset pool or an
 * isolated wallet left below zero is reset to 0 by the insurance fund (RULES §5). In MULTI a negative balance is
 * left for the auto-exchange that follows (trigger LIQUIDATION).
 */
export function executeLiquidations(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
): AccountEvent[] {
  const events: AccountEvent[] = [];
  let current = state;
  const apply = (event: AccountEvent): void => {
    events.push(event);
    current = evolve(current, event);
  };
  const plans = liquidationsDue(
    current,
    computeMargin(current, market, ref, { liquidationPrices: false }),
  );
  for (const plan of plans) {
    const margin = computeMargin(current, market, ref, { liquidationPrices: false });
    const views = plan.positions
      .map((k) => margin.positions.get(k))
      .filter((v): v is PositionView => !!v);
    if (views.length === 0) continue;
    apply({
      type: 'LiquidationTriggered',
      data: {
        scope: plan.scope,
        ...(plan.asset === undefined ? {} : { asset: plan.asset }),
        ...(plan.symbol === undefined ? {} : { symbol: plan.symbol }),
        ...(plan.positionSide === undefined ? {} : { positionSide: plan.positionSide }),
        marginBalance: str(round8(plan.marginBalance)),
        maintMargin: str(round8(plan.maintMargin)),
      },
    });
    for (const order of [...current.orders.values()]) {
      if (orderInScope(current, ref, plan, order.symbol, order.positionSide)) {
        apply({ type: 'OrderCanceled', data: { orderId: order.orderId, reason: 'LIQUIDATION' } });
      }
    }
    const prices = closePrices(plan, views, margin, ref);
    for (const view of views) {
      const price = prices.get(view.key) ?? view.mark;
      const p = view.position;
      const realizedPnl = round8(p.quantity.times(price.minus(p.entryPrice)));
      const feeRate = new D(ref.symbols[p.symbol]?.liquidationFeeRate ?? '0');
      const liquidationFee = round8(p.quantity.abs().times(price).times(feeRate));
      const isolated = p.marginType === 'ISOLATED';
      const release = isolated ? p.isolatedWallet.plus(realizedPnl).minus(liquidationFee) : ZERO;
      apply({
        type: 'PositionLiquidated',
        data: {
          symbol: p.symbol,
          positionSide: p.positionSide,
          marginAsset: view.marginAsset,
          positionAmt: str(p.quantity),
          entryPrice: str(p.entryPrice),
          price: str(price),
          realizedPnl: str(realizedPnl),
          liquidationFee: str(liquidationFee),
          isolated,
          isolatedRelease: str(release),
        },
      });
      if (isolated && release.isNegative()) {
        apply({
          type: 'InsuranceFundCovered',
          data: { asset: view.marginAsset, amount: str(release.abs()) },
        });
      }
    }
    if (current.assetMode === 'SINGLE' && plan.scope === 'CROSS_POOL' && plan.asset !== undefined) {
      const wb = current.wallets.get(plan.asset) ?? ZERO;
      if (wb.isNegative()) {
        apply({ type: 'InsuranceFundCovered', data: { asset: plan.asset, amount: str(wb.abs()) } });
      }
    }
  }
  return events;
}

function orderInScope(
  state: AccountState,
  ref: ReferenceData,
  plan: LiquidationDue,
  symbol: string,
  positionSide: Position['positionSide'],
): boolean {
  if (plan.scope === 'ACCOUNT') return true;
  if (plan.scope === 'ISOLATED')
    return symbol === plan.symbol && positionSide === plan.positionSide;
  const isolated = state.symbols.get(symbol)?.marginType === 'ISOLATED';
  return !isolated && ref.symbols[symbol]?.marginAsset === plan.asset;
}

/**
 * MARK: every position at its mark. BANKRUPTCY: the price at which the scope's margin balance is 0, shared out by
 * each position's share of the maintenance margin (MULTI: USD converted at the asset's ask rate, an estimate [A]).
 */
function closePrices(
  plan: LiquidationDue,
  views: PositionView[],
  margin: MarginState,
  ref: ReferenceData,
): Map<string, Dec> {
  const prices = new Map<string, Dec>();
  if (ref.liquidation.closePrice === 'MARK') {
    for (const v of views) prices.set(v.key, v.mark);
    return prices;
  }
  const weights = views.map((v) =>
    plan.scope === 'ACCOUNT'
      ? v.maintMargin.times(margin.assets.get(v.marginAsset)?.rates.askRate ?? ZERO)
      : v.maintMargin,
  );
  const totalWeight = sum(weights);
  views.forEach((v, i) => {
    const weight = weights[i] ?? ZERO;
    const share = totalWeight.isZero() ? ZERO : plan.marginBalance.times(weight).div(totalWeight);
    const askRate = margin.assets.get(v.marginAsset)?.rates.askRate ?? ZERO;
    const inAsset =
      plan.scope === 'ACCOUNT' ? (askRate.isZero() ? ZERO : share.div(askRate)) : share;
    const price = v.mark.minus(inAsset.div(v.position.quantity));
    prices.set(v.key, price.gt(0) ? price : v.mark);
  });
  return prices;
}
