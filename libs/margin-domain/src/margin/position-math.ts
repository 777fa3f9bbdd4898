import type { Dec } from '../money/decimal';
import type { AccountState, OpenOrder, Position } from '../account/account.state';
import { leverageOf } from '../account/account.state';
import type { MarketView } from '../market/market';
import type { ReferenceData } from '../reference-data/reference-data.types';
import { tierFor } from './brackets';

/** Per-position figures at the current mark (RULES §2.1, §6). */
export interface PositionFigures {
  position: Position;
  marginAsset: string;
  leverage: number;
  /** Mark price; a symbol never marked uses the position's entry price (UPnL 0) [A]. */
  mark: Dec;
  /** |qty| × mark, the notional of all margin math. */
  notional: Dec;
  unrealizedProfit: Dec;
  initialMargin: Dec;
  maintMargin: Dec;
  maintMarginRatio: Dec;
  maintAmount: Dec;
}

export function markOf(market: MarketView, symbol: string, fallback: Dec): Dec {
  return market.marks.get(symbol) ?? fallback;
}

export function marginAssetOf(ref: ReferenceData, symbol: string): string {
  const s = ref.symbols[symbol];
  if (!s) throw new Error(`symbol ${symbol} is not in reference data ${ref.version}`);
  return s.marginAsset;
}

/** MM = N × MMR − cum, with the tier chosen by N (RULES §2.1, §7). */
export function maintenanceMarginOf(ref: ReferenceData, symbol: string, notional: Dec): Dec {
  const tier = tierFor(ref, symbol, notional);
  return notional.times(tier.maintMarginRatio).minus(tier.cum);
}

export function positionFigures(
  state: AccountState,
  position: Position,
  market: MarketView,
  ref: ReferenceData,
): PositionFigures {
  const leverage = leverageOf(state, position.symbol, ref.defaultLeverage);
  const mark = markOf(market, position.symbol, position.entryPrice);
  const notional = position.quantity.abs().times(mark);
  const tier = tierFor(ref, position.symbol, notional);
  return {
    position,
    marginAsset: marginAssetOf(ref, position.symbol),
    leverage,
    mark,
    notional,
    unrealizedProfit: position.quantity.times(mark.minus(position.entryPrice)),
    initialMargin: notional.div(leverage),
    maintMargin: notional.times(tier.maintMarginRatio).minus(tier.cum),
    maintMarginRatio: tier.maintMarginRatio,
    maintAmount: tier.cum,
  };
}

/** An open order's margin reservation: its IM at the order price (RULES §2.6). */
export function orderInitialMargin(state: AccountState, order: OpenOrder, ref: ReferenceData): Dec {
  const leverage = leverageOf(state, order.symbol, ref.defaultLeverage);
  return order.quantity.times(order.price).div(leverage);
}
