import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** Where the shared generated examples live (spec/scenario-format.md: run from ../shared, never copied). */
export const SHARED_EXAMPLES_DIR = resolve(__dirname, '../../../../shared/spec/examples');
export const REPO_SCENARIOS_DIR = resolve(__dirname, '../../../scenarios');

export function scenarioFiles(dir: string): { file: string; json: unknown }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      file: basename(f),
      json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown,
    }));
}
