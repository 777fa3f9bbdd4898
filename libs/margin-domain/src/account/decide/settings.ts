import { ZERO } from '../../money/decimal';
import { tierFor, tiersOf } from '../../margin/brackets';
import { computeMargin } from '../../margin/margin-state';
import { markOf } from '../../margin/position-math';
import { LedgerDomainError } from '../../shared/errors';
import { requireEnum, requireInteger } from '../../shared/validate';
import { evolve } from '../account.evolve';
import type { AccountEvent } from '../account.events';
import type {
  SetLeverage,
  SetMarginType,
  SetPositionMode,
  SwitchAssetMode,
} from '../account.commands';
import type { AccountState, AssetMode, MarginType, PositionMode } from '../account.state';
import { leverageOf, marginTypeOf } from '../account.state';
import type { DecideContext } from './context';
import { requireOpened, requireSymbol } from './context';

/** Binance's highest leverage on any USDⓈ-M contract; the bracket decides the real cap per symbol. */
export const MAX_LEVERAGE = 125;

function positionsOf(state: AccountState, symbol: string) {
  return [...state.positions.values()].filter((p) => p.symbol === symbol);
}

function ordersOf(state: AccountState, symbol: string) {
  return [...state.orders.values()].filter((o) => o.symbol === symbol);
}

/**
 * SetLeverage: the leverage must not exceed the bracket's max for the position's notional (−4028 beyond tier 1,
 * −2027 beyond the position's tier); an isolated position's leverage cannot be reduced (−4161, RULES §2.3);
 * reducing leverage must leave the pool's available balance ≥ 0 (−2019, RULES §2.6).
 */
export function setLeverage(
  command: SetLeverage,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const { symbol } = requireSymbol(ctx.ref, command.symbol);
  const leverage = requireInteger(
    command.leverage,
    'leverage',
    1,
    MAX_LEVERAGE,
    'INVALID_LEVERAGE',
    -4028,
  );
  const tiers = tiersOf(ctx.ref, symbol);
  if (leverage > (tiers[0]?.initialLeverage ?? 0)) {
    throw new LedgerDomainError(
      'INVALID_LEVERAGE',
      `leverage ${leverage} is not valid for ${symbol}`,
      {
        field: 'leverage',
        binanceCode: -4028,
      },
    );
  }
  const previous = leverageOf(state, symbol, ctx.ref.defaultLeverage);
  if (leverage === previous) return [];
  const positions = positionsOf(state, symbol);
  for (const p of positions) {
    const notional = p.quantity.abs().times(markOf(ctx.market, symbol, p.entryPrice));
    if (leverage > tierFor(ctx.ref, symbol, notional).initialLeverage) {
      throw new LedgerDomainError(
        'LEVERAGE_EXCEEDS_BRACKET',
        `leverage ${leverage} exceeds the maximum allowable for the current position of ${symbol}`,
        { field: 'leverage', binanceCode: -2027 },
      );
    }
    if (p.marginType === 'ISOLATED' && leverage < previous) {
      throw new LedgerDomainError(
        'ISOLATED_LEVERAGE_REDUCTION',
        'Leverage reduction is not supported in Isolated Margin Mode with open positions.',
        { field: 'leverage', binanceCode: -4161 },
      );
    }
  }
  const event: AccountEvent = { type: 'LeverageChanged', data: { symbol, leverage, previous } };
  if (leverage < previous && (positions.length > 0 || ordersOf(state, symbol).length > 0)) {
    requireAvailable(evolve(state, event), ctx, symbol);
  }
  return [event];
}

function requireAvailable(next: AccountState, ctx: DecideContext, symbol: string): void {
  const margin = computeMargin(next, ctx.market, ctx.ref, { liquidationPrices: false });
  const asset = ctx.ref.symbols[symbol]?.marginAsset ?? '';
  const available =
    next.assetMode === 'MULTI'
      ? margin.account.availableRaw
      : (margin.assets.get(asset)?.availableRaw ?? ZERO);
  if (available.isNegative()) {
    throw new LedgerDomainError('MARGIN_INSUFFICIENT', 'Margin is insufficient.', {
      binanceCode: -2019,
    });
  }
}

/** SetMarginType: −4168 in Multi-Assets Mode (RULES §4 step 8), −4046 no change, −4047 open orders, −4048 position. */
export function setMarginType(
  command: SetMarginType,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const { symbol } = requireSymbol(ctx.ref, command.symbol);
  const marginType = requireEnum<MarginType>(command.marginType, 'marginType', [
    'CROSSED',
    'ISOLATED',
  ]);
  if (state.assetMode === 'MULTI' && marginType === 'ISOLATED') {
    throw new LedgerDomainError(
      'JOINT_MARGIN_REJECT_WITH_ISOLATED',
      'Unable to adjust to isolated-margin mode under the Multi-Assets mode.',
      { field: 'marginType', binanceCode: -4168 },
    );
  }
  if (marginTypeOf(state, symbol) === marginType) {
    throw new LedgerDomainError('NO_NEED_TO_CHANGE_MARGIN_TYPE', 'No need to change margin type.', {
      field: 'marginType',
      binanceCode: -4046,
    });
  }
  if (ordersOf(state, symbol).length > 0) {
    throw new LedgerDomainError(
      'MARGIN_TYPE_CHANGE_WITH_OPEN_ORDERS',
      'Margin type cannot be changed if there exists open orders.',
      { field: 'marginType', binanceCode: -4047 },
    );
  }
  if (positionsOf(state, symbol).length > 0) {
    throw new LedgerDomainError(
      'MARGIN_TYPE_CHANGE_WITH_POSITION',
      'Margin type cannot be changed if there exists position.',
      { field: 'marginType', binanceCode: -4048 },
    );
  }
  return [{ type: 'MarginTypeChanged', data: { symbol, marginType } }];
}

