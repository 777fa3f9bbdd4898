import type { Checkpoint, RecordedEvent } from '@ledger/event-store';
import { checkpointOf } from '@ledger/event-store';
import type { ReferenceData } from '@ledger/margin-domain';
import { LedgerDomainError, loadReferenceDataSpec } from '@ledger/margin-domain';
import type { Ledger } from '../ledger/ledger';
import { readShippedReferenceData } from '../ledger/shipped-reference-data';
import { accountIdOf } from '../ledger/streams';
import { readAllBatches } from '../ledger/read-all-batches';
import { compareFields, matches } from './scenario.compare';
import type {
  CommandStep,
  ExpectStep,
  Scenario,
  ScenarioReport,
  StepResult,
} from './scenario.types';

/** Opens a ledger on an empty store for one scenario, and disposes of it afterwards. */
export type ScenarioLedgerFactory = (
  referenceData: ReferenceData,
) => Promise<{ ledger: Ledger; dispose(): Promise<void> }>;

export interface RunOptions {
  /** Names the derived command ids: `<file>#<step index>`. */
  file: string;
  /** Called after each step (the CLI prints a line per step). */
  onStep?: (result: StepResult) => void;
}

const ONE_SECOND_MS = 1000;

/**
 * Drives the ledger through its real command path (handlers, store, projections, risk saga) and checks what comes
 * out (spec/scenario-format.md). After each command step it waits until every async consumer has caught up, so
 * saga-issued commands belong to the step that triggered them.
 */
export async function runScenario(
  scenario: Scenario,
  factory: ScenarioLedgerFactory,
  options: RunOptions,
): Promise<ScenarioReport> {
  const ref = loadReferenceDataSpec(scenario.referenceData, readShippedReferenceData);
  const opened = await factory(ref);
  const ledger = opened.ledger;
  const steps: StepResult[] = [];
  const positionAfterStep: bigint[] = [];
  const log: EventLog = { cursor: null, maxPosition: 0n };
  let lastEvents: RecordedEvent[] = [];
  let clockMs: number | undefined;
  try {
    for (const [index, step] of scenario.steps.entries()) {
      let result: StepResult;
      if (step.kind === 'command') {
        const at =
          step.at ??
          new Date(
            clockMs === undefined ? Date.parse(scenario.start) : clockMs + ONE_SECOND_MS,
          ).toISOString();
        clockMs = Date.parse(at);
        const run = await runCommand(ledger, step, index, at, options.file, log);
        lastEvents = run.appended;
        result = run.result;
      } else {
        result = await runExpect(ledger, step, index, lastEvents, positionAfterStep);
      }
      positionAfterStep[index] = log.maxPosition;
      steps.push(result);
      options.onStep?.(result);
    }
  } finally {
    await opened.dispose();
  }
  const failed = steps.filter((s) => !s.ok).length;
  return { file: options.file, name: scenario.name, passed: steps.length - failed, failed, steps };
}

/** A running cursor over the whole log: each step reads only what is new since the previous one. */
interface EventLog {
  cursor: Checkpoint | null;
  maxPosition: bigint;
}

async function readNew(ledger: Ledger, log: EventLog): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const batch of readAllBatches(ledger.store, { after: log.cursor })) {
    out.push(...batch);
    for (const e of batch) {
      log.cursor = checkpointOf(e);
      if (e.globalPosition > log.maxPosition) log.maxPosition = e.globalPosition;
    }
  }
  return out;
}

/** The step's own events and everything they caused (derived command ids, causation chain). */
function causedBy(commandId: string, events: RecordedEvent[]): RecordedEvent[] {
  const ids = new Set([commandId]);
  const out: RecordedEvent[] = [];
  for (const e of events) {
    const id = e.metadata.commandId;
    const cause = e.metadata.causationId;
    if (ids.has(id) || id.startsWith(`${commandId}:`) || (cause !== undefined && ids.has(cause))) {
      ids.add(id);
      out.push(e);
    }
  }
  return out;
}

