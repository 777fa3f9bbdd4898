import { createTestDatabase } from '@ledger/testing';
import type { ScenarioLedgerFactory, ScenarioReport } from '../src';
import { Ledger, parseScenario, runScenario, sqlAccountProjection, verifyLedger } from '../src';

/**
 * Runs one scenario through the full stack (handlers, event store, SQL projections, risk saga) on a fresh test
 * database (TEST_DATABASE_URL in CI, PGlite otherwise), then `verify`s that the projections equal a replay.
 */
export async function runScenarioOnDatabase(file: string, json: unknown): Promise<{ report: ScenarioReport; verifyMismatches: string[] }> {
  let verifyMismatches: string[] = [];
  const factory: ScenarioLedgerFactory = async (referenceData) => {
    const db = await createTestDatabase(`scenario_${file.replace(/[^a-z0-9]/gi, '_')}`);
    const ledger = await Ledger.open({ store: db.store, referenceData, projection: sqlAccountProjection });
    return {
      ledger,
      dispose: async () => {
        await ledger.close();
        const verify = await verifyLedger(db.store);
        verifyMismatches = verify.mismatches.map((m) => `${m.accountId} ${m.what}: ${m.diff.join('; ')}`);
        await db.drop();
      },
    };
  };
  const report = await runScenario(parseScenario(json), factory, { file });
  return { report, verifyMismatches };
}

export function failuresOf(report: ScenarioReport): string[] {
  return report.steps.filter((s) => !s.ok).map((s) => `${s.line}\n    ${s.failures.join('\n    ')}`);
}
