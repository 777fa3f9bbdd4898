/**
 * Goal: `ledger parked` lists what consumers parked (a table with the events waiting behind each, or JSON) and
 * `ledger parked retry` delivers parked events again through whichever process runs their consumer, reporting
 * each outcome: delivered (exit 0), failed again (exit 1, still parked), or pending when no process ran the
 * consumer (exit 1, the request stays). A blocked or unknown id is refused. The ledger's own consumers
 * (margin-history here) run in the CLI process while it waits, so a retry works with the API stopped.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, RecordedEvent, Subscription } from '@ledger/event-store';
import { parseReferenceData } from '@ledger/margin-domain';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  MARGIN_HISTORY_CONSUMER,
  MarginHistoryProjection,
  readShippedReferenceData,
  sqlAccountProjection,
} from '@ledger/ledger-application';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';
import {
  type Output,
  type ParkedEventJson,
  hostLedgerConsumers,
  listParked,
  parkedRetryCommand,
  retryParked,
} from '../src/commands/parked';

function captured(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l) };
}

const QUIET = { log: () => undefined, warn: () => undefined, error: () => undefined };
const FAST = { maxAttempts: 2, retryDelayMsInitial: 1, retryDelayMsMax: 4, pollIntervalMs: 20 };

describe('ledger parked', () => {
  let db: TestDatabase;
  let store: EventStore;
  let consumer: Subscription | undefined;
  let healthy = false;
  let failure = 'cannot apply';
  const consumerName = 'cli-test-consumer';

  /** A consumer (standing in for the API's) that fails on stream `bad` while `healthy` is false. */
  function startConsumer(): Promise<void> {
    consumer = store.subscribe(
      consumerName,
      async (events: RecordedEvent[]) => {
        if (!healthy && events.some((e) => e.streamId === 'bad')) throw new Error(failure);
      },
      { ...FAST, streamPrefixes: ['bad', 'good'], logger: QUIET },
    );
    return consumer.start();
  }

  beforeAll(async () => {
    db = await createTestDatabase('cli_parked');
    store = db.store;
    for (const stream of ['good', 'bad', 'bad', 'good', 'bad']) {
      await store.append(
        stream,
        [
          {
            type: 'Noted',
            schemaVersion: 1,
            data: {},
            metadata: {
              commandId: `${stream}-${Math.random()}`,
              occurredAt: '2024-06-01T00:00:00Z',
            },
          },
        ],
        { commandId: `${stream}-${Math.random()}`, expectedVersion: 'any' },
      );
    }
    await startConsumer();
    await consumer?.waitUntilCaughtUp(60_000);
  }, 300_000);

  afterAll(async () => {
    await consumer?.stop();
    await db?.drop();
  });

  it('lists the parked event with the events waiting behind it, as a table and as JSON', async () => {
    const table = captured();
    expect(await listParked(store, {}, table)).toBe(0);
    expect(table.lines[0]).toMatch(
      /^ID\s+CONSUMER\s+STATUS\s+STREAM\s+VERSION\s+POSITION\s+TYPE\s+ATTEMPTS\s+BEHIND$/,
    );
    expect(table.lines[1]).toMatch(
      new RegExp(`^\\d+\\s+${consumerName}\\s+failed\\s+bad\\s+1\\s+\\d+\\s+Noted\\s+4\\s+2$`),
    );
    expect(table.lines.join('\n')).toContain('cannot apply');
    expect(table.lines.at(-1)).toMatch(/^1 parked event, 2 waiting behind them/);

    const json = captured();
    await listParked(store, { json: true, blocked: true }, json);
    const rows = JSON.parse(json.lines.join('\n')) as ParkedEventJson[];
    expect(rows.map((r) => [r.status, r.streamId, r.streamVersion, r.blockedBehind])).toEqual([
      ['failed', 'bad', 1, 2],
      ['blocked', 'bad', 2, undefined],
      ['blocked', 'bad', 3, undefined],
    ]);
    expect(rows[0]).toMatchObject({ consumer: consumerName, partition: 0, error: 'cannot apply' });
  });

  it('refuses a blocked id and an unknown one', async () => {
    const rows = (await store.parkedEvents?.({ consumer: consumerName })) ?? [];
    const [head, blocked] = rows;
    const out = captured();
    expect(await retryParked(store, { ids: [blocked!.id] }, { waitMs: 0 }, false, out)).toBe(1);
    expect(out.errors).toEqual([
      `parked event ${blocked!.id} (bad v2) waits behind #${head!.id}: retry that one`,
    ]);
    const unknown = captured();
    expect(await retryParked(store, { ids: [999_999n] }, { waitMs: 0 }, false, unknown)).toBe(1);
    expect(unknown.errors).toEqual(['no parked event 999999']);
    expect((await store.parkedEvents?.({ consumer: consumerName }))?.[0]?.retryRequestedAt).toBe(
      null,
    );
  });

  it('reports a retry that fails again (exit 1), then one that delivers (exit 0)', async () => {
    const [head] = (await store.parkedEvents?.({ consumer: consumerName })) ?? [];
    failure = 'still cannot apply';
    const again = captured();
    expect(await retryParked(store, { ids: [head!.id] }, { waitMs: 10_000 }, false, again)).toBe(1);
    expect(again.lines).toEqual([
      `#${head!.id} ${consumerName} bad v1 (Noted): failed again (5 attempts), still parked: still cannot apply`,
    ]);

    healthy = true;
    const delivered = captured();
    expect(
      await retryParked(
        store,
        { all: true, consumer: consumerName },
        { waitMs: 10_000 },
        true,
        delivered,
      ),
    ).toBe(0);
    expect(JSON.parse(delivered.lines.join('\n'))).toEqual([
      expect.objectContaining({ id: head!.id.toString(), outcome: 'delivered' }),
    ]);
    // The events that waited behind it follow, in order, after its row went.
    await until(async () => (await store.parkedEvents?.({ consumer: consumerName }))?.length === 0);
  });

  it('leaves the request pending when no process runs the consumer, and delivers it with the consumer hosted', async () => {
    await store.query(`
      CREATE FUNCTION test_poison_m1() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.account_id = 'm1' AND EXISTS (SELECT 1 FROM test_poison) THEN
          RAISE EXCEPTION 'poisoned account m1';
        END IF;
        RETURN NEW;
      END $$`);
    await store.query(`CREATE TABLE test_poison (on_ boolean)`);
    await store.query(`INSERT INTO test_poison VALUES (true)`);
    await store.query(`CREATE TRIGGER test_poison_m1 BEFORE INSERT ON margin_history
      FOR EACH ROW EXECUTE FUNCTION test_poison_m1()`);
    const ledger = await Ledger.open({
      store,
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      projection: sqlAccountProjection,
      riskSaga: false,
      marginHistory: false,
    });
    try {
      await ledger.execute(
        { command: 'OpenAccount', accountId: 'm1' },
        { commandId: 'm1-open', at: '2024-06-01T00:00:00Z' },
      );
      const projection = new MarginHistoryProjection(store, { ...FAST, logger: QUIET });
      await projection.start();
      await projection.waitUntilCaughtUp();
      await projection.stop();
      const [parked] = (await store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER })) ?? [];
      expect(parked).toMatchObject({ status: 'failed', streamId: 'account-m1' });
      await store.query(`DELETE FROM test_poison`);

      const pending = captured();
      expect(await retryParked(store, { ids: [parked!.id] }, { waitMs: 300 }, false, pending)).toBe(
        1,
      );
      expect(pending.lines[0]).toMatch(
        /still pending after 0 s: no process ran consumer margin-history/,
      );

      const hosted = captured();
      expect(
        await retryParked(
          store,
          { ids: [parked!.id] },
          { waitMs: 20_000, host: hostLedgerConsumers(store, ledger, QUIET) },
          false,
          hosted,
        ),
      ).toBe(0);
      expect(hosted.lines[0]).toMatch(/account-m1 v1 \(AccountOpened\): delivered/);
      const rows = await store.query<{ event_type: string }>(
        `SELECT event_type FROM margin_history WHERE account_id = 'm1'`,
      );
      expect(rows.map((r) => r.event_type)).toEqual(['AccountOpened']);
    } finally {
      await ledger.close();
    }
  }, 300_000);

  it('refuses bad arguments before touching a database', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // Were an argument let through, the command would open this (absent) folder, never ./data.
    const saved = { url: process.env.DATABASE_URL, dir: process.env.LEDGER_DATA_DIR };
    delete process.env.DATABASE_URL;
    process.env.LEDGER_DATA_DIR = join(tmpdir(), `ledger-parked-args-${process.pid}`);
    try {
      expect(await parkedRetryCommand([], {})).toBe(2);
      expect(await parkedRetryCommand(['1'], { all: true })).toBe(2);
      expect(await parkedRetryCommand(['x1'], {})).toBe(2);
      expect(await parkedRetryCommand(['1'], { consumer: 'risk-saga' })).toBe(2);
      expect(await parkedRetryCommand(['1'], { wait: '-3' })).toBe(2);
      expect(existsSync(process.env.LEDGER_DATA_DIR)).toBe(false);
    } finally {
      errors.mockRestore();
      if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
      if (saved.dir === undefined) delete process.env.LEDGER_DATA_DIR;
      else process.env.LEDGER_DATA_DIR = saved.dir;
    }
  });
});

/** Resolves once `predicate` holds (re-checked every 10 ms); fails after `timeoutMs`. */
async function until(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
