/**
 * Account commands: the same names and fields as the scenario format and the HTTP API bodies
 * (spec/scenario-format.md). Fields arrive untyped from JSON; `decide` validates each one and names the field at
 * fault. Time and ids arrive with the command (the application's metadata), never from a clock here.
 */
export interface OpenAccount {
  type: 'OpenAccount';
  accountId: string;
  vipLevel?: unknown;
  assetMode?: unknown;
  positionMode?: unknown;
}
export interface Deposit {
  type: 'Deposit';
  accountId: string;
  asset: unknown;
  amount: unknown;
}
export interface Withdraw {
  type: 'Withdraw';
  accountId: string;
  asset: unknown;
  amount: unknown;
}
export interface SetLeverage {
  type: 'SetLeverage';
  accountId: string;
  symbol: unknown;
  leverage: unknown;
}
export interface SetMarginType {
  type: 'SetMarginType';
  accountId: string;
  symbol: unknown;
  marginType: unknown;
}
export interface SwitchAssetMode {
  type: 'SwitchAssetMode';
  accountId: string;
  assetMode: unknown;
}
export interface SetPositionMode {
  type: 'SetPositionMode';
  accountId: string;
  positionMode: unknown;
}
export interface SetVipLevel {
  type: 'SetVipLevel';
  accountId: string;
  vipLevel: unknown;
}
export interface Fill {
  type: 'Fill';
  accountId: string;
  symbol: unknown;
  side: unknown;
  quantity: unknown;
  price: unknown;
  fee?: unknown;
  maker?: unknown;
  positionSide?: unknown;
  orderId?: unknown;
}
export interface PlaceOrder {
  type: 'PlaceOrder';
  accountId: string;
  orderId: unknown;
  symbol: unknown;
  side: unknown;
  quantity: unknown;
  price: unknown;
  positionSide?: unknown;
}
export interface CancelOrder {
  type: 'CancelOrder';
  accountId: string;
  orderId: unknown;
}
export interface AdjustIsolatedMargin {
  type: 'AdjustIsolatedMargin';
  accountId: string;
  symbol: unknown;
  amount: unknown;
  positionSide?: unknown;
}
/** Issued by the application for each account holding the symbol when a `SettleFunding` runs (RULES §5). */
export interface SettleAccountFunding {
  type: 'SettleAccountFunding';
  accountId: string;
  symbol: string;
  /** Validated by the market command. */
  rate: string;
}
/** Issued by the risk saga (RULES §3). */
export interface AutoExchange {
  type: 'AutoExchange';
  accountId: string;
  asset: string;
  trigger: 'THRESHOLD' | 'LIQUIDATION' | 'LTV';
}
/** Issued by the risk saga (RULES §2.2, §2.3, §2.5). */
export interface Liquidate {
  type: 'Liquidate';
  accountId: string;
}

export type AccountCommand =
  | OpenAccount
  | Deposit
  | Withdraw
  | SetLeverage
  | SetMarginType
  | SwitchAssetMode
  | SetPositionMode
  | SetVipLevel
  | Fill
  | PlaceOrder
  | CancelOrder
  | AdjustIsolatedMargin
  | SettleAccountFunding
  | AutoExchange
  | Liquidate;

export type AccountCommandType = AccountCommand['type'];

export const ACCOUNT_COMMAND_TYPES: readonly AccountCommandType[] = [
  'OpenAccount',
  'Deposit',
  'Withdraw',
  'SetLeverage',
  'SetMarginType',
  'SwitchAssetMode',
  'SetPositionMode',
  'SetVipLevel',
  'Fill',
  'PlaceOrder',
  'CancelOrder',
  'AdjustIsolatedMargin',
  'SettleAccountFunding',
  'AutoExchange',
  'Liquidate',
];
