/*
 * Durable subscriptions on one process (both databases): every event is delivered once, in reader order; the
 * handler's writes and the checkpoint commit together; a failing batch is rolled back, reported and retried,
 * never skipped; a stopped consumer resumes from its checkpoint; filters, afterCommit, handlers outside the
 * transaction, and one active instance per name. Cross-process behaviour (advisory lock, NOTIFY, killed
 * connections) is in the concurrency suites.
 */
import type { EventStore, RecordedEvent, Subscription, Transaction } from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import {
  anEvent,
  collectingLogger,
  committedHead,
  committedUnder,
  eventually,
  sleep,
  uniqueId,
} from './fixtures';

describe('durable subscriptions', () => {
  let db: TestDatabase;
  let store: EventStore;
  const running: Subscription[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('subscriptions');
    store = db.store;
    await store.query(
      'CREATE TABLE test_projection (consumer text, global_position bigint, UNIQUE (consumer, global_position))',
    );
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(() => db?.drop());

  /** Appends `count` single-event commands to streams under `prefix`; all their events, in reader order. */
  async function appendUnder(
    prefix: string,
    count: number,
  ): Promise<Array<{ globalPosition: bigint }>> {
    for (let i = 0; i < count; i += 1) {
      await store.append(`${prefix}-${i % 3}`, [anEvent('Deposited', { i: String(i) })], {
        commandId: uniqueId('c'),
        expectedVersion: 'any',
      });
    }
    return committedUnder(store, prefix);
  }

  function started(subscription: Subscription): Subscription {
    running.push(subscription);
    return subscription;
  }

  /** A handler that records what it sees and projects it in the batch transaction. */
  function projecting(consumer: string, seen: RecordedEvent[]) {
    return async (events: RecordedEvent[], tx: Transaction): Promise<void> => {
      for (const event of events) {
        await tx.query('INSERT INTO test_projection VALUES ($1, $2)', [
          consumer,
          String(event.globalPosition),
        ]);
      }
      seen.push(...events);
    };
  }

  async function projected(consumer: string): Promise<bigint[]> {
    const rows = await store.query<{ p: string }>(
      'SELECT global_position::text AS p FROM test_projection WHERE consumer = $1 ORDER BY global_position',
      [consumer],
    );
    return rows.map((r) => BigInt(r.p));
  }

  it('delivers every event once, in reader order, in batches of at most batchSize, and stores the checkpoint', async () => {
    const prefix = uniqueId('all');
    const expected = await appendUnder(prefix, 23);
    const name = uniqueId('consumer');
    const seen: RecordedEvent[] = [];
    const batchSizes: number[] = [];
    const subscription = started(
      store.subscribe(
        name,
        async (events, tx) => {
          batchSizes.push(events.length);
          await projecting(name, seen)(events, tx);
        },
        { batchSize: 5, streamPrefixes: [prefix] },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);

    expect(seen.map((e) => e.globalPosition)).toEqual(expected.map((e) => e.globalPosition));
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(5);
    expect(await projected(name)).toEqual(expected.map((e) => e.globalPosition));
    expect(await subscription.checkpoint()).toEqual(await committedHead(store));

    const more = await appendUnder(prefix, 2);
    await subscription.waitUntilCaughtUp(60_000);
    expect(seen.map((e) => e.globalPosition)).toEqual(more.map((e) => e.globalPosition));
  });

  it('rolls back a failing batch with its writes, reports it, retries it and never skips it', async () => {
    const prefix = uniqueId('failing');
    const expected = await appendUnder(prefix, 6);
    const name = uniqueId('consumer');
    const seen: RecordedEvent[] = [];
    const logger = collectingLogger();
    const attempts: number[] = [];
    let failuresLeft = 3;
    const subscription = started(
      store.subscribe(
        name,
        async (events, tx) => {
          await projecting(name, [])(events, tx);
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('handler failed after writing');
          }
          seen.push(...events);
        },
        {
          batchSize: 4,
          streamPrefixes: [prefix],
          retryDelayMsInitial: 5,
          logger,
          onError: (_error, attempt) => attempts.push(attempt),
        },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);

    expect(attempts).toEqual([1, 2, 3]);
    expect(logger.errors).toHaveLength(3);
    expect(logger.errors[0]).toContain('handler failed after writing');
    expect(seen.map((e) => e.globalPosition)).toEqual(expected.map((e) => e.globalPosition));
    // The three failed attempts wrote too, and none of it survived: each event is projected once.
    expect(await projected(name)).toEqual(expected.map((e) => e.globalPosition));
  });

  it('resumes a restarted consumer from its checkpoint', async () => {
    const prefix = uniqueId('resume');
    const first = await appendUnder(prefix, 4);
    const name = uniqueId('consumer');
    const seenBefore: RecordedEvent[] = [];
    const before = store.subscribe(name, projecting(name, seenBefore), {
      streamPrefixes: [prefix],
    });
    await before.start();
    await before.waitUntilCaughtUp(60_000);
    await before.stop();

    const all = await appendUnder(prefix, 3);
    const later = all.slice(first.length);
    const seenAfter: RecordedEvent[] = [];
    const after = started(
      store.subscribe(name, projecting(name, seenAfter), { streamPrefixes: [prefix] }),
    );
    await after.start();
    await after.waitUntilCaughtUp(60_000);

    expect(seenBefore.map((e) => e.globalPosition)).toEqual(first.map((e) => e.globalPosition));
    expect(seenAfter.map((e) => e.globalPosition)).toEqual(later.map((e) => e.globalPosition));
    expect(await projected(name)).toEqual(all.map((e) => e.globalPosition));
  });

  it('moves a filtered consumer past events it does not want, so it catches up', async () => {
    const name = uniqueId('consumer');
    const handler = jest.fn(async () => undefined);
    const subscription = started(
      store.subscribe(name, handler, { types: [uniqueId('NeverAppended')] }),
    );
    await appendUnder(uniqueId('unwanted'), 3);
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    expect(handler).not.toHaveBeenCalled();
    expect(await subscription.checkpoint()).toEqual(await committedHead(store));
  });

  it('calls afterCommit with each committed batch, never with a rolled-back one', async () => {
    const prefix = uniqueId('after');
    const expected = await appendUnder(prefix, 5);
    const published: bigint[] = [];
    let failOnce = true;
    const subscription = started(
      store.subscribe(
        uniqueId('consumer'),
        async () => {
          if (failOnce) {
            failOnce = false;
            throw new Error('first attempt fails');
          }
        },
        {
          streamPrefixes: [prefix],
          batchSize: 2,
          retryDelayMsInitial: 5,
          logger: collectingLogger(),
          afterCommit: (events) => {
            published.push(...events.map((e) => e.globalPosition));
          },
        },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    expect(published).toEqual(expected.map((e) => e.globalPosition));
  });

  it('runs a handler outside the batch transaction when asked, so it can append through the store', async () => {
    const prefix = uniqueId('saga');
    const triggers = await appendUnder(prefix, 3);
    const reactions = uniqueId('reactions');
    const subscription = started(
      store.subscribe(
        uniqueId('consumer'),
        async (events) => {
          for (const event of events) {
            // A deterministic command id: a redelivered batch appends nothing twice.
            await store.append(
              reactions,
              [anEvent('Reacted', { to: String(event.globalPosition) })],
              {
                commandId: `react-${event.globalPosition}`,
                expectedVersion: 'any',
              },
            );
          }
        },
        { streamPrefixes: [prefix], handlerOutsideTransaction: true },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    const reacted = await store.readStream(reactions);
    expect(reacted.map((e) => e.data.to)).toEqual(triggers.map((e) => String(e.globalPosition)));
  });

  it('wakes on an append from this process without waiting for the poll interval', async () => {
    const prefix = uniqueId('wake');
    const seen: RecordedEvent[] = [];
    const subscription = started(
      store.subscribe(uniqueId('consumer'), async (events) => void seen.push(...events), {
        streamPrefixes: [prefix],
        pollIntervalMs: 60_000,
      }),
    );
    await subscription.start();
    await sleep(50);
    const startedAt = Date.now();
    await appendUnder(prefix, 1);
    await eventually(() => seen.length === 1, 5_000);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('runs one instance per name: a second one waits until the first stops, then resumes after it', async () => {
    const prefix = uniqueId('single');
    const name = uniqueId('consumer');
    const seenByFirst: RecordedEvent[] = [];
    const seenBySecond: RecordedEvent[] = [];
    const first = started(
      store.subscribe(name, async (events) => void seenByFirst.push(...events), {
        streamPrefixes: [prefix],
      }),
    );
    const second = started(
      store.subscribe(name, async (events) => void seenBySecond.push(...events), {
        streamPrefixes: [prefix],
        pollIntervalMs: 20,
      }),
    );
    await first.start();
    let secondStarted = false;
    const secondStart = second.start().then(() => {
      secondStarted = true;
    });
    const early = await appendUnder(prefix, 3);
    await first.waitUntilCaughtUp(60_000);
    await sleep(100);
    expect(secondStarted).toBe(false);
    expect(seenBySecond).toEqual([]);

    await first.stop();
    await secondStart;
    const all = await appendUnder(prefix, 2);
    await second.waitUntilCaughtUp(60_000);
    expect(seenByFirst.map((e) => e.globalPosition)).toEqual(early.map((e) => e.globalPosition));
    expect(seenBySecond.map((e) => e.globalPosition)).toEqual(
      all.slice(3).map((e) => e.globalPosition),
    );
  });

  it('fails waitUntilCaughtUp with the positions when nothing consumes', async () => {
    await appendUnder(uniqueId('idle'), 1);
    const idle = store.subscribe(uniqueId('never-started'), async () => undefined);
    await expect(idle.waitUntilCaughtUp(100)).rejects.toThrow(
      /not caught up after 100 ms: at the start, head \d+:\d+/,
    );
  });
});
