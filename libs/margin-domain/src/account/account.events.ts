/**
 * Account events (stream `account-{accountId}`), the canonical names of ARCHITECTURE.md "Streams and events".
 * Payloads are JSON with every amount a decimal string; the stable `type` string plus `schemaVersion` is the
 * contract. Each event declares the wallet flows it causes, so conservation can be checked event by event
 * (RULES §8 invariant (i)).
 */
import type { AssetMode, MarginType, OrderSide, PositionMode, PositionSide } from './account.state';

interface Ev<T extends string, D> {
  type: T;
  data: D;
}

/** Opened by OpenAccount. v1. */
export type AccountOpened = Ev<
  'AccountOpened',
  { accountId: string; vipLevel: number; assetMode: AssetMode; positionMode: PositionMode }
>;
/** Funds credited to the cross wallet of `asset`. v1. */
export type Deposited = Ev<'Deposited', { asset: string; amount: string }>;
/** Funds debited from the cross wallet of `asset`. v1. */
export type Withdrawn = Ev<'Withdrawn', { asset: string; amount: string }>;
/** v1. */
export type LeverageChanged = Ev<
  'LeverageChanged',
  { symbol: string; leverage: number; previous: number }
>;
/** v1. */
export type MarginTypeChanged = Ev<'MarginTypeChanged', { symbol: string; marginType: MarginType }>;
/** RULES §4: no balances move on a switch. v1. */
export type AssetModeChanged = Ev<'AssetModeChanged', { from: AssetMode; to: AssetMode }>;
/** v1. */
export type PositionModeChanged = Ev<
  'PositionModeChanged',
  { from: PositionMode; to: PositionMode }
>;
/** v1. */
export type VipLevelChanged = Ev<'VipLevelChanged', { from: number; to: number }>;
/** A margin reservation (RULES §2.6 pre-trade check; openOrderIM). v1. */
export type OrderPlaced = Ev<
  'OrderPlaced',
  {
    orderId: string;
    symbol: string;
    side: OrderSide;
    positionSide: PositionSide;
    quantity: string;
    price: string;
  }
>;
/** v1. `reason`: USER or LIQUIDATION. */
export type OrderCanceled = Ev<
  'OrderCanceled',
  { orderId: string; reason: 'USER' | 'LIQUIDATION' }
>;

/**
 * A fill (RULES §2.6): opens, increases, reduces, closes or flips a position. Carries the resulting position
 * (quantity signed, entry at full precision), realized PnL and fee in the margin asset, and for an isolated
 * position the margin moved between the cross wallet and the isolated wallet. v1.
 */
export type PositionChanged = Ev<
  'PositionChanged',
  {
    symbol: string;
    positionSide: PositionSide;
    side: OrderSide;
    quantity: string;
    price: string;
    fee: string;
    maker: boolean;
    marginAsset: string;
    marginType: MarginType;
    realizedPnl: string;
    /** The position after the fill: signed quantity ("0" when closed) and entry price. */
    positionAmt: string;
    entryPrice: string;
    /** Cross wallet → isolated wallet (negative: released back to the cross wallet). "0" for cross. */
    isolatedTransfer: string;
    /** The filled order, if the fill came from one, and what remains of it. */
    orderId?: string;
    orderRemaining?: string;
  }
>;

/** Manual add (positive) or remove (negative) of isolated margin (RULES §2.3). v1. */
export type IsolatedMarginAdjusted = Ev<
  'IsolatedMarginAdjusted',
  { symbol: string; positionSide: PositionSide; asset: string; amount: string }
>;

/** RULES §5: amount signed from the account's view (negative = paid), booked to the isolated wallet if isolated. v1. */
export type FundingSettled = Ev<
  'FundingSettled',
  {
    symbol: string;
    positionSide: PositionSide;
    asset: string;
    markPrice: string;
    rate: string;
    positionAmt: string;
    amount: string;
    isolated: boolean;
  }
>;

