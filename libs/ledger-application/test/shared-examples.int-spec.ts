/**
 * Every generated example of ../shared/spec/examples through the full stack on a real database: commands go
 * through the ledger, the event store, the SQL inline projections, the durable risk saga and the margin-history
 * projection; after each file `ledger verify` must find the projections equal to a replay of the events, and a
 * side-by-side rebuild of margin history must write the same rows.
 */
import { expectCleanDatabaseRun } from './full-stack-check';
import { SHARED_EXAMPLES_DIR } from './scenario-files';
import { runScenarioOnDatabase } from './scenario-harness';
import { describeScenarioFolder } from './scenario-suite';

describeScenarioFolder(
  'shared examples through the full stack',
  SHARED_EXAMPLES_DIR,
  32,
  runScenarioOnDatabase,
  expectCleanDatabaseRun,
);
