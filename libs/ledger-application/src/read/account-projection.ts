import type { EventStore, RecordedEvent, Transaction } from '@ledger/event-store';
import type { AccountSnapshotJson, AccountState } from '@ledger/margin-domain';
import { D, accountStateToJson } from '@ledger/margin-domain';
import type { InlineProjection } from '../ledger/ledger';

/**
 * The inline projection (ARCHITECTURE "Read side"): one call per append, in its transaction, replacing the
 * account's rows with the state after the events (migration CreateAccountProjections).
 */
export const sqlAccountProjection: InlineProjection = async (
  tx: Transaction,
  accountId: string,
  state: AccountState,
  events: RecordedEvent[],
) => {
  const last = events[events.length - 1];
  if (!last) return;
  const json = { ...accountStateToJson(state), lastAt: last.metadata.occurredAt };
  await tx.query('SELECT ledger_project_account($1, $2, $3::jsonb)', [
    accountId,
    last.streamVersion,
    JSON.stringify(json),
  ]);
};

/** The projected rows of one account, in the snapshot JSON shape (decimals normalised), for `ledger verify`. */
export interface ProjectedAccount {
  version: number;
  state: Omit<AccountSnapshotJson, 'accountId' | 'opened'>;
}

const norm = (value: unknown): string => new D(String(value)).toFixed();

export async function readProjectedAccount(
  store: EventStore,
  accountId: string,
): Promise<ProjectedAccount | null> {
  const [account] = await store.query<{
    stream_version: number;
    asset_mode: string;
    position_mode: string;
    vip_level: number;
  }>(
    'SELECT stream_version, asset_mode, position_mode, vip_level FROM accounts WHERE account_id = $1',
    [accountId],
  );
  if (!account) return null;
  const wallets = await store.query<{ asset: string; balance: string }>(
    'SELECT asset, balance::text AS balance FROM account_wallets WHERE account_id = $1 ORDER BY asset',
    [accountId],
  );
  const positions = await store.query<Record<string, string>>(
    `SELECT position_key, symbol, position_side, quantity::text AS quantity, entry_price::text AS entry_price,
            margin_type, isolated_wallet::text AS isolated_wallet
       FROM account_positions WHERE account_id = $1 ORDER BY position_key`,
    [accountId],
  );
  const symbols = await store.query<{
    symbol: string;
    leverage: number | null;
    margin_type: string;
  }>(
    'SELECT symbol, leverage, margin_type FROM account_symbol_settings WHERE account_id = $1 ORDER BY symbol',
    [accountId],
  );
  const orders = await store.query<Record<string, string>>(
    `SELECT order_id, symbol, side, position_side, quantity::text AS quantity, price::text AS price
       FROM account_orders WHERE account_id = $1 ORDER BY order_id`,
    [accountId],
  );
  return {
    version: Number(account.stream_version),
    state: {
      vipLevel: Number(account.vip_level),
      assetMode: account.asset_mode as AccountSnapshotJson['assetMode'],
      positionMode: account.position_mode as AccountSnapshotJson['positionMode'],
      wallets: wallets.map((w) => [w.asset, norm(w.balance)]),
      positions: positions.map((p) => [
        String(p.position_key),
        {
          symbol: String(p.symbol),
          positionSide: p.position_side as 'BOTH',
          quantity: norm(p.quantity),
          entryPrice: norm(p.entry_price),
          marginType: p.margin_type as 'CROSSED',
          isolatedWallet: norm(p.isolated_wallet),
        },
      ]),
      symbols: symbols.map((s) => [
        s.symbol,
        {
          ...(s.leverage === null ? {} : { leverage: Number(s.leverage) }),
          marginType: s.margin_type as 'CROSSED',
        },
      ]),
      orders: orders.map((o) => [
        String(o.order_id),
        {
          orderId: String(o.order_id),
          symbol: String(o.symbol),
          side: o.side as 'BUY',
          positionSide: o.position_side as 'BOTH',
          quantity: norm(o.quantity),
          price: norm(o.price),
        },
      ]),
    },
  };
}

/** The same shape from a fold, sorted like the projection's reads. */
export function expectedProjection(state: AccountState, version: number): ProjectedAccount {
  const json = accountStateToJson(state);
  const byKey = <T>(list: [string, T][]): [string, T][] =>
    [...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    version,
    state: {
      vipLevel: json.vipLevel,
      assetMode: json.assetMode,
      positionMode: json.positionMode,
      wallets: byKey(json.wallets).map(([a, v]) => [a, norm(v)]),
      positions: byKey(json.positions).map(([k, p]) => [
        k,
        {
          ...p,
          quantity: norm(p.quantity),
          entryPrice: norm(p.entryPrice),
          isolatedWallet: norm(p.isolatedWallet),
        },
      ]),
      symbols: byKey(json.symbols),
      orders: byKey(json.orders).map(([k, o]) => [
        k,
        { ...o, quantity: norm(o.quantity), price: norm(o.price) },
      ]),
    },
  };
}
