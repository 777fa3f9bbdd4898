/**
 * Every scenario of the repository's scenarios/ folder (one per RULES.md §9 test vector, plus the rules around
 * them: mode switches, funding, fees, isolated margin, hedge mode, liquidation, leverage, orders, as-of reads)
 * through the ledger's real command path on the in-memory store, risk saga included.
 */
import { runScenarioInMemory } from '../../test/in-memory-run';
import { REPO_SCENARIOS_DIR } from '../../test/scenario-files';
import { describeScenarioFolder } from '../../test/scenario-suite';

describeScenarioFolder(
  'repo scenarios on the in-memory store',
  REPO_SCENARIOS_DIR,
  30,
  runScenarioInMemory,
);
