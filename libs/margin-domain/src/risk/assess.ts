import type { AccountState } from '../account/account.state';
import type { MarketView } from '../market/market';
import { computeMargin } from '../margin/margin-state';
import type { ReferenceData } from '../reference-data/reference-data.types';
import type { AutoExchangeDue } from './auto-exchange';
import { autoExchangesDue } from './auto-exchange';
import { liquidationsDue } from './liquidation';

/** What the risk saga must dispatch for one account now: liquidation first, else the auto-exchanges due. */
export type RiskAction = { type: 'Liquidate' } | ({ type: 'AutoExchange' } & AutoExchangeDue);

export function assessRisk(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  afterLiquidation = false,
): RiskAction[] {
  if (!state.opened) return [];
  if (state.positions.size > 0) {
    const margin = computeMargin(state, market, ref, { liquidationPrices: false });
    if (liquidationsDue(state, margin).length > 0) return [{ type: 'Liquidate' }];
  }
  return autoExchangesDue(state, market, ref, afterLiquidation).map((due) => ({
    type: 'AutoExchange',
    ...due,
  }));
}
