/**
 * Goal: the async margin-history projection is idempotent under redelivery (issue 11, item 2). A batch whose
 * transaction fails after the in-memory fold ran is delivered again; the stored rows must still equal a fresh
 * fold of the log (a deposit of 50 on 100 must read 150, never 200), and a batch holding an `OrderCanceled` must
 * recover instead of failing on every retry (`canceled order o1 exists`). The failure is injected in the
 * database: a trigger on `margin_history` raises once (a sequence counts its calls, and a sequence survives the
 * rollback), i.e. after the fold ran and inside the consumer's transaction. An account whose rows keep failing
 * is parked, its later events wait behind it, other accounts go on, a restarted projection derives its fold
 * without the parked events, and a retry writes the missing rows.
 */
import type { TestDatabase } from '@ledger/testing';
import { createTestDatabase } from '@ledger/testing';
import { parseReferenceData } from '@ledger/margin-domain';
import type { SubscriptionLogger } from '@ledger/event-store';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  MARGIN_HISTORY_CONSUMER,
  MarginHistoryFold,
  MarginHistoryProjection,
  type MarginHistoryRow,
  insertMarginHistory,
  readShippedReferenceData,
  sqlAccountProjection,
} from '../src';

describe('margin history under a redelivered batch', () => {
  let db: TestDatabase;
  let ledger: Ledger;
  let projection: MarginHistoryProjection;
  let clock = Date.parse('2024-06-01T00:00:00Z');
  const logged: string[] = [];
  const logger: SubscriptionLogger = {
    log: () => undefined,
    warn: (m) => void logged.push(m),
    error: (m) => void logged.push(m),
  };

  function startProjection(): Promise<void> {
    projection = new MarginHistoryProjection(db.store, {
      logger,
      maxAttempts: 3,
      retryDelayMsInitial: 5,
      retryDelayMsMax: 20,
    });
    return projection.start();
  }

  beforeAll(async () => {
    db = await createTestDatabase('margin_history_redelivery');
    ledger = await Ledger.open({
      store: db.store,
      referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      projection: sqlAccountProjection,
      riskSaga: false,
      marginHistory: false,
    });
    await startProjection();
    await db.store.query(`CREATE SEQUENCE test_margin_history_inserts`);
    await db.store.query(`CREATE TABLE test_failures_left (n integer NOT NULL)`);
    await db.store.query(`INSERT INTO test_failures_left VALUES (0)`);
    // Fails the first `n` inserts after arming. The counter is a sequence (not rolled back with the failing
    // transaction); test_failures_left holds the sequence value up to which inserts fail.
    await db.store.query(`
      CREATE FUNCTION test_fail_margin_history() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('test_margin_history_inserts') <= (SELECT n FROM test_failures_left) THEN
          RAISE EXCEPTION 'injected failure after the fold ran';
        END IF;
        RETURN NULL;
      END $$`);
    await db.store.query(`
      CREATE TRIGGER test_fail_margin_history BEFORE INSERT ON margin_history
        FOR EACH STATEMENT EXECUTE FUNCTION test_fail_margin_history()`);
  }, 300_000);

  afterAll(async () => {
    await projection?.stop();
    await ledger?.close();
    await db?.drop();
  });

  /** The command side and the projection have both reached `position`. */
  async function settle(position: bigint): Promise<void> {
    await ledger.settle(position);
    await projection.waitUntilCaughtUp();
  }

  function at(): string {
    clock += 1_000;
    return new Date(clock).toISOString();
  }

  async function run(commandId: string, input: Record<string, unknown>): Promise<bigint> {
    const outcome = await ledger.execute(input as never, { commandId, at: at() });
    const last = outcome.events.at(-1);
    if (!last) throw new Error(`${commandId} appended nothing`);
    return BigInt(last.globalPosition);
  }

  /** Inserts into margin_history so far (the trigger's calls, failed ones included). */
  async function insertCalls(): Promise<number> {
    const [row] = await db.store.query<{ v: string }>(
      `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS v FROM test_margin_history_inserts`,
    );
    return Number(row?.v ?? 0);
  }

  let armedAt = 0;

  /** The next `count` inserts into margin_history fail (each fails its consumer transaction). */
  async function failNextInserts(count: number): Promise<void> {
    armedAt = await insertCalls();
    await db.store.query(`UPDATE test_failures_left SET n = $1`, [armedAt + count]);
  }

  /** How many inserts failed since the last failNextInserts. */
  async function injectedFailures(): Promise<number> {
    const [row] = await db.store.query<{ n: number }>(`SELECT n FROM test_failures_left`);
    return Math.min(await insertCalls(), row?.n ?? 0) - armedAt;
  }

  /** The rows a fresh fold of the whole log gives for `accountId` (what `ledger rebuild margin-history` writes). */
  async function freshRows(accountId: string): Promise<MarginHistoryRow[]> {
    const fold = new MarginHistoryFold();
    const rows: MarginHistoryRow[] = [];
    for (const e of await db.store.readAll({ limit: 100_000 })) {
      const row = fold.apply(e);
      if (row?.accountId === accountId) rows.push(row);
    }
    return rows;
  }

  /** Stored rows of one account and a fresh fold's rows, compared in SQL (numeric equality, not text). */
  async function expectStoredEqualsFresh(accountId: string): Promise<void> {
    const fresh = await freshRows(accountId);
    await db.store.withTransaction(async (tx) => {
      await tx.query('DROP TABLE IF EXISTS test_margin_history_fresh');
      await tx.query('CREATE TABLE test_margin_history_fresh (LIKE margin_history INCLUDING ALL)');
      await insertMarginHistory(tx, fresh, 'test_margin_history_fresh');
    });
    const columns = `account_id, global_position, occurred_at, event_type, asset_mode, total_wallet_balance,
      total_margin_balance, total_maint_margin, margin_ratio, wallets`;
    const diff = await db.store.query(
      `(SELECT 'stored' AS side, ${columns} FROM margin_history WHERE account_id = $1
        EXCEPT SELECT 'stored', ${columns} FROM test_margin_history_fresh)
       UNION ALL
       (SELECT 'fresh', ${columns} FROM test_margin_history_fresh
        EXCEPT SELECT 'fresh', ${columns} FROM margin_history WHERE account_id = $1)`,
      [accountId],
    );
    expect(diff).toEqual([]);
  }

  async function walletBalances(accountId: string): Promise<string[]> {
    const rows = await db.store.query<{ b: string }>(
      `SELECT total_wallet_balance::text AS b FROM margin_history WHERE account_id = $1 ORDER BY global_position`,
      [accountId],
    );
    return rows.map((r) => r.b);
  }

  it('stores 150 after a deposit of 50 on 100 whose batch failed once after the fold', async () => {
    await run('r1-open', { command: 'OpenAccount', accountId: 'r1' });
    const first = await run('r1-d100', {
      command: 'Deposit',
      accountId: 'r1',
      asset: 'USDT',
      amount: '100',
    });
    await settle(first);

    await failNextInserts(1);
    const second = await run('r1-d50', {
      command: 'Deposit',
      accountId: 'r1',
      asset: 'USDT',
      amount: '50',
    });
    await settle(second);

    expect(await injectedFailures()).toBe(1);
    expect(await walletBalances('r1')).toEqual(['0', '100', '150']);
    await expectStoredEqualsFresh('r1');
    expect(await db.store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER })).toEqual([]);
  }, 300_000);

  it('recovers from a failed batch holding an OrderCanceled (no "canceled order o1 exists" on retry)', async () => {
    await run('r2-mark', {
      command: 'UpdateMarkPrice',
      symbol: 'BTCUSDT',
      markPrice: '50000',
      indexPrice: '50000',
    });
    await run('r2-open', { command: 'OpenAccount', accountId: 'r2' });
    await run('r2-d', { command: 'Deposit', accountId: 'r2', asset: 'USDT', amount: '1000' });
    await run('r2-lev', {
      command: 'SetLeverage',
      accountId: 'r2',
      symbol: 'BTCUSDT',
      leverage: 10,
    });
    const placed = await run('r2-place', {
      command: 'PlaceOrder',
      accountId: 'r2',
      orderId: 'o1',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.1',
      price: '49000',
    });
    await settle(placed);

    await failNextInserts(2);
    const canceled = await run('r2-cancel', {
      command: 'CancelOrder',
      accountId: 'r2',
      orderId: 'o1',
    });
    await settle(canceled);

    expect(await injectedFailures()).toBe(2);
    const rows = await db.store.query<{ event_type: string }>(
      `SELECT event_type FROM margin_history WHERE account_id = 'r2' ORDER BY global_position`,
    );
    expect(rows.map((r) => r.event_type)).toEqual([
      'AccountOpened',
      'Deposited',
      'LeverageChanged',
      'OrderPlaced',
      'OrderCanceled',
    ]);
    await expectStoredEqualsFresh('r2');
    expect(await db.store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER })).toEqual([]);
  }, 300_000);
  it('parks an account whose rows keep failing, goes on with the others, and writes its rows on retry', async () => {
    await db.store.query(`CREATE TABLE test_poisoned_accounts (account_id text PRIMARY KEY)`);
    await db.store.query(`INSERT INTO test_poisoned_accounts VALUES ('p1')`);
    await db.store.query(`
      CREATE FUNCTION test_poison_account() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_poisoned_accounts WHERE account_id = NEW.account_id) THEN
          RAISE EXCEPTION 'poisoned account %', NEW.account_id;
        END IF;
        RETURN NEW;
      END $$`);
    await db.store.query(`
      CREATE TRIGGER test_poison_account BEFORE INSERT ON margin_history
        FOR EACH ROW EXECUTE FUNCTION test_poison_account()`);
    await run('p1-open', { command: 'OpenAccount', accountId: 'p1' });
    await run('q1-open', { command: 'OpenAccount', accountId: 'q1' });
    await run('p1-d', { command: 'Deposit', accountId: 'p1', asset: 'USDT', amount: '70' });
    await settle(
      await run('q1-d', { command: 'Deposit', accountId: 'q1', asset: 'USDT', amount: '5' }),
    );

    const parked = await db.store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER });
    expect(parked?.map((p) => [p.status, p.streamId, p.streamVersion, p.type])).toEqual([
      ['failed', 'account-p1', 1, 'AccountOpened'],
      ['blocked', 'account-p1', 2, 'Deposited'],
    ]);
    expect(parked?.[0]?.error).toContain('poisoned account p1');
    expect(await walletBalances('p1')).toEqual([]);
    expect(await walletBalances('q1')).toEqual(['0', '5']);
    expect(logged.some((m) => m.includes('parked event account-p1 v1'))).toBe(true);

    // Another instance takes over: its fold leaves the parked events out, so q1 goes on from 5 and p1 still waits.
    await projection.stop();
    await startProjection();
    await run('p1-d2', { command: 'Deposit', accountId: 'p1', asset: 'USDT', amount: '30' });
    await settle(
      await run('q1-d2', { command: 'Deposit', accountId: 'q1', asset: 'USDT', amount: '1' }),
    );
    expect(await walletBalances('q1')).toEqual(['0', '5', '6']);
    expect(
      (await db.store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER }))?.map(
        (p) => p.streamVersion,
      ),
    ).toEqual([1, 2, 3]);

    await db.store.query(`DELETE FROM test_poisoned_accounts`);
    const marked = await db.store.retryParked?.({ all: true, consumer: MARGIN_HISTORY_CONSUMER });
    expect(marked?.map((p) => p.streamVersion)).toEqual([1]);
    await until(
      async () =>
        (await db.store.parkedEvents?.({ consumer: MARGIN_HISTORY_CONSUMER }))?.length === 0,
    );
    expect(await walletBalances('p1')).toEqual(['0', '70', '100']);
    await expectStoredEqualsFresh('p1');
    await expectStoredEqualsFresh('q1');
  }, 300_000);
});

/** Resolves once `predicate` holds (re-checked every 10 ms); fails after `timeoutMs`. */
async function until(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
