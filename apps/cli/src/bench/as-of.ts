import type { AsOf } from '@ledger/ledger-application';
import type { BenchDatabase } from './databases';
import type { Percentiles } from './stats';
import { log, nowMs, percentiles, prng, round } from './stats';
import {
  accountTemplate,
  marketWithMarks,
  openBenchLedger,
  seedAccounts,
  seedSnapshots,
  shippedReference,
  tradingCommands,
} from './workload';

export interface AsOfFigures {
  accountEvents: number;
  marketEvents: number;
  snapshotEvery: number;
  withSnapshots: Percentiles;
  withoutSnapshots: Percentiles;
  seedSeconds: number;
}

const SNAPSHOT_EVERY = 200;
const MARK_TICKS = 100;

export async function measureAsOf(
  db: BenchDatabase,
  options: { events: number; samples: number; samplesWithoutSnapshots: number },
): Promise<AsOfFigures> {
  const seedStart = nowMs();
  const ref = shippedReference();
  const { events: template, states } = accountTemplate(
    ref,
    marketWithMarks(ref, { BTCUSDT: '50000' }),
    tradingCommands(),
    {
      maxEvents: options.events,
    },
  );
  const bench = await openBenchLedger(db);
  try {
    const { ledger } = bench;
    const store = bench.database.store;
    // Mark prices spread over the account's life, so each as-of point has its own mark in force.
    for (let i = 0; i < MARK_TICKS; i++) {
      const at = template[Math.floor((i * template.length) / MARK_TICKS)]?.at ?? template[0]?.at;
      const mark = String(49_000 + i * 20);
      await ledger.execute(
        { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: mark, indexPrice: mark },
        { commandId: `bench:asof:mark:${i}`, ...(at ? { at } : {}) },
      );
    }
    await seedAccounts(store, template, ['asof-snap', 'asof-nosnap'], ref.version);
    const snapshots = await seedSnapshots(store, 'asof-snap', template, states, SNAPSHOT_EVERY);
    await store.query('ANALYZE');
    const seedSeconds = (nowMs() - seedStart) / 1000;
    log(
      `${db.kind} as-of: seeded 2 × ${template.length} events and ${snapshots} snapshots in ${seedSeconds.toFixed(1)} s`,
    );

    const sample = async (accountId: string, count: number, seed: number): Promise<Percentiles> => {
      const rng = prng(seed);
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const version = 1 + Math.floor(rng() * template.length);
        let point: AsOf;
        if (i % 2 === 0) point = { time: template[version - 1]?.at ?? '' };
        else {
          const [row] = await store.query<{ p: string }>(
            'SELECT global_position::text AS p FROM events WHERE stream_id = $1 AND stream_version = $2',
            [`account-${accountId}`, version],
          );
          point = { position: BigInt(row?.p ?? '0') };
        }
        const t0 = nowMs();
        const view = await ledger.accountView(accountId, point);
        latencies.push(nowMs() - t0);
        if (!view)
          throw new Error(
            `as-of ${JSON.stringify(point, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} of ${accountId} returned nothing`,
          );
      }
      return percentiles(latencies);
    };
    // Warm-up (plans, caches) on the snapshot account.
    await sample('asof-snap', 3, 1);
    const withSnapshots = await sample('asof-snap', options.samples, 42);
    log(
      `${db.kind} as-of with snapshots: p50 ${withSnapshots.p50} ms, p99 ${withSnapshots.p99} ms`,
    );
    const withoutSnapshots = await sample('asof-nosnap', options.samplesWithoutSnapshots, 43);
    log(
      `${db.kind} as-of without snapshots: p50 ${withoutSnapshots.p50} ms, p99 ${withoutSnapshots.p99} ms`,
    );
    return {
      accountEvents: template.length,
      marketEvents: MARK_TICKS,
      snapshotEvery: SNAPSHOT_EVERY,
      withSnapshots,
      withoutSnapshots,
      seedSeconds: round(seedSeconds, 2),
    };
  } finally {
    await bench.close();
  }
}
