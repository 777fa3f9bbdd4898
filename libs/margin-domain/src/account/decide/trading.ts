import type { Dec } from '../../money/decimal';
import { D, ONE, STORED_DECIMALS, ZERO, max, min, round8, str } from '../../money/decimal';
import { tierFor } from '../../margin/brackets';
import { computeMargin } from '../../margin/margin-state';
import { markOf } from '../../margin/position-math';
import { feeRate, referenceBook } from '../../reference-data';
import { LedgerDomainError } from '../../shared/errors';
import {
  optionalBoolean,
  requireDecimal,
  requireEnum,
  requirePositive,
  requireString,
} from '../../shared/validate';
import { evolve, fold } from '../account.evolve';
import type { AccountEvent, InsuranceFundCovered, PositionChanged } from '../account.events';
import type { AdjustIsolatedMargin, CancelOrder, Fill, PlaceOrder } from '../account.commands';
import type { AccountState, MarginType, OrderSide, Position, PositionSide } from '../account.state';
import { leverageOf, marginTypeOf, positionKey } from '../account.state';
import type { DecideContext } from './context';
import {
  requireAssetPrecision,
  requireOpened,
  requirePositionSide,
  requireSymbol,
} from './context';

/** The position after a fill of signed quantity `d` at `price` (RULES §2.6), before fees. */
export interface FillOutcome {
  quantity: Dec;
  entryPrice: Dec;
  /** Unrounded realized PnL of the closed part. */
  realizedPnl: Dec;
  /** |q| > |q0|, or a flip. */
  increasesExposure: boolean;
  closedQuantity: Dec;
}

export function applyFill(q0: Dec, e0: Dec, d: Dec, price: Dec): FillOutcome {
  if (q0.isZero() || q0.isNegative() === d.isNegative()) {
    const quantity = q0.plus(d);
    const entryPrice = q0.abs().times(e0).plus(d.abs().times(price)).div(quantity.abs());
    return {
      quantity,
      entryPrice,
      realizedPnl: ZERO,
      increasesExposure: true,
      closedQuantity: ZERO,
    };
  }
  const closed = min(d.abs(), q0.abs());
  const realizedPnl = closed.times(price.minus(e0)).times(q0.isNegative() ? -1 : 1);
  const quantity = q0.plus(d);
  if (d.abs().lt(q0.abs())) {
    return {
      quantity,
      entryPrice: e0,
      realizedPnl,
      increasesExposure: false,
      closedQuantity: closed,
    };
  }
  if (quantity.isZero()) {
    return {
      quantity,
      entryPrice: ZERO,
      realizedPnl,
      increasesExposure: false,
      closedQuantity: closed,
    };
  }
  return {
    quantity,
    entryPrice: price,
    realizedPnl,
    increasesExposure: true,
    closedQuantity: closed,
  };
}

/**
 * Fill: opens, increases, reduces, closes or flips a position (RULES §2.6). Realized PnL and the fee go to the
 * contract's margin asset (an isolated position: its isolated wallet). A fill that adds exposure must leave the
 * pool's unclamped available balance ≥ 0 (−2019) and respect the bracket's max leverage (−2027).
 */
