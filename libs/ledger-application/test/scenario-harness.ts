import { createTestDatabase } from '@ledger/testing';
import type { ScenarioLedgerFactory, ScenarioReport } from '../src';
import {
  Ledger,
  parseScenario,
  rebuildMarginHistory,
  runScenario,
  sqlAccountProjection,
  verifyLedger,
} from '../src';

/**
 * Runs one scenario through the full stack (handlers, event store, SQL projections, risk saga) on a fresh test
 * database (TEST_DATABASE_URL in CI, PGlite otherwise), then `verify`s that the projections equal a replay.
 */
export interface DatabaseRun {
  report: ScenarioReport;
  verifyMismatches: string[];
  /** Account events in the store vs margin-history rows written live, and whether a rebuild wrote the same rows. */
  marginHistory: { accountEvents: number; liveRows: number; rebuiltEqualsLive: boolean };
}

const HISTORY = `SELECT account_id, global_position::text AS p, occurred_at, event_type, asset_mode, total_wallet_balance::text,
  total_margin_balance::text, total_maint_margin::text, margin_ratio::text, wallets FROM margin_history
  ORDER BY account_id, global_position`;

export async function runScenarioOnDatabase(file: string, json: unknown): Promise<DatabaseRun> {
  let verifyMismatches: string[] = [];
  const marginHistory = { accountEvents: -1, liveRows: -2, rebuiltEqualsLive: false };
  const factory: ScenarioLedgerFactory = async (referenceData) => {
    const db = await createTestDatabase(`scenario_${file.replace(/[^a-z0-9]/gi, '_')}`);
    const ledger = await Ledger.open({
      store: db.store,
      referenceData,
      projection: sqlAccountProjection,
    });
    return {
      ledger,
      dispose: async () => {
        await ledger.close();
        const verify = await verifyLedger(db.store);
        verifyMismatches = verify.mismatches.map(
          (m) => `${m.accountId} ${m.what}: ${m.diff.join('; ')}`,
        );
        const live = await db.store.query(HISTORY);
        const [count] = await db.store.query<{ n: string }>(
          "SELECT count(*)::text AS n FROM events WHERE stream_id LIKE 'account-%'",
        );
        await rebuildMarginHistory(db.store);
        const rebuilt = await db.store.query(HISTORY);
        marginHistory.accountEvents = Number(count?.n);
        marginHistory.liveRows = live.length;
        marginHistory.rebuiltEqualsLive = JSON.stringify(live) === JSON.stringify(rebuilt);
        await db.drop();
      },
    };
  };
  const report = await runScenario(parseScenario(json), factory, { file });
  return { report, verifyMismatches, marginHistory };
}
