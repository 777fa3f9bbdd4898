/**
 * The simulator on a database, full stack: SQL inline projections, the durable risk saga and margin history, real
 * concurrency (on PostgreSQL a second process on its own pool), process restarts that close and reopen the
 * database, crashes after an append, inside a saga batch and during a projection rebuild. A short run holds every
 * check but the open findings (database backends check the invariants only: their interleavings are the
 * database's, so there is no determinism check). PostgreSQL with TEST_DATABASE_URL (CI), else PGlite in a folder.
 *
 * Redelivered batches are off here: the margin-history consumer folds a redelivered batch twice today (the open
 * finding `margin-history`, being fixed with consumer redelivery), and on SQL its corrupted fold can then stop on
 * an evolve assertion and retry forever; the in-memory suite runs redelivery on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@ledger/testing';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { DatabaseLocation } from '../src';
import { OPEN_FINDINGS, runSimulation } from '../src';

let location: DatabaseLocation;
let dispose: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase('simulator');
  if (db.url !== undefined) {
    location = { kind: 'postgres', url: db.url, migrations: ALL_MIGRATIONS };
    dispose = () => db.drop();
    return;
  }
  // PGlite in memory cannot be reopened after a simulated restart: a folder can.
  await db.drop();
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-sim-int-'));
  location = { kind: 'pglite', dataDir, migrations: ALL_MIGRATIONS };
  dispose = () => {
    rmSync(dataDir, { recursive: true, force: true });
    return Promise.resolve();
  };
}, 60_000);

afterAll(async () => {
  await dispose?.();
});

describe(`ledger sim on a database`, () => {
  it('holds every check through restarts, crashes and rebuilds', async () => {
    const report = await runSimulation({
      seed: 3,
      steps: 150,
      backend: location.kind,
      database: location,
      checkEvery: 30,
      switches: { redelivery: false },
      known: OPEN_FINDINGS.filter((check) => check !== 'margin-history'),
      shrink: false,
    });
    const failure = report.failure;
    expect(failure ? `${failure.check} at step ${failure.step}: ${failure.message}` : 'none').toBe(
      'none',
    );
    expect(report.stepsRun).toBe(150);
    expect(report.events).toBeGreaterThan(100);
    expect(report.stats.fullChecks).toBeGreaterThanOrEqual(5);
    const { faults } = report.stats;
    expect(report.stats.restarts).toBeGreaterThan(0);
    expect(
      faults.crashAfterAppend + faults.crashInsideConsumerBatch + faults.crashDuringRebuild,
    ).toBeGreaterThan(0);
    console.log(
      `simulator on ${location.kind}: ${report.stepsRun} steps, ${report.stepsPerSecond} steps/s, ` +
        `${report.stats.restarts} restarts, crashes ${JSON.stringify(report.stats.faults)}`,
    );
  }, 300_000);
});
