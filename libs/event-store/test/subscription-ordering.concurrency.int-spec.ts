/*
 * A subscription never skips an event of a slow transaction. Global positions are taken at insert and commit
 * out of order; the consumer reads in (transaction_id, global_position) order, only below the oldest open
 * transaction, so it waits for the slow one instead of moving past it. Real concurrency: PostgreSQL only.
 */
import {
  type EventStore,
  type RecordedEvent,
  type Subscription,
  compareCheckpoints,
} from '@ledger/event-store';
import { type TestDatabase, createConcurrencyTestDatabase } from '@ledger/testing';

import { anEvent, collectingLogger, sleep, uniqueId } from './fixtures';

describe('subscription order under concurrent appends', () => {
  let db: TestDatabase;
  let store: EventStore;
  const running: Subscription[] = [];

  beforeAll(async () => {
    db = await createConcurrencyTestDatabase('subscription-ordering', { poolSize: 12 });
    store = db.store;
    await store.query(
      'CREATE TABLE test_seen (consumer text, global_position bigint, PRIMARY KEY (consumer, global_position))',
    );
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(() => db?.drop());

  /**
   * A consumer that projects each event under a primary key (a repeat would fail its batch) and records the
   * committed batches; any batch failure is collected, to be reported by the test.
   */
  function recordingConsumer(name: string, prefix: string, batchSize: number) {
    const seen: RecordedEvent[] = [];
    const logger = collectingLogger();
    const subscription = store.subscribe(
      name,
      async (events, tx) => {
        for (const event of events) {
          await tx.query('INSERT INTO test_seen VALUES ($1, $2)', [
            name,
            String(event.globalPosition),
          ]);
        }
      },
      {
        batchSize,
        streamPrefixes: [prefix],
        pollIntervalMs: 20,
        logger,
        afterCommit: (events) => void seen.push(...events),
      },
    );
    running.push(subscription);
    return { seen, subscription, errors: logger.errors };
  }

  function expectReaderOrder(events: RecordedEvent[]): void {
    for (let i = 1; i < events.length; i += 1)
      expect(compareCheckpoints(events[i - 1]!, events[i]!)).toBe(-1);
  }

  it('waits for a transaction held open while later ones commit, then delivers everything once, in order', async () => {
    const prefix = uniqueId('slow');
    const { seen, subscription, errors } = recordingConsumer(uniqueId('consumer'), prefix, 3);
    await subscription.start();

    let inside!: () => void;
    const slowIsInside = new Promise<void>((resolve) => (inside = resolve));
    const slow = store.append(`${prefix}-slow`, [anEvent(), anEvent()], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
      onAppended: async (tx) => {
        inside();
        await tx.query('SELECT pg_sleep(1)');
      },
    });
    await slowIsInside;
    for (let i = 0; i < 5; i += 1) {
      await store.append(`${prefix}-fast-${i}`, [anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
    }
    const fast = await store.readStream(`${prefix}-fast-0`);
    await sleep(300);
    // Committed, with larger global positions than the slow events, yet not delivered: they wait behind it.
    expect(seen.filter((e) => e.streamId.startsWith(`${prefix}-fast`))).toEqual([]);
    const slowResult = await slow;
    expect(slowResult.globalPositions[0]! < fast[0]!.globalPosition).toBe(true);

    await subscription.waitUntilCaughtUp(60_000);
    const all = await store.readAll({ after: null, streamPrefixes: [prefix] });
    expect(errors).toEqual([]);
    expect(all).toHaveLength(7);
    expect(seen.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
    expect(seen.slice(0, 2).map((e) => e.streamId)).toEqual([`${prefix}-slow`, `${prefix}-slow`]);
    expectReaderOrder(seen);
  }, 300_000);

  it('delivers every event exactly once while 8 writers append, some holding their transactions open', async () => {
    const prefix = uniqueId('stress');
    const consumers = [
      recordingConsumer(uniqueId('small-batches'), prefix, 7),
      recordingConsumer(uniqueId('large-batches'), prefix, 100),
    ];
    await Promise.all(consumers.map((c) => c.subscription.start()));

    const writer = async (w: number): Promise<void> => {
      for (let n = 0; n < 60; n += 1) {
        const count = 1 + ((w + n) % 3);
        const slowMs = (w * 7 + n) % 5 === 0 ? 5 + ((w + n) % 4) * 10 : 0;
        await store.append(
          `${prefix}-${(w * 13 + n) % 20}`,
          Array.from({ length: count }, () => anEvent('Deposited', { w: String(w), n: String(n) })),
          {
            commandId: `${prefix}/${w}/${n}`,
            expectedVersion: 'any',
            ...(slowMs > 0
              ? {
                  onAppended: async (tx) =>
                    void (await tx.query(`SELECT pg_sleep(${slowMs / 1000})`)),
                }
              : {}),
          },
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    await Promise.all(consumers.map((c) => c.subscription.waitUntilCaughtUp(20_000)));

    const all = await store.readAll({ after: null, streamPrefixes: [prefix], limit: 10_000 });
    expect(all.length).toBeGreaterThan(8 * 60);
    for (const { seen, errors } of consumers) {
      expect(errors).toEqual([]);
      expect(seen.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
      expectReaderOrder(seen);
      // Per stream, the versions arrive consecutively.
      const lastVersion = new Map<string, number>();
      for (const event of seen) {
        expect(event.streamVersion).toBe((lastVersion.get(event.streamId) ?? 0) + 1);
        lastVersion.set(event.streamId, event.streamVersion);
      }
    }
  }, 300_000);
});