export function fill(command: Fill, state: AccountState, ctx: DecideContext): AccountEvent[] {
  requireOpened(state);
  const { symbol, symbolRef } = requireSymbol(ctx.ref, command.symbol);
  const side = requireEnum<OrderSide>(command.side, 'side', ['BUY', 'SELL'], undefined, -1117);
  const quantity = requirePositive(command.quantity, 'quantity', 'INVALID_QUANTITY', -4003);
  const price = requirePositive(command.price, 'price', 'INVALID_PRICE', -4001);
  requirePriceInBand(ctx, symbol, price);
  const maker = optionalBoolean(command.maker, 'maker');
  const positionSide = requirePositionSide(state, command.positionSide);
  const marginAsset = symbolRef.marginAsset;
  const fee =
    command.fee === undefined || command.fee === null
      ? round8(feeRate(ctx.ref, state.vipLevel, marginAsset, maker).times(quantity).times(price))
      : requireFeeInRange(
          requireAssetPrecision(ctx.ref, marginAsset, requireDecimal(command.fee, 'fee'), 'fee'),
          quantity,
          price,
          marginAsset,
          ctx,
        );
  const order =
    command.orderId === undefined
      ? undefined
      : requireFillableOrder(state, command, symbol, side, positionSide, quantity);

  const key = positionKey(symbol, positionSide);
  const before = state.positions.get(key);
  const d = side === 'BUY' ? quantity : quantity.neg();
  const outcome = applyFill(before?.quantity ?? ZERO, before?.entryPrice ?? ZERO, d, price);
  if (
    (positionSide === 'LONG' && outcome.quantity.isNegative()) ||
    (positionSide === 'SHORT' && outcome.quantity.gt(0))
  ) {
    throw new LedgerDomainError(
      'REDUCE_EXCEEDS_POSITION',
      `a ${side} of ${str(quantity)} would take the ${positionSide} side of ${symbol} past zero`,
      { field: 'quantity', binanceCode: -2022 },
    );
  }
  const marginType: MarginType =
    before?.marginType ?? (state.assetMode === 'MULTI' ? 'CROSSED' : marginTypeOf(state, symbol));
  const realizedPnl = round8(outcome.realizedPnl);
  const leverage = leverageOf(state, symbol, ctx.ref.defaultLeverage);
  const cover =
    marginType === 'ISOLATED' && before
      ? isolatedShortfallCover(before, outcome, realizedPnl, fee, marginAsset)
      : undefined;
  const isolatedTransfer =
    marginType === 'ISOLATED'
      ? isolatedTransferOf(
          (before?.isolatedWallet ?? ZERO).plus(cover?.data.amount ?? ZERO),
          before?.quantity ?? ZERO,
          outcome,
          realizedPnl,
          fee,
          price,
          leverage,
        )
      : ZERO;
  const event: PositionChanged = {
    type: 'PositionChanged',
    data: {
      symbol,
      positionSide,
      side,
      quantity: str(quantity),
      price: str(price),
      fee: str(fee),
      maker,
      marginAsset,
      marginType,
      realizedPnl: str(realizedPnl),
      positionAmt: str(outcome.quantity),
      entryPrice: str(outcome.entryPrice),
      isolatedTransfer: str(isolatedTransfer),
      ...(order
        ? { orderId: order.orderId, orderRemaining: str(order.quantity.minus(quantity)) }
        : {}),
    },
  };
  const events: AccountEvent[] = cover ? [cover, event] : [event];
  if (outcome.increasesExposure) {
    const mark = markOf(ctx.market, symbol, price);
    const notional = outcome.quantity.abs().times(mark);
    if (leverage > tierFor(ctx.ref, symbol, notional).initialLeverage) {
      throw new LedgerDomainError(
        'LEVERAGE_EXCEEDS_BRACKET',
        'Exceeded the maximum allowable position at current leverage.',
        { field: 'quantity', binanceCode: -2027 },
      );
    }
    requireMargin(fold(events, state), ctx, marginAsset);
  }
  return events;
}

/**
 * RULES §2.3, §5 (issue 11): an isolated position never touches the cross wallet. When a fill closes the side
 * entirely (a close, or the closing part of a flip) and its isolated wallet after the realized PnL and the fee is
 * below zero, the rest is a bankruptcy loss: the insurance fund covers it into the isolated wallet, decided before
 * the fill, so the fill releases 0 instead of drawing on the cross wallet. A reduction is not covered: the open
 * rest of the position still backs its wallet, and if it cannot, the risk saga liquidates it (and the liquidation
 * is covered as before).
 */
function isolatedShortfallCover(
  before: Position,
  outcome: FillOutcome,
  realizedPnl: Dec,
  fee: Dec,
  marginAsset: string,
): InsuranceFundCovered | undefined {
  if (!outcome.closedQuantity.eq(before.quantity.abs())) return undefined;
  const afterPnl = before.isolatedWallet.plus(realizedPnl).minus(fee);
  if (!afterPnl.isNegative()) return undefined;
  return {
    type: 'InsuranceFundCovered',
    data: {
      asset: marginAsset,
      amount: str(afterPnl.neg()),
      symbol: before.symbol,
      positionSide: before.positionSide,
    },
  };
}

/**
 * Isolated margin moved by a fill [A]: an increase moves |d| × price / leverage from the cross wallet; a reduction
 * releases the closed share of the isolated wallet (after its PnL and fee); a close releases all of it; a flip
 * releases all and moves the new side's margin in.
 */
