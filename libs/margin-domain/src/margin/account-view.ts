import type { Dec } from '../money/decimal';
import { str } from '../money/decimal';
import type { AccountState } from '../account/account.state';
import { leverageOf } from '../account/account.state';
import type { MarketView } from '../market/market';
import type { ReferenceData } from '../reference-data/reference-data.types';
import { computeMargin } from './margin-state';

/**
 * An account's margin state as JSON, with Binance's field names (spec/scenario-format.md "expect"). Values are
 * exact decimal strings (display rounding is the caller's); `marginRatio` is null when MM > 0 and the margin
 * balance ≤ 0.
 */
export interface AccountView {
  accountId: string;
  vipLevel: number;
  positionMode: string;
  account: {
    assetMode: string;
    totalWalletBalance: string;
    totalUnrealizedProfit: string;
    totalMarginBalance: string;
    totalMaintMargin: string;
    totalInitialMargin: string;
    availableBalance: string;
    maxWithdrawAmount: string;
    marginRatio: string | null;
  };
  assets: Record<string, AssetView>;
  positions: Record<string, PositionViewJson>;
  symbols: Record<string, { leverage: number; marginType: string }>;
  openOrders: {
    orderId: string;
    symbol: string;
    side: string;
    positionSide: string;
    quantity: string;
    price: string;
  }[];
}

export interface AssetView {
  walletBalance: string;
  crossWalletBalance: string;
  unrealizedProfit: string;
  marginBalance: string;
  maintMargin: string;
  initialMargin: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  marginRatio?: string | null;
  marginAvailable: boolean;
}

export interface PositionViewJson {
  symbol: string;
  positionSide: string;
  positionAmt: string;
  entryPrice: string;
  markPrice: string;
  unrealizedProfit: string;
  notional: string;
  leverage: number;
  marginType: string;
  isolatedWallet: string;
  isolatedMargin: string;
  maintMargin: string;
  initialMargin: string;
  liquidationPrice: string;
  marginAsset: string;
}

const ratio = (value: Dec | null | undefined): string | null =>
  value === null || value === undefined ? null : str(value);

export function accountView(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
): AccountView {
  const margin = computeMargin(state, market, ref);
  const a = margin.account;
  const assets: Record<string, AssetView> = {};
  for (const [asset, f] of margin.assets) {
    assets[asset] = {
      walletBalance: str(f.walletBalance),
      crossWalletBalance: str(f.crossWalletBalance),
      unrealizedProfit: str(f.unrealizedProfit),
      marginBalance: str(f.marginBalance),
      maintMargin: str(f.maintMargin),
      initialMargin: str(f.initialMargin),
      availableBalance: str(f.availableBalance),
      maxWithdrawAmount: str(f.maxWithdrawAmount),
      ...(f.marginRatio === undefined ? {} : { marginRatio: ratio(f.marginRatio) }),
      marginAvailable: f.marginAvailable,
    };
  }
  const positions: Record<string, PositionViewJson> = {};
  for (const [key, p] of margin.positions) {
    positions[key] = {
      symbol: p.position.symbol,
      positionSide: p.position.positionSide,
      positionAmt: str(p.position.quantity),
      entryPrice: str(p.position.entryPrice),
      markPrice: str(p.mark),
      unrealizedProfit: str(p.unrealizedProfit),
      notional: str(p.position.quantity.isNegative() ? p.notional.neg() : p.notional),
      leverage: p.leverage,
      marginType: p.position.marginType,
      isolatedWallet: str(p.position.isolatedWallet),
      isolatedMargin: str(p.isolatedMargin),
      maintMargin: str(p.maintMargin),
      initialMargin: str(p.initialMargin),
      liquidationPrice: str(p.liquidationPrice),
      marginAsset: p.marginAsset,
    };
  }
  const symbols: AccountView['symbols'] = {};
  for (const [symbol, s] of state.symbols) {
    symbols[symbol] = {
      leverage: leverageOf(state, symbol, ref.defaultLeverage),
      marginType: s.marginType,
    };
  }
  return {
    accountId: state.accountId,
    vipLevel: state.vipLevel,
    positionMode: state.positionMode,
    account: {
      assetMode: a.assetMode,
      totalWalletBalance: str(a.totalWalletBalance),
      totalUnrealizedProfit: str(a.totalUnrealizedProfit),
      totalMarginBalance: str(a.totalMarginBalance),
      totalMaintMargin: str(a.totalMaintMargin),
      totalInitialMargin: str(a.totalInitialMargin),
      availableBalance: str(a.availableBalance),
      maxWithdrawAmount: str(a.maxWithdrawAmount),
      marginRatio: ratio(a.marginRatio),
    },
    assets,
    positions,
    symbols,
    openOrders: [...state.orders.values()].map((o) => ({
      orderId: o.orderId,
      symbol: o.symbol,
      side: o.side,
      positionSide: o.positionSide,
      quantity: str(o.quantity),
      price: str(o.price),
    })),
  };
}
