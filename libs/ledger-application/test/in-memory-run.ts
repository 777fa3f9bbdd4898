import type { ScenarioReport } from '../src';
import { InMemoryEventStore, Ledger, parseScenario, runScenario } from '../src';

/** A scenario through the real command path on the in-memory store (no SQL projections). */
export async function runScenarioInMemory(
  file: string,
  json: unknown,
): Promise<{ report: ScenarioReport }> {
  const report = await runScenario(
    parseScenario(json),
    async (referenceData) => {
      const ledger = await Ledger.open({ store: new InMemoryEventStore(), referenceData });
      return { ledger, dispose: () => ledger.close() };
    },
    { file },
  );
  return { report };
}
