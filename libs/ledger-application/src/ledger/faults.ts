import type { RecordedEvent } from '@ledger/event-store';

/**
 * Fault-injection points for the simulator (`ledger sim`): a hook injects its fault by throwing. The product never
 * sets them; each call site is an optional call on an absent object, so they cost nothing there.
 *
 * - `afterAppend`: the store has committed an append; the ledger has not yet updated its caches nor acknowledged
 *   the command. Throwing here is a crash between the commit and the acknowledgement.
 * - `consumerBatch`: a durable consumer is handling a batch. Phase `inside` is called before each unit of work of
 *   the batch (the risk saga: before each run of one command's events), so a throw is a crash part-way through it;
 *   phase `after` is called once the handler has done all its work, before the checkpoint is stored, so a throw
 *   makes the store deliver the same batch again (a redelivery).
 */
export interface LedgerFaults {
  afterAppend?(streamId: string, commandId: string): void;
  consumerBatch?(
    consumer: string,
    phase: 'inside' | 'after',
    batch: readonly RecordedEvent[],
  ): void;
}
