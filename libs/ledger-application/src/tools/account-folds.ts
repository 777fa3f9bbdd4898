import type { EventStore } from '@ledger/event-store';
import { initialAccountState } from '@ledger/margin-domain';
import type { LoadedAccount } from '../ledger/account-repository';
import { foldTail } from '../ledger/account-repository';
import { ACCOUNT_STREAM_PREFIX, accountIdOf } from '../ledger/streams';
import { readAllBatches } from '../ledger/read-all-batches';

export interface FoldProgress {
  events: number;
  /** Events in the store (an estimate: the head position). */
  total: number;
}

/** Folds every account stream from the first event, streaming the log in global order. */
export async function foldAllAccounts(
  store: EventStore,
  onProgress?: (p: FoldProgress) => void,
): Promise<Map<string, LoadedAccount>> {
  const head = await store.headCheckpoint();
  const total = Number(head?.globalPosition ?? 0n);
  const accounts = new Map<string, LoadedAccount>();
  let count = 0;
  for await (const batch of readAllBatches(store, { streamPrefixes: [ACCOUNT_STREAM_PREFIX] })) {
    for (const e of batch) {
      const id = accountIdOf(e.streamId);
      if (id === undefined) continue;
      const base = accounts.get(id) ?? {
        state: initialAccountState(id),
        version: 0,
        lastAt: undefined,
      };
      accounts.set(id, foldTail(base, [e]));
    }
    count += batch.length;
    onProgress?.({ events: count, total });
  }
  return accounts;
}
