/*
 * The event hash chain on a real database (PostgreSQL in `int`, PGlite in `event-store-pglite`): the append computes
 * hash = SHA-256(previous hash ‖ RFC 8785 text) in SQL, for every expected version and in group commits, and JS
 * recomputes the same hash from what a raw read returns, awkward numbers and strings included. verifyHashChains is
 * clean on such a store, counts the unhashed prefix of streams written before the chain (a database migrated in
 * two steps), and names the first event edited behind the ledger's back (immutability trigger disabled by a
 * superuser), a hash that was changed, a stream row that disagrees, and an event stored without a hash. An
 * application older than the chain is refused, never allowed to write an unhashed event mid-chain.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type EventStore,
  type EventToAppend,
  type HashChainReport,
  type LedgerDatabase,
  type MigrationClass,
  type Upcaster,
  eventHash,
  eventHashText,
  openDatabase,
} from '@ledger/event-store';
import { type TestDatabase, assertTestDatabaseName, createTestDatabase } from '@ledger/testing';
import pg from 'pg';

import { ALL_MIGRATIONS } from '../../../migrations';
import { anEvent, uniqueId, untilVisible } from './fixtures';

const upcasters: Upcaster[] = [
  { type: 'Deposited', fromSchemaVersion: 1, upcast: (data) => ({ ...data, asset: 'USDT' }) },
];

/** The chain recomputed in JS from a raw read of the stream. */
async function recomputed(store: EventStore, streamId: string): Promise<(string | null)[]> {
  let previous: string | null = null;
  const out: (string | null)[] = [];
  for (const event of await store.readStream(streamId, { raw: true })) {
    previous = event.hash === null || event.hash === undefined ? null : eventHash(previous, event);
    out.push(previous);
  }
  return out;
}

async function storedHashes(store: EventStore, streamId: string): Promise<(string | null)[]> {
  return (await store.readStream(streamId, { raw: true })).map((e) => e.hash ?? null);
}

/** The report's lines about these streams only: every test of the suite shares one database. */
function about(report: HashChainReport, streams: string[]) {
  return {
    unhashedPrefixes: report.unhashedPrefixes.filter((p) => streams.includes(p.streamId)),
    mismatches: report.mismatches.filter((m) => streams.includes(m.streamId)),
  };
}

/** Runs `edit` with the immutability trigger off, as a superuser tampering with the table would. */
async function behindTheLedgersBack(store: EventStore, edit: string, params: unknown[]) {
  await store.withTransaction(async (tx) => {
    await tx.query('ALTER TABLE events DISABLE TRIGGER events_are_immutable');
    await tx.query(edit, params);
    await tx.query('ALTER TABLE events ENABLE TRIGGER events_are_immutable');
  });
}

