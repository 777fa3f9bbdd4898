/**
 * Every scenario of the repository's scenarios/ folder (one per RULES.md §9 test vector, plus the rules around
 * them: mode switches, funding, fees, isolated margin, hedge mode, liquidation, leverage, orders, as-of reads)
 * through the ledger's real command path on the in-memory store, risk saga included.
 */
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from '../ledger/ledger';
import { parseScenario } from './scenario.parse';
import { runScenario } from './scenario.runner';
import { REPO_SCENARIOS_DIR, scenarioFiles } from '../../test/scenario-files';

const files = scenarioFiles(REPO_SCENARIOS_DIR);

describe('repo scenarios on the in-memory store', () => {
  it('finds the repo scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(1);
  });

  it.each(files.map((f) => [f.file, f.json] as const))('%s passes', async (file, json) => {
    const report = await runScenario(
      parseScenario(json),
      async (referenceData) => {
        const ledger = await Ledger.open({ store: new InMemoryEventStore(), referenceData });
        return { ledger, dispose: () => ledger.close() };
      },
      { file },
    );
    const failures = report.steps
      .filter((s) => !s.ok)
      .map((s) => `${s.line}\n    ${s.failures.join('\n    ')}`);
    expect(failures).toEqual([]);
    expect(report.passed).toBe(report.steps.length);
  });
});
