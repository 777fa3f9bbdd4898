import { str } from '../../money/decimal';
import { computeMargin } from '../../margin/margin-state';
import { LedgerDomainError } from '../../shared/errors';
import { requireEnum, requireInteger, requirePositive } from '../../shared/validate';
import type { AccountEvent } from '../account.events';
import type { Deposit, OpenAccount, SetVipLevel, Withdraw } from '../account.commands';
import type { AccountState, AssetMode, PositionMode } from '../account.state';
import type { DecideContext } from './context';
import { requireAsset, requireAssetPrecision, requireOpened } from './context';

/** Binance VIP levels: Regular (0) to VIP 9. */
export const MAX_VIP_LEVEL = 9;

export function openAccount(command: OpenAccount, state: AccountState): AccountEvent[] {
  if (state.opened) {
    throw new LedgerDomainError('ACCOUNT_EXISTS', `account ${state.accountId} already exists`, {
      field: 'accountId',
    });
  }
  const vipLevel =
    command.vipLevel === undefined
      ? 0
      : requireInteger(command.vipLevel, 'vipLevel', 0, MAX_VIP_LEVEL, 'INVALID_VIP_LEVEL');
  const assetMode = requireEnum<AssetMode>(
    command.assetMode,
    'assetMode',
    ['SINGLE', 'MULTI'],
    'SINGLE',
  );
  const positionMode = requireEnum<PositionMode>(
    command.positionMode,
    'positionMode',
    ['ONE_WAY', 'HEDGE'],
    'ONE_WAY',
  );
  return [
    {
      type: 'AccountOpened',
      data: { accountId: state.accountId, vipLevel, assetMode, positionMode },
    },
  ];
}

export function deposit(command: Deposit, state: AccountState, ctx: DecideContext): AccountEvent[] {
  requireOpened(state);
  const asset = requireAsset(ctx.ref, command.asset);
  const amount = requireAssetPrecision(
    ctx.ref,
    asset,
    requirePositive(command.amount, 'amount', 'INVALID_AMOUNT'),
    'amount',
  );
  return [{ type: 'Deposited', data: { asset, amount: str(amount) } }];
}

/** RULES §2.6: an amount above maxWithdrawAmount of the asset (§2.2 / §2.5) is rejected INSUFFICIENT_BALANCE. */
export function withdraw(
  command: Withdraw,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const asset = requireAsset(ctx.ref, command.asset);
  const amount = requireAssetPrecision(
    ctx.ref,
    asset,
    requirePositive(command.amount, 'amount', 'INVALID_AMOUNT'),
    'amount',
  );
  const margin = computeMargin(state, ctx.market, ctx.ref, { liquidationPrices: false });
  const limit = margin.assets.get(asset)?.maxWithdrawAmount;
  if (!limit || amount.gt(limit)) {
    throw new LedgerDomainError(
      'INSUFFICIENT_BALANCE',
      `withdrawal of ${str(amount)} ${asset} exceeds the maximum withdrawable ${limit ? limit.toFixed(8) : '0'}`,
      { field: 'amount' },
    );
  }
  return [{ type: 'Withdrawn', data: { asset, amount: str(amount) } }];
}

export function setVipLevel(command: SetVipLevel, state: AccountState): AccountEvent[] {
  requireOpened(state);
  const to = requireInteger(command.vipLevel, 'vipLevel', 0, MAX_VIP_LEVEL, 'INVALID_VIP_LEVEL');
  if (to === state.vipLevel) return [];
  return [{ type: 'VipLevelChanged', data: { from: state.vipLevel, to } }];
}
