import type { EventStore, Transaction } from '@ledger/event-store';
import { accountStateToJson } from '@ledger/margin-domain';
import { foldAllAccounts } from './account-folds';

export const REBUILDABLE_PROJECTIONS = ['accounts', 'margin-history'] as const;
export type RebuildableProjection = (typeof REBUILDABLE_PROJECTIONS)[number];

export interface RebuildProgress {
  phase: 'fold' | 'write';
  done: number;
  total: number;
}

/** The inline projection's tables (migration CreateAccountProjections), each rebuilt into `<table>_next`. */
const TABLES = [
  'accounts',
  'account_wallets',
  'account_positions',
  'account_symbol_settings',
  'account_orders',
];

/** Accounts written per batch of INSERTs into the `_next` tables. */
const WRITE_BATCH_ACCOUNTS = 1000;

/**
 * Rows of every table from a batch of `{ accountId, version, lastAt, state }` (the snapshot JSON): the same
 * mapping as `ledger_project_account`, for many accounts in one statement per table.
 */
const INSERT_NEXT: Record<string, string> = {
  accounts: `INSERT INTO accounts_next (account_id, stream_version, asset_mode, position_mode, vip_level, last_event_at)
    SELECT r->>'accountId', (r->>'version')::integer, r->'state'->>'assetMode', r->'state'->>'positionMode',
           (r->'state'->>'vipLevel')::integer, (r->>'lastAt')::timestamptz
      FROM jsonb_array_elements($1::jsonb) r`,
  account_wallets: `INSERT INTO account_wallets_next (account_id, asset, balance)
    SELECT r->>'accountId', w->>0, (w->>1)::numeric
      FROM jsonb_array_elements($1::jsonb) r, jsonb_array_elements(r->'state'->'wallets') w`,
  account_positions: `INSERT INTO account_positions_next (account_id, position_key, symbol, position_side, quantity,
                                                          entry_price, margin_type, isolated_wallet)
    SELECT r->>'accountId', p->>0, p->1->>'symbol', p->1->>'positionSide', (p->1->>'quantity')::numeric,
           (p->1->>'entryPrice')::numeric, p->1->>'marginType', (p->1->>'isolatedWallet')::numeric
      FROM jsonb_array_elements($1::jsonb) r, jsonb_array_elements(r->'state'->'positions') p`,
  account_symbol_settings: `INSERT INTO account_symbol_settings_next (account_id, symbol, leverage, margin_type)
    SELECT r->>'accountId', s->>0, (s->1->>'leverage')::integer, s->1->>'marginType'
      FROM jsonb_array_elements($1::jsonb) r, jsonb_array_elements(r->'state'->'symbols') s`,
  account_orders: `INSERT INTO account_orders_next (account_id, order_id, symbol, side, position_side, quantity, price)
    SELECT r->>'accountId', o->>0, o->1->>'symbol', o->1->>'side', o->1->>'positionSide',
           (o->1->>'quantity')::numeric, (o->1->>'price')::numeric
      FROM jsonb_array_elements($1::jsonb) r, jsonb_array_elements(r->'state'->'orders') o`,
};

/**
 * Rebuilds the inline account projections side by side: every stream is folded (outside any transaction), the
 * rows go into `<table>_next`, and one transaction swaps the tables in. Commands keep running meanwhile and keep
 * writing the live tables; the swap locks them against writers and carries over the rows of every account that
 * changed after the fold (the inline projection rewrote those rows whole at that append), so nothing is lost.
 */
export async function rebuildAccountProjections(
  store: EventStore,
  onProgress?: (p: RebuildProgress) => void,
): Promise<{ accounts: number; events: number }> {
  const folds = await foldAllAccounts(store, (p) =>
    onProgress?.({ phase: 'fold', done: p.events, total: p.total }),
  );
  await store.withTransaction(async (tx) => {
    for (const table of TABLES) {
      await tx.query(`DROP TABLE IF EXISTS ${table}_next`);
      await tx.query(`CREATE TABLE ${table}_next (LIKE ${table} INCLUDING ALL)`);
    }
  });
  let events = 0;
  const rows: unknown[] = [];
  for (const [accountId, folded] of folds) {
    events += folded.version;
    if (folded.version === 0) continue;
    rows.push({
      accountId,
      version: folded.version,
      lastAt: folded.lastAt,
      state: accountStateToJson(folded.state),
    });
  }
  for (let i = 0; i < rows.length; i += WRITE_BATCH_ACCOUNTS) {
    const payload = JSON.stringify(rows.slice(i, i + WRITE_BATCH_ACCOUNTS));
    await store.withTransaction(async (tx) => {
      for (const table of TABLES) await tx.query(INSERT_NEXT[table] ?? '', [payload]);
    });
    onProgress?.({
      phase: 'write',
      done: Math.min(i + WRITE_BATCH_ACCOUNTS, rows.length),
      total: rows.length,
    });
  }
  await store.withTransaction(swapIn);
  onProgress?.({ phase: 'write', done: rows.length, total: rows.length });
  return { accounts: folds.size, events };
}

async function swapIn(tx: Transaction): Promise<void> {
  await tx.query(`LOCK TABLE ${TABLES.join(', ')} IN EXCLUSIVE MODE`);
  await tx.query(`CREATE TEMP TABLE rebuild_changed ON COMMIT DROP AS
    SELECT a.account_id FROM accounts a LEFT JOIN accounts_next n USING (account_id)
     WHERE n.account_id IS NULL OR a.stream_version > n.stream_version`);
  for (const table of TABLES) {
    await tx.query(
      `DELETE FROM ${table}_next WHERE account_id IN (SELECT account_id FROM rebuild_changed)`,
    );
    await tx.query(
      `INSERT INTO ${table}_next SELECT * FROM ${table} WHERE account_id IN (SELECT account_id FROM rebuild_changed)`,
    );
  }
  for (const table of TABLES) {
    await tx.query(`ALTER TABLE ${table} RENAME TO ${table}_old`);
    await tx.query(`ALTER TABLE ${table}_next RENAME TO ${table}`);
    await tx.query(`DROP TABLE ${table}_old`);
  }
}
