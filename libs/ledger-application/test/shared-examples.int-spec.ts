/**
 * Every generated example of ../shared/spec/examples through the full stack on a real database: commands go
 * through the ledger, the event store, the SQL inline projections and the durable risk saga, and after each file
 * `ledger verify` must find the projections equal to a replay of the events.
 */
import { SHARED_EXAMPLES_DIR, scenarioFiles } from './scenario-files';
import { failuresOf, runScenarioOnDatabase } from './scenario-harness';

const files = scenarioFiles(SHARED_EXAMPLES_DIR);

describe('shared examples through the full stack', () => {
  it('finds the shared examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(32);
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
