import type { EventStore, HashChainReport } from '@ledger/event-store';
import type { AccountState } from '@ledger/margin-domain';
import {
  ACCOUNT_SNAPSHOT_SCHEMA_VERSION,
  accountStateToJson,
  initialAccountState,
} from '@ledger/margin-domain';
import { expectedProjection, readProjectedAccount } from '../read/account-projection';
import { accountStream } from '../ledger/streams';
import { AccountRepository, foldTail } from '../ledger/account-repository';
import { foldAllAccounts } from './account-folds';
import { jsonDiff } from './json-diff';

export interface VerifyReport {
  accounts: number;
  events: number;
  snapshots: number;
  mismatches: { accountId: string; what: string; diff: string[] }[];
  /**
   * Every stream's hash chain recomputed from the stored events (null when the store keeps no chain): the
   * unhashed prefix per stream, and the first event of a stream that does not match (stream, version, position).
   */
  chains: HashChainReport | null;
}

/** True when verify found nothing wrong: no projection or snapshot difference, no broken hash chain. */
export function verifyIsClean(report: VerifyReport): boolean {
  return report.mismatches.length === 0 && (report.chains?.mismatches.length ?? 0) === 0;
}

/**
 * `ledger verify`: checks every stream's hash chain (an event edited behind the ledger's back is named), then
 * replays every account stream from its first event and compares the fold with the inline projections and with
 * every snapshot. Any difference is a bug (or tampering) and is reported path by path.
 */
export async function verifyLedger(
  store: EventStore,
  onProgress?: (events: number, total: number) => void,
  onChainProgress?: (events: number) => void,
): Promise<VerifyReport> {
  const chains = store.verifyHashChains
    ? await store.verifyHashChains(onChainProgress ? { onProgress: onChainProgress } : {})
    : null;
  const folds = await foldAllAccounts(store, (p) => onProgress?.(p.events, p.total));
  const report: VerifyReport = {
    accounts: 0,
    events: 0,
    snapshots: 0,
    mismatches: [],
    chains,
  };
  const repository = new AccountRepository(store, Number.MAX_SAFE_INTEGER);
  // Every account the log or the projection knows. The global read stops below the cluster-wide xmin, so an
  // account just written may be in the projection only: its own stream (read without that horizon) decides.
  const projectedIds = await store.query<{ account_id: string }>(
    'SELECT account_id FROM accounts ORDER BY account_id',
  );
  const accountIds = [
    ...new Set([...folds.keys(), ...projectedIds.map((row) => row.account_id)]),
  ].sort();
  for (const accountId of accountIds) {
    const global = folds.get(accountId) ?? (await foldStream(store, accountId));
    if (global.version === 0) {
      report.mismatches.push({ accountId, what: 'projection without events', diff: [] });
      continue;
    }
    report.accounts += 1;
    // The global read stops below the cluster-wide xmin while the projection is read as committed: compare the
    // projection with a fold of the stream itself, and read both again before calling a difference a mismatch
    // (a command may commit between the two reads while the ledger runs).
    let folded = global;
    let diff: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      folded = await foldStream(store, accountId);
      const projected = await readProjectedAccount(store, accountId);
      diff = jsonDiff(expectedProjection(folded.state, folded.version), projected);
      if (diff.length === 0) break;
    }
    report.events += folded.version;
    if (diff.length > 0) report.mismatches.push({ accountId, what: 'projection', diff });
    const snapshots = await store.query<{ stream_version: number }>(
      'SELECT stream_version FROM snapshots WHERE stream_id = $1 AND schema_version = $2 ORDER BY stream_version',
      [accountStream(accountId), ACCOUNT_SNAPSHOT_SCHEMA_VERSION],
    );
    for (const { stream_version } of snapshots) {
      report.snapshots += 1;
      const version = Number(stream_version);
      const fromSnapshot = await repository.loadAt(accountId, version);
      const replayed = await foldPrefix(store, accountId, version);
      const snapDiff = jsonDiff(
        accountStateToJson(replayed),
        accountStateToJson(fromSnapshot.state),
      );
      if (snapDiff.length > 0)
        report.mismatches.push({
          accountId,
          what: `snapshot at version ${version}`,
          diff: snapDiff,
        });
    }
  }
  return report;
}

async function foldStream(store: EventStore, accountId: string) {
  const events = await store.readStream(accountStream(accountId));
  return foldTail({ state: initialAccountState(accountId), version: 0, lastAt: undefined }, events);
}

async function foldPrefix(
  store: EventStore,
  accountId: string,
  version: number,
): Promise<AccountState> {
  const events = await store.readStream(accountStream(accountId), { toVersion: version });
  return foldTail({ state: initialAccountState(accountId), version: 0, lastAt: undefined }, events)
    .state;
}