function isolatedTransferOf(
  wallet0: Dec,
  q0: Dec,
  outcome: FillOutcome,
  realizedPnl: Dec,
  fee: Dec,
  price: Dec,
  leverage: number,
): Dec {
  const afterPnl = wallet0.plus(realizedPnl).minus(fee);
  if (outcome.closedQuantity.isZero()) {
    return round8(outcome.quantity.minus(q0).abs().times(price).div(leverage));
  }
  if (outcome.quantity.isZero()) return afterPnl.neg();
  if (outcome.quantity.isNegative() !== q0.isNegative()) {
    return round8(outcome.quantity.abs().times(price).div(leverage)).minus(afterPnl);
  }
  return round8(max(ZERO, afterPnl).times(outcome.closedQuantity).div(q0.abs())).neg();
}

/**
 * A fill's price must lie within mark × (1 ± fillPriceBandRatio) of the symbol's current mark (issue 11,
 * reference-data.md; default 0.5), like Binance's PERCENT_PRICE filter against the mark: above is −4016
 * PRICE_HIGHTER_THAN_MULTIPLIER_UP, below −4024 PRICE_LOWER_THAN_MULTIPLIER_DOWN. A symbol never marked has no band
 * (the first fills of a scenario may come before any mark).
 */
function requirePriceInBand(ctx: DecideContext, symbol: string, price: Dec): void {
  const mark = ctx.market.marks.get(symbol);
  if (!mark) return;
  const ratio = referenceBook(ctx.ref).fillPriceBandRatio(symbol);
  const cap = mark.times(ONE.plus(ratio));
  const floor = mark.times(ONE.minus(ratio));
  if (price.gt(cap)) {
    throw new LedgerDomainError(
      'FILL_PRICE_OUT_OF_BAND',
      `price ${str(price)} is above ${str(cap)}, the cap of ${symbol} (mark ${str(mark)} × (1 + ${str(ratio)}))`,
      { field: 'price', binanceCode: -4016 },
    );
  }
  if (price.lt(floor)) {
    throw new LedgerDomainError(
      'FILL_PRICE_OUT_OF_BAND',
      `price ${str(price)} is below ${str(floor)}, the floor of ${symbol} (mark ${str(mark)} × (1 − ${str(ratio)}))`,
      { field: 'price', binanceCode: -4024 },
    );
  }
}

/**
 * An explicit fee must lie in [floor × N, maxRate × N] with N = |quantity| × price (issue 11, RULES §2.6,
 * reference-data.md `fees.maxRate`): floor is the most negative rate of the margin asset over the whole schedule
 * (0 when none is negative), so no "rebate" beyond what the schedule grants can credit the wallet. Both bounds are
 * rounded outward to 8 dp, so a fee the venue rounded to the stored scale is never refused.
 */
function requireFeeInRange(
  fee: Dec,
  quantity: Dec,
  price: Dec,
  marginAsset: string,
  ctx: DecideContext,
): Dec {
  const book = referenceBook(ctx.ref);
  const notional = quantity.abs().times(price);
  const floorRate = book.feeRateFloor(marginAsset);
  const lower = notional.times(floorRate).toDecimalPlaces(STORED_DECIMALS, D.ROUND_FLOOR);
  const upper = notional.times(book.feeMaxRate).toDecimalPlaces(STORED_DECIMALS, D.ROUND_CEIL);
  if (fee.lt(lower) || fee.gt(upper)) {
    throw new LedgerDomainError(
      'FEE_OUT_OF_RANGE',
      `fee ${str(fee)} ${marginAsset} is outside [${str(lower)}, ${str(upper)}] (rates ${str(floorRate)} … ${str(book.feeMaxRate)} of the notional ${str(notional)})`,
      { field: 'fee', binanceCode: -4026 },
    );
  }
  return fee;
}

/** RULES §2.6 pre-trade check on the unclamped available balance (SINGLE: the pool; MULTI: uniAvailable). */
function requireMargin(next: AccountState, ctx: DecideContext, marginAsset: string): void {
  const margin = computeMargin(next, ctx.market, ctx.ref, { liquidationPrices: false });
  const available =
    next.assetMode === 'MULTI'
      ? margin.account.availableRaw
      : (margin.assets.get(marginAsset)?.availableRaw ?? ZERO);
  if (available.isNegative()) {
    throw new LedgerDomainError('MARGIN_INSUFFICIENT', 'Margin is insufficient.', {
      binanceCode: -2019,
    });
  }
}

