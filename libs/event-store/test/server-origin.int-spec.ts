/*
 * A consumer's start-up check after a restore (issue 11, item 8), on PostgreSQL and PGlite: the first start records
 * the server's system identifier with the checkpoint; a start on "another server" (a different identifier written
 * into the row) runs and records the new one when every stored transaction id is below the current one, and is
 * refused with the procedure when a stored id is not (a checkpoint, or an event, whose transaction id lies in this
 * server's future, as a dump from a busier server leaves them). A refused consumer delivers nothing and changes
 * nothing.
 */
import {
  ConsumerStartRefusedError,
  type EventStore,
  type RecordedEvent,
} from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

import { anEvent, collectingLogger, uniqueId } from './fixtures';

/** Transaction ids this far above the current one stand for "written by a busier server". */
const AHEAD = 1_000_000n;

async function serverIdentifier(store: EventStore): Promise<string> {
  const [row] = await store.query<{ id: string }>(
    'SELECT system_identifier::text AS id FROM pg_control_system()',
  );
  if (!row) throw new Error('pg_control_system() returned no row');
  return row.id;
}

async function storedIdentifier(store: EventStore, name: string): Promise<string | null> {
  const [row] = await store.query<{ id: string | null }>(
    'SELECT system_identifier::text AS id FROM subscription_checkpoints WHERE name = $1',
    [name],
  );
  return row?.id ?? null;
}

async function currentTransactionId(store: EventStore): Promise<bigint> {
  const [row] = await store.query<{ id: string }>('SELECT pg_current_xact_id()::text AS id');
  return BigInt(row?.id ?? '0');
}

describe('consumer start after a restore', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('server-origin');
    store = db.store;
    await store.append(uniqueId('account'), [anEvent()], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
    });
  }, 300_000);
  afterAll(() => db?.drop());

  it('PGlite and PostgreSQL both answer pg_control_system() with an identifier', async () => {
    expect(await serverIdentifier(store)).toMatch(/^-?\d+$/);
  });

  it('records the server at the first start', async () => {
    const name = uniqueId('consumer');
    const subscription = store.subscribe(name, async () => undefined, {
      logger: collectingLogger(),
    });
    await subscription.start();
    await subscription.stop();
    expect(await storedIdentifier(store, name)).toBe(await serverIdentifier(store));
  });

  it('runs on another server whose transaction ids are past the stored ones, and records it', async () => {
    const name = uniqueId('consumer');
    const logger = collectingLogger();
    const first = store.subscribe(name, async () => undefined, { logger });
    await first.start();
    await first.waitUntilCaughtUp();
    await first.stop();
    await store.query(
      'UPDATE subscription_checkpoints SET system_identifier = 42 WHERE name = $1',
      [name],
    );

    const delivered: RecordedEvent[] = [];
    const again = store.subscribe(name, async (events) => void delivered.push(...events), {
      logger,
    });
    await again.start();
    const stream = uniqueId('account');
    await store.append(stream, [anEvent()], { commandId: uniqueId('c'), expectedVersion: 0 });
    await again.waitUntilCaughtUp();
    await again.stop();
    expect(delivered.map((e) => e.streamId)).toEqual([stream]);
    expect(await storedIdentifier(store, name)).toBe(await serverIdentifier(store));
    expect(logger.warnings.join('\n')).toMatch(
      /last ran on server 42, this is server .* safe, recorded/,
    );
  });

  it('refuses another server while a checkpoint’s transaction id lies in its future', async () => {
    const name = uniqueId('consumer');
    const first = store.subscribe(name, async () => undefined, { logger: collectingLogger() });
    await first.start();
    await first.waitUntilCaughtUp();
    await first.stop();
    const future = (await currentTransactionId(store)) + AHEAD;
    await store.query(
      `UPDATE subscription_checkpoints SET system_identifier = 42, transaction_id = $2::xid8, global_position = 1
        WHERE name = $1`,
      [name, String(future)],
    );

    const delivered: RecordedEvent[] = [];
    const refused = store.subscribe(name, async (events) => void delivered.push(...events), {
      logger: collectingLogger(),
    });
    const start = refused.start();
    await expect(start).rejects.toBeInstanceOf(ConsumerStartRefusedError);
    await expect(start).rejects.toThrow(
      new RegExp(
        `refusing to start: consumer ${name} last ran on server 42, this is server -?\\d+, and the database ` +
          `holds transaction ids up to ${future}, not below this server's current \\d+ .*README.md "Operations"`,
      ),
    );
    await refused.stop();
    expect(delivered).toEqual([]);
    expect(await storedIdentifier(store, name)).toBe('42');
  });
});

describe('a new consumer or writer on a database whose events lie in the server’s future', () => {
  it('is refused, naming the highest transaction id', async () => {
    const db = await createTestDatabase('server-origin-events');
    try {
      const future = (await currentTransactionId(db.store)) + AHEAD;
      // What a dump from a busier server restores: an event stamped by the other server's transaction.
      await db.store.query(
        `INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, transaction_id)
         VALUES ('account-restored', 1, 'Deposited', 1, '{"amount":"1"}',
                 '{"commandId":"r","occurredAt":"2024-01-01T00:00:00Z"}', $1::xid8)`,
        [String(future)],
      );
      const subscription = db.store.subscribe('fresh-consumer', async () => undefined, {
        logger: collectingLogger(),
      });
      await expect(subscription.start()).rejects.toThrow(
        new RegExp(`no server recorded yet for consumer fresh-consumer.*up to ${future}`),
      );
      await subscription.stop();
      expect(await storedIdentifier(db.store, 'fresh-consumer')).toBeNull();
      // A writer that runs no consumer (CLI import) is refused too: its events would sort before the restored.
      await expect(
        db.store.append('account-new', [anEvent()], {
          commandId: uniqueId('c'),
          expectedVersion: 0,
        }),
      ).rejects.toThrow(new RegExp(`refusing to append: .*up to ${future}`));
      expect(await db.store.streamVersion('account-new')).toBe(0);
    } finally {
      await db.drop();
    }
  }, 300_000);
});
