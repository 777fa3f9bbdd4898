/**
 * Every file of scenarios/ (one per RULES.md test vector that commands can express, plus mode switches, funding,
 * fees, isolated margin, hedge mode, liquidation and liquidation-triggered auto-exchange) through the full stack
 * on a real database, with `ledger verify` clean and margin history rebuilding identically after each.
 */
import { expectCleanDatabaseRun } from './full-stack-check';
import { REPO_SCENARIOS_DIR } from './scenario-files';
import { runScenarioOnDatabase } from './scenario-harness';
import { describeScenarioFolder } from './scenario-suite';

describeScenarioFolder(
  'repo scenarios through the full stack',
  REPO_SCENARIOS_DIR,
  30,
  runScenarioOnDatabase,
  expectCleanDatabaseRun,
);