export type AutoExchangeTrigger = 'THRESHOLD' | 'LIQUIDATION' | 'LTV';

export interface AutoExchangeLeg {
  asset: string;
  /** Quantity of collateral sold, rounded UP to the asset's precision (RULES §3.2). */
  qty: string;
  index: string;
  /** The asset's auto-exchange haircut (autoExchangeBidBuffer). */
  haircut: string;
  usdValueAtIndex: string;
  /** Credited to the negative asset, in its units, 8 dp HALF_UP. */
  credited: string;
}

/** RULES §3, §8. v1. */
export type AutoExchangeExecuted = Ev<
  'AutoExchangeExecuted',
  {
    trigger: AutoExchangeTrigger;
    negAsset: string;
    /** The negative wallet balance's absolute value before the exchange. */
    deficit: string;
    deficitUsd: string;
    legs: AutoExchangeLeg[];
    haircutCostUsd: string;
  }
>;

export type LiquidationScope = 'CROSS_POOL' | 'ISOLATED' | 'ACCOUNT';

/** Why a liquidation starts (RULES §2.2, §2.3, §2.5). v1. */
export type LiquidationTriggered = Ev<
  'LiquidationTriggered',
  {
    scope: LiquidationScope;
    /** The pool's asset (CROSS_POOL), the position's symbol and side (ISOLATED). */
    asset?: string;
    symbol?: string;
    positionSide?: PositionSide;
    marginBalance: string;
    maintMargin: string;
  }
>;

/** One position closed by the liquidation engine. v1. */
export type PositionLiquidated = Ev<
  'PositionLiquidated',
  {
    symbol: string;
    positionSide: PositionSide;
    marginAsset: string;
    /** Signed quantity closed. */
    positionAmt: string;
    entryPrice: string;
    price: string;
    realizedPnl: string;
    liquidationFee: string;
    isolated: boolean;
    /** An isolated position's wallet after closing, released to the cross wallet. */
    isolatedRelease: string;
  }
>;

/**
 * The insurance fund pays `amount` of `asset` into the account (RULES §5). v1. Two uses:
 * - without `symbol`: into the cross wallet, after a liquidation left a Single-Asset pool (or, through a negative
 *   isolated release, the cross wallet) below zero; it resets that wallet to 0;
 * - with `symbol` and `positionSide`: into that isolated position's wallet, decided just before the fill that
 *   closes the position at a loss beyond its wallet (issue 11): the bankruptcy shortfall, so the fill releases 0
 *   and the cross wallet is never touched (RULES §2.3). Both optional fields are present together or not at all.
 */
export type InsuranceFundCovered = Ev<
  'InsuranceFundCovered',
  { asset: string; amount: string; symbol?: string; positionSide?: PositionSide }
>;

export type AccountEvent =
  | AccountOpened
  | Deposited
  | Withdrawn
  | LeverageChanged
  | MarginTypeChanged
  | AssetModeChanged
  | PositionModeChanged
  | VipLevelChanged
  | OrderPlaced
  | OrderCanceled
  | PositionChanged
  | IsolatedMarginAdjusted
  | FundingSettled
  | AutoExchangeExecuted
  | LiquidationTriggered
  | PositionLiquidated
  | InsuranceFundCovered;

export type AccountEventType = AccountEvent['type'];

export const ACCOUNT_EVENT_TYPES: readonly AccountEventType[] = [
  'AccountOpened',
  'Deposited',
  'Withdrawn',
  'LeverageChanged',
  'MarginTypeChanged',
  'AssetModeChanged',
  'PositionModeChanged',
  'VipLevelChanged',
  'OrderPlaced',
  'OrderCanceled',
  'PositionChanged',
  'IsolatedMarginAdjusted',
  'FundingSettled',
  'AutoExchangeExecuted',
  'LiquidationTriggered',
  'PositionLiquidated',
  'InsuranceFundCovered',
];

/** Schema version of every account event type written today. */
export const ACCOUNT_EVENT_SCHEMA_VERSION = 1;
