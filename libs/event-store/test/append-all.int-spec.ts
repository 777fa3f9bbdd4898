/*
 * appendAll is all or nothing: every request appends in one transaction, or none does. A version conflict, a
 * command id seen before (in the store, or earlier in the same batch), a failing inline projection or a payload
 * that is not JSON, anywhere in the batch, writes nothing and is thrown as an AppendAllError naming the request.
 */
import {
  AppendAllError,
  CommandIdUsedError,
  ConcurrencyError,
  type EventStore,
} from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, uniqueId } from './fixtures';

describe('appendAll', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('append-all');
    store = db.store;
  }, 300_000);
  afterAll(() => db?.drop());

  const request = (streamId: string, expectedVersion: number, commandId = uniqueId('cmd')) => ({
    streamId,
    events: [anEvent()],
    options: { commandId, expectedVersion },
  });

  async function versions(streams: string[]): Promise<number[]> {
    return Promise.all(streams.map((s) => store.streamVersion(s)));
  }

  it('appends every request in order, several to one stream, and chains their hashes', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    const projected: string[] = [];
    const results = await store.appendAll!([
      request(a, 0),
      {
        ...request(b, 0),
        options: {
          commandId: uniqueId('cmd'),
          expectedVersion: 0,
          onAppended: async (tx, result) => {
            await tx.query('SELECT 1');
            projected.push(`${result.streamId}@${result.lastVersion}`);
          },
        },
      },
      request(a, 1),
    ]);
    expect(results.map((r) => [r.streamId, r.firstVersion, r.duplicate])).toEqual([
      [a, 1, false],
      [b, 1, false],
      [a, 2, false],
    ]);
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(projected).toEqual([`${b}@1`]);
    const report = await store.verifyHashChains!();
    expect(report.mismatches.filter((m) => m.streamId === a || m.streamId === b)).toEqual([]);
  });

  it('writes nothing when a command id was used before, and says by whom', async () => {
    const [a, b, used] = [uniqueId('a'), uniqueId('b'), uniqueId('used')];
    const seen = uniqueId('cmd');
    await store.append(used, [anEvent()], { commandId: seen, expectedVersion: 0 });
    const refused = store.appendAll!([request(a, 0), request(b, 0, seen), request(a, 1)]);
    await expect(refused).rejects.toBeInstanceOf(AppendAllError);
    const error = (await refused.catch((e: unknown) => e)) as AppendAllError;
    expect(error).toMatchObject({ index: 1, streamId: b, commandId: seen });
    expect(error.cause).toBeInstanceOf(CommandIdUsedError);
    expect(error.message).toContain(`${used} versions 1–1`);
    expect(await versions([a, b])).toEqual([0, 0]);
  });

  it('writes nothing when a command id repeats inside the batch', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    const twice = uniqueId('cmd');
    const error = (await store.appendAll!([request(a, 0, twice), request(b, 0, twice)]).catch(
      (e: unknown) => e,
    )) as AppendAllError;
    expect(error).toMatchObject({ index: 1, commandId: twice });
    expect(error.cause).toBeInstanceOf(CommandIdUsedError);
    expect(await versions([a, b])).toEqual([0, 0]);
  });

  it('writes nothing on a version conflict, a failing projection, or a payload that is not JSON', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    const conflict = (await store.appendAll!([request(a, 0), request(b, 3)]).catch(
      (e: unknown) => e,
    )) as AppendAllError;
    expect(conflict).toMatchObject({ index: 1, streamId: b });
    expect(conflict.cause).toBeInstanceOf(ConcurrencyError);

    const failing = store.appendAll!([
      request(a, 0),
      {
        ...request(b, 0),
        options: {
          commandId: uniqueId('cmd'),
          expectedVersion: 0,
          onAppended: () => Promise.reject(new Error('projection failed')),
        },
      },
    ]);
    await expect(failing).rejects.toThrow(/append 1 of the batch .* projection failed/);

    const notJson = store.appendAll!([
      request(a, 0),
      { ...request(b, 0), events: [anEvent('Deposited', { amount: Number.POSITIVE_INFINITY })] },
    ]);
    await expect(notJson).rejects.toThrow(/append 1 of the batch .* not a JSON number/);
    expect(await versions([a, b])).toEqual([0, 0]);
  });
});
