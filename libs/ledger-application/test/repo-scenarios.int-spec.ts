/**
 * Every file of scenarios/ (one per RULES.md test vector that commands can express, plus mode switches, funding,
 * fees, isolated margin, hedge mode, liquidation and liquidation-triggered auto-exchange) through the full stack
 * on a real database, with `ledger verify` clean after each.
 */
import { REPO_SCENARIOS_DIR, scenarioFiles } from './scenario-files';
import { failuresOf, runScenarioOnDatabase } from './scenario-harness';

const files = scenarioFiles(REPO_SCENARIOS_DIR);

describe('repo scenarios through the full stack', () => {
  it('finds the repo scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files.map((f) => [f.file, f.json] as const))('%s passes, verifies clean, margin history rebuilds identically', async (file, json) => {
    const { report, verifyMismatches, marginHistory } = await runScenarioOnDatabase(file, json);
    expect(failuresOf(report)).toEqual([]);
    expect(report.passed).toBe(report.steps.length);
    expect(verifyMismatches).toEqual([]);
    // One margin-history row per account event, and a side-by-side rebuild writes the same.
    expect(marginHistory.liveRows).toBe(marginHistory.accountEvents);
    expect(marginHistory.rebuiltEqualsLive).toBe(true);
  }, 60_000);
});
