import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { D, LedgerDomainError } from '@ledger/margin-domain';
import { Ledger } from '../ledger/ledger';
import { expectedProjection } from '../read/account-projection';
import { parseScenario } from '../scenario/scenario.parse';
import { runScenario } from '../scenario/scenario.runner';
import { shippedReferenceData } from './backends';
import { DEFAULT_REFERENCE_DATA } from '../ledger/shipped-reference-data';
import { InMemoryEventStore } from './in-memory-event-store';
import type { CustomInvariant, ProjectionSource, Violation } from './ledger-audit';
import { LedgerAudit } from './ledger-audit';
import type { TraceEntry } from './simulation-run';

/** What a failure is, for "does it still reproduce": the check, and the account when it names one. */
export interface FailureTarget {
  check: string;
  accountId?: string;
}

interface SequentialResult {
  violation?: Violation;
  /** Index (in the trace) of the command after which the violation was found. */
  index?: number;
  rejected: boolean[];
}

const quiet = { warn: () => undefined, error: () => undefined };

/**
 * Replays trace commands one at a time on a fresh in-memory ledger (risk saga on, no faults, no concurrency), settling
 * and checking the touched accounts after each, as the simulator does. Stops at the first violation.
 */
export async function replaySequentially(
  trace: readonly TraceEntry[],
  custom: CustomInvariant[] = [],
): Promise<SequentialResult> {
  const store = new InMemoryEventStore();
  const ledger = await Ledger.open({
    store,
    referenceData: shippedReferenceData(),
    logger: quiet,
    clock: () => new Date(trace[0]?.at ?? 0),
  });
  const audit = new LedgerAudit({ marginHistory: false, custom });
  const projections: ProjectionSource = {
    account: async (id) => {
      const loaded = await ledger.accounts.load(id);
      return loaded.version === 0 ? null : expectedProjection(loaded.state, loaded.version);
    },
    accountIds: () => Promise.resolve([]),
  };
  const rejected: boolean[] = [];
  try {
    for (const [index, entry] of trace.entries()) {
      let violation: Violation | undefined;
      try {
        await ledger.execute(entry.input, { commandId: entry.commandId, at: entry.at });
        rejected.push(false);
      } catch (error) {
        rejected.push(true);
        if (!(error instanceof LedgerDomainError))
          violation = { check: 'unexpected-error', message: String(error), details: [] };
      }
      await ledger.settle();
      const touched = await audit.readNew(store);
      if (typeof entry.input.accountId === 'string') touched.add(entry.input.accountId);
      const found = [
        ...(violation ? [violation] : []),
        ...audit.takeFound(),
        ...(await audit.checkAccounts(touched, projections, (s) => ledger.riskIndex.holdersOf(s)))
          .violations,
      ];
      if (found[0]) return { violation: found[0], index, rejected };
    }
    return { rejected };
  } finally {
    await ledger.close();
  }
}

function matches(result: SequentialResult, target: FailureTarget): boolean {
  const v = result.violation;
  return (
    v !== undefined &&
    v.check === target.check &&
    (target.accountId === undefined || v.accountId === target.accountId)
  );
}

export interface ShrinkResult {
  trace: TraceEntry[];
  violation: Violation;
  rejected: boolean[];
  replays: number;
}

/**
 * Delta debugging over the trace (Zeller's ddmin, simplified): first the prefix up to the violation, then whole
 * accounts' commands, then chunks of halving size, keeping every removal after which the same check still fails
 * (on the same account) when replayed sequentially. Stops when no chunk can go, or when the budget is spent.
 * Returns undefined when the failure does not reproduce sequentially at all.
 */
