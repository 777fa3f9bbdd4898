import type { Ledger } from '@ledger/ledger-application';
import type { BenchDatabase } from './databases';
import type { RawLimits } from './raw-limits';
import type { Percentiles } from './stats';
import { log, nowMs, percentiles, perSecond, prng, ratio, runFor } from './stats';
import { openBenchLedger } from './workload';

export type CommitMode = 'per-command' | 'group-commit';

export interface CommandRun {
  mode: CommitMode;
  clients: number;
  commands: number;
  commandsPerSecond: number;
  eventsPerSecond: number;
  /** Rows the command path wrote per second: events, stream versions, command ids, projection rows. */
  rowsPerSecond: number;
  latencyMs: Percentiles;
  errors: Record<string, number>;
  /** commands/s ÷ raw batched rows/s (the target's ratio). */
  ratioToRawBatched: number | null;
  /** commands/s ÷ raw single-row inserts/s from one connection. */
  ratioToRawSingle: number | null;
  /** rows/s written by the command path ÷ raw batched rows/s. */
  rowsRatioToRawBatched: number | null;
}

export interface CommandFigures {
  accounts: number;
  mix: string;
  runs: CommandRun[];
}

export const MARK = '50000';

/** Sets BTCUSDT's mark and opens + funds the accounts from 32 concurrent clients (also used by the HTTP figure). */
export async function setup(ledger: Ledger, accounts: string[]): Promise<void> {
  await ledger.execute(
    { command: 'UpdateMarkPrice', symbol: 'BTCUSDT', markPrice: MARK, indexPrice: MARK },
    { commandId: 'bench:mark:0' },
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (;;) {
        const i = next++;
        const id = accounts[i];
        if (id === undefined) return;
        await ledger.execute(
          { command: 'OpenAccount', accountId: id, vipLevel: 0, assetMode: 'SINGLE' },
          { commandId: `bench:open:${id}` },
        );
        await ledger.execute(
          { command: 'Deposit', accountId: id, asset: 'USDT', amount: '1000000' },
          { commandId: `bench:fund:${id}` },
        );
      }
    }),
  );
}

export async function measureCommands(
  db: BenchDatabase,
  options: { accounts: number; seconds: number; clients: number[]; modes: CommitMode[] },
  raw: RawLimits | undefined,
): Promise<CommandFigures> {
  const accounts = Array.from(
    { length: options.accounts },
    (_, i) => `c${String(i).padStart(6, '0')}`,
  );
  const started = nowMs();
  const setupLedger = await openBenchLedger(db, {
    groupCommit: options.modes.includes('group-commit'),
  });
  try {
    await setup(setupLedger.ledger, accounts);
  } finally {
    await setupLedger.close();
  }
  log(
    `${db.kind} commands: ${accounts.length} accounts opened and funded in ${Math.round(nowMs() - started)} ms`,
  );
  const runs: CommandRun[] = [];
  let seq = 0;
  for (const mode of options.modes) {
    const bench = await openBenchLedger(db, { groupCommit: mode === 'group-commit' });
    try {
      for (const clients of options.clients) {
        const latencies: number[] = [];
        const errors: Record<string, number> = {};
        let events = 0;
        let commands = 0;
        const rowsBefore = bench.projectedRows.count;
        const rngs = Array.from({ length: clients }, (_, c) =>
          prng(1000 * clients + c + (mode === 'group-commit' ? 7 : 0)),
        );
        const elapsed = await runFor(clients, options.seconds * 1000, async (c) => {
          const rng = rngs[c] ?? Math.random;
          const accountId = accounts[Math.floor(rng() * accounts.length)] ?? 'c000000';
          const input =
            rng() < 0.5
              ? { command: 'Deposit', accountId, asset: 'USDT', amount: '10' }
              : {
                  command: 'Fill',
                  accountId,
                  symbol: 'BTCUSDT',
                  side: rng() < 0.5 ? 'BUY' : 'SELL',
                  quantity: '0.001',
                  price: MARK,
                  fee: '0.02',
                };
          const t0 = nowMs();
          try {
            const outcome = await bench.ledger.execute(input, {
              commandId: `bench:${mode}:${clients}:${seq++}`,
            });
            latencies.push(nowMs() - t0);
            events += outcome.events.length;
            commands += 1;
          } catch (error) {
            const key =
              (error as { code?: string; name?: string }).code ?? (error as Error).name ?? 'Error';
            errors[key] = (errors[key] ?? 0) + 1;
          }
        });
        // Per committed command: its events, the streams row, the command_ids row, and the projection's rows.
        const rows = events + 2 * commands + (bench.projectedRows.count - rowsBefore);
        const cps = perSecond(commands, elapsed);
        const run: CommandRun = {
          mode,
          clients,
          commands,
          commandsPerSecond: cps,
          eventsPerSecond: perSecond(events, elapsed),
          rowsPerSecond: perSecond(rows, elapsed),
          latencyMs: percentiles(latencies),
          errors,
          ratioToRawBatched: ratio(cps, raw?.batchedRowsPerSecond),
          ratioToRawSingle: ratio(cps, raw?.singleRowInsertsPerSecond),
          rowsRatioToRawBatched: ratio(perSecond(rows, elapsed), raw?.batchedRowsPerSecond),
        };
        runs.push(run);
        log(
          `${db.kind} ${mode} ${clients} clients: ${run.commandsPerSecond} cmd/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, errors ${JSON.stringify(errors)}`,
        );
      }
    } finally {
      await bench.close();
    }
  }
  return {
    accounts: accounts.length,
    mix: '50% Deposit (USDT), 50% Fill (BTCUSDT 0.001, random side), uniform over accounts',
    runs,
  };
}
