import type { Dec } from '../money/decimal';

/** RULES §8 "Suggested ledger model". Amounts are Decimals; entry prices at full precision. */
export type AssetMode = 'SINGLE' | 'MULTI';
export type PositionMode = 'ONE_WAY' | 'HEDGE';
export type MarginType = 'CROSSED' | 'ISOLATED';
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type OrderSide = 'BUY' | 'SELL';

export interface Position {
  symbol: string;
  positionSide: PositionSide;
  /** Signed: long > 0 (a hedge-mode SHORT side is negative). */
  quantity: Dec;
  /** Full precision, never rounded (RULES §2.6). */
  entryPrice: Dec;
  marginType: MarginType;
  /** Isolated positions only; 0 for cross. */
  isolatedWallet: Dec;
}

export interface OpenOrder {
  orderId: string;
  symbol: string;
  side: OrderSide;
  positionSide: PositionSide;
  /** Unfilled quantity. */
  quantity: Dec;
  price: Dec;
}

export interface SymbolSettings {
  leverage?: number;
  marginType: MarginType;
}

export interface AccountState {
  accountId: string;
  opened: boolean;
  vipLevel: number;
  assetMode: AssetMode;
  positionMode: PositionMode;
  /** Cross wallet balance per asset (isolated wallets live on their positions). */
  wallets: ReadonlyMap<string, Dec>;
  /** Keyed by `positionKey(symbol, positionSide)`. */
  positions: ReadonlyMap<string, Position>;
  symbols: ReadonlyMap<string, SymbolSettings>;
  orders: ReadonlyMap<string, OpenOrder>;
}

export function initialAccountState(accountId: string): AccountState {
  return {
    accountId,
    opened: false,
    vipLevel: 0,
    assetMode: 'SINGLE',
    positionMode: 'ONE_WAY',
    wallets: new Map(),
    positions: new Map(),
    symbols: new Map(),
    orders: new Map(),
  };
}

/** `BTCUSDT` in one-way mode, `BTCUSDT:LONG` / `BTCUSDT:SHORT` in hedge mode (the scenario-format keys). */
export function positionKey(symbol: string, positionSide: PositionSide): string {
  return positionSide === 'BOTH' ? symbol : `${symbol}:${positionSide}`;
}

export function leverageOf(state: AccountState, symbol: string, defaultLeverage: number): number {
  return state.symbols.get(symbol)?.leverage ?? defaultLeverage;
}

export function marginTypeOf(state: AccountState, symbol: string): MarginType {
  return state.symbols.get(symbol)?.marginType ?? 'CROSSED';
}
