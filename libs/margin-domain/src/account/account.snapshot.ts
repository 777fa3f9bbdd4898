import { D, str } from '../money/decimal';
import type {
  AccountState,
  MarginType,
  OrderSide,
  PositionMode,
  PositionSide,
  AssetMode,
} from './account.state';

/** Schema version of the snapshot JSON below; bump it (and let old snapshots be ignored) when the shape changes. */
export const ACCOUNT_SNAPSHOT_SCHEMA_VERSION = 1;

export interface AccountSnapshotJson {
  accountId: string;
  opened: boolean;
  vipLevel: number;
  assetMode: AssetMode;
  positionMode: PositionMode;
  wallets: [string, string][];
  positions: [
    string,
    {
      symbol: string;
      positionSide: PositionSide;
      quantity: string;
      entryPrice: string;
      marginType: MarginType;
      isolatedWallet: string;
    },
  ][];
  symbols: [string, { leverage?: number; marginType: MarginType }][];
  orders: [
    string,
    {
      orderId: string;
      symbol: string;
      side: OrderSide;
      positionSide: PositionSide;
      quantity: string;
      price: string;
    },
  ][];
}

/** Exact, lossless: decimals as strings, entry prices at full precision. */
export function accountStateToJson(state: AccountState): AccountSnapshotJson {
  return {
    accountId: state.accountId,
    opened: state.opened,
    vipLevel: state.vipLevel,
    assetMode: state.assetMode,
    positionMode: state.positionMode,
    wallets: [...state.wallets].map(([a, v]) => [a, v.toFixed()]),
    positions: [...state.positions].map(([k, p]) => [
      k,
      {
        symbol: p.symbol,
        positionSide: p.positionSide,
        quantity: p.quantity.toFixed(),
        entryPrice: p.entryPrice.toFixed(),
        marginType: p.marginType,
        isolatedWallet: p.isolatedWallet.toFixed(),
      },
    ]),
    symbols: [...state.symbols].map(([s, v]) => [s, { ...v }]),
    orders: [...state.orders].map(([id, o]) => [
      id,
      {
        orderId: o.orderId,
        symbol: o.symbol,
        side: o.side,
        positionSide: o.positionSide,
        quantity: str(o.quantity),
        price: str(o.price),
      },
    ]),
  };
}

export function accountStateFromJson(json: AccountSnapshotJson): AccountState {
  return {
    accountId: json.accountId,
    opened: json.opened,
    vipLevel: json.vipLevel,
    assetMode: json.assetMode,
    positionMode: json.positionMode,
    wallets: new Map(json.wallets.map(([a, v]) => [a, new D(v)])),
    positions: new Map(
      json.positions.map(([k, p]) => [
        k,
        {
          ...p,
          quantity: new D(p.quantity),
          entryPrice: new D(p.entryPrice),
          isolatedWallet: new D(p.isolatedWallet),
        },
      ]),
    ),
    symbols: new Map(json.symbols.map(([s, v]) => [s, { ...v }])),
    orders: new Map(
      json.orders.map(([id, o]) => [
        id,
        { ...o, quantity: new D(o.quantity), price: new D(o.price) },
      ]),
    ),
  };
}