function requireFillableOrder(
  state: AccountState,
  command: Fill,
  symbol: string,
  side: OrderSide,
  positionSide: PositionSide,
  quantity: Dec,
) {
  const orderId = requireString(command.orderId, 'orderId');
  const order = state.orders.get(orderId);
  if (!order) {
    throw new LedgerDomainError('UNKNOWN_ORDER', `order ${orderId} does not exist`, {
      field: 'orderId',
      binanceCode: -2013,
    });
  }
  if (order.symbol !== symbol || order.side !== side || order.positionSide !== positionSide) {
    throw new LedgerDomainError('ORDER_MISMATCH', `the fill does not match order ${orderId}`, {
      field: 'orderId',
    });
  }
  if (quantity.gt(order.quantity)) {
    throw new LedgerDomainError(
      'FILL_EXCEEDS_ORDER',
      `the fill exceeds order ${orderId}'s open quantity`,
      {
        field: 'quantity',
      },
    );
  }
  return order;
}

/** PlaceOrder: a margin reservation; its IM at the order price must fit the available balance (−2019). */
export function placeOrder(
  command: PlaceOrder,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const orderId = requireString(command.orderId, 'orderId');
  const { symbol, symbolRef } = requireSymbol(ctx.ref, command.symbol);
  const side = requireEnum<OrderSide>(command.side, 'side', ['BUY', 'SELL'], undefined, -1117);
  const quantity = requirePositive(command.quantity, 'quantity', 'INVALID_QUANTITY', -4003);
  const price = requirePositive(command.price, 'price', 'INVALID_PRICE', -4001);
  const positionSide = requirePositionSide(state, command.positionSide);
  if (state.orders.has(orderId)) {
    throw new LedgerDomainError('DUPLICATE_ORDER_ID', `order ${orderId} already exists`, {
      field: 'orderId',
    });
  }
  const event: AccountEvent = {
    type: 'OrderPlaced',
    data: { orderId, symbol, side, positionSide, quantity: str(quantity), price: str(price) },
  };
  requireMargin(evolve(state, event), ctx, symbolRef.marginAsset);
  return [event];
}

export function cancelOrder(command: CancelOrder, state: AccountState): AccountEvent[] {
  requireOpened(state);
  const orderId = requireString(command.orderId, 'orderId');
  if (!state.orders.has(orderId)) {
    throw new LedgerDomainError('UNKNOWN_ORDER', `order ${orderId} does not exist`, {
      field: 'orderId',
      binanceCode: -2011,
    });
  }
  return [{ type: 'OrderCanceled', data: { orderId, reason: 'USER' } }];
}

/**
 * AdjustIsolatedMargin (RULES §2.3): adding needs the cross pool's available balance (−4050); removing may take at
 * most min(isolated wallet, isolated margin − IM) (−4051).
 */
export function adjustIsolatedMargin(
  command: AdjustIsolatedMargin,
  state: AccountState,
  ctx: DecideContext,
): AccountEvent[] {
  requireOpened(state);
  const { symbol, symbolRef } = requireSymbol(ctx.ref, command.symbol);
  const amount = requireDecimal(command.amount, 'amount');
  if (amount.isZero()) {
    throw new LedgerDomainError('INVALID_AMOUNT', 'amount must not be 0', { field: 'amount' });
  }
  requireAssetPrecision(ctx.ref, symbolRef.marginAsset, amount, 'amount');
  const positionSide = requirePositionSide(state, command.positionSide);
  const key = positionKey(symbol, positionSide);
  const position = state.positions.get(key);
  if (!position || position.marginType !== 'ISOLATED') {
    throw new LedgerDomainError('NO_ISOLATED_POSITION', `there is no isolated position ${key}`, {
      field: 'symbol',
    });
  }
  const margin = computeMargin(state, ctx.market, ctx.ref, { liquidationPrices: false });
  const asset = symbolRef.marginAsset;
  if (amount.gt(0)) {
    const available = margin.assets.get(asset)?.availableRaw ?? ZERO;
    if (amount.gt(available)) {
      throw new LedgerDomainError('CROSS_BALANCE_INSUFFICIENT', 'Cross balance insufficient.', {
        field: 'amount',
        binanceCode: -4050,
      });
    }
  } else {
    const view = margin.positions.get(key);
    const removable = view
      ? max(ZERO, min(position.isolatedWallet, view.isolatedMargin.minus(view.initialMargin)))
      : ZERO;
    if (amount.abs().gt(removable)) {
      throw new LedgerDomainError(
        'ISOLATED_BALANCE_INSUFFICIENT',
        'Isolated balance insufficient.',
        {
          field: 'amount',
          binanceCode: -4051,
        },
      );
    }
  }
  return [
    { type: 'IsolatedMarginAdjusted', data: { symbol, positionSide, asset, amount: str(amount) } },
  ];
}
