/**
 * Eight ledger instances, each on its own database handle (its own pool, as eight processes of the service would
 * be), send fills, deposits, withdrawals and price ticks at the same accounts at the same time; one of them runs
 * the risk saga. Optimistic concurrency (ConcurrencyError, retried inside the Ledger) must keep every stream
 * gapless and every projection equal to a serial replay of the stored events.
 *
 * What is NOT compared: each Ledger keeps the market (mark prices, asset indexes) in memory and learns of a tick
 * appended by another instance only when its own append to that market stream conflicts. A worker may therefore
 * decide a fill's pre-trade check on a stale mark, and a worker's `accountView` prices positions at its own marks.
 * Neither changes what is stored or how it folds, which is what this suite checks: account state, projections and
 * snapshots are compared, and views only from a ledger opened afresh after the run.
 */
import type { LedgerDatabase } from '@ledger/event-store';
import { ConcurrencyError } from '@ledger/event-store';
import type { TestDatabase } from '@ledger/testing';
import { createConcurrencyTestDatabase, openAnotherHandle } from '@ledger/testing';
import {
  LedgerDomainError,
  accountStateToJson,
  accountView,
  assessRisk,
  initialAccountState,
  parseReferenceData,
} from '@ledger/margin-domain';
import type { CommandOutcome } from '../src';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  accountStream,
  expectedProjection,
  foldTail,
  jsonDiff,
  readProjectedAccount,
  readShippedReferenceData,
  sqlAccountProjection,
  verifyLedger,
} from '../src';
import { seededRandom } from './workload';

const WORKERS = 8;
const COMMANDS_PER_WORKER = 200;
const SINGLES = ['s1', 's2', 's3', 's4'];
const MULTIS = ['m1', 'm2'];
const ACCOUNTS = [...SINGLES, ...MULTIS];
const referenceData = parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA));

let db: TestDatabase & { url: string };
const handles: LedgerDatabase[] = [];
const workers: Ledger[] = [];

beforeAll(async () => {
  db = await createConcurrencyTestDatabase('concurrent_workers');
  for (let i = 0; i < WORKERS; i++) {
    const handle = await openAnotherHandle(db, { poolSize: 3 });
    handles.push(handle);
    // Snapshots every 25 events: concurrent writers also race on snapshots, which verifyLedger replays.
    workers.push(
      await Ledger.open({
        store: handle.store,
        referenceData,
        projection: sqlAccountProjection,
        snapshotEvery: 25,
        // Durable consumers have one active instance each (advisory lock): a second instance's start() waits
        // for the lock, so only worker 0 runs them.
        riskSaga: i === 0,
        marginHistory: i === 0,
        logger: { warn: () => undefined, error: (...args: unknown[]) => console.error(...args) },
      }),
    );
  }
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.close();
  for (const h of handles) await h.close();
  await db?.drop();
});

const dp = (value: number, decimals: number): string =>
  value.toFixed(decimals).replace(/\.?0+$/, '');

