/**
 * Account event and command builders with safe defaults (STYLE §6): each overrides only what a test is about.
 * Events build the `given` history of a decider spec; commands are what the test sends `when`. Amounts are decimal
 * strings, as on the wire.
 */
import type {
  AccountEvent,
  AccountOpened,
  AdjustIsolatedMargin,
  AssetMode,
  CancelOrder,
  Deposit,
  Deposited,
  Fill,
  MarginType,
  OrderPlaced,
  PlaceOrder,
  PositionChanged,
  PositionMode,
  PositionSide,
  SetLeverage,
  SetMarginType,
  SetPositionMode,
  SettleAccountFunding,
  SwitchAssetMode,
  Withdraw,
  Withdrawn,
} from '@ledger/margin-domain';

export const DEFAULT_ACCOUNT_ID = 'acc-1';

// ---------------------------------------------------------------------------------------------------- events

export function anAccountOpened(
  overrides: Partial<{
    accountId: string;
    vipLevel: number;
    assetMode: AssetMode;
    positionMode: PositionMode;
  }> = {},
): AccountOpened {
  return {
    type: 'AccountOpened',
    data: {
      accountId: overrides.accountId ?? DEFAULT_ACCOUNT_ID,
      vipLevel: overrides.vipLevel ?? 0,
      assetMode: overrides.assetMode ?? 'SINGLE',
      positionMode: overrides.positionMode ?? 'ONE_WAY',
    },
  };
}

/** A deposit to the cross wallet (default USDT). */
export function aDeposit(amount: string, asset = 'USDT'): Deposited {
  return { type: 'Deposited', data: { asset, amount } };
}

/** A withdrawal from the cross wallet (default USDT). As a `given` fact it may leave the wallet negative. */
export function aWithdrawal(amount: string, asset = 'USDT'): Withdrawn {
  return { type: 'Withdrawn', data: { asset, amount } };
}

export function aLeverageChange(symbol: string, leverage: number, previous = 20): AccountEvent {
  return { type: 'LeverageChanged', data: { symbol, leverage, previous } };
}

export function aMarginTypeChange(symbol: string, marginType: MarginType): AccountEvent {
  return { type: 'MarginTypeChanged', data: { symbol, marginType } };
}

export function anAssetModeChange(to: AssetMode): AccountEvent {
  return { type: 'AssetModeChanged', data: { from: to === 'MULTI' ? 'SINGLE' : 'MULTI', to } };
}

export function anOrderPlaced(overrides: Partial<OrderPlaced['data']> = {}): OrderPlaced {
  return {
    type: 'OrderPlaced',
    data: {
      orderId: 'o-1',
      symbol: 'BTCUSDT',
      side: 'BUY',
      positionSide: 'BOTH',
      quantity: '0.01',
      price: '50000',
      ...overrides,
    },
  };
}

export interface PositionInput {
  symbol?: string;
  /** Signed: long > 0. */
  positionAmt: string;
  entryPrice: string;
  marginAsset?: string;
  marginType?: MarginType;
  positionSide?: PositionSide;
  /** Isolated positions: the margin moved from the cross wallet at open (default 0). */
  isolatedWallet?: string;
  fee?: string;
}

/**
 * A position opened from flat in one fill: quantity |positionAmt| at entryPrice, no realized PnL, fee 0 by default
 * (so the wallet is unchanged unless a fee is given). Default BTCUSDT, USDT, cross, one-way.
 */
export function aPositionOpened(input: PositionInput): PositionChanged {
  const symbol = input.symbol ?? 'BTCUSDT';
  const long = !input.positionAmt.startsWith('-');
  const marginType = input.marginType ?? 'CROSSED';
  return {
    type: 'PositionChanged',
    data: {
      symbol,
      positionSide: input.positionSide ?? 'BOTH',
      side: long ? 'BUY' : 'SELL',
      quantity: long ? input.positionAmt : input.positionAmt.slice(1),
      price: input.entryPrice,
      fee: input.fee ?? '0',
      maker: false,
      marginAsset: input.marginAsset ?? (symbol.endsWith('USDC') ? 'USDC' : 'USDT'),
      marginType,
      realizedPnl: '0',
      positionAmt: input.positionAmt,
      entryPrice: input.entryPrice,
      isolatedTransfer: marginType === 'ISOLATED' ? (input.isolatedWallet ?? '0') : '0',
    },
  };
}

/** Alias: the event a Fill produces. */
export const aPositionChanged = aPositionOpened;

// ---------------------------------------------------------------------------------------------------- commands

export function depositCommand(
  amount: unknown,
  asset: unknown = 'USDT',
  accountId = DEFAULT_ACCOUNT_ID,
): Deposit {
  return { type: 'Deposit', accountId, asset, amount };
}

export function withdrawCommand(
  amount: unknown,
  asset: unknown = 'USDT',
  accountId = DEFAULT_ACCOUNT_ID,
): Withdraw {
  return { type: 'Withdraw', accountId, asset, amount };
}

/** A Fill command: default BUY 0.01 BTCUSDT at 60,000, fee from the schedule. */
export function aFill(overrides: Partial<Omit<Fill, 'type'>> = {}): Fill {
  return {
    type: 'Fill',
    accountId: DEFAULT_ACCOUNT_ID,
    symbol: 'BTCUSDT',
    side: 'BUY',
    quantity: '0.01',
    price: '60000',
    ...overrides,
  };
}

export function aPlaceOrder(overrides: Partial<Omit<PlaceOrder, 'type'>> = {}): PlaceOrder {
  return {
    type: 'PlaceOrder',
    accountId: DEFAULT_ACCOUNT_ID,
    orderId: 'o-1',
    symbol: 'BTCUSDT',
    side: 'BUY',
    quantity: '0.01',
    price: '50000',
    ...overrides,
  };
}

export function cancelOrderCommand(orderId: unknown, accountId = DEFAULT_ACCOUNT_ID): CancelOrder {
  return { type: 'CancelOrder', accountId, orderId };
}

export function setLeverageCommand(
  symbol: unknown,
  leverage: unknown,
  accountId = DEFAULT_ACCOUNT_ID,
): SetLeverage {
  return { type: 'SetLeverage', accountId, symbol, leverage };
}

export function setMarginTypeCommand(
  symbol: unknown,
  marginType: unknown,
  accountId = DEFAULT_ACCOUNT_ID,
): SetMarginType {
  return { type: 'SetMarginType', accountId, symbol, marginType };
}

export function switchAssetModeCommand(
  assetMode: unknown,
  accountId = DEFAULT_ACCOUNT_ID,
): SwitchAssetMode {
  return { type: 'SwitchAssetMode', accountId, assetMode };
}

export function setPositionModeCommand(
  positionMode: unknown,
  accountId = DEFAULT_ACCOUNT_ID,
): SetPositionMode {
  return { type: 'SetPositionMode', accountId, positionMode };
}

export function adjustIsolatedMarginCommand(
  symbol: unknown,
  amount: unknown,
  positionSide?: unknown,
  accountId = DEFAULT_ACCOUNT_ID,
): AdjustIsolatedMargin {
  return {
    type: 'AdjustIsolatedMargin',
    accountId,
    symbol,
    amount,
    ...(positionSide === undefined ? {} : { positionSide }),
  };
}

export function settleFundingCommand(
  symbol: string,
  rate: string,
  accountId = DEFAULT_ACCOUNT_ID,
): SettleAccountFunding {
  return { type: 'SettleAccountFunding', accountId, symbol, rate };
}
