import type { Checkpoint, RecordedEvent } from './event-store';

/** Orders two reader positions the way readers do: by transaction id, then by global position. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}

export function checkpointOf(
  event: Pick<RecordedEvent, 'transactionId' | 'globalPosition'>,
): Checkpoint {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

/**
 * The opaque cursor `<transaction_id>:<global_position>` (SSE ids, `Last-Event-ID`, CLI arguments). A bare global
 * position is not a safe cursor across streams (ARCHITECTURE.md "Read side").
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  return `${checkpoint.transactionId}:${checkpoint.globalPosition}`;
}

export function parseCheckpoint(cursor: string): Checkpoint {
  const match = /^(\d{1,20}):(\d{1,19})$/.exec(cursor.trim());
  if (!match?.[1] || !match[2]) {
    throw new RangeError(`not a checkpoint cursor "<transaction_id>:<global_position>": ${cursor}`);
  }
  return { transactionId: BigInt(match[1]), globalPosition: BigInt(match[2]) };
}
