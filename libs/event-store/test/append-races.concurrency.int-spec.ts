/*
 * Appends racing for real on PostgreSQL (not registered on PGlite, which has one session and no concurrency):
 * many writers on one stream keep versions gapless with every append stored exactly once, their hash chains
 * unbroken, and one command id appended from several connections at once writes exactly one set of events, every
 * caller getting that result.
 */
import {
  type AppendOptions,
  type AppendResult,
  ConcurrencyError,
  type EventStore,
} from '@ledger/event-store';
import { type TestDatabase, createConcurrencyTestDatabase } from '@ledger/testing';

import { anEvent, uniqueId, untilVisible } from './fixtures';

const APPENDERS = 16;
const APPENDS = 2_000;
const SAME_ID_CONNECTIONS = 8;

describe('appends racing on PostgreSQL', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createConcurrencyTestDatabase('append-races', { poolSize: APPENDERS + 2 });
    store = db.store;
    // Open the pool's connections up front, so the races below are between connections, not connection setups.
    await Promise.all(
      Array.from({ length: APPENDERS }, () => store.query('SELECT pg_sleep(0.05)')),
    );
  });
  afterAll(() => db?.drop());

  it(`keeps ${APPENDS} appends from ${APPENDERS} retrying writers on one stream gapless, each exactly once`, async () => {
    const stream = uniqueId('contended');
    let conflicts = 0;
    const appender = async (a: number): Promise<void> => {
      let expectedVersion = await store.streamVersion(stream);
      for (let n = 0; n < APPENDS / APPENDERS; n += 1) {
        for (;;) {
          try {
            const event = anEvent('Deposited', { appender: String(a), n: String(n) });
            const result = await store.append(stream, [event], {
              commandId: `${stream}/${a}/${n}`,
              expectedVersion,
            });
            expectedVersion = result.lastVersion;
            break;
          } catch (error) {
            if (!(error instanceof ConcurrencyError)) throw error;
            conflicts += 1;
            expectedVersion = error.actualVersion;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: APPENDERS }, (_, a) => appender(a)));

    const events = await store.readStream(stream);
    expect(events.map((e) => e.streamVersion)).toEqual(
      Array.from({ length: APPENDS }, (_, i) => i + 1),
    );
    const appends = new Set(events.map((e) => JSON.stringify([e.data.appender, e.data.n])));
    expect(appends.size).toBe(APPENDS);
    for (let a = 0; a < APPENDERS; a += 1) {
      const mine = events.filter((e) => e.data.appender === String(a)).map((e) => Number(e.data.n));
      expect(mine).toEqual(Array.from({ length: APPENDS / APPENDERS }, (_, n) => n));
    }
    // One stream is serialized by its row: global positions and reader order follow its versions.
    for (let i = 1; i < events.length; i += 1)
      expect(events[i]!.globalPosition > events[i - 1]!.globalPosition).toBe(true);
    await untilVisible(store);
    const inReaderOrder = await store.readAll({
      after: null,
      streamPrefixes: [stream],
      limit: APPENDS,
    });
    expect(inReaderOrder.map((e) => e.streamVersion)).toEqual(events.map((e) => e.streamVersion));
    expect(conflicts).toBeGreaterThan(0);
    const chains = await store.verifyHashChains!();
    expect(chains.mismatches).toEqual([]);
    expect(chains.hashedEvents).toBe(chains.events);
  }, 120_000);

  it('keeps each stream in version order for readers when appenders race to create it', async () => {
    // Regression: a transaction's xid is assigned at its first write. When only the stream row serialized the
    // appends, two racing creators both got their xid first, and the later version could carry the smaller xid,
    // so readers ((xid, position) order) saw version 4 before version 1. Failed ~15 of 40 rounds then.
    for (let round = 0; round < 40; round += 1) {
      const stream = uniqueId('created-by-many');
      await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          store.append(
            stream,
            Array.from({ length: 1 + (w % 3) }, () => anEvent()),
            {
              commandId: `${stream}/${w}`,
              expectedVersion: 'any',
            },
          ),
        ),
      );
      await untilVisible(store);
      const inReaderOrder = await store.readAll({ after: null, streamPrefixes: [stream] });
      expect(inReaderOrder.map((e) => e.streamVersion)).toEqual(inReaderOrder.map((_, i) => i + 1));
    }
    // Racing creators with expectedVersion 'any': each chains from the one before it.
    expect((await store.verifyHashChains!()).mismatches).toEqual([]);
  }, 300_000);

  describe(`one command id from ${SAME_ID_CONNECTIONS} connections at once`, () => {
    /** All callers start together; an inline projection holding the winner open widens the race. */
    async function race(
      streamOf: (i: number) => string,
      options: Omit<AppendOptions, 'commandId'>,
    ) {
      const commandId = uniqueId('same-command');
      const results = await Promise.all(
        Array.from({ length: SAME_ID_CONNECTIONS }, (_, i) =>
          store.append(
            streamOf(i),
            [anEvent('Deposited', {}, commandId), anEvent('Deposited', {}, commandId)],
            {
              ...options,
              commandId,
            },
          ),
        ),
      );
      return { commandId, results };
    }

    async function expectOneSetOfEvents(commandId: string, results: AppendResult[]): Promise<void> {
      const winners = results.filter((r) => !r.duplicate);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const result of results)
        expect(result).toEqual({ ...winner, duplicate: result.duplicate });
      const stored = await store.query<{ stream_id: string; stream_version: number }>(
        `SELECT stream_id, stream_version FROM events WHERE metadata->>'commandId' = $1 ORDER BY global_position`,
        [commandId],
      );
      expect(stored).toEqual([
        { stream_id: winner.streamId, stream_version: winner.firstVersion },
        { stream_id: winner.streamId, stream_version: winner.lastVersion },
      ]);
    }

    const holdOpen: AppendOptions['onAppended'] = async (tx) => {
      await tx.query('SELECT pg_sleep(0.2)');
    };

    it('to one new stream (expected version 0): the losers find the id once they hold the stream lock', async () => {
      const stream = uniqueId('same-stream');
      const { commandId, results } = await race(() => stream, {
        expectedVersion: 0,
        onAppended: holdOpen,
      });
      await expectOneSetOfEvents(commandId, results);
      expect(await store.streamVersion(stream)).toBe(2);
    });

    it("to one stream with 'any': the losers find the id once they hold the stream lock", async () => {
      const stream = uniqueId('same-stream-any');
      const { commandId, results } = await race(() => stream, {
        expectedVersion: 'any',
        onAppended: holdOpen,
      });
      await expectOneSetOfEvents(commandId, results);
      expect(await store.streamVersion(stream)).toBe(2);
    });

    it('to different streams: the losers hit the unique command id and roll back their stream and events', async () => {
      const prefix = uniqueId('different');
      const { commandId, results } = await race((i) => `${prefix}-${i}`, {
        expectedVersion: 0,
        onAppended: holdOpen,
      });
      await expectOneSetOfEvents(commandId, results);
      const versions = await Promise.all(
        Array.from({ length: SAME_ID_CONNECTIONS }, (_, i) =>
          store.streamVersion(`${prefix}-${i}`),
        ),
      );
      expect(versions.filter((v) => v === 2)).toHaveLength(1);
      expect(versions.filter((v) => v === 0)).toHaveLength(SAME_ID_CONNECTIONS - 1);
    });

    it('on the one-round-trip path (no inline projection), repeatedly', async () => {
      for (let round = 0; round < 10; round += 1) {
        const prefix = uniqueId('fast');
        const { commandId, results } = await race((i) => `${prefix}-${i % 2}`, {
          expectedVersion: 'any',
        });
        await expectOneSetOfEvents(commandId, results);
      }
    });
  });
});
