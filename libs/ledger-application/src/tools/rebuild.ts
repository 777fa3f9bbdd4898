import type { EventStore } from '@ledger/event-store';
import { accountStateToJson } from '@ledger/margin-domain';
import { foldAllAccounts } from './account-folds';

export const REBUILDABLE_PROJECTIONS = ['accounts'] as const;
export type RebuildableProjection = (typeof REBUILDABLE_PROJECTIONS)[number];

export interface RebuildProgress {
  phase: 'fold' | 'write';
  done: number;
  total: number;
}

/**
 * Rebuilds the inline account projections from the events: every stream is folded first (outside any
 * transaction), then all rows are replaced in ONE transaction, so readers see the old rows until the commit and
 * the new ones after it (the swap is atomic; MVCC keeps the old version readable meanwhile).
 */
export async function rebuildAccountProjections(
  store: EventStore,
  onProgress?: (p: RebuildProgress) => void,
): Promise<{ accounts: number; events: number }> {
  const folds = await foldAllAccounts(store, (p) => onProgress?.({ phase: 'fold', done: p.events, total: p.total }));
  let events = 0;
  await store.withTransaction(async (tx) => {
    for (const table of ['accounts', 'account_wallets', 'account_positions', 'account_symbol_settings', 'account_orders']) {
      await tx.query(`DELETE FROM ${table}`);
    }
    let done = 0;
    for (const [accountId, folded] of folds) {
      events += folded.version;
      if (folded.version === 0) continue;
      const json = { ...accountStateToJson(folded.state), lastAt: folded.lastAt };
      await tx.query('SELECT ledger_project_account($1, $2, $3::jsonb)', [accountId, folded.version, JSON.stringify(json)]);
      done += 1;
      if (done % 500 === 0) onProgress?.({ phase: 'write', done, total: folds.size });
    }
    onProgress?.({ phase: 'write', done: folds.size, total: folds.size });
  });
  return { accounts: folds.size, events };
}