describe('event hash chain', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('hash-chain', { upcasters });
    store = db.store;
  }, 300_000);
  afterAll(() => db?.drop());

  it('hashes version 1 from nothing and each later event from the previous hash, for every expected version', async () => {
    const stream = uniqueId('account');
    await store.append(stream, [anEvent(), anEvent('Withdrawn', { amount: '1' })], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
    });
    await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 2 });
    await store.append(stream, [anEvent(), anEvent()], {
      commandId: uniqueId('c'),
      expectedVersion: 'any',
    });
    const raw = await store.readStream(stream, { raw: true });
    expect(raw.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    const stored = await storedHashes(store, stream);
    expect(stored.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(await recomputed(store, stream)).toEqual(stored);

    // The definition, byte for byte: version 1 hashes its canonical text alone, version 2 chains.
    const first = raw[0]!;
    expect(eventHashText(first)).toBe(
      `{"data":{"amount":"10.25"},"metadata":{"commandId":"cmd","occurredAt":"2024-01-01T00:00:00.000Z"},` +
        `"schemaVersion":1,"streamId":"${stream}","streamVersion":1,"type":"Deposited"}`,
    );
    expect(stored[0]).toBe(createHash('sha256').update(eventHashText(first)).digest('hex'));
    expect(stored[1]).toBe(
      createHash('sha256')
        .update(Buffer.from(stored[0]!, 'hex'))
        .update(eventHashText(raw[1]!))
        .digest('hex'),
    );
  });

  it('covers the event as stored: an upcast read keeps the hash, a raw read recomputes it', async () => {
    const stream = uniqueId('account');
    await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
    const [upcast] = await store.readStream(stream);
    const [raw] = await store.readStream(stream, { raw: true });
    expect(upcast?.data).toEqual({ amount: '10.25', asset: 'USDT' });
    expect(upcast?.schemaVersion).toBe(2);
    expect(raw?.data).toEqual({ amount: '10.25' });
    expect(upcast?.hash).toBe(raw?.hash);
    expect(eventHash(null, raw!)).toBe(raw?.hash);
    expect(eventHash(null, upcast!)).not.toBe(raw?.hash);
    await untilVisible(store);
    const [fromReadAll] = (await store.readAll({ raw: true, limit: 100_000 })).filter(
      (e) => e.streamId === stream,
    );
    expect(fromReadAll?.data).toEqual({ amount: '10.25' });
  });

  it('recomputes from stored jsonb whatever the numbers, strings and key order of the payload', async () => {
    const stream = uniqueId('odd/stream "ünïcode" 😀');
    const event: EventToAppend = {
      type: 'Odd',
      schemaVersion: 3,
      data: {
        zeta: [1e21, 1e-7, 0.1, -0, 123456789012345680000, 5e-324, 1.7976931348623157e308, 4.5],
        '10': 'ten',
        '9': 'nine',
        é: 'é',
        b: { y: null, x: [true, false, { '': 'empty key' }] },
        ctl: '\u0001\u001f\n\t"\\\u2028',
        a: '\ud83d\ude00',
      },
      metadata: {
        commandId: 'odd',
        occurredAt: '2024-01-01T00:00:00.000Z',
        causationId: undefined,
        count: 42,
      },
    };
    await store.append(stream, [event, event], { commandId: uniqueId('c'), expectedVersion: 0 });
    const stored = await storedHashes(store, stream);
    expect(await recomputed(store, stream)).toEqual(stored);
    // And the hash JS would compute from the value it appended, before any database saw it.
    expect(stored[0]).toBe(eventHash(null, { ...event, streamId: stream, streamVersion: 1 }));
  });

  it('refuses a payload that is not JSON before any round trip', async () => {
    const stream = uniqueId('account');
    await expect(
      store.append(stream, [anEvent('Deposited', { amount: Number.NaN })], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      }),
    ).rejects.toThrow(/not a JSON number/);
    expect(await store.streamVersion(stream)).toBe(0);
  });

  it('chains group commits too, a conflicting request changing nothing', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    await store.append(b, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
    const before = await storedHashes(store, b);
    const outcomes = await store.appendBatch!([
      {
        streamId: a,
        events: [anEvent(), anEvent()],
        options: { commandId: uniqueId('c'), expectedVersion: 0 },
      },
      {
        streamId: b,
        events: [anEvent()],
        options: { commandId: uniqueId('c'), expectedVersion: 0 },
      },
      {
        streamId: a,
        events: [anEvent()],
        options: { commandId: uniqueId('c'), expectedVersion: 2 },
      },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(await storedHashes(store, b)).toEqual(before);
    const stored = await storedHashes(store, a);
    expect(stored).toHaveLength(3);
    expect(await recomputed(store, a)).toEqual(stored);
    const [row] = await store.query<{ last_hash: string }>(
      `SELECT encode(last_hash, 'hex') AS last_hash FROM streams WHERE stream_id = $1`,
      [a],
    );
    expect(row?.last_hash).toBe(stored[2]);
  });

  it('refuses an application older than the chain (events as objects), writing nothing', async () => {
    const stream = uniqueId('account');
    await expect(
      store.query('SELECT * FROM ledger_append($1, $2, $3, $4::jsonb)', [
        stream,
        0,
        uniqueId('c'),
        JSON.stringify([anEvent()]),
      ]),
    ).rejects.toThrow(/older than migration EventHashChain1732450400000/);
    expect(await store.streamVersion(stream)).toBe(0);
  });

  it('verify is clean on what the append wrote', async () => {
    const streams = [uniqueId('clean'), uniqueId('clean')];
    for (const stream of streams)
      for (let i = 0; i < 3; i++)
        await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: i });
    const progress: number[] = [];
    const report = await store.verifyHashChains!({ onProgress: (n) => progress.push(n) });
    expect(about(report, streams)).toEqual({ unhashedPrefixes: [], mismatches: [] });
    expect(report.streams).toBeGreaterThanOrEqual(2);
    expect(report.hashedEvents).toBeGreaterThanOrEqual(6);
    expect(progress.at(-1)).toBe(report.events);
  });

  it('names the first event edited behind the ledger’s back: stream, version, global position', async () => {
    const stream = uniqueId('tampered');
    for (let i = 0; i < 4; i++)
      await store.append(stream, [anEvent('Deposited', { amount: `${i + 1}` })], {
        commandId: uniqueId('c'),
        expectedVersion: i,
      });
    const victim = (await store.readStream(stream, { raw: true }))[1]!;
    // The immutability trigger refuses this; a superuser turns it off for one statement.
    await expect(
      store.query(`UPDATE events SET data = '{"amount":"1000000"}' WHERE global_position = $1`, [
        String(victim.globalPosition),
      ]),
    ).rejects.toThrow(/events are immutable/);
    await behindTheLedgersBack(
      store,
      `UPDATE events SET data = '{"amount":"1000000"}' WHERE global_position = $1`,
      [String(victim.globalPosition)],
    );
    const report = await store.verifyHashChains!();
    expect(about(report, [stream]).mismatches).toEqual([
      {
        streamId: stream,
        streamVersion: 2,
        globalPosition: victim.globalPosition,
        reason: expect.stringMatching(/is not the recomputed/),
      },
    ]);
  });

  it('names an event whose hash was rewritten to fit its edit: the next one no longer chains', async () => {
    const stream = uniqueId('rehashed');
    for (let i = 0; i < 3; i++)
      await store.append(stream, [anEvent('Deposited', { amount: `${i + 1}` })], {
        commandId: uniqueId('c'),
        expectedVersion: i,
      });
    const [v1, v2, v3] = await store.readStream(stream, { raw: true });
    const forged = { ...v2!, data: { amount: '1000000' } };
    await behindTheLedgersBack(
      store,
      `UPDATE events SET data = $2::jsonb, hash = decode($3, 'hex') WHERE global_position = $1`,
      [String(v2!.globalPosition), JSON.stringify(forged.data), eventHash(v1!.hash!, forged)],
    );
    const report = await store.verifyHashChains!();
    expect(about(report, [stream]).mismatches).toEqual([
      expect.objectContaining({
        streamId: stream,
        streamVersion: 3,
        globalPosition: v3!.globalPosition,
      }),
    ]);
  });

  it('names a stream row whose last hash disagrees with its last event', async () => {
    const stream = uniqueId('head');
    await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
    await store.query(`UPDATE streams SET last_hash = sha256('x'::bytea) WHERE stream_id = $1`, [
      stream,
    ]);
    const report = await store.verifyHashChains!();
    expect(about(report, [stream]).mismatches).toEqual([
      expect.objectContaining({
        streamId: stream,
        streamVersion: 1,
        reason: expect.stringMatching(/streams row says version 1 with last hash/),
      }),
    ]);
  });

  it('names an event inserted without a hash after the chain began', async () => {
    const stream = uniqueId('inserted');
    await store.query(
      `INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
       VALUES ($1, 1, 'Deposited', 1, '{"amount":"5"}', '{"commandId":"x","occurredAt":"2024-01-01T00:00:00Z"}')`,
      [stream],
    );
    await store.query('INSERT INTO streams (stream_id, version) VALUES ($1, 1)', [stream]);
    const report = await store.verifyHashChains!();
    expect(about(report, [stream])).toEqual({
      unhashedPrefixes: [],
      mismatches: [
        expect.objectContaining({
          streamId: stream,
          streamVersion: 1,
          reason: expect.stringMatching(
            /no hash, stored by transaction \d+, after the hash chain began/,
          ),
        }),
      ],
    });
  });
});

