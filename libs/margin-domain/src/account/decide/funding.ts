import { D, round8, str } from '../../money/decimal';
import { markOf } from '../../margin/position-math';
import { LedgerDomainError } from '../../shared/errors';
import type { AccountEvent } from '../account.events';
import type { SettleAccountFunding } from '../account.commands';
import type { AccountState } from '../account.state';
import type { DecideContext } from './context';
import { requireOpened, requireSymbol } from './context';

/**
 * RULES §5: each open position in the symbol pays (long, rate > 0) or receives mark × qty × rate, 8 dp HALF_UP, in
 * the margin asset; an isolated position's funding goes to its isolated wallet.
 */
export function settleAccountFunding(
  command: SettleAccountFunding,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const { symbol, symbolRef } = requireSymbol(ctx.ref, command.symbol);
  const mark = ctx.market.marks.get(symbol);
  if (!mark) {
    throw new LedgerDomainError(
      'NO_MARK_PRICE',
      `${symbol} has no mark price to settle funding at`,
      {
        field: 'symbol',
      },
    );
  }
  const rate = new D(command.rate);
  const events: AccountEvent[] = [];
  for (const p of state.positions.values()) {
    if (p.symbol !== symbol) continue;
    const settleMark = markOf(ctx.market, symbol, p.entryPrice);
    events.push({
      type: 'FundingSettled',
      data: {
        symbol,
        positionSide: p.positionSide,
        asset: symbolRef.marginAsset,
        markPrice: str(settleMark),
        rate: str(rate),
        positionAmt: str(p.quantity),
        amount: str(round8(settleMark.times(p.quantity).times(rate).neg())),
        isolated: p.marginType === 'ISOLATED',
      },
    });
  }
  return events;
}
