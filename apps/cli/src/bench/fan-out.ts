import { RISK_SAGA_CONSUMER, rebuildAccountProjections } from '@ledger/ledger-application';
import type { BenchDatabase } from './databases';
import type { BenchLedger, TemplateCommand, TemplateEvent } from './workload';
import type { Percentiles } from './stats';
import { log, nowMs, percentiles, round } from './stats';
import {
  BENCH_REFERENCE_VERSION,
  accountTemplate,
  checkpointAtHead,
  marketWithMarks,
  openBenchLedger,
  seedAccounts,
  shippedReference,
  syntheticOverrides,
  syntheticSymbols,
  withSyntheticSymbols,
} from './workload';

export interface FanOutStep {
  positions: number;
  accounts: number;
  /** Accounts holding the ticked symbol (re-checked per tick), and their open positions. */
  affectedAccounts: number;
  affectedPositions: number;
  tickToRecheckedMs: Percentiles;
  /** p50 per affected position, in microseconds. */
  perAffectedPositionUs: number;
}

export interface FanOutFigures {
  symbols: number;
  positionsPerAccount: number;
  ticksPerStep: number;
  steps: FanOutStep[];
  /** p50 at the last step ÷ p50 at the first, against the ratio of positions (≤ 1 means no worse than linear). */
  growth: { positionsRatio: number; timeRatio: number; superLinearity: number } | null;
}

const SYMBOLS = 50;
const MARK = 50_000;

function symbolsOfGroup(group: number, perAccount: number, symbols: string[]): string[] {
  const step = Math.max(1, Math.floor(symbols.length / perAccount));
  return Array.from(
    { length: perAccount },
    (_, k) => symbols[(group + k * step) % symbols.length] ?? 'S00USDT',
  );
}

export async function measureFanOut(
  db: BenchDatabase,
  options: { positions: number[]; ticks: number; positionsPerAccount: number },
): Promise<FanOutFigures> {
  const base = shippedReference();
  const ref = withSyntheticSymbols(base, SYMBOLS);
  const symbols = syntheticSymbols(SYMBOLS);
  const marks = Object.fromEntries(symbols.map((s) => [s, String(MARK)]));
  const market = marketWithMarks(ref, marks);
  const templates: TemplateEvent[][] = [];
  for (let g = 0; g < SYMBOLS; g++) {
    const commands: TemplateCommand[] = [
      { type: 'OpenAccount' as const, vipLevel: 0, assetMode: 'SINGLE' },
      { type: 'Deposit' as const, asset: 'USDT', amount: '1000000' },
      ...symbolsOfGroup(g, options.positionsPerAccount, symbols).map((symbol) => ({
        type: 'Fill' as const,
        symbol,
        side: g % 2 === 0 ? 'BUY' : 'SELL',
        quantity: '0.1',
        price: String(MARK),
        fee: '1',
      })),
    ];
    templates.push(accountTemplate(ref, market, commands, { maxEvents: 1000 }).events);
  }

  let bench: BenchLedger = await openBenchLedger(db);
  const steps: FanOutStep[] = [];
  try {
    await bench.ledger.execute(
      {
        command: 'PublishReferenceData',
        version: BENCH_REFERENCE_VERSION,
        overrides: syntheticOverrides(base, SYMBOLS),
      },
      { commandId: 'bench:fanout:reference' },
    );
    for (const symbol of symbols) {
      await bench.ledger.execute(
        { command: 'UpdateMarkPrice', symbol, markPrice: String(MARK), indexPrice: String(MARK) },
        { commandId: `bench:fanout:mark0:${symbol}` },
      );
    }
    let accounts = 0;
    let tick = 0;
    for (const positions of options.positions) {
      const needed = Math.ceil(positions / options.positionsPerAccount);
      if (needed > accounts) {
        const started = nowMs();
        const byGroup: string[][] = Array.from({ length: SYMBOLS }, () => []);
        for (let i = accounts; i < needed; i++)
          byGroup[i % SYMBOLS]?.push(`f${String(i).padStart(7, '0')}`);
        await bench.close();
        bench = await openBenchLedger(db, { riskSaga: false });
        for (let g = 0; g < SYMBOLS; g++) {
          const ids = byGroup[g] ?? [];
          if (ids.length > 0)
            await seedAccounts(
              bench.database.store,
              templates[g] ?? [],
              ids,
              BENCH_REFERENCE_VERSION,
            );
        }
        accounts = needed;
        // Seeded events bypass the command path: project them, as the ledger's start-up reads its risk index
        // (holders by symbol) from the projections.
        await rebuildAccountProjections(bench.database.store);
        await bench.database.store.query('ANALYZE');
        await checkpointAtHead(bench.database.store, RISK_SAGA_CONSUMER);
        await bench.close();
        bench = await openBenchLedger(db, { riskSaga: true });
        log(
          `${db.kind} fan-out: ${accounts} accounts (${accounts * options.positionsPerAccount} positions) ready in ${Math.round(nowMs() - started)} ms`,
        );
      }
      // Steady state of a running ledger: the account cache is warm (it warms in the background after open).
      await bench.ledger.whenWarm();
      const latencies: number[] = [];
      let affectedAccounts = 0;
      let affectedPositions = 0;
      for (let t = 0; t < options.ticks + 1; t++, tick++) {
        const symbol = symbols[tick % SYMBOLS] ?? 'S00USDT';
        const holders = bench.ledger.riskIndex.holdersOf(symbol);
        const mark = String(MARK + (tick % 2 === 0 ? 10 : -10));
        const t0 = nowMs();
        await bench.ledger.execute(
          { command: 'UpdateMarkPrice', symbol, markPrice: mark, indexPrice: mark },
          { commandId: `bench:fanout:tick:${tick}` },
        );
        await bench.ledger.settle();
        const elapsed = nowMs() - t0;
        if (t === 0) continue; // warm-up tick
        latencies.push(elapsed);
        affectedAccounts = holders.length;
        affectedPositions = holders.length * options.positionsPerAccount;
      }
      if (affectedAccounts === 0)
        throw new Error('fan-out: the ticked symbols have no holders; the figure would be empty');
      const p = percentiles(latencies);
      const step: FanOutStep = {
        positions: accounts * options.positionsPerAccount,
        accounts,
        affectedAccounts,
        affectedPositions,
        tickToRecheckedMs: p,
        perAffectedPositionUs: round((p.p50 * 1000) / Math.max(affectedPositions, 1), 2),
      };
      steps.push(step);
      log(
        `${db.kind} fan-out ${step.positions} positions: tick→re-checked p50 ${p.p50} ms, p99 ${p.p99} ms (${affectedAccounts} accounts re-checked)`,
      );
    }
  } finally {
    await bench.close();
  }
  const first = steps[0];
  const last = steps[steps.length - 1];
  const growth =
    first && last && last !== first
      ? {
          positionsRatio: round(last.positions / first.positions, 2),
          timeRatio: round(last.tickToRecheckedMs.p50 / first.tickToRecheckedMs.p50, 2),
          superLinearity: round(
            last.tickToRecheckedMs.p50 /
              first.tickToRecheckedMs.p50 /
              (last.positions / first.positions),
            2,
          ),
        }
      : null;
  return {
    symbols: SYMBOLS,
    positionsPerAccount: options.positionsPerAccount,
    ticksPerStep: options.ticks,
    steps,
    growth,
  };
}
