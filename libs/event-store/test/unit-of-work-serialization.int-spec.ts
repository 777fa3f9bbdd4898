/*
 * Units of work never mix. On PGlite every "connection" is the same session, so without serialization two
 * concurrent transactions would interleave and one's ROLLBACK would discard the other's writes; the store (and
 * the TypeORM pool it hands out) serializes them with a FIFO mutex. On PostgreSQL the same tests hold because each
 * unit of work has its own connection. The goal: whatever runs concurrently, a failed unit of work leaves nothing
 * and a successful one leaves everything.
 */
import type { EventStore, Transaction } from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, uniqueId } from './fixtures';

/** Lets other promises run between two statements, where an unserialized session would let them in. */
function yieldToOthers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('units of work under concurrency', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('unit-of-work-serialization');
    store = db.store;
    await store.query('CREATE TABLE test_side_effects (stream_id text, i int)');
  });
  afterAll(() => db?.drop());

  it('stores every successful append of 20 concurrent ones and nothing of the 10 that fail inside their transaction', async () => {
    const stream = uniqueId('serialized');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.append(
          stream,
          [anEvent('Deposited', { i: String(i) }), anEvent('Deposited', { i: String(i) })],
          {
            commandId: `${stream}/${i}`,
            expectedVersion: 'any',
            onAppended: async (tx) => {
              await tx.query('INSERT INTO test_side_effects VALUES ($1, $2)', [stream, i]);
              await yieldToOthers();
              await tx.query('SELECT count(*) FROM events');
              if (i % 2 === 1) throw new Error(`append ${i} fails`);
            },
          },
        ),
      ),
    );

    const succeeded = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(succeeded).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected')
        expect(String(outcome.reason)).toContain(`append ${i} fails`);
    });

    const events = await store.readStream(stream);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 20 }, (_, v) => v + 1));
    expect(new Set(events.map((e) => e.data.i))).toEqual(new Set(succeeded.map(String)));
    // Each append's two events are adjacent: nothing interleaved inside an append.
    for (let v = 0; v < 20; v += 2) expect(events[v]!.data.i).toBe(events[v + 1]!.data.i);
    expect(await store.streamVersion(stream)).toBe(20);

    const effects = await store.query<{ i: number }>(
      'SELECT i FROM test_side_effects WHERE stream_id = $1 ORDER BY i',
      [stream],
    );
    expect(effects.map((r) => r.i)).toEqual(succeeded);
    for (const i of succeeded) {
      const result = (outcomes[i] as PromiseFulfilledResult<{ globalPositions: bigint[] }>).value;
      const mine = events.filter((e) => e.data.i === String(i)).map((e) => e.globalPosition);
      expect(mine).toEqual(result.globalPositions);
    }
  });

  it('keeps the store and TypeORM transactions apart: TypeORM rollbacks discard only their own writes', async () => {
    const stream = uniqueId('mixed');
    const work = Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0
        ? store.append(stream, [anEvent('Deposited', { i: String(i) })], {
            commandId: `${stream}/${i}`,
            expectedVersion: 'any',
            onAppended: async (tx) => {
              await yieldToOthers();
              await tx.query('SELECT 1');
            },
          })
        : db.dataSource.transaction(async (manager) => {
            await manager.query('INSERT INTO test_side_effects VALUES ($1, $2)', [stream, i]);
            await yieldToOthers();
            await manager.query('SELECT count(*) FROM events');
            throw new Error('rolled back');
          }),
    );
    const outcomes = await Promise.allSettled(work);
    expect(outcomes.map((o) => o.status)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'fulfilled' : 'rejected')),
    );
    expect((await store.readStream(stream)).map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    expect(
      await store.query('SELECT 1 FROM test_side_effects WHERE stream_id = $1', [stream]),
    ).toEqual([]);
  });

  it('commits a withTransaction unit of work whole, or not at all', async () => {
    const stream = uniqueId('tx');
    await store.withTransaction(async (tx) => {
      await tx.query('INSERT INTO test_side_effects VALUES ($1, 1)', [stream]);
      await tx.query('INSERT INTO test_side_effects VALUES ($1, 2)', [stream]);
    });
    await expect(
      store.withTransaction(async (tx) => {
        await tx.query('INSERT INTO test_side_effects VALUES ($1, 3)', [stream]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await store.query<{ i: number }>(
      'SELECT i FROM test_side_effects WHERE stream_id = $1 ORDER BY i',
      [stream],
    );
    expect(rows.map((r) => r.i)).toEqual([1, 2]);
  });

  it('refuses a transaction used after it ended', async () => {
    let escaped: Transaction | undefined;
    await store.withTransaction(async (tx) => {
      escaped = tx;
    });
    await expect(escaped!.query('SELECT 1')).rejects.toThrow(/already finished/);
  });

  it('refuses on PGlite a unit of work started inside another (it would wait for itself forever); PostgreSQL runs it on another connection', async () => {
    const nested = store.withTransaction(() => store.query<{ one: number }>('SELECT 1 AS one'));
    if (db.kind === 'pglite') await expect(nested).rejects.toThrow(/PGlite is one session/);
    else await expect(nested).resolves.toEqual([{ one: 1 }]);
  });
});
