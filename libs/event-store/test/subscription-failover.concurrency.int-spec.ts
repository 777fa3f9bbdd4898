/*
 * Durable consumers across processes on PostgreSQL (two LedgerDatabase handles = two processes): a consumer killed
 * in the middle of a batch loses nothing and doubles nothing when it restarts (its writes and its checkpoint
 * share the batch transaction, which the server rolls back); only one instance of a consumer name runs at a time
 * (advisory lock), the other takes over when it stops; NOTIFY wakes a consumer in another process; a consumer
 * whose lock connection dies takes its lock again.
 */
import type { EventStore, LedgerDatabase, RecordedEvent, Subscription } from '@ledger/event-store';
import {
  type TestDatabase,
  createConcurrencyTestDatabase,
  openAnotherHandle,
} from '@ledger/testing';

import { anEvent, collectingLogger, committedUnder, eventually, sleep, uniqueId } from './fixtures';

describe('consumers across processes', () => {
  let db: TestDatabase;
  let other: LedgerDatabase;
  let store: EventStore;
  const running: Subscription[] = [];

  beforeAll(async () => {
    db = await createConcurrencyTestDatabase('subscription-failover');
    other = await openAnotherHandle(db);
    store = db.store;
    await store.query(
      'CREATE TABLE test_projection (consumer text, global_position bigint, PRIMARY KEY (consumer, global_position))',
    );
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await other?.close();
    await db?.drop();
  });

  function track(subscription: Subscription): Subscription {
    running.push(subscription);
    return subscription;
  }

  /** Appends `count` events under `prefix`; all their events, in reader order (visible to readers yet or not). */
  async function appendUnder(
    prefix: string,
    count: number,
  ): Promise<Array<{ transactionId: bigint; globalPosition: bigint }>> {
    for (let i = 0; i < count; i += 1) {
      await store.append(`${prefix}-${i % 4}`, [anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 'any',
      });
    }
    return committedUnder(store, prefix);
  }

  async function projected(consumer: string): Promise<bigint[]> {
    const rows = await store.query<{ p: string }>(
      'SELECT global_position::text AS p FROM test_projection WHERE consumer = $1 ORDER BY global_position',
      [consumer],
    );
    return rows.map((r) => BigInt(r.p));
  }

  /** Kills the server sessions of a consumer's lock connection, as if its process had died. */
  async function killLockConnection(name: string): Promise<void> {
    await other.store.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1`,
      [`ledger-consumer:${name}`],
    );
  }

  it('resumes from the checkpoint after the consumer is killed mid-batch: nothing lost, nothing doubled', async () => {
    const prefix = uniqueId('killed');
    const events = await appendUnder(prefix, 23);
    const name = uniqueId('consumer');
    let batches = 0;
    let reportPid!: (pid: number) => void;
    const inSecondBatch = new Promise<number>((resolve) => (reportPid = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const logger = collectingLogger();

    const doomed = track(
      store.subscribe(
        name,
        async (batch, tx) => {
          for (const event of batch) {
            await tx.query('INSERT INTO test_projection VALUES ($1, $2)', [
              name,
              String(event.globalPosition),
            ]);
          }
          batches += 1;
          if (batches === 2) {
            const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            reportPid(row!.pid);
            await gate;
            await tx.query('SELECT 1');
          }
        },
        { streamPrefixes: [prefix], batchSize: 5, retryDelayMsInitial: 60_000, logger },
      ),
    );
    await doomed.start();
    const batchPid = await inSecondBatch;
    await other.store.query('SELECT pg_terminate_backend($1)', [batchPid]);
    await killLockConnection(name);
    openGate();
    await eventually(() => logger.errors.length > 0);
    await doomed.stop();

    // The second batch's inserts died with its connection; the checkpoint is still after the first batch.
    expect(await projected(name)).toEqual(events.slice(0, 5).map((e) => e.globalPosition));
    expect(await doomed.checkpoint()).toEqual({
      transactionId: events[4]!.transactionId,
      globalPosition: events[4]!.globalPosition,
    });

    const seenAfterRestart: RecordedEvent[] = [];
    const restarted = track(
      other.store.subscribe(
        name,
        async (batch, tx) => {
          for (const event of batch) {
            await tx.query('INSERT INTO test_projection VALUES ($1, $2)', [
              name,
              String(event.globalPosition),
            ]);
          }
          seenAfterRestart.push(...batch);
        },
        { streamPrefixes: [prefix], batchSize: 5 },
      ),
    );
    await restarted.start();
    await restarted.waitUntilCaughtUp(60_000);
    expect(seenAfterRestart.map((e) => e.globalPosition)).toEqual(
      events.slice(5).map((e) => e.globalPosition),
    );
    expect(await projected(name)).toEqual(events.map((e) => e.globalPosition));
  }, 300_000);

  it('runs one instance per name across processes; the other takes over when it stops', async () => {
    const prefix = uniqueId('single');
    const name = uniqueId('consumer');
    const seenByFirst: RecordedEvent[] = [];
    const seenBySecond: RecordedEvent[] = [];
    const first = track(
      store.subscribe(name, async (e) => void seenByFirst.push(...e), { streamPrefixes: [prefix] }),
    );
    const second = track(
      other.store.subscribe(name, async (e) => void seenBySecond.push(...e), {
        streamPrefixes: [prefix],
        pollIntervalMs: 20,
      }),
    );
    await first.start();
    let secondStarted = false;
    const secondStart = second.start().then(() => {
      secondStarted = true;
    });
    const early = await appendUnder(prefix, 6);
    await first.waitUntilCaughtUp(60_000);
    await sleep(300);
    expect(secondStarted).toBe(false);
    expect(seenBySecond).toEqual([]);
    const holders = await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
      [`ledger-consumer:${name}`],
    );
    expect(holders).toEqual([{ n: 1 }]);

    await first.stop();
    await secondStart;
    const all = await appendUnder(prefix, 4);
    await second.waitUntilCaughtUp(60_000);
    expect(seenByFirst.map((e) => e.globalPosition)).toEqual(early.map((e) => e.globalPosition));
    expect(seenBySecond.map((e) => e.globalPosition)).toEqual(
      all.slice(6).map((e) => e.globalPosition),
    );
  }, 300_000);

  it('appends without NOTIFY in the writing transaction (it would serialize every commit on the server)', async () => {
    const [fn] = await store.query<{ definition: string }>(
      `SELECT pg_get_functiondef('ledger_append'::regproc) AS definition`,
    );
    expect(fn?.definition).toMatch(/INSERT INTO events/);
    expect(fn?.definition).not.toMatch(/pg_notify/);
  });

  it('wakes a consumer in another process by a signal sent after the commit, long before its poll interval', async () => {
    const prefix = uniqueId('notify');
    const seen: RecordedEvent[] = [];
    const listening = track(
      other.store.subscribe(uniqueId('consumer'), async (e) => void seen.push(...e), {
        streamPrefixes: [prefix],
        pollIntervalMs: 60_000,
      }),
    );
    await listening.start();
    await sleep(100);
    await appendUnder(prefix, 1);
    await eventually(() => seen.length === 1, 5_000);
  }, 300_000);

  it('takes its lock again when the lock connection dies, and goes on consuming', async () => {
    const prefix = uniqueId('relock');
    const name = uniqueId('consumer');
    const seen: RecordedEvent[] = [];
    const logger = collectingLogger();
    const subscription = track(
      store.subscribe(name, async (e) => void seen.push(...e), {
        streamPrefixes: [prefix],
        pollIntervalMs: 50,
        logger,
      }),
    );
    await subscription.start();
    await killLockConnection(name);
    await eventually(() => logger.warnings.some((w) => w.includes('lost its lease')));
    const events = await appendUnder(prefix, 3);
    await subscription.waitUntilCaughtUp(60_000);
    expect(seen.map((e) => e.globalPosition)).toEqual(events.map((e) => e.globalPosition));
  }, 300_000);
});
