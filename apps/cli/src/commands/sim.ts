import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import type {
  BackendKind,
  DatabaseLocation,
  SimReport,
  SimulationOptions,
} from '@ledger/ledger-application';
import { runSimulation } from '@ledger/ledger-application';
import { ALL_MIGRATIONS } from '../../../../migrations';
import { redact } from '../database-target';

export interface SimCommandOptions {
  seed: string;
  steps: string;
  backend: string;
  accounts?: string;
  checkEvery?: string;
  crashes: boolean;
  restarts: boolean;
  rebuilds: boolean;
  redelivery: boolean;
  concurrency: boolean;
  determinism: boolean;
  shrink: boolean;
  shrinkBudget: string;
  stepTimeout: string;
  outDir?: string;
  known?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * Nest's logger prints every failed consumer batch; the simulator fails batches on purpose. Its own faults are
 * dropped here; anything else still reaches stderr (and the simulator's checks).
 */
export class SimulatorNestLogger implements LoggerService {
  log(): void {}
  warn(): void {}
  error(message: unknown, stack?: unknown): void {
    const text = `${String(message)} ${typeof stack === 'string' ? stack : ''}`;
    if (/Simulated(Crash|Redelivery)|simulated (crash|failure)/.test(text)) return;
    console.error(`[nest] ${String(message)}`);
  }
}

function integer(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined || !/^\d+$/.test(value))
    throw new Error(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** A scratch database for one run: PGlite in a temp folder, or `ledger_sim_test_<hex>` on the server. */
async function scratchDatabase(
  kind: BackendKind,
): Promise<{ location?: DatabaseLocation; label: string; dispose(): Promise<void> }> {
  if (kind === 'memory') return { label: 'memory', dispose: () => Promise.resolve() };
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-sim-'));
    return {
      location: { kind, dataDir, migrations: ALL_MIGRATIONS },
      label: `PGlite in ${dataDir}`,
      dispose: () => {
        rmSync(dataDir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const server = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!server) throw new Error('--backend postgres needs DATABASE_URL or TEST_DATABASE_URL');
  const name = `ledger_sim_test_${randomBytes(5).toString('hex')}`;
  await admin(server, `CREATE DATABASE ${name}`);
  // A scratch database: no WAL flush per commit (visibility and locking are unchanged).
  await admin(server, `ALTER DATABASE ${name} SET synchronous_commit = off`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    location: { kind, url: url.toString(), migrations: ALL_MIGRATIONS },
    label: `${name} on ${redact(server)}`,
    dispose: () => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'ledger-sim' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `ledger sim`: exit 0 only when every check held; 1 when one failed (seed, step, replay, shrunk scenario). */
export async function simCommand(options: SimCommandOptions): Promise<number> {
  const backend = options.backend as BackendKind;
  if (!['memory', 'pglite', 'postgres'].includes(backend)) {
    console.error('--backend must be memory, pglite or postgres');
    return 2;
  }
  const seed = integer(options.seed, 'seed');
  const steps = integer(options.steps, 'steps');
  Logger.overrideLogger(new SimulatorNestLogger());
  const scratch = await scratchDatabase(backend);
  try {
    const simulation: SimulationOptions = {
      seed,
      steps,
      backend,
      ...(scratch.location ? { database: scratch.location } : {}),
      ...(options.accounts === undefined
        ? {}
        : { accounts: integer(options.accounts, 'accounts') }),
      ...(options.checkEvery === undefined
        ? {}
        : { checkEvery: Math.max(1, integer(options.checkEvery, 'check-every')) }),
      switches: {
        crashes: options.crashes,
        restarts: options.restarts,
        rebuilds: options.rebuilds,
        redelivery: options.redelivery,
        concurrency: options.concurrency,
      },
      determinism: options.determinism,
      shrink: options.shrink,
      shrinkBudgetMs: integer(options.shrinkBudget, 'shrink-budget') * 1000,
      stepTimeoutMs: Math.max(1, integer(options.stepTimeout, 'step-timeout')) * 1000,
      ...(options.outDir ? { outDir: options.outDir } : {}),
      ...(options.known
        ? {
            known: options.known
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean),
          }
        : {}),
      ...(options.verbose ? { onStep: (line: string) => console.error(`  ${line}`) } : {}),
      onProgress: (p) => {
        if (options.quiet || options.json) return;
        const rate = Math.round((p.step / Math.max(p.elapsedMs, 1)) * 1000);
        const run = p.run === 'determinism' ? ' (determinism run)' : '';
        console.error(`  step ${p.step}/${p.steps}${run}: ${rate} steps/s, ${p.events} events`);
      },
    };
    if (!options.json && !options.quiet)
      console.error(`ledger sim: seed ${seed}, ${steps} steps on ${scratch.label}`);
    const report = await runSimulation(simulation);
    console.log(options.json ? JSON.stringify(report, null, 2) : renderReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await scratch.dispose();
  }
}

export function renderReport(r: SimReport): string {
  const s = r.stats;
  const f = s.faults;
  const lines = [
    r.ok
      ? `ledger sim: seed ${r.seed}, ${r.stepsRun} steps on ${r.backend}: every check held (determinism ${r.determinism})`
      : `FAIL seed ${r.seed}, step ${r.failure?.step}: ${r.failure?.check}: ${r.failure?.message}`,
    `  ${r.stepsRun} steps in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.stepsPerSecond} steps/s), ${r.events} events (${r.eventsPerSecond} events/s)`,
    `  commands ${s.commands}: ${s.acked} acknowledged (${s.duplicates} duplicates), ${s.rejected} rejected, ${s.unknown} unknown (${s.resent} re-sent)`,
    `  faults: ${s.restarts} restarts; crashes ${f.crashAfterAppend} after an append, ${f.crashInsideConsumerBatch} inside a consumer batch, ${f.crashDuringRebuild} during a rebuild; ${f.redeliveries} redelivered batches; ${s.rebuilds} rebuilds; ${s.concurrentGroups} concurrent groups`,
    `  checks: ${s.stepChecks} after a step, ${s.fullChecks} of everything`,
    `  events: ${Object.entries(r.eventsByType)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
  ];
  if (r.stateHash) lines.push(`  state hash: ${r.stateHash}`);
  if (r.marginHistoryDroppedAt !== undefined)
    lines.push(
      `  the margin-history consumer got stuck (a known finding) and was dropped after step ${r.marginHistoryDroppedAt}`,
    );
  for (const k of r.known) {
    lines.push(
      `  known (not failed on): ${k.check} ×${k.count}, first at step ${k.firstStep}: ${k.first.message}`,
    );
    for (const d of k.first.details.slice(0, 4)) lines.push(`      ${d}`);
  }
  const failure = r.failure;
  if (failure) {
    for (const v of failure.violations.slice(0, 8)) {
      lines.push(`  ✗ ${v.check}: ${v.message}`);
      for (const d of v.details.slice(0, 8)) lines.push(`      ${d}`);
    }
    lines.push(`  replay: ${failure.replay}`);
    if (failure.scenario) {
      lines.push(
        `  shrunk scenario (${failure.scenario.commands} commands): ${failure.scenario.path}`,
        `    node bin/ledger.js scenario run ${failure.scenario.path}${failure.scenario.reproduced ? ' (fails at its last step, as it should)' : ' (did NOT fail as expected when checked in memory)'}`,
      );
      if (failure.scenario.note) lines.push(`    ${failure.scenario.note}`);
    } else if (failure.shrinkNote) lines.push(`  no scenario: ${failure.shrinkNote}`);
  }
  return lines.join('\n');
}