async function runCommand(
  ledger: Ledger,
  step: CommandStep,
  index: number,
  at: string,
  file: string,
  log: EventLog,
): Promise<{ result: StepResult; appended: RecordedEvent[] }> {
  const label = `#${index} ${step.input.command}${typeof step.input.accountId === 'string' ? ` ${step.input.accountId}` : ''}`;
  const commandId = step.commandId ?? `${file}#${index}`;
  let error: unknown;
  let lastPosition = 0n;
  try {
    const outcome = await ledger.execute(step.input, { commandId, at, actor: 'scenario' });
    for (const e of outcome.events)
      if (BigInt(e.globalPosition) > lastPosition) lastPosition = BigInt(e.globalPosition);
  } catch (e) {
    error = e;
  }
  await ledger.settle(lastPosition);
  const appended = causedBy(commandId, await readNew(ledger, log));
  const failures: string[] = [];
  if (error !== undefined && !(error instanceof LedgerDomainError))
    throw error instanceof Error ? error : new Error('the ledger threw a non-error');
  if (step.expectError !== undefined) {
    if (!error)
      failures.push(
        `expected a rejection (${String(step.expectError)}), but the command was accepted`,
      );
    else if (!errorMatches(step.expectError, error)) {
      failures.push(
        `expected rejection ${String(step.expectError)}, got ${error.code}${error.binanceCode ? ` (${error.binanceCode})` : ''}`,
      );
    }
    if (error && appended.length > 0)
      failures.push(`a rejected command appended ${appended.length} events`);
  } else if (error) {
    failures.push(
      `rejected: ${error.code}${error.binanceCode ? ` (${error.binanceCode})` : ''} ${error.message}`,
    );
  }
  const summary = error ? `rejected ${error.code}` : `${appended.length} events`;
  return {
    result: { index, ok: failures.length === 0, line: `${label}: ${summary}`, failures },
    appended,
  };
}

function errorMatches(expected: true | number | string, error: LedgerDomainError): boolean {
  if (expected === true) return true;
  if (typeof expected === 'number') return error.binanceCode === expected;
  if (/^-?\d+$/.test(expected)) return error.binanceCode === Number(expected);
  return error.code === expected;
}

async function runExpect(
  ledger: Ledger,
  step: ExpectStep,
  index: number,
  lastEvents: RecordedEvent[],
  positionAfterStep: bigint[],
): Promise<StepResult> {
  const failures: string[] = [];
  let asOfLabel = '';
  let view;
  if (step.asOf === undefined) view = await ledger.accountView(step.accountId);
  else if (typeof step.asOf === 'number') {
    const position = positionAfterStep[step.asOf];
    if (position === undefined) failures.push(`asOf step ${step.asOf} has not run yet`);
    view = position === undefined ? null : await ledger.accountView(step.accountId, { position });
    asOfLabel = ` as of step ${step.asOf}`;
  } else {
    view = await ledger.accountView(step.accountId, { time: step.asOf });
    asOfLabel = ` as of ${step.asOf}`;
  }
  if (step.events) {
    const types = lastEvents
      .filter((e) => accountIdOf(e.streamId) === step.accountId)
      .map((e) => e.type);
    if (step.eventsExact) {
      if (JSON.stringify(types) !== JSON.stringify(step.events)) {
        failures.push(
          `events: expected exactly ${step.events.join(', ')}, got ${types.join(', ') || 'none'}`,
        );
      }
    } else if (!isSubsequence(step.events, types)) {
      failures.push(
        `events: expected ${step.events.join(', ')} in order, got ${types.join(', ') || 'none'}`,
      );
    }
  }
  if (!view) {
    if (step.account || step.assets || step.positions)
      failures.push(`account ${step.accountId} does not exist${asOfLabel}`);
  } else {
    if (step.account) compareFields('account', step.account, { ...view.account }, failures);
    for (const [asset, fields] of Object.entries(step.assets ?? {})) {
      const actual: Record<string, unknown> | undefined = view.assets[asset]
        ? { ...view.assets[asset] }
        : undefined;
      compareFields(`assets.${asset}`, fields, actual, failures);
    }
    for (const [key, fields] of Object.entries(step.positions ?? {})) {
      const actual = view.positions[key];
      if (fields === null) {
        if (actual)
          failures.push(`positions.${key}: expected no position, got ${actual.positionAmt}`);
      } else if (!actual) {
        failures.push(`positions.${key}: expected a position, got none`);
      } else {
        compareFields(
          `positions.${key}`,
          fields,
          actual as unknown as Record<string, unknown>,
          failures,
        );
      }
    }
  }
  return {
    index,
    ok: failures.length === 0,
    line: `#${index} expect ${step.accountId}${asOfLabel}`,
    failures,
  };
}

function isSubsequence(expected: string[], actual: string[]): boolean {
  let i = 0;
  for (const type of actual) if (type === expected[i]) i++;
  return i === expected.length;
}

export { matches };
