/**
 * Every generated example of ../shared/spec/examples (checked against an independent implementation of RULES.md)
 * through the ledger's real command path on the in-memory store: the fast check of domain + application. The
 * same files run on PostgreSQL and PGlite in the integration suite.
 */
import { InMemoryEventStore } from '../simulator/in-memory-event-store';
import { Ledger } from '../ledger/ledger';
import { parseScenario } from './scenario.parse';
import { runScenario } from './scenario.runner';
import { SHARED_EXAMPLES_DIR, scenarioFiles } from '../../test/scenario-files';

const files = scenarioFiles(SHARED_EXAMPLES_DIR);

describe('shared examples on the in-memory store', () => {
  it('finds the shared examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(32);
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
    const failures = report.steps.filter((s) => !s.ok).map((s) => `${s.line}\n    ${s.failures.join('\n    ')}`);
    expect(failures).toEqual([]);
    expect(report.passed).toBe(report.steps.length);
  });
});