/** SetPositionMode: −4059 no change, −4067 open orders, −4068 positions (Binance's codes). */
export function setPositionMode(command: SetPositionMode, state: AccountState): AccountEvent[] {
  requireOpened(state);
  const to = requireEnum<PositionMode>(command.positionMode, 'positionMode', ['ONE_WAY', 'HEDGE']);
  if (to === state.positionMode) {
    throw new LedgerDomainError(
      'NO_NEED_TO_CHANGE_POSITION_SIDE',
      'No need to change position side.',
      {
        field: 'positionMode',
        binanceCode: -4059,
      },
    );
  }
  if (state.orders.size > 0) {
    throw new LedgerDomainError(
      'POSITION_MODE_CHANGE_WITH_OPEN_ORDERS',
      'Position side cannot be changed if there exists open orders.',
      { field: 'positionMode', binanceCode: -4067 },
    );
  }
  if (state.positions.size > 0) {
    throw new LedgerDomainError(
      'POSITION_MODE_CHANGE_WITH_POSITION',
      'Position side cannot be changed if there exists position.',
      { field: 'positionMode', binanceCode: -4068 },
    );
  }
  return [{ type: 'PositionModeChanged', data: { from: state.positionMode, to } }];
}

/** SwitchAssetMode: the ordered checks of RULES §4 (steps 1–6). */
export function switchAssetMode(
  command: SwitchAssetMode,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const to = requireEnum<AssetMode>(command.assetMode, 'assetMode', ['SINGLE', 'MULTI']);
  const reject = (code: string, message: string, binanceCode?: number): never => {
    throw new LedgerDomainError(code, message, {
      field: 'assetMode',
      ...(binanceCode === undefined ? {} : { binanceCode }),
    });
  };
  if (to === state.assetMode) {
    reject(
      'NO_NEED_TO_CHANGE_JOINT_MARGIN',
      'Adjusted asset mode is currently set and does not need to be adjusted repeatedly.',
      -4171,
    );
  }
  if (state.orders.size > 0) {
    reject(
      'JOINT_MARGIN_REJECT_WITH_OPEN_ORDER',
      'Unable to adjust Multi-Assets Mode with open orders in USDⓈ-M Futures.',
      -4170,
    );
  }
  for (const [asset, balance] of state.wallets) {
    if (balance.isNegative() && ctx.ref.assets[asset]?.marginAvailable) {
      reject(
        'JOINT_MARGIN_REJECT_WITH_NEGATIVE_BALANCE',
        'Unable to adjust Multi-Assets Mode with a negative wallet balance of margin available asset in USDⓈ-M Futures account.',
        -4172,
      );
    }
  }
  if (to === 'MULTI') {
    const isolatedSetting = [...state.symbols.values()].some((s) => s.marginType === 'ISOLATED');
    const isolatedPosition = [...state.positions.values()].some((p) => p.marginType === 'ISOLATED');
    if (isolatedPosition || (ctx.ref.flags.isolatedSettingBlocks && isolatedSetting)) {
      reject(
        'ISOLATED_REJECT_WITH_JOINT_MARGIN',
        'Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures under isolated-margin mode.',
        -4167,
      );
    }
  }
  if (ctx.ref.flags.refuseSwitchWithPositions && state.positions.size > 0) {
    reject(
      'ASSET_MODE_SWITCH_WITH_POSITIONS',
      'Open positions block an asset-mode switch (refuseSwitchWithPositions).',
    );
  }
  const event: AccountEvent = { type: 'AssetModeChanged', data: { from: state.assetMode, to } };
  if (!solventAfterSwitch(evolve(state, event), ctx)) {
    reject(
      'JOINT_MARGIN_REJECT_WITH_MB',
      'Unable to adjust Multi-Assets Mode with insufficient margin balance in USDⓈ-M Futures.',
      -4169,
    );
  }
  return [event];
}

/** RULES §4 step 6, decided on the unclamped available balance of the target mode. */
function solventAfterSwitch(next: AccountState, ctx: DecideContext): boolean {
  const margin = computeMargin(next, ctx.market, ctx.ref, { liquidationPrices: false });
  if (next.assetMode === 'SINGLE') {
    for (const a of margin.assets.values()) {
      if (a.availableRaw.isNegative()) return false;
      if (
        a.crossMaintMargin.gt(0) &&
        a.crossWalletBalance.plus(a.crossUnrealizedProfit).lte(a.crossMaintMargin)
      ) {
        return false;
      }
    }
    return true;
  }
  const account = margin.account;
  if (account.availableRaw.isNegative()) return false;
  if (next.positions.size > 0) {
    if (account.totalMarginBalance.lte(0)) return false;
    if (account.totalMaintMargin.gte(account.totalMarginBalance)) return false;
  }
  return true;
}