export async function shrinkTrace(
  trace: readonly TraceEntry[],
  target: FailureTarget,
  options: { budgetMs: number; custom?: CustomInvariant[] },
): Promise<ShrinkResult | undefined> {
  const deadline = performance.now() + options.budgetMs;
  let replays = 0;
  const attempt = async (candidate: TraceEntry[]): Promise<SequentialResult | undefined> => {
    replays += 1;
    const result = await replaySequentially(candidate, options.custom);
    return matches(result, target) ? result : undefined;
  };
  const first = await attempt([...trace]);
  if (!first || first.index === undefined) return undefined;
  let best = trace.slice(0, first.index + 1);
  let bestResult = first;
  const keep = async (candidate: TraceEntry[]): Promise<boolean> => {
    if (candidate.length === 0 || performance.now() > deadline) return false;
    const result = await attempt(candidate);
    if (!result || result.index === undefined) return false;
    best = candidate.slice(0, result.index + 1);
    bestResult = result;
    return true;
  };
  // Whole accounts first: most of a trace is other accounts' business. All of them at once, then one by one.
  if (target.accountId !== undefined) {
    await keep(
      best.filter((e) => e.input.accountId === undefined || e.input.accountId === target.accountId),
    );
  }
  const accounts = [...new Set(best.map((e) => e.input.accountId).filter(isString))].sort();
  for (const account of accounts) {
    if (account === target.accountId) continue;
    await keep(best.filter((e) => e.input.accountId !== account));
  }
  for (let chunks = 2; performance.now() < deadline;) {
    const size = Math.ceil(best.length / chunks);
    let removed = false;
    for (let start = 0; start < best.length && !removed; start += size) {
      removed = await keep([...best.slice(0, start), ...best.slice(start + size)]);
    }
    if (removed) chunks = Math.max(chunks - 1, 2);
    else if (size <= 1) break;
    else chunks = Math.min(chunks * 2, best.length);
  }
  const final = await replaySequentially(best, options.custom);
  replays += 1;
  return {
    trace: best,
    violation: final.violation ??
      bestResult.violation ?? { check: target.check, message: '', details: [] },
    rejected: final.rejected,
    replays,
  };
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** The last `expect` step: it fails while the invariant is broken (undefined: the check has no such expectation). */
export function expectStepFor(
  violation: Violation,
  custom: CustomInvariant[] = [],
): Record<string, unknown> | undefined {
  const accountId = violation.accountId;
  if (!accountId) return undefined;
  const eightDp = (value: string): string => new D(value).toFixed(8);
  const check = violation.check;
  if (check === 'conservation') {
    return violation.asset && violation.expected !== undefined
      ? { accountId, assets: { [violation.asset]: { walletBalance: eightDp(violation.expected) } } }
      : undefined;
  }
  if (check === 'single-cross-wallet-negative' || check === 'single-isolated-wallet-negative') {
    // A Single-Asset wallet below zero must come with its insurance cover (RULES §5, §8 (iii)).
    return { accountId, events: ['InsuranceFundCovered'] };
  }
  if (check === 'auto-exchange-result') {
    // All collateral used (the alternative, the asset back at ≥ 0, has no exact value to name).
    return {
      accountId,
      assets: Object.fromEntries(
        (violation.assets ?? []).map((a) => [a, { walletBalance: '0.00000000' }]),
      ),
    };
  }
  return custom.find((c) => c.name === check)?.scenarioExpect?.(violation);
}

export interface WrittenScenario {
  path: string;
  commands: number;
  /** `ledger scenario run` fails on it exactly where it should (its last step), checked in memory. */
  reproduced: boolean;
  note?: string;
}

/** Writes the shrunk trace as a scenario file (spec/scenario-format.md) and checks that it fails as it should. */
export async function writeScenario(
  shrunk: ShrinkResult,
  meta: { seed: number; step: number; outDir: string; custom?: CustomInvariant[] },
): Promise<WrittenScenario> {
  const expect = expectStepFor(shrunk.violation, meta.custom);
  const steps: Record<string, unknown>[] = shrunk.trace.map((entry, i) => ({
    ...entry.input,
    at: entry.at,
    ...(shrunk.rejected[i] ? { expectError: true } : {}),
  }));
  if (expect) steps.push({ expect });
  const scenario = {
    name: `ledger sim --seed ${meta.seed}: ${shrunk.violation.check} at step ${meta.step}, shrunk`,
    description: `${shrunk.violation.message}. Shrunk from the simulator's trace by delta debugging (${shrunk.replays} sequential replays); the last step fails while the invariant is broken.`,
    referenceData: DEFAULT_REFERENCE_DATA,
    start: shrunk.trace[0]?.at ?? '2024-06-01T00:00:00.000Z',
    steps,
  };
  mkdirSync(meta.outDir, { recursive: true });
  const path = join(
    meta.outDir,
    `sim-seed-${meta.seed}-step-${meta.step}-${shrunk.violation.check}.json`,
  );
  writeFileSync(path, `${JSON.stringify(scenario, null, 2)}\n`);
  const reproduced = await failsAtItsEnd(
    scenario,
    path,
    shrunk.violation.check === 'unexpected-error',
  );
  return {
    path,
    commands: shrunk.trace.length,
    reproduced,
    ...(expect || shrunk.violation.check === 'unexpected-error'
      ? {}
      : {
          note: 'the check has no scenario expectation: the file reproduces the state, not the verdict',
        }),
  };
}

async function failsAtItsEnd(json: unknown, file: string, throws: boolean): Promise<boolean> {
  try {
    const report = await runScenario(
      parseScenario(json),
      async (referenceData) => {
        const ledger = await Ledger.open({
          store: new InMemoryEventStore(),
          referenceData,
          logger: quiet,
        });
        return { ledger, dispose: () => ledger.close() };
      },
      { file },
    );
    const failed = report.steps.filter((s) => !s.ok);
    return !throws && failed.length === 1 && failed[0]?.index === report.steps.length - 1;
  } catch {
    return throws;
  }
}
