import type { CommandInput } from '../commands/command-schema';

/** A scenario file (spec/scenario-format.md). */
export interface Scenario {
  name: string;
  referenceData: unknown;
  start: string;
  steps: ScenarioStep[];
}

export interface CommandStep {
  kind: 'command';
  input: CommandInput;
  at?: string;
  commandId?: string;
  expectError?: true | number | string;
}

export interface ExpectStep {
  kind: 'expect';
  accountId: string;
  events?: string[];
  eventsExact?: boolean;
  account?: Record<string, unknown>;
  assets?: Record<string, Record<string, unknown>>;
  positions?: Record<string, Record<string, unknown> | null>;
  asOf?: string | number;
}

export type ScenarioStep = CommandStep | ExpectStep;

export interface StepResult {
  index: number;
  ok: boolean;
  line: string;
  failures: string[];
}

export interface ScenarioReport {
  file: string;
  name: string;
  passed: number;
  failed: number;
  steps: StepResult[];
}