describe('eight ledger instances writing to the same accounts', () => {
  it('keeps streams gapless and every account equal to a serial replay', async () => {
    const base = Date.parse('2024-06-01T00:00:00Z');
    let clock = 0;
    const at = (): string => new Date(base + clock++ * 10).toISOString();
    const setup = workers[0] as Ledger;
    const run = (
      ledger: Ledger,
      commandId: string,
      input: { command: string; [k: string]: unknown },
    ): Promise<CommandOutcome> => ledger.execute(input, { commandId, at: at() });

    await run(setup, 'setup-btc-index', {
      command: 'UpdateAssetIndex',
      asset: 'BTC',
      index: '50000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
    });
    for (const symbol of ['BTCUSDT', 'BTCUSDC'])
      await run(setup, `setup-mark-${symbol}`, {
        command: 'UpdateMarkPrice',
        symbol,
        markPrice: '50000',
      });
    for (const id of SINGLES) {
      await run(setup, `setup-open-${id}`, { command: 'OpenAccount', accountId: id });
      await run(setup, `setup-deposit-${id}`, {
        command: 'Deposit',
        accountId: id,
        asset: 'USDT',
        amount: '6000',
      });
      await run(setup, `setup-leverage-${id}`, {
        command: 'SetLeverage',
        accountId: id,
        symbol: 'BTCUSDT',
        leverage: 50,
      });
    }
    for (const id of MULTIS) {
      await run(setup, `setup-open-${id}`, {
        command: 'OpenAccount',
        accountId: id,
        assetMode: 'MULTI',
      });
      await run(setup, `setup-deposit-btc-${id}`, {
        command: 'Deposit',
        accountId: id,
        asset: 'BTC',
        amount: '2',
      });
    }

    const outcomes = new Map<string, CommandOutcome>();
    const rejections: Record<string, number> = {};
    let conflictsGivenUp = 0;
    const worker = async (w: number): Promise<void> => {
      const ledger = workers[w] as Ledger;
      const random = seededRandom(1000 + w);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      let price = 50000;
      for (let i = 0; i < COMMANDS_PER_WORKER; i++) {
        const commandId = `w${w}-${i}`;
        const r = random();
        let input: { command: string; [k: string]: unknown };
        if (r < 0.25) {
          const shock = random() < 0.08 ? (random() < 0.5 ? -0.04 : 0.04) : 0;
          price = price + (50000 - price) * 0.1 + price * ((random() - 0.5) * 0.03 + shock);
          input =
            random() < 0.7
              ? {
                  command: 'UpdateMarkPrice',
                  symbol: pick(['BTCUSDT', 'BTCUSDT', 'BTCUSDC']),
                  markPrice: dp(price, 2),
                }
              : {
                  command: 'UpdateAssetIndex',
                  asset: 'BTC',
                  index: dp(price, 2),
                  bidBuffer: '0.05',
                  askBuffer: '0.05',
                  autoExchangeBidBuffer: '0.025',
                  autoExchangeAskBuffer: '0',
                };
        } else if (r < 0.7) {
          const id = pick(ACCOUNTS);
          input = {
            command: 'Fill',
            accountId: id,
            symbol: SINGLES.includes(id) ? 'BTCUSDT' : pick(['BTCUSDT', 'BTCUSDC']),
            side: pick(['BUY', 'SELL']),
            quantity: dp(0.05 + random() * 1.5, 3),
            price: dp(price * (0.998 + random() * 0.004), 2),
            fee: dp(random() * 5, 4),
          };
        } else if (r < 0.88) {
          const id = pick(ACCOUNTS);
          input = {
            command: 'Deposit',
            accountId: id,
            asset: 'USDT',
            amount: dp(100 + random() * 1000, 2),
          };
        } else {
          input = {
            command: 'Withdraw',
            accountId: pick(ACCOUNTS),
            asset: 'USDT',
            amount: dp(10 + random() * 1500, 2),
          };
        }
        try {
          outcomes.set(commandId, await run(ledger, commandId, input));
        } catch (error) {
          if (error instanceof LedgerDomainError)
            rejections[error.code] = (rejections[error.code] ?? 0) + 1;
          else if (error instanceof ConcurrencyError) conflictsGivenUp += 1;
          else throw error;
        }
      }
    };
    const started = Date.now();
    await Promise.all(workers.map((_, w) => worker(w)));
    await setup.settle();
    const seconds = (Date.now() - started) / 1000;

    const total = WORKERS * COMMANDS_PER_WORKER;
    expect(outcomes.size).toBeGreaterThan(total * 0.6);
    expect(conflictsGivenUp).toBeLessThan(total * 0.02);

    // Every accepted command's events are stored once, under its id.
    const byCommand = new Map(
      (
        await db.store.query<{ id: string; n: string }>(
          `SELECT metadata->>'commandId' AS id, count(*) AS n FROM events GROUP BY 1`,
        )
      ).map((r) => [r.id, Number(r.n)]),
    );
    const missing = [...outcomes]
      .filter(([id, o]) => (byCommand.get(id) ?? 0) !== o.events.length)
      .map(([id]) => id);
    expect(missing).toEqual([]);

    // Per stream: versions 1..n without gaps, the streams table agrees.
    const gaps = await db.store.query(
      `SELECT e.stream_id FROM events e JOIN streams s USING (stream_id)
        GROUP BY e.stream_id, s.version
       HAVING min(e.stream_version) <> 1 OR max(e.stream_version) <> count(*) OR s.version <> count(*)`,
    );
    expect(gaps).toEqual([]);

    const fresh = await Ledger.open({
      store: db.store,
      referenceData,
      riskSaga: false,
      marginHistory: false,
    });
    try {
      // Deep equality (key order aside): every difference is listed path by path.
      const mismatches: string[] = [];
      const compare = (what: string, expected: unknown, actual: unknown): void => {
        const diff = jsonDiff(expected, actual);
        if (diff.length > 0) mismatches.push(`${what}: ${diff.join('; ')}`);
      };
      for (const id of ACCOUNTS) {
        const events = await db.store.readStream(accountStream(id));
        const serial = foldTail(
          { state: initialAccountState(id), version: 0, lastAt: undefined },
          events,
        );
        const serialJson = accountStateToJson(serial.state);
        compare(
          `${id} projection`,
          expectedProjection(serial.state, serial.version),
          await readProjectedAccount(db.store, id),
        );
        compare(
          `${id} fresh ledger's state`,
          serialJson,
          accountStateToJson(await fresh.accountState(id)),
        );
        compare(
          `${id} fresh ledger's view`,
          accountView(serial.state, fresh.market, fresh.references.latest()),
          await fresh.accountView(id),
        );
        for (const [w, ledger] of workers.entries()) {
          compare(
            `${id} worker ${w}'s state`,
            serialJson,
            accountStateToJson(await ledger.accountState(id)),
          );
        }
      }
      expect(mismatches).toEqual([]);

      // The one saga instance acted at most once per (trigger, action, account, asset) …
      const sagaDuplicates = await db.store.query(
        `SELECT stream_id, type, metadata->>'causationId' AS causation, count(DISTINCT metadata->>'commandId') AS n
           FROM events WHERE type IN ('AutoExchangeExecuted', 'LiquidationTriggered')
          GROUP BY stream_id, type, metadata->>'causationId', coalesce(data->>'negAsset', data->>'asset', ''), coalesce(data->>'symbol', '')
         HAVING count(DISTINCT metadata->>'commandId') > 1`,
      );
      expect(sagaDuplicates).toEqual([]);
      // … and, having seen every instance's ticks and fills, left nothing due at the final prices.
      const due = [];
      for (const id of ACCOUNTS) {
        const actions = assessRisk(
          await fresh.accountState(id),
          fresh.market,
          fresh.references.latest(),
        );
        if (actions.length > 0) due.push(`${id}: ${JSON.stringify(actions)}`);
      }
      expect(due).toEqual([]);
    } finally {
      await fresh.close();
    }

    const sagaActions = await db.store.query<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM events WHERE metadata->>'actor' = 'risk-saga' GROUP BY 1 ORDER BY 1`,
    );
    const report = await verifyLedger(db.store);
    expect(report.mismatches).toEqual([]);
    expect(report.snapshots).toBeGreaterThan(0);

    console.log(
      `concurrent workers: ${total} commands from ${WORKERS} instances in ${seconds.toFixed(1)} s; ${outcomes.size} accepted, ` +
        `rejected ${JSON.stringify(rejections)}, conflicts given up ${conflictsGivenUp}; saga ${JSON.stringify(sagaActions)}; ${report.events} account events, ${report.snapshots} snapshots`,
    );
  }, 300_000);

  it('runs the risk saga on what the other instances appended (their fills, their ticks)', async () => {
    // Worker 3 opens a 100x long, worker 5 moves the mark 4% against it; only worker 0 runs the saga, and
    // it appended none of this: it must still see the position and the new price, and liquidate.
    const t = (s: number): string =>
      new Date(Date.parse('2024-07-01T00:00:00Z') + s * 1000).toISOString();
    const [w0, w3, w5] = [workers[0], workers[3], workers[5]] as [Ledger, Ledger, Ledger];
    await w3.execute(
      { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '50000' },
      { commandId: 'x-mark-1', at: t(0) },
    );
    await w3.execute(
      { command: 'OpenAccount', accountId: 'x1' },
      { commandId: 'x-open', at: t(1) },
    );
    await w3.execute(
      { command: 'Deposit', accountId: 'x1', asset: 'USDT', amount: '1000' },
      { commandId: 'x-deposit', at: t(2) },
    );
    await w3.execute(
      { command: 'SetLeverage', accountId: 'x1', symbol: 'BTCUSDT', leverage: 100 },
      { commandId: 'x-lev', at: t(3) },
    );
    await w3.execute(
      {
        command: 'Fill',
        accountId: 'x1',
        symbol: 'BTCUSDT',
        side: 'BUY',
        quantity: '1.5',
        price: '50000',
        fee: '0',
      },
      { commandId: 'x-fill', at: t(4) },
    );
    await w0.settle();
    // At 50,000 the position is sound: the saga must not have acted on it (at a mark of its own).
    expect((await db.store.readStream(accountStream('x1'))).map((e) => e.type)).not.toContain(
      'LiquidationTriggered',
    );
    const crash = await w5.execute(
      { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: '48000' },
      { commandId: 'x-mark-2', at: t(5) },
    );
    await w0.settle(BigInt(crash.events[0]?.globalPosition ?? '0'));

    const fresh = await Ledger.open({
      store: db.store,
      referenceData,
      riskSaga: false,
      marginHistory: false,
    });
    try {
      const state = await fresh.accountState('x1');
      expect(assessRisk(state, fresh.market, fresh.references.latest())).toEqual([]);
      const liquidations = (await db.store.readStream(accountStream('x1'))).filter(
        (e) => e.type === 'LiquidationTriggered',
      );
      expect(liquidations.map((e) => e.metadata.causationId)).toEqual(['x-mark-2']);
    } finally {
      await fresh.close();
    }
  }, 300_000);
});
