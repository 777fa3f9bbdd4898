/*
 * Parking (both databases): an event whose handler keeps failing is never retried forever and never skipped
 * silently. A batch that failed `maxAttempts` times is delivered one event at a time; the event that still fails
 * on its own is parked, keyed by (consumer, partition), with its error, attempts, first/last failure time and
 * position, and the checkpoint moves past it in the same transaction. Later events of its stream wait behind it
 * (parked as `blocked`, never handed to the handler out of order); other streams go on. A retry delivers it
 * again: on success the row goes and the blocked events follow in version order; on failure it stays with one
 * more attempt. Requests and parked rows survive a restart; a failure of the database around the handler (not
 * the handler's) is retried, never parked.
 */
import type {
  EventStore,
  ParkedEvent,
  RecordedEvent,
  Subscription,
  SubscriptionOptions,
  Transaction,
} from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, collectingLogger, committedHead, eventually, uniqueId } from './fixtures';

// Each test waits on exact positions and rows, bounded; a machine shared with other suites can be slow.
jest.setTimeout(300_000);

describe('parking events that keep failing', () => {
  let db: TestDatabase;
  let store: EventStore;
  const running: Subscription[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('subscription_parking');
    store = db.store;
    await store.query(
      'CREATE TABLE test_applied (consumer text, stream_id text, stream_version integer, global_position bigint, UNIQUE (consumer, global_position))',
    );
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(() => db?.drop());

  const FAST: SubscriptionOptions = {
    maxAttempts: 3,
    retryDelayMsInitial: 1,
    retryDelayMsMax: 4,
    pollIntervalMs: 20,
  };

  /** Appends one event to each stream, in order; returns the recorded events in append order. */
  async function appendTo(streams: string[]): Promise<RecordedEvent[]> {
    for (const stream of streams) {
      await store.append(stream, [anEvent('Deposited', { to: stream })], {
        commandId: uniqueId('c'),
        expectedVersion: 'any',
      });
    }
    return readUnder(streams);
  }

  async function readUnder(streams: string[]): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for (const stream of new Set(streams)) all.push(...(await store.readStream(stream)));
    return all.sort((a, b) =>
      a.transactionId === b.transactionId
        ? Number(a.globalPosition - b.globalPosition)
        : Number(a.transactionId - b.transactionId),
    );
  }

  /**
   * A handler that applies in the batch transaction (one row per event) and fails whenever a batch holds an event
   * `poisoned` says is bad, after writing (so the rollback is tested too).
   */
  function applying(consumer: string, poisoned: (e: RecordedEvent) => boolean) {
    const delivered: RecordedEvent[][] = [];
    const handler = async (events: RecordedEvent[], tx: Transaction): Promise<void> => {
      for (const e of events) {
        await tx.query('INSERT INTO test_applied VALUES ($1, $2, $3, $4)', [
          consumer,
          e.streamId,
          e.streamVersion,
          String(e.globalPosition),
        ]);
      }
      const bad = events.find(poisoned);
      if (bad) throw new Error(`cannot apply ${bad.streamId} v${bad.streamVersion}`);
      delivered.push(events);
    };
    return { handler, delivered };
  }

  async function applied(consumer: string): Promise<string[]> {
    const rows = await store.query<{ s: string; v: number }>(
      'SELECT stream_id AS s, stream_version AS v FROM test_applied WHERE consumer = $1 ORDER BY global_position',
      [consumer],
    );
    return rows.map((r) => `${r.s}@${r.v}`);
  }

  function started(subscription: Subscription): Subscription {
    running.push(subscription);
    return subscription;
  }

  async function parked(consumer: string): Promise<ParkedEvent[]> {
    return (await store.parkedEvents?.({ consumer })) ?? [];
  }

  it('narrows a failing batch down to the event, parks it with its failure, and goes on with other streams', async () => {
    const [a, b, c] = [uniqueId('a'), uniqueId('b'), uniqueId('c')];
    const events = await appendTo([a, b, a, c, b]);
    const poison = events[1]!; // b v1
    const consumer = uniqueId('consumer');
    const { handler } = applying(consumer, (e) => e.globalPosition === poison.globalPosition);
    const logger = collectingLogger();
    const reported: Array<{ attempt: number; parked: ParkedEvent | undefined }> = [];
    const before = new Date();
    const subscription = started(
      store.subscribe(consumer, handler, {
        ...FAST,
        streamPrefixes: [a, b, c],
        logger,
        onError: (_error, attempt, parkedEvent) => reported.push({ attempt, parked: parkedEvent }),
      }),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);

    // a and c applied once each, in order; b v1 parked, b v2 blocked behind it, never applied.
    expect(await applied(consumer)).toEqual([`${a}@1`, `${a}@2`, `${c}@1`]);
    expect(await subscription.checkpoint()).toEqual(await committedHead(store));
    const rows = await parked(consumer);
    expect(rows.map((r) => [r.status, r.streamId, r.streamVersion])).toEqual([
      ['failed', b, 1],
      ['blocked', b, 2],
    ]);
    const [failed, blocked] = rows;
    expect(failed).toMatchObject({
      consumer,
      partition: 0,
      globalPosition: poison.globalPosition,
      transactionId: poison.transactionId,
      type: 'Deposited',
      error: `cannot apply ${b} v1`,
      attempts: 6, // 3 in its batch, 3 on its own
      retryRequestedAt: null,
    });
    expect(failed!.firstFailedAt!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1_000);
    expect(failed!.lastFailedAt!.getTime()).toBeGreaterThanOrEqual(
      failed!.firstFailedAt!.getTime(),
    );
    expect(blocked).toMatchObject({ error: null, attempts: 0, firstFailedAt: null });
    // Reported, not silent: one onError naming the parked row, and an error log line.
    const parkedReports = reported.filter((r) => r.parked);
    expect(parkedReports.map((r) => r.parked?.id)).toEqual([failed!.id]);
    expect(logger.errors.some((m) => m.includes(`parked event ${b} v1`))).toBe(true);
    expect(await store.parkedCounts?.()).toContainEqual({
      consumer,
      partition: 0,
      failed: 1,
      blocked: 1,
    });

    // Later appends: b waits behind its parked event, a goes on.
    await appendTo([b, a]);
    await subscription.waitUntilCaughtUp(60_000);
    expect(await applied(consumer)).toEqual([`${a}@1`, `${a}@2`, `${c}@1`, `${a}@3`]);
    expect((await parked(consumer)).map((r) => `${r.status} ${r.streamVersion}`)).toEqual([
      'failed 1',
      'blocked 2',
      'blocked 3',
    ]);
  });

  it('delivers a retried event, then the events blocked behind it in version order, each once', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    const events = await appendTo([b, a, b, b]);
    const consumer = uniqueId('consumer');
    let healthy = false;
    const { handler, delivered } = applying(
      consumer,
      (e) => !healthy && e.globalPosition === events[0]!.globalPosition,
    );
    const published: string[] = [];
    const subscription = started(
      store.subscribe(consumer, handler, {
        ...FAST,
        streamPrefixes: [a, b],
        logger: collectingLogger(),
        afterCommit: (batch) =>
          void published.push(...batch.map((e) => `${e.streamId}@${e.streamVersion}`)),
      }),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    const [failed] = await parked(consumer);
    expect(await applied(consumer)).toEqual([`${a}@1`]);

    healthy = true;
    const marked = await store.retryParked?.({ ids: [failed!.id] });
    expect(marked?.map((r) => r.id)).toEqual([failed!.id]);
    expect(marked?.[0]?.retryRequestedAt).toBeInstanceOf(Date);
    await eventually(async () => (await parked(consumer)).length === 0);

    expect(await applied(consumer)).toEqual([`${b}@1`, `${a}@1`, `${b}@2`, `${b}@3`]);
    // The retried stream's events went to the handler one by one, in version order, after the retry.
    expect(delivered.slice(-3).map((batch) => batch.map((e) => e.streamVersion))).toEqual([
      [1],
      [2],
      [3],
    ]);
    expect(published).toEqual([`${a}@1`, `${b}@1`, `${b}@2`, `${b}@3`]);

    // The stream is free again: a new event of b goes straight through.
    await appendTo([b]);
    await subscription.waitUntilCaughtUp(60_000);
    expect(await applied(consumer)).toContain(`${b}@4`);
    expect(await parked(consumer)).toEqual([]);
  });

  it('keeps a parked event whose retry fails, with one more attempt and the new error; --all retries it later', async () => {
    const [b] = [uniqueId('b')];
    await appendTo([b, b]);
    const consumer = uniqueId('consumer');
    let failure = 'first cause';
    let healthy = false;
    const subscription = started(
      store.subscribe(
        consumer,
        async (events) => {
          if (!healthy && events.some((e) => e.streamVersion === 1)) throw new Error(failure);
        },
        { ...FAST, streamPrefixes: [b], logger: collectingLogger() },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    const [first] = await parked(consumer);
    expect(first).toMatchObject({ status: 'failed', attempts: 6, error: 'first cause' });

    failure = 'second cause';
    await store.retryParked?.({ ids: [first!.id] });
    await eventually(async () => (await parked(consumer))[0]?.retryRequestedAt === null);
    const [again, stillBlocked] = await parked(consumer);
    expect(again).toMatchObject({
      id: first!.id,
      status: 'failed',
      attempts: 7,
      error: 'second cause',
      firstFailedAt: first!.firstFailedAt,
    });
    expect(again!.lastFailedAt!.getTime()).toBeGreaterThanOrEqual(first!.lastFailedAt!.getTime());
    expect(stillBlocked).toMatchObject({ status: 'blocked', streamVersion: 2 });

    healthy = true;
    const marked = await store.retryParked?.({ all: true, consumer });
    expect(marked?.map((r) => r.id)).toEqual([first!.id]);
    await eventually(async () => (await parked(consumer)).length === 0);
  });

  it('refuses to mark a blocked row or another consumer’s rows', async () => {
    const b = uniqueId('b');
    await appendTo([b, b]);
    const consumer = uniqueId('consumer');
    const subscription = started(
      store.subscribe(
        consumer,
        async () => {
          throw new Error('never works');
        },
        { ...FAST, streamPrefixes: [b], logger: collectingLogger() },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    const [, blocked] = await parked(consumer);
    expect(await store.retryParked?.({ ids: [blocked!.id] })).toEqual([]);
    expect(await store.retryParked?.({ all: true, consumer: uniqueId('nobody') })).toEqual([]);
  });

  it('parks a blocked event that fails after its stream was released: it heads the stream from then on', async () => {
    const b = uniqueId('b');
    await appendTo([b, b, b]);
    const consumer = uniqueId('consumer');
    let bad = new Set([1]);
    const { handler } = applying(consumer, (e) => bad.has(e.streamVersion));
    const subscription = started(
      store.subscribe(consumer, handler, {
        ...FAST,
        streamPrefixes: [b],
        logger: collectingLogger(),
      }),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    const [head] = await parked(consumer);

    bad = new Set([2]);
    await store.retryParked?.({ ids: [head!.id] });
    await eventually(async () => {
      const [first] = await parked(consumer);
      return first?.streamVersion === 2 && first.status === 'failed';
    });
    expect((await parked(consumer)).map((r) => [r.status, r.streamVersion, r.attempts])).toEqual([
      ['failed', 2, 3],
      ['blocked', 3, 0],
    ]);
    expect(await applied(consumer)).toEqual([`${b}@1`]);
  });

  it('keeps parked rows and retry requests across a restart, and delivers blocked rows left without a head', async () => {
    const b = uniqueId('b');
    await appendTo([b, b, b]);
    const consumer = uniqueId('consumer');
    let healthy = false;
    const first = applying(consumer, (e) => !healthy && e.streamVersion === 1);
    const before = store.subscribe(consumer, first.handler, {
      ...FAST,
      streamPrefixes: [b],
      logger: collectingLogger(),
    });
    await before.start();
    await before.waitUntilCaughtUp(60_000);
    await before.stop();
    expect((await parked(consumer)).length).toBe(3);

    // Requested while no instance runs: the next one to take the consumer does it.
    const [head] = await parked(consumer);
    await store.retryParked?.({ ids: [head!.id] });
    healthy = true;
    const after = started(
      store.subscribe(consumer, first.handler, {
        ...FAST,
        streamPrefixes: [b],
        logger: collectingLogger(),
      }),
    );
    await after.start();
    await eventually(async () => (await parked(consumer)).length === 0);
    expect(await applied(consumer)).toEqual([`${b}@1`, `${b}@2`, `${b}@3`]);
  });

  it('delivers blocked rows whose failed head is gone (a crash after the retry committed)', async () => {
    const b = uniqueId('b');
    await appendTo([b, b, b]);
    const consumer = uniqueId('consumer');
    const failing = applying(consumer, (e) => e.streamVersion === 1);
    const before = store.subscribe(consumer, failing.handler, {
      ...FAST,
      streamPrefixes: [b],
      logger: collectingLogger(),
    });
    await before.start();
    await before.waitUntilCaughtUp(60_000);
    await before.stop();
    // What a crash right after the head's successful retry leaves: the head gone, its blocked rows still there.
    await store.query(
      `DELETE FROM consumer_parked_events WHERE consumer = $1 AND status = 'failed'`,
      [consumer],
    );
    const healthy = applying(consumer, () => false);
    const after = started(
      store.subscribe(consumer, healthy.handler, {
        ...FAST,
        streamPrefixes: [b],
        logger: collectingLogger(),
      }),
    );
    await after.start();
    await eventually(async () => (await parked(consumer)).length === 0);
    expect(await applied(consumer)).toEqual([`${b}@2`, `${b}@3`]);
  });

  it('parks for a handler outside the transaction too (at-least-once consumers)', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    const events = await appendTo([a, b, a]);
    const consumer = uniqueId('consumer');
    const seen: string[] = [];
    const subscription = started(
      store.subscribe(
        consumer,
        async (batch) => {
          if (batch.some((e) => e.streamId === b)) throw new Error('b is poison');
          seen.push(...batch.map((e) => `${e.streamId}@${e.streamVersion}`));
        },
        {
          ...FAST,
          streamPrefixes: [a, b],
          handlerOutsideTransaction: true,
          logger: collectingLogger(),
        },
      ),
    );
    await subscription.start();
    await subscription.waitUntilCaughtUp(60_000);
    expect(seen).toEqual([`${a}@1`, `${a}@2`]);
    expect((await parked(consumer)).map((r) => r.globalPosition)).toEqual([
      events[1]!.globalPosition,
    ]);
  });

  it('retries a failure of the database around a healthy handler without parking anything', async () => {
    const a = uniqueId('a');
    await appendTo([a, a]);
    const consumer = uniqueId('consumer');
    await store.query(
      `CREATE TABLE test_checkpoint_failures (name text PRIMARY KEY, left_count integer)`,
    );
    await store.query(`INSERT INTO test_checkpoint_failures VALUES ($1, 8)`, [consumer]);
    // Fails the checkpoint's compare-and-set 8 times (> maxAttempts); the counter lives in a sequence-free table
    // updated by a separate statement of the test, so the failing transactions cannot roll it back.
    await store.query(`
      CREATE FUNCTION test_fail_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT left_count FROM test_checkpoint_failures WHERE name = NEW.name) > 0 THEN
          RAISE EXCEPTION 'checkpoint store unavailable';
        END IF;
        RETURN NEW;
      END $$`);
    await store.query(`CREATE TRIGGER test_fail_checkpoint BEFORE UPDATE ON subscription_checkpoints
      FOR EACH ROW WHEN (NEW.transaction_id IS NOT NULL) EXECUTE FUNCTION test_fail_checkpoint()`);
    try {
      const attempts: number[] = [];
      const { handler } = applying(consumer, () => false);
      const subscription = started(
        store.subscribe(consumer, handler, {
          ...FAST,
          streamPrefixes: [a],
          logger: collectingLogger(),
          onError: (_e, attempt) => {
            attempts.push(attempt);
            if (attempt >= 8)
              void store.query(`UPDATE test_checkpoint_failures SET left_count = 0`);
          },
        }),
      );
      await subscription.start();
      await subscription.waitUntilCaughtUp(60_000);
      expect(attempts.slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await applied(consumer)).toEqual([`${a}@1`, `${a}@2`]);
      expect(await parked(consumer)).toEqual([]);
    } finally {
      await store.query('DROP TRIGGER test_fail_checkpoint ON subscription_checkpoints');
    }
  });
});
