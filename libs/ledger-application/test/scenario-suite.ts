import type { ScenarioReport } from '../src';
import { scenarioFiles } from './scenario-files';

/**
 * One jest `describe` per scenario folder: it checks the folder is there, then runs every file through `run`
 * and expects every step to pass plus whatever `extra` asserts about the run.
 */
export function describeScenarioFolder<R extends { report: ScenarioReport }>(
  title: string,
  dir: string,
  minimumFiles: number,
  run: (file: string, json: unknown) => Promise<R>,
  extra: (result: R) => void = () => undefined,
  timeoutMs = 60_000,
): void {
  const files = scenarioFiles(dir);
  describe(title, () => {
    it(`finds at least ${minimumFiles} scenario files`, () => {
      expect(files.length).toBeGreaterThanOrEqual(minimumFiles);
    });

    it.each(files.map((f) => [f.file, f.json] as const))(
      '%s passes',
      async (file, json) => {
        const result = await run(file, json);
        const failures = result.report.steps
          .filter((s) => !s.ok)
          .map((s) => `${s.line}\n    ${s.failures.join('\n    ')}`);
        expect(failures).toEqual([]);
        expect(result.report.passed).toBe(result.report.steps.length);
        extra(result);
      },
      timeoutMs,
    );
  });
}
