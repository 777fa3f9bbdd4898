/**
 * Is it safe to start a consumer on this server? (Issue 11, item 8.) Transaction ids (xid8) are a server's own
 * counter: a database restored from a dump into another server keeps the old server's `transaction_id` values,
 * which may lie above the new server's counter. Readers read below `pg_snapshot_xmin`, so they would never see
 * those events, and new appends would get smaller ids and sort before them: consumers would go silently wrong.
 */

/** What the start-up check reads, in one statement. */
export interface ServerOrigin {
  /** `pg_control_system().system_identifier` of the server now (decimal text: a bigint). */
  currentIdentifier: string;
  /** The identifier stored with the consumer's checkpoint; null when none is (a new consumer, or an older row). */
  storedIdentifier: string | null;
  /** `pg_current_xact_id()` now. */
  currentTransactionId: bigint;
  /** The highest `transaction_id` stored in events and checkpoints; null when there is none. */
  highestStoredTransactionId: bigint | null;
}

export type ServerOriginDecision =
  /** Same server as last time: nothing to check. */
  | { action: 'run' }
  /** Another (or an unknown) server, and every stored id is below its counter: record it, then run. */
  | { action: 'record'; note: string | null }
  /** Another server whose counter is not past the stored ids: refuse, with what to do. */
  | { action: 'refuse'; message: string };

/** The operators' procedure, named in the refusal. */
export const RESTORE_PROCEDURE_REFERENCE = 'README.md "Operations"';

export function decideServerOrigin(consumer: string, origin: ServerOrigin): ServerOriginDecision {
  if (origin.storedIdentifier === origin.currentIdentifier) return { action: 'run' };
  const highest = origin.highestStoredTransactionId;
  const moved =
    origin.storedIdentifier === null
      ? `no server recorded yet for consumer ${consumer}; this is server ${origin.currentIdentifier}`
      : `consumer ${consumer} last ran on server ${origin.storedIdentifier}, this is server ${origin.currentIdentifier}`;
  if (highest === null || origin.currentTransactionId > highest) {
    return {
      action: 'record',
      note:
        origin.storedIdentifier === null
          ? null
          : `${moved} (a restore?); its transaction id ${origin.currentTransactionId} is above every stored one (${highest ?? 'none'}): safe, recorded`,
    };
  }
  return {
    action: 'refuse',
    message:
      `refusing to start: ${moved}, and the database holds transaction ids up to ${highest}, not below this ` +
      `server's current ${origin.currentTransactionId} (a dump restored from another server?). Readers would never ` +
      `see those events and new appends would sort before them. Advance this server's transaction id counter past ` +
      `${highest} (epoch ${highest >> 32n}, xid ${highest & 0xffffffffn}; see ${RESTORE_PROCEDURE_REFERENCE}: ` +
      `pg_resetwal -e/-x on the stopped server, or consume transaction ids), then start again.`,
  };
}

/** A consumer did not start: see the message. */
export class ConsumerStartRefusedError extends Error {
  constructor(
    readonly consumer: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsumerStartRefusedError';
  }
}
