import type { DatabaseRun } from './scenario-harness';

/** After a full-stack run: projections equal a replay, and margin history has one row per account event and rebuilds identically. */
export function expectCleanDatabaseRun(run: DatabaseRun): void {
  expect(run.verifyMismatches).toEqual([]);
  expect(run.marginHistory.liveRows).toBe(run.marginHistory.accountEvents);
  expect(run.marginHistory.rebuiltEqualsLive).toBe(true);
}
