/*
 * Group commit: `appendBatch` runs several commands in one transaction with the same outcome per request as
 * `append` would give it — a version conflict or a failing inline projection fails only that request (nothing of it
 * is kept), a command id seen before returns the first result — and `GroupCommitAppender` batches concurrent
 * appends to different streams without losing or doubling any.
 */
import { ConcurrencyError, type EventStore, GroupCommitAppender } from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, uniqueId } from './fixtures';

describe('appendBatch and group commit', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('append-batch');
    store = db.store;
  });
  afterAll(() => db?.drop());

  it('gives each request its own outcome, as append would', async () => {
    const [a, b, c, d] = [uniqueId('a'), uniqueId('b'), uniqueId('c'), uniqueId('d')];
    await store.append(b, [anEvent()], { commandId: uniqueId('cmd'), expectedVersion: 0 });
    const seen = uniqueId('cmd');
    const first = await store.append(d, [anEvent()], { commandId: seen, expectedVersion: 0 });
    const outcomes = await store.appendBatch!([
      {
        streamId: a,
        events: [anEvent(), anEvent()],
        options: { commandId: uniqueId('cmd'), expectedVersion: 0 },
      },
      {
        streamId: b,
        events: [anEvent()],
        options: { commandId: uniqueId('cmd'), expectedVersion: 0 },
      },
      {
        streamId: c,
        events: [anEvent()],
        options: {
          commandId: uniqueId('cmd'),
          expectedVersion: 0,
          onAppended: () => Promise.reject(new Error('projection failed')),
        },
      },
      { streamId: d, events: [anEvent()], options: { commandId: seen, expectedVersion: 1 } },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(outcomes[0]?.ok && outcomes[0].result).toMatchObject({
      firstVersion: 1,
      lastVersion: 2,
      duplicate: false,
    });
    expect(!outcomes[1]?.ok && outcomes[1]?.error).toBeInstanceOf(ConcurrencyError);
    expect(!outcomes[2]?.ok && String(outcomes[2]?.error)).toMatch(/projection failed/);
    expect(outcomes[3]?.ok && outcomes[3].result).toEqual({ ...first, duplicate: true });
    expect((await store.readStream(a)).map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(await store.streamVersion(b)).toBe(1);
    expect(await store.streamVersion(c)).toBe(0);
    expect(await store.streamVersion(d)).toBe(1);
  });

  it('batches concurrent appends without losing or doubling any', async () => {
    const appender = new GroupCommitAppender(store, { maxBatch: 8, maxInFlight: 2 });
    const streams = Array.from({ length: 40 }, () => uniqueId('g'));
    const results = await Promise.all(
      streams.map((s) =>
        appender.append(s, [anEvent()], { commandId: uniqueId('cmd'), expectedVersion: 0 }),
      ),
    );
    expect(results.every((r) => r.firstVersion === 1 && !r.duplicate)).toBe(true);
    for (const s of streams) expect(await store.streamVersion(s)).toBe(1);
    expect(new Set(results.map((r) => r.globalPositions[0])).size).toBe(streams.length);
  });
});
