/**
 * Every generated example of ../shared/spec/examples (checked against an independent implementation of RULES.md)
 * through the ledger's real command path on the in-memory store: the fast check of domain + application. The
 * same files run on PostgreSQL and PGlite in the integration suite.
 */
import { runScenarioInMemory } from '../../test/in-memory-run';
import { SHARED_EXAMPLES_DIR } from '../../test/scenario-files';
import { describeScenarioFolder } from '../../test/scenario-suite';

describeScenarioFolder(
  'shared examples on the in-memory store',
  SHARED_EXAMPLES_DIR,
  32,
  runScenarioInMemory,
);
