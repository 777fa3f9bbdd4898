/**
 * The pump against a backend in memory, for what a database cannot be made to do on cue: a batch whose COMMIT
 * went through although the call failed (the reply was lost with the connection). The batch is not delivered
 * again (its checkpoint moved), so its afterCommit never comes; the consumer's memory is in doubt, and the pump
 * runs onActivate again with the stored checkpoint before the next batch, so an in-memory view re-derives itself.
 */
import type { Checkpoint, RecordedEvent, SubscriptionLogger } from '../event-store';
import { compareCheckpoints } from '../checkpoint';
import { type PumpBackend, SubscriptionPump } from './subscription-pump';

function event(n: number): RecordedEvent {
  return {
    globalPosition: BigInt(n),
    transactionId: BigInt(100 + n),
    streamId: `s-${n}`,
    streamVersion: 1,
    type: 'Noted',
    schemaVersion: 1,
    data: {},
    metadata: { commandId: `c${n}`, occurredAt: '2024-06-01T00:00:00Z' },
    recordedAt: new Date(0),
  };
}

const at = (e: RecordedEvent): Checkpoint => ({
  transactionId: e.transactionId,
  globalPosition: e.globalPosition,
});

/** A backend in memory; `loseCommitReplies` commits that many batches and then throws as if the reply was lost. */
function memoryBackend(events: RecordedEvent[], loseCommitReplies: number) {
  let stored: Checkpoint | null = null;
  let lost = loseCommitReplies;
  const after = (c: Checkpoint | null) =>
    events.filter((e) => c === null || compareCheckpoints(at(e), c) > 0);
  const backend: PumpBackend = {
    acquireLease: () => Promise.resolve({ lost: false, release: () => Promise.resolve() }),
    ensureCheckpoint: () => Promise.resolve(),
    checkServerOrigin: () => Promise.resolve(null),
    loadCheckpoint: () => Promise.resolve(stored),
    readBatch: (c, limit) => {
      const batch = after(c).slice(0, limit);
      const last = batch.at(-1);
      return Promise.resolve({ events: batch, next: last ? at(last) : null, heldBack: false });
    },
    commitBatch: async (_name, previous, next, work) => {
      const same =
        previous === null || stored === null
          ? previous === stored
          : compareCheckpoints(previous, stored) === 0;
      if (!same) throw new Error('checkpoint moved');
      await work({ query: () => Promise.resolve([]) });
      stored = next;
      if (lost > 0) {
        lost -= 1;
        throw new Error('connection lost before the COMMIT reply');
      }
    },
    committedHead: () => Promise.resolve(events.length ? at(events[events.length - 1]!) : null),
    autocommit: { query: () => Promise.resolve([]) },
    onLocalAppend: () => () => undefined,
    parkedStreams: () => Promise.resolve(new Set<string>()),
    park: () => Promise.resolve([]),
    nextDueParked: () => Promise.resolve(null),
    readEventsAt: () => Promise.resolve([]),
    commitRedelivery: () => Promise.resolve(),
    recordParkedFailure: () => Promise.resolve(null),
    onRetryRequested: () => () => undefined,
  };
  return backend;
}

const quiet: SubscriptionLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('SubscriptionPump when a commit reply is lost', () => {
  it('does not deliver the committed batch again and runs onActivate again with the stored checkpoint', async () => {
    const events = [1, 2, 3, 4].map(event);
    const activations: Array<bigint | null> = [];
    const handled: bigint[] = [];
    const committed: bigint[] = [];
    const pump = new SubscriptionPump(
      'lost-reply',
      async (batch) => void handled.push(...batch.map((e) => e.globalPosition)),
      {
        batchSize: 2,
        retryDelayMsInitial: 1,
        logger: quiet,
        onActivate: async (checkpoint) => void activations.push(checkpoint?.globalPosition ?? null),
        afterCommit: (batch) => void committed.push(...batch.map((e) => e.globalPosition)),
      },
      memoryBackend(events, 1),
    );
    await pump.start();
    try {
      await pump.waitUntilCaughtUp(5_000);
    } finally {
      await pump.stop();
    }
    expect(handled).toEqual([1n, 2n, 3n, 4n]);
    expect(activations).toEqual([null, 2n]);
    // The lost batch's afterCommit never came; the consumer re-derived its memory in onActivate instead.
    expect(committed).toEqual([3n, 4n]);
  });

  it('does not run onActivate again after a failure that committed nothing', async () => {
    const activations: Array<bigint | null> = [];
    let failOnce = true;
    const pump = new SubscriptionPump(
      'rolled-back',
      async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('handler failed');
        }
      },
      {
        retryDelayMsInitial: 1,
        logger: quiet,
        onActivate: async (checkpoint) => void activations.push(checkpoint?.globalPosition ?? null),
      },
      memoryBackend([1, 2].map(event), 0),
    );
    await pump.start();
    try {
      await pump.waitUntilCaughtUp(5_000);
    } finally {
      await pump.stop();
    }
    expect(activations).toEqual([null]);
  });
});
