import type { EventStore, ReadAllOptions, RecordedEvent } from '@ledger/event-store';
import { checkpointOf } from '@ledger/event-store';

/** Events per page of a full read of the log. */
export const READ_ALL_PAGE = 5000;

/**
 * The whole log (or the streams `options` filters) in reader order, one page at a time: a keyset read from the
 * last event of the previous page, until a page comes back empty.
 */
export async function* readAllBatches(
  store: EventStore,
  options: Omit<ReadAllOptions, 'limit'> = {},
): AsyncGenerator<RecordedEvent[]> {
  let after = options.after ?? null;
  for (;;) {
    const batch = await store.readAll({ ...options, after, limit: READ_ALL_PAGE });
    const last = batch[batch.length - 1];
    if (!last) return;
    yield batch;
    after = checkpointOf(last);
  }
}
