import type { Dec } from '../money/decimal';
import { D, ZERO } from '../money/decimal';
import { assert } from '../shared/errors';
import type { AccountEvent } from './account.events';
import type { AccountState, Position, PositionSide } from './account.state';
import { initialAccountState, positionKey } from './account.state';

/**
 * `evolve` folds one event into the state: total, pure, no clock, no rejections (STYLE §2). It asserts facts that
 * must hold after an event (a reduced position exists, an order filled exists); a failed assertion is a
 * programmer error. Maps are copied on write so earlier states stay valid (as-of reads keep them).
 */
export function evolve(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return {
        ...initialAccountState(event.data.accountId),
        opened: true,
        vipLevel: event.data.vipLevel,
        assetMode: event.data.assetMode,
        positionMode: event.data.positionMode,
      };
    case 'Deposited':
      return credit(state, event.data.asset, new D(event.data.amount));
    case 'Withdrawn':
      return credit(state, event.data.asset, new D(event.data.amount).neg());
    case 'LeverageChanged': {
      const symbols = new Map(state.symbols);
      const current = symbols.get(event.data.symbol);
      symbols.set(event.data.symbol, {
        marginType: current?.marginType ?? 'CROSSED',
        leverage: event.data.leverage,
      });
      return { ...state, symbols };
    }
    case 'MarginTypeChanged': {
      const symbols = new Map(state.symbols);
      symbols.set(event.data.symbol, {
        ...symbols.get(event.data.symbol),
        marginType: event.data.marginType,
      });
      return { ...state, symbols };
    }
    case 'AssetModeChanged':
      return { ...state, assetMode: event.data.to };
    case 'PositionModeChanged':
      return { ...state, positionMode: event.data.to };
    case 'VipLevelChanged':
      return { ...state, vipLevel: event.data.to };
    case 'OrderPlaced': {
      const orders = new Map(state.orders);
      const d = event.data;
      orders.set(d.orderId, {
        orderId: d.orderId,
        symbol: d.symbol,
        side: d.side,
        positionSide: d.positionSide,
        quantity: new D(d.quantity),
        price: new D(d.price),
      });
      return { ...state, orders };
    }
    case 'OrderCanceled': {
      assert(state.orders.has(event.data.orderId), `canceled order ${event.data.orderId} exists`);
      const orders = new Map(state.orders);
      orders.delete(event.data.orderId);
      return { ...state, orders };
    }
    case 'PositionChanged':
      return applyPositionChanged(state, event.data);
    case 'IsolatedMarginAdjusted': {
      const amount = new D(event.data.amount);
      const next = credit(state, event.data.asset, amount.neg());
      return adjustIsolatedWallet(next, event.data.symbol, event.data.positionSide, amount);
    }
    case 'FundingSettled': {
      const amount = new D(event.data.amount);
      if (event.data.isolated) {
        return adjustIsolatedWallet(state, event.data.symbol, event.data.positionSide, amount);
      }
      return credit(state, event.data.asset, amount);
    }
    case 'AutoExchangeExecuted': {
      let next = state;
      let credited = ZERO;
      for (const leg of event.data.legs) {
        next = credit(next, leg.asset, new D(leg.qty).neg());
        credited = credited.plus(leg.credited);
      }
      return credit(next, event.data.negAsset, credited);
    }
    case 'LiquidationTriggered':
      return state;
    case 'PositionLiquidated': {
      const d = event.data;
      const key = positionKey(d.symbol, d.positionSide);
      assert(state.positions.has(key), `liquidated position ${key} exists`);
      const positions = new Map(state.positions);
      positions.delete(key);
      const pnlAfterFee = new D(d.realizedPnl).minus(d.liquidationFee);
      const walletDelta = d.isolated ? new D(d.isolatedRelease) : pnlAfterFee;
      return credit({ ...state, positions }, d.marginAsset, walletDelta);
    }
    case 'InsuranceFundCovered': {
      const { asset, amount, symbol, positionSide } = event.data;
      if (symbol === undefined) return credit(state, asset, new D(amount));
      assert(positionSide !== undefined, `insurance cover of ${symbol} names its position side`);
      return adjustIsolatedWallet(state, symbol, positionSide, new D(amount));
    }
    default: {
      const exhaustive: never = event;
      throw new Error(`unknown event ${JSON.stringify(exhaustive)}`);
    }
  }
}

export function fold(events: Iterable<AccountEvent>, from: AccountState): AccountState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}

function credit(state: AccountState, asset: string, amount: Dec): AccountState {
  if (amount.isZero()) return state;
  const wallets = new Map(state.wallets);
  wallets.set(asset, (wallets.get(asset) ?? ZERO).plus(amount));
  return { ...state, wallets };
}

function adjustIsolatedWallet(
  state: AccountState,
  symbol: string,
  positionSide: PositionSide,
  amount: Dec,
): AccountState {
  const key = positionKey(symbol, positionSide);
  const position = state.positions.get(key);
  assert(position !== undefined, `isolated position ${key} exists`);
  assert(position.marginType === 'ISOLATED', `position ${key} is isolated`);
  const positions = new Map(state.positions);
  positions.set(key, { ...position, isolatedWallet: position.isolatedWallet.plus(amount) });
  return { ...state, positions };
}

function applyPositionChanged(
  state: AccountState,
  d: Extract<AccountEvent, { type: 'PositionChanged' }>['data'],
): AccountState {
  const key = positionKey(d.symbol, d.positionSide);
  const before = state.positions.get(key);
  const quantity = new D(d.positionAmt);
  const transfer = new D(d.isolatedTransfer);
  const pnlAfterFee = new D(d.realizedPnl).minus(d.fee);
  const isolated = d.marginType === 'ISOLATED';
  const positions = new Map(state.positions);
  if (quantity.isZero()) {
    positions.delete(key);
  } else {
    const isolatedWallet = isolated
      ? (before?.isolatedWallet ?? ZERO).plus(transfer).plus(pnlAfterFee)
      : ZERO;
    const position: Position = {
      symbol: d.symbol,
      positionSide: d.positionSide,
      quantity,
      entryPrice: new D(d.entryPrice),
      marginType: d.marginType,
      isolatedWallet,
    };
    positions.set(key, position);
  }
  let next: AccountState = { ...state, positions };
  // Cross: PnL and fee hit the cross wallet. Isolated: they hit the isolated wallet, and the transfer moves margin
  // between the cross and the isolated wallet (a closing fill releases the whole isolated wallet).
  next = credit(next, d.marginAsset, isolated ? transfer.neg() : pnlAfterFee);
  if (d.orderId !== undefined) {
    const order = next.orders.get(d.orderId);
    assert(order !== undefined, `filled order ${d.orderId} exists`);
    const orders = new Map(next.orders);
    const remaining = new D(d.orderRemaining ?? '0');
    if (remaining.isZero()) orders.delete(d.orderId);
    else orders.set(d.orderId, { ...order, quantity: remaining });
    next = { ...next, orders };
  }
  return next;
}
