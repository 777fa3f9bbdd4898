import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ScenarioReport } from '@ledger/ledger-application';
import {
  InMemoryEventStore,
  Ledger,
  ScenarioFormatError,
  parseScenario,
  runScenario,
} from '@ledger/ledger-application';
import { openRuntime } from '../runtime';
import { temporaryTarget } from '../database-target';

export interface ScenarioRunOptions {
  json?: boolean;
  memory?: boolean;
}

/**
 * `ledger scenario run FILE...`: each file against a fresh, empty ledger; one line per step, the failures under
 * it, and a closing `N passed, N failed` (steps). Exit code 1 if anything failed.
 */
export async function scenarioRun(files: string[], options: ScenarioRunOptions): Promise<number> {
  const reports: ScenarioReport[] = [];
  const malformed: { file: string; error: string }[] = [];
  for (const path of files) {
    const file = basename(path);
    let scenario;
    try {
      scenario = parseScenario(JSON.parse(readFileSync(path, 'utf8')) as unknown);
    } catch (error) {
      const message =
        error instanceof ScenarioFormatError || error instanceof SyntaxError
          ? error.message
          : String(error);
      malformed.push({ file, error: message });
      if (!options.json) console.log(`${file}: malformed: ${message}`);
      continue;
    }
    if (!options.json) console.log(`${file}: ${scenario.name}`);
    const report = await runScenario(
      scenario,
      async (referenceData) => {
        if (options.memory) {
          const ledger = await Ledger.open({ store: new InMemoryEventStore(), referenceData });
          return { ledger, dispose: () => ledger.close() };
        }
        const temp = await temporaryTarget();
        const runtime = await openRuntime(temp.target, { referenceData });
        return {
          ledger: runtime.ledger,
          dispose: async () => {
            await runtime.close();
            await temp.dispose();
          },
        };
      },
      {
        file,
        onStep: (step) => {
          if (options.json) return;
          console.log(`  ${step.ok ? 'ok  ' : 'FAIL'} ${step.line}`);
          for (const f of step.failures) console.log(`       ${f}`);
        },
      },
    );
    reports.push(report);
  }
  const passed = reports.reduce((n, r) => n + r.passed, 0);
  const failed = reports.reduce((n, r) => n + r.failed, 0) + malformed.length;
  if (options.json) {
    console.log(JSON.stringify({ passed, failed, files: reports, malformed }, null, 2));
  } else {
    console.log(`${passed} passed, ${failed} failed`);
  }
  return failed > 0 ? 1 : 0;
}
