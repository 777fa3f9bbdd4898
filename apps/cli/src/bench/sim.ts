import type { BackendKind as SimBackendKind, SimReport } from '@ledger/ledger-application';
import { OPEN_FINDINGS, runSimulation } from '@ledger/ledger-application';
import { Logger } from '@nestjs/common';
import { ALL_MIGRATIONS } from '../../../../migrations';
import { SimulatorNestLogger } from '../commands/sim';
import type { BenchDatabase } from './databases';
import { log } from './stats';

/** Figure 8: the simulator's throughput, every fault on, every check after each step (one run, seed 1). */
export interface SimFigures {
  backend: SimBackendKind;
  seed: number;
  steps: number;
  stepsPerSecond: number;
  events: number;
  eventsPerSecond: number;
  /** Checks that held; the open findings (OPEN_FINDINGS) are counted, not failed on. */
  ok: boolean;
  failure?: string;
  openFindings: Record<string, number>;
  restarts: number;
  crashes: number;
  redeliveries: number;
  concurrentGroups: number;
}

export async function measureSim(steps: number, db?: BenchDatabase): Promise<SimFigures> {
  const backend: SimBackendKind = db ? db.kind : 'memory';
  // The simulator fails consumer batches on purpose; Nest would print each retry.
  Logger.overrideLogger(new SimulatorNestLogger());
  const report: SimReport = await runSimulation({
    seed: 1,
    steps,
    backend,
    ...(db
      ? {
          database: {
            kind: db.kind,
            ...(db.url ? { url: db.url } : {}),
            ...(db.dataDir ? { dataDir: db.dataDir } : {}),
            migrations: ALL_MIGRATIONS,
          },
        }
      : {}),
    determinism: false,
    shrink: false,
    known: OPEN_FINDINGS,
  });
  const f = report.stats.faults;
  const figures: SimFigures = {
    backend,
    seed: report.seed,
    steps: report.stepsRun,
    stepsPerSecond: report.stepsPerSecond,
    events: report.events,
    eventsPerSecond: report.eventsPerSecond,
    ok: report.ok,
    ...(report.failure
      ? {
          failure: `${report.failure.check} at step ${report.failure.step}: ${report.failure.message}`,
        }
      : {}),
    openFindings: Object.fromEntries(report.known.map((k) => [k.check, k.count])),
    restarts: report.stats.restarts,
    crashes: f.crashAfterAppend + f.crashInsideConsumerBatch + f.crashDuringRebuild,
    redeliveries: f.redeliveries,
    concurrentGroups: report.stats.concurrentGroups,
  };
  log(
    `sim ${backend}: ${figures.steps} steps, ${figures.stepsPerSecond} steps/s${figures.ok ? '' : ` (${figures.failure ?? 'failed'})`}`,
  );
  return figures;
}