/**
 * A database of its own, migrated in two steps: on the PostgreSQL server of TEST_DATABASE_URL (not in the PGlite
 * project), else PGlite in a temporary folder, reopened between the steps.
 */
async function scratchDatabase(): Promise<{
  open(migrations: MigrationClass[]): Promise<LedgerDatabase>;
  drop(): Promise<void>;
}> {
  const server =
    process.env.LEDGER_TEST_FORCE_PGLITE === '1' ? undefined : process.env.TEST_DATABASE_URL;
  if (server) {
    const name = `ledger_test_hash_legacy_${randomBytes(4).toString('hex')}`;
    assertTestDatabaseName(name);
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return {
      open: (migrations) => openDatabase({ url: url.toString(), migrations }),
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'ledger-test-hash-legacy-'));
  return {
    open: (migrations) => openDatabase({ dataDir, migrations }),
    drop: () => rm(dataDir, { recursive: true, force: true }),
  };
}

describe('event hash chain on a database that had events before it', () => {
  it('keeps the old events unhashed, reports the prefix, and chains the next event from nothing', async () => {
    const scratch = await scratchDatabase();
    try {
      const chain = ALL_MIGRATIONS.findIndex((m) => m.name === 'EventHashChain1732450400000');
      expect(chain).toBeGreaterThan(0);
      const before = await scratch.open(ALL_MIGRATIONS.slice(0, chain));
      try {
        // What the application did before the chain: events as objects, to the function of the first migration.
        const legacyAppend = (stream: string, count: number, commandId: string) =>
          before.store.query('SELECT * FROM ledger_append($1, $2, $3, $4::jsonb)', [
            stream,
            0,
            commandId,
            JSON.stringify(Array.from({ length: count }, () => anEvent())),
          ]);
        await legacyAppend('legacy', 2, 'legacy-1');
        await legacyAppend('old-only', 1, 'legacy-2');
      } finally {
        await before.close();
      }

      const after = await scratch.open(ALL_MIGRATIONS);
      try {
        const store = after.store;
        await store.append('legacy', [anEvent(), anEvent()], {
          commandId: 'new-1',
          expectedVersion: 2,
        });
        await store.append('fresh', [anEvent()], { commandId: 'new-2', expectedVersion: 0 });
        const legacy = await store.readStream('legacy', { raw: true });
        expect(legacy.map((e) => e.hash === null)).toEqual([true, true, false, false]);
        // The first hashed event after the prefix hashes its own text alone (previous = empty).
        expect(legacy[2]?.hash).toBe(eventHash(null, legacy[2]!));
        expect(legacy[3]?.hash).toBe(eventHash(legacy[2]!.hash!, legacy[3]!));

        const report = await store.verifyHashChains!();
        expect(report).toEqual({
          streams: 3,
          events: 6,
          hashedEvents: 3,
          unhashedPrefixes: [
            { streamId: 'legacy', events: 2 },
            { streamId: 'old-only', events: 1 },
          ],
          mismatches: [],
        });

        // An old event is as editable as before (no hash protects it), and is still reported as unhashed.
        await behindTheLedgersBack(
          store,
          `UPDATE events SET data = '{"amount":"1"}' WHERE stream_id = 'legacy' AND stream_version = 3`,
          [],
        );
        expect((await store.verifyHashChains!()).mismatches).toEqual([
          expect.objectContaining({ streamId: 'legacy', streamVersion: 3 }),
        ]);
      } finally {
        await after.close();
      }
    } finally {
      await scratch.drop();
    }
  }, 300_000);
});
