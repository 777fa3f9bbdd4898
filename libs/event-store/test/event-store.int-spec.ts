/*
 * The event store's contract, sequentially, on whatever database the harness gives (real PostgreSQL in `int`,
 * PGlite in `event-store-pglite`): appends with expected versions and ConcurrencyError, idempotent command ids,
 * stream reads, the global read order and its filters, snapshots, upcasters on every read, and the rule that
 * events are never updated or deleted.
 */
import {
  ConcurrencyError,
  type EventStore,
  type Upcaster,
  compareCheckpoints,
} from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, committedHead, uniqueId, untilVisible } from './fixtures';

/** Deposited v1 `{ amount }` → v2 `{ amount, asset }` → v3 `{ amount, asset, note }`: two links of one chain. */
const upcasters: Upcaster[] = [
  { type: 'Deposited', fromSchemaVersion: 1, upcast: (data) => ({ ...data, asset: 'USDT' }) },
  {
    type: 'Deposited',
    fromSchemaVersion: 2,
    upcast: (data, metadata) => ({ ...data, note: metadata.commandId }),
  },
];

describe('event store', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('event-store', { upcasters });
    store = db.store;
  });
  afterAll(() => db?.drop());

  describe('append', () => {
    it('numbers a new stream from 1 and returns positions, transaction and versions', async () => {
      const stream = uniqueId('account');
      const result = await store.append(stream, [anEvent(), anEvent(), anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      expect(result).toMatchObject({
        streamId: stream,
        firstVersion: 1,
        lastVersion: 3,
        duplicate: false,
      });
      expect(result.globalPositions).toHaveLength(3);
      expect(result.globalPositions[0]! < result.globalPositions[1]!).toBe(true);
      expect(result.globalPositions[1]! < result.globalPositions[2]!).toBe(true);
      expect(await store.streamVersion(stream)).toBe(3);
      const read = await store.readStream(stream);
      expect(read.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(read.map((e) => e.globalPosition)).toEqual(result.globalPositions);
      expect(read.every((e) => e.transactionId === result.transactionId)).toBe(true);
      expect(read[0]!.recordedAt).toBeInstanceOf(Date);
    });

    it('continues at the expected version and rejects a stale one with the actual version', async () => {
      const stream = uniqueId('account');
      await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
      const second = await store.append(stream, [anEvent(), anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 1,
      });
      expect(second).toMatchObject({ firstVersion: 2, lastVersion: 3 });

      const stale = store.append(stream, [anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 1,
      });
      await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(stale).rejects.toMatchObject({
        streamId: stream,
        expectedVersion: 1,
        actualVersion: 3,
      });
      expect(await store.streamVersion(stream)).toBe(3);
    });

    it('rejects expected version 0 on an existing stream, and N on a missing one', async () => {
      const stream = uniqueId('account');
      await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
      await expect(
        store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 }),
      ).rejects.toMatchObject({ actualVersion: 1 });
      await expect(
        store.append(uniqueId('missing'), [anEvent()], {
          commandId: uniqueId('c'),
          expectedVersion: 4,
        }),
      ).rejects.toMatchObject({ expectedVersion: 4, actualVersion: 0 });
    });

    it("appends at the end with 'any', creating the stream if needed", async () => {
      const stream = uniqueId('market');
      await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 'any' });
      const next = await store.append(stream, [anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 'any',
      });
      expect(next).toMatchObject({ firstVersion: 2, lastVersion: 2 });
    });

    it('refuses an empty append, a negative expected version and an event without schema version', async () => {
      const stream = uniqueId('account');
      await expect(
        store.append(stream, [], { commandId: uniqueId('c'), expectedVersion: 0 }),
      ).rejects.toThrow(/no events/);
      await expect(
        store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: -1 }),
      ).rejects.toThrow(RangeError);
      await expect(
        store.append(stream, [{ ...anEvent(), schemaVersion: 0 }], {
          commandId: uniqueId('c'),
          expectedVersion: 0,
        }),
      ).rejects.toThrow(/schemaVersion/);
      expect(await store.streamVersion(stream)).toBe(0);
    });

    it('keeps decimal strings exactly as written', async () => {
      const stream = uniqueId('account');
      const amount = '123456789012345678901234567890.123456789';
      await store.append(stream, [anEvent('Withdrawn', { amount, fee: '0.00000001' })], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      const [event] = await store.readStream(stream);
      expect(event!.data).toEqual({ amount, fee: '0.00000001' });
    });
  });

  describe('idempotent command ids', () => {
    it('returns the first result for a seen command id and writes nothing, whatever the expected version', async () => {
      const stream = uniqueId('account');
      const commandId = uniqueId('c');
      const first = await store.append(stream, [anEvent(), anEvent()], {
        commandId,
        expectedVersion: 0,
      });
      const again = await store.append(stream, [anEvent()], { commandId, expectedVersion: 0 });
      const againAny = await store.append(stream, [anEvent()], {
        commandId,
        expectedVersion: 'any',
      });
      const elsewhere = await store.append(uniqueId('other'), [anEvent()], {
        commandId,
        expectedVersion: 0,
      });
      for (const duplicate of [again, againAny, elsewhere])
        expect(duplicate).toEqual({ ...first, duplicate: true });
      expect(await store.readStream(stream)).toHaveLength(2);
      expect(await store.commandResult!(commandId)).toEqual({ ...first, duplicate: true });
      expect(await store.commandResult!(uniqueId('never'))).toBeNull();
    });

    it('does not call onAppended for a duplicate', async () => {
      const stream = uniqueId('account');
      const commandId = uniqueId('c');
      const onAppended = jest.fn(async () => undefined);
      await store.append(stream, [anEvent()], { commandId, expectedVersion: 0, onAppended });
      await store.append(stream, [anEvent()], { commandId, expectedVersion: 1, onAppended });
      expect(onAppended).toHaveBeenCalledTimes(1);
    });

    it('forgets the command id of an append whose inline projection failed', async () => {
      const stream = uniqueId('account');
      const commandId = uniqueId('c');
      const failing = store.append(stream, [anEvent()], {
        commandId,
        expectedVersion: 0,
        onAppended: async () => {
          throw new Error('projection failed');
        },
      });
      await expect(failing).rejects.toThrow('projection failed');
      expect(await store.streamVersion(stream)).toBe(0);
      const retried = await store.append(stream, [anEvent()], { commandId, expectedVersion: 0 });
      expect(retried).toMatchObject({ duplicate: false, lastVersion: 1 });
    });
  });

  describe('inline projections (onAppended)', () => {
    it('runs in the append transaction with the recorded events', async () => {
      await store.query(
        'CREATE TABLE IF NOT EXISTS test_inline_projection (stream_id text, version int)',
      );
      const stream = uniqueId('account');
      const result = await store.append(stream, [anEvent(), anEvent()], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
        onAppended: async (tx, appended, events) => {
          expect(events.map((e) => e.streamVersion)).toEqual([1, 2]);
          expect(events.map((e) => e.globalPosition)).toEqual(appended.globalPositions);
          await tx.query('INSERT INTO test_inline_projection VALUES ($1, $2)', [
            stream,
            appended.lastVersion,
          ]);
        },
      });
      const rows = await store.query<{ version: number }>(
        'SELECT version FROM test_inline_projection WHERE stream_id = $1',
        [stream],
      );
      expect(rows).toEqual([{ version: result.lastVersion }]);
    });

    it('keeps nothing of the append, nor of its projection, when the projection throws', async () => {
      const stream = uniqueId('account');
      await expect(
        store.append(stream, [anEvent()], {
          commandId: uniqueId('c'),
          expectedVersion: 0,
          onAppended: async (tx) => {
            await tx.query('INSERT INTO test_inline_projection VALUES ($1, 1)', [stream]);
            throw new Error('boom');
          },
        }),
      ).rejects.toThrow('boom');
      expect(await store.readStream(stream)).toEqual([]);
      expect(
        await store.query('SELECT 1 FROM test_inline_projection WHERE stream_id = $1', [stream]),
      ).toEqual([]);
    });
  });

  describe('readStream', () => {
    it('reads a version range and stops at a global position', async () => {
      const stream = uniqueId('account');
      const events = Array.from({ length: 5 }, (_, i) =>
        anEvent('Deposited', { amount: `${i}.00` }),
      );
      const { globalPositions } = await store.append(stream, events, {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      expect(
        (await store.readStream(stream, { fromVersion: 2, toVersion: 4 })).map(
          (e) => e.streamVersion,
        ),
      ).toEqual([2, 3, 4]);
      const upTo = await store.readStream(stream, { toGlobalPosition: globalPositions[2]! });
      expect(upTo.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(await store.readStream(uniqueId('missing'))).toEqual([]);
    });
  });

  describe('readAll', () => {
    it('reads every stream in (transactionId, globalPosition) order, page by page, after a checkpoint', async () => {
      await untilVisible(store);
      const before = await store.headCheckpoint();
      const streams = [uniqueId('account'), uniqueId('market'), uniqueId('account')];
      for (const stream of streams) {
        await store.append(stream, [anEvent(), anEvent()], {
          commandId: uniqueId('c'),
          expectedVersion: 0,
        });
      }
      await untilVisible(store);
      const pages: string[][] = [];
      let after = before;
      for (;;) {
        const page = await store.readAll({ after, limit: 4 });
        if (page.length === 0) break;
        pages.push(page.map((e) => `${e.streamId}@${e.streamVersion}`));
        for (let i = 1; i < page.length; i += 1)
          expect(compareCheckpoints(page[i - 1]!, page[i]!)).toBe(-1);
        after = page.at(-1)!;
      }
      expect(pages.map((p) => p.length)).toEqual([4, 2]);
      expect(pages.flat()).toEqual(streams.flatMap((s) => [`${s}@1`, `${s}@2`]));
      expect(await store.headCheckpoint()).toEqual({
        transactionId: after!.transactionId,
        globalPosition: after!.globalPosition,
      });
    });

    it('filters by stream prefix (LIKE wildcards are literal) and by type', async () => {
      await untilVisible(store);
      const before = await store.headCheckpoint();
      const tag = uniqueId('f').replace(/-/g, '');
      await store.append(`acc_${tag}-1`, [anEvent('Deposited'), anEvent('Withdrawn')], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      await store.append(`accX${tag}-2`, [anEvent('Deposited')], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      await store.append(`mkt%${tag}`, [anEvent('MarkPriceUpdated')], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      await untilVisible(store);

      const byPrefix = await store.readAll({
        after: before,
        streamPrefixes: [`acc_${tag}`, `mkt%${tag}`],
      });
      expect(byPrefix.map((e) => e.streamId)).toEqual([
        `acc_${tag}-1`,
        `acc_${tag}-1`,
        `mkt%${tag}`,
      ]);
      const byType = await store.readAll({
        after: before,
        types: ['Withdrawn', 'MarkPriceUpdated'],
      });
      expect(byType.map((e) => e.type)).toEqual(['Withdrawn', 'MarkPriceUpdated']);
      const both = await store.readAll({
        after: before,
        streamPrefixes: [`acc`],
        types: ['Deposited'],
      });
      expect(both.map((e) => e.streamId)).toEqual([`acc_${tag}-1`, `accX${tag}-2`]);
    });

    it('orders numerically where positions gain a digit (99 → 100), one page or many', async () => {
      // Regression: ORDER BY on the text aliases sorted '100' before '99' and cut pages in the wrong place.
      const filler = uniqueId('filler');
      let last = (await committedHead(store))?.globalPosition ?? 0n;
      while (last < 95n) {
        const appended = await store.append(filler, [anEvent()], {
          commandId: uniqueId('c'),
          expectedVersion: 'any',
        });
        last = appended.globalPositions.at(-1)!;
      }
      await untilVisible(store);
      const stream = uniqueId('boundary');
      const before = await store.headCheckpoint();
      const events = Array.from({ length: 12 }, (_, i) => anEvent('Deposited', { i: String(i) }));
      const { globalPositions } = await store.append(stream, events, {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      expect(globalPositions.some((p) => p >= 100n) && globalPositions.some((p) => p < 100n)).toBe(
        true,
      );
      await untilVisible(store);

      const onePage = await store.readAll({ after: before, limit: 100 });
      expect(onePage.map((e) => e.globalPosition)).toEqual(globalPositions);
      const paged: bigint[] = [];
      let after = before;
      for (
        let page = await store.readAll({ after, limit: 5 });
        page.length > 0;
        page = await store.readAll({ after, limit: 5 })
      ) {
        paged.push(...page.map((e) => e.globalPosition));
        after = page.at(-1)!;
      }
      expect(paged).toEqual(globalPositions);
      expect((await store.headCheckpoint())?.globalPosition).toBe(globalPositions.at(-1));
      expect((await store.readStream(stream)).map((e) => e.streamVersion)).toEqual(
        events.map((_, i) => i + 1),
      );
    });

    it('refuses a limit below 1', async () => {
      await expect(store.readAll({ limit: 0 })).rejects.toThrow(RangeError);
    });
  });

  describe('snapshots', () => {
    it('loads the newest snapshot at or before a version, and replaces one saved twice', async () => {
      const stream = uniqueId('account');
      expect(await store.loadSnapshot(stream)).toBeNull();
      await store.saveSnapshot({
        streamId: stream,
        streamVersion: 10,
        schemaVersion: 1,
        state: { balance: '1.00' },
      });
      await store.saveSnapshot({
        streamId: stream,
        streamVersion: 20,
        schemaVersion: 1,
        state: { balance: '2.00' },
      });
      await store.saveSnapshot({
        streamId: stream,
        streamVersion: 20,
        schemaVersion: 2,
        state: { balance: '2.50' },
      });
      expect(await store.loadSnapshot(stream)).toEqual({
        streamId: stream,
        streamVersion: 20,
        schemaVersion: 2,
        state: { balance: '2.50' },
      });
      expect((await store.loadSnapshot(stream, 19))?.streamVersion).toBe(10);
      expect(await store.loadSnapshot(stream, 9)).toBeNull();
    });
  });

  describe('upcasters', () => {
    it('lifts old events through the chain on every read, and leaves other types and versions alone', async () => {
      const stream = uniqueId('account');
      const commandId = uniqueId('c');
      await store.append(
        stream,
        [
          anEvent('Deposited', { amount: '1.00' }, commandId),
          {
            ...anEvent('Deposited', { amount: '2.00', asset: 'BTC' }, commandId),
            schemaVersion: 2,
          },
          {
            ...anEvent('Deposited', { amount: '3.00', asset: 'ETH', note: 'n' }),
            schemaVersion: 3,
          },
          anEvent('Withdrawn', { amount: '4.00' }),
        ],
        { commandId, expectedVersion: 0 },
      );
      const read = await store.readStream(stream);
      expect(read.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
        ['Deposited', 3, { amount: '1.00', asset: 'USDT', note: commandId }],
        ['Deposited', 3, { amount: '2.00', asset: 'BTC', note: commandId }],
        ['Deposited', 3, { amount: '3.00', asset: 'ETH', note: 'n' }],
        ['Withdrawn', 1, { amount: '4.00' }],
      ]);
      await untilVisible(store);
      const viaReadAll = await store.readAll({ after: null, streamPrefixes: [stream] });
      expect(viaReadAll.map((e) => e.data)).toEqual(read.map((e) => e.data));
      // The stored row keeps what was written: upcasting never rewrites history.
      const stored = await store.query<{ schema_version: number }>(
        'SELECT schema_version FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [stream],
      );
      expect(stored.map((r) => r.schema_version)).toEqual([1, 2, 3, 1]);
    });
  });

  describe('immutability', () => {
    it('refuses UPDATE, DELETE and TRUNCATE of events, even when no row matches', async () => {
      const stream = uniqueId('account');
      await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
      await expect(
        store.query(`UPDATE events SET type = 'X' WHERE stream_id = $1`, [stream]),
      ).rejects.toThrow(/events are immutable/);
      await expect(store.query('DELETE FROM events WHERE false')).rejects.toThrow(
        /events are immutable/,
      );
      await expect(store.query('TRUNCATE events')).rejects.toThrow(/events are immutable/);
      expect(await store.readStream(stream)).toHaveLength(1);
    });
  });

  describe('the database handle', () => {
    it('answers ping and reports no pending migration', async () => {
      await expect(db.ping()).resolves.toBeUndefined();
      expect(await db.pendingMigrations()).toBe(false);
      expect(db.store.kind).toBe(db.kind);
    });

    it('lets TypeORM and the store interleave', async () => {
      const stream = uniqueId('account');
      const [rows] = await Promise.all([
        db.dataSource.query('SELECT count(*)::int AS n FROM streams WHERE stream_id = $1', [
          stream,
        ]),
        store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 }),
        db.dataSource.transaction((manager) => manager.query('SELECT 1')),
      ]);
      expect(rows).toHaveLength(1);
      expect(await store.streamVersion(stream)).toBe(1);
    });
  });
});
