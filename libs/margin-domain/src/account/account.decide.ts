import { LedgerDomainError } from '../shared/errors';
import { executeAutoExchange, autoExchangesDue } from '../risk/auto-exchange';
import { executeLiquidations } from '../risk/liquidation';
import type { AccountCommand } from './account.commands';
import type { AccountEvent } from './account.events';
import type { AccountState } from './account.state';
import type { DecideContext } from './decide/context';
import { requireOpened } from './decide/context';
import { settleAccountFunding } from './decide/funding';
import { deposit, openAccount, setVipLevel, withdraw } from './decide/funds';
import { setLeverage, setMarginType, setPositionMode, switchAssetMode } from './decide/settings';
import { adjustIsolatedMargin, cancelOrder, fill, placeOrder } from './decide/trading';

/**
 * `decide` is pure and total: the events a command causes, or a `LedgerDomainError` with a stable code. The risk
 * commands re-check their trigger against the state they find, so a stale or redelivered saga command decides
 * nothing (an empty list).
 */
export function decide(
  command: AccountCommand,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  switch (command.type) {
    case 'OpenAccount':
      return openAccount(command, state);
    case 'Deposit':
      return deposit(command, state, ctx);
    case 'Withdraw':
      return withdraw(command, state, ctx);
    case 'SetLeverage':
      return setLeverage(command, state, ctx);
    case 'SetMarginType':
      return setMarginType(command, state, ctx);
    case 'SwitchAssetMode':
      return switchAssetMode(command, state, ctx);
    case 'SetPositionMode':
      return setPositionMode(command, state);
    case 'SetVipLevel':
      return setVipLevel(command, state);
    case 'Fill':
      return fill(command, state, ctx);
    case 'PlaceOrder':
      return placeOrder(command, state, ctx);
    case 'CancelOrder':
      return cancelOrder(command, state);
    case 'AdjustIsolatedMargin':
      return adjustIsolatedMargin(command, state, ctx);
    case 'SettleAccountFunding':
      return settleAccountFunding(command, state, ctx);
    case 'Liquidate':
      requireOpened(state);
      return executeLiquidations(state, ctx.market, ctx.ref);
    case 'AutoExchange': {
      requireOpened(state);
      const due = autoExchangesDue(state, ctx.market, ctx.ref, command.trigger === 'LIQUIDATION');
      const now = due.find((d) => d.asset === command.asset);
      if (!now) return [];
      const event = executeAutoExchange(state, ctx.market, ctx.ref, command.asset, now.trigger);
      return event ? [event] : [];
    }
    default: {
      const exhaustive: never = command;
      throw new LedgerDomainError(
        'UNKNOWN_COMMAND',
        `unknown command ${JSON.stringify(exhaustive)}`,
      );
    }
  }
}
