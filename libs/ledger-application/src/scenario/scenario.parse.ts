import { LedgerDomainError } from '@ledger/margin-domain';
import { checkCommandShape } from '../commands/command-schema';
import { normalizeTime } from '../ledger/time';
import type { CommandStep, ExpectStep, Scenario, ScenarioStep } from './scenario.types';

/** A malformed scenario is rejected before anything runs, naming the JSON path of the first problem. */
export class ScenarioFormatError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ScenarioFormatError';
  }
}

const EXPECT_KEYS = new Set([
  'accountId',
  'events',
  'eventsExact',
  'account',
  'assets',
  'positions',
  'asOf',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseScenario(json: unknown): Scenario {
  if (!isObject(json)) throw new ScenarioFormatError('$', 'a scenario is a JSON object');
  for (const key of Object.keys(json)) {
    if (!['name', 'referenceData', 'start', 'steps', 'description'].includes(key)) {
      throw new ScenarioFormatError(`$.${key}`, 'unknown key');
    }
  }
  const name = json.name ?? 'unnamed scenario';
  if (typeof name !== 'string') throw new ScenarioFormatError('$.name', 'expected a string');
  let start: string;
  try {
    start = normalizeTime(json.start ?? '2024-01-01T00:00:00Z', 'start');
  } catch {
    throw new ScenarioFormatError('$.start', 'expected an ISO-8601 instant with a zone');
  }
  if (!Array.isArray(json.steps) || json.steps.length === 0) {
    throw new ScenarioFormatError('$.steps', 'expected a non-empty array');
  }
  const rawSteps: unknown[] = json.steps;
  const steps = rawSteps.map((step, i) => parseStep(step, `$.steps[${i}]`, rawSteps.length));
  return { name, referenceData: json.referenceData ?? 'binance-2024', start, steps };
}

function parseStep(step: unknown, path: string, count: number): ScenarioStep {
  if (!isObject(step)) throw new ScenarioFormatError(path, 'a step is an object');
  if ('expect' in step) {
    if (Object.keys(step).length !== 1)
      throw new ScenarioFormatError(path, 'an expect step has only "expect"');
    return parseExpect(step.expect, `${path}.expect`, count);
  }
  if (!('command' in step)) throw new ScenarioFormatError(path, 'a step has "command" or "expect"');
  const { command, at, commandId, expectError, ...fields } = step;
  try {
    checkCommandShape(fields, command);
  } catch (error) {
    if (error instanceof LedgerDomainError) {
      throw new ScenarioFormatError(
        error.field ? `${path}.${error.field === 'command' ? 'command' : error.field}` : path,
        error.message,
      );
    }
    throw error;
  }
  const parsed: CommandStep = { kind: 'command', input: { command: command as string, ...fields } };
  if (at !== undefined) {
    try {
      parsed.at = normalizeTime(at);
    } catch {
      throw new ScenarioFormatError(`${path}.at`, 'expected an ISO-8601 instant with a zone');
    }
  }
  if (commandId !== undefined) {
    if (typeof commandId !== 'string' || commandId.length === 0)
      throw new ScenarioFormatError(`${path}.commandId`, 'expected a string');
    parsed.commandId = commandId;
  }
  if (expectError !== undefined) {
    if (
      expectError !== true &&
      typeof expectError !== 'number' &&
      typeof expectError !== 'string'
    ) {
      throw new ScenarioFormatError(
        `${path}.expectError`,
        'expected true, a Binance code or an error code',
      );
    }
    parsed.expectError = expectError;
  }
  return parsed;
}

function parseExpect(value: unknown, path: string, count: number): ExpectStep {
  if (!isObject(value)) throw new ScenarioFormatError(path, 'expected an object');
  for (const key of Object.keys(value)) {
    if (!EXPECT_KEYS.has(key)) throw new ScenarioFormatError(`${path}.${key}`, 'unknown key');
  }
  if (typeof value.accountId !== 'string')
    throw new ScenarioFormatError(`${path}.accountId`, 'expected a string');
  const out: ExpectStep = { kind: 'expect', accountId: value.accountId };
  if (value.events !== undefined) {
    if (!Array.isArray(value.events) || !value.events.every((e) => typeof e === 'string')) {
      throw new ScenarioFormatError(`${path}.events`, 'expected an array of event types');
    }
    out.events = value.events;
  }
  if (value.eventsExact !== undefined) {
    if (typeof value.eventsExact !== 'boolean')
      throw new ScenarioFormatError(`${path}.eventsExact`, 'expected a boolean');
    out.eventsExact = value.eventsExact;
  }
  for (const key of ['account', 'assets', 'positions'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (!isObject(v)) throw new ScenarioFormatError(`${path}.${key}`, 'expected an object');
    if (key === 'assets') {
      for (const [asset, fields] of Object.entries(v)) {
        if (!isObject(fields))
          throw new ScenarioFormatError(`${path}.assets.${asset}`, 'expected an object');
      }
    }
    if (key === 'positions') {
      for (const [k, fields] of Object.entries(v)) {
        if (fields !== null && !isObject(fields))
          throw new ScenarioFormatError(`${path}.positions.${k}`, 'expected an object or null');
      }
    }
  }
  if (value.account !== undefined) out.account = value.account as Record<string, unknown>;
  if (value.assets !== undefined)
    out.assets = value.assets as Record<string, Record<string, unknown>>;
  if (value.positions !== undefined)
    out.positions = value.positions as Record<string, Record<string, unknown> | null>;
  if (value.asOf !== undefined) {
    const asOf = value.asOf;
    if (typeof asOf === 'number') {
      if (!Number.isInteger(asOf) || asOf < 0 || asOf >= count) {
        throw new ScenarioFormatError(
          `${path}.asOf`,
          'a step index must be an integer index into steps',
        );
      }
      out.asOf = asOf;
    } else if (typeof asOf === 'string') {
      try {
        out.asOf = normalizeTime(asOf, 'asOf');
      } catch {
        throw new ScenarioFormatError(`${path}.asOf`, 'expected an ISO time or a step index');
      }
    } else {
      throw new ScenarioFormatError(`${path}.asOf`, 'expected an ISO time or a step index');
    }
  }
  return out;
}
