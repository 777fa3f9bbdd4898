import { ConcurrencyError } from '@ledger/event-store';
import { LedgerDomainError } from '@ledger/margin-domain';
import { MARGIN_HISTORY_CONSUMER } from '../read/margin-history.projection';
import type { SimBackend } from './backends';
import { shippedReferenceData } from './backends';
import type { FaultCounts } from './fault-plan';
import { FaultPlan, SimulatedCrash, isSimulatedFault } from './fault-plan';
import type { CommandRecord, CustomInvariant, Violation } from './ledger-audit';
import { LedgerAudit } from './ledger-audit';
import type { PlannedCommand, StepPlan, WorkloadSwitches } from './workload';
import { Workload } from './workload';

/** One command as sent, in the order sent: what the shrinker replays sequentially. */
export interface TraceEntry {
  step: number;
  commandId: string;
  at: string;
  input: PlannedCommand['input'];
}

export interface RunConfig {
  seed: number;
  steps: number;
  accounts: number;
  checkEvery: number;
  switches: WorkloadSwitches;
  start: string;
  custom: CustomInvariant[];
  /** Record the trace of commands (for the shrinker). */
  trace: boolean;
  /** State hashes another run of the same seed reached at each full check (the determinism check). */
  expectHashes?: Map<number, string>;
  onProgress?: (progress: SimProgress) => void;
  /** One line per step (--verbose): what it did and how long it took. */
  onStep?: (line: string) => void;
  /** Test seam: runs after each step, before its checks (e.g. corrupts a read model to prove the checks see it). */
  afterStep?: (step: number, backend: SimBackend) => Promise<void> | void;
  /** Checks whose violations are counted and reported but do not fail the run (open findings). */
  known: readonly string[];
  /** A step that takes longer has stalled (a check of its own). */
  stepTimeoutMs: number;
}

/** Violations of a check listed as known: how many, and the first. */
export interface KnownFinding {
  check: string;
  count: number;
  firstStep: number;
  first: Violation;
}

export interface SimProgress {
  step: number;
  steps: number;
  events: number;
  elapsedMs: number;
}

export interface RunStats {
  commands: number;
  acked: number;
  duplicates: number;
  rejected: number;
  unknown: number;
  resent: number;
  rejectedByCode: Record<string, number>;
  restarts: number;
  rebuilds: number;
  concurrentGroups: number;
  faults: FaultCounts;
  stepChecks: number;
  fullChecks: number;
}

export interface RunResult {
  stepsRun: number;
  /** The step whose checks failed, and what they found. */
  failure?: { step: number; violations: Violation[] };
  stats: RunStats;
  events: number;
  eventsByType: Record<string, number>;
  hashes: Map<number, string>;
  stateHash?: string;
  trace: TraceEntry[];
  known: KnownFinding[];
  /** The step after which the stuck margin-history consumer was dropped (its failure a known finding). */
  marginHistoryDroppedAt?: number;
  elapsedMs: number;
}

/** Collects what the ledger logs (the risk saga's batch failures); simulated faults are expected, the rest not. */
class SimLogger {
  readonly unexpected: Violation[] = [];
  readonly warnings = { count: 0 };

  warn(): void {
    this.warnings.count += 1;
  }

  error(message: unknown, error?: unknown, check = 'unexpected-error'): void {
    if (isSimulatedFault(error)) return;
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const [first, ...rest] = stack.split('\n');
    this.unexpected.push({
      check,
      message: `${String(message)}: ${first ?? ''}`,
      details: rest.slice(0, 6).map((l) => l.trim()),
    });
  }
}

/** A consumer other than the saga failed (its fold threw): a margin-history finding, not a crash of the run. */
class ConsumerFailed extends Error {
  constructor(readonly reason: unknown) {
    super(
      `the margin-history consumer failed: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
    this.name = 'ConsumerFailed';
  }
}

/**
 * One run of the simulator on one backend: each step arms its faults, sends its commands (concurrently when it
 * has several), waits for the consumers (or for the crash), restarts and re-sends what was not acknowledged after
 * a crash, then checks the accounts the step touched; every `checkEvery` steps and at the end it checks everything.
 */
export class SimulationRun {
  readonly faults = new FaultPlan();
  readonly logger = new SimLogger();
  readonly audit: LedgerAudit;
  private readonly workload: Workload;
  private readonly trace: TraceEntry[] = [];
  private readonly hashes = new Map<number, string>();
  private now = '';
  private readonly stats: RunStats;
  private readonly known = new Map<string, KnownFinding>();
  /** The margin-history consumer failed to catch up (its fold threw, or it timed out). */
  private historyStuck = false;
  /** The step after which the stuck margin-history consumer was dropped (a known finding), if it was. */
  private marginHistoryDroppedAt: number | undefined;

  constructor(
    private readonly config: RunConfig,
    readonly backend: SimBackend,
  ) {
    this.audit = new LedgerAudit({ marginHistory: true, custom: config.custom });
    this.workload = new Workload(
      {
        seed: config.seed,
        accounts: config.accounts,
        writers: backend.writers,
        switches: config.switches,
        start: config.start,
        referenceData: shippedReferenceData(),
      },
      (accountId) => this.backend.writer(0).accountState(accountId),
    );
    this.stats = {
      commands: 0,
      acked: 0,
      duplicates: 0,
      rejected: 0,
      unknown: 0,
      resent: 0,
      rejectedByCode: {},
      restarts: 0,
      rebuilds: 0,
      concurrentGroups: 0,
      faults: this.faults.counts,
      stepChecks: 0,
      fullChecks: 0,
    };
  }

  /** The clock the processes get: the simulated time of the step (never the machine's). */
  clock(): Date {
    return new Date(this.now || this.config.start);
  }

  async run(): Promise<RunResult> {
    const started = performance.now();
    let failure: RunResult['failure'];
    let stepsRun = 0;
    let stateHash: string | undefined;
    await this.backend.open();
    try {
      for (let step = 0; step < this.config.steps && !failure; step++) {
        const plan = await this.workload.next(step);
        this.now = plan.at;
        const stepStarted = performance.now();
        const records = await this.withinTimeout(this.runStep(plan));
        if (!records) {
          failure = { step, violations: [this.stalled(plan)] };
          stepsRun = step + 1;
          break;
        }
        this.config.onStep?.(describeStep(plan, records, performance.now() - stepStarted));
        await this.config.afterStep?.(step, this.backend);
        const last = step === this.config.steps - 1;
        const violations = await this.checkStep(plan, records);
        const due = last || (step + 1) % this.config.checkEvery === 0;
        if (due && violations.every((v) => this.config.known.includes(v.check))) {
          const full = await this.checkAll(step, last);
          violations.push(...full.violations);
          stateHash = full.hash;
        }
        stepsRun = step + 1;
        const failing = this.setAsideKnown(step, violations);
        if (failing.length > 0) failure = { step, violations: failing };
        else if (this.historyStuck) await this.dropMarginHistory(step);
        if (step % 1000 === 999 || last)
          this.config.onProgress?.({
            step: step + 1,
            steps: this.config.steps,
            events: this.audit.events,
            elapsedMs: performance.now() - started,
          });
      }
    } finally {
      await this.withinTimeout(this.backend.close());
    }
    return {
      stepsRun,
      ...(failure ? { failure } : {}),
      stats: this.stats,
      events: this.audit.events,
      eventsByType: Object.fromEntries([...this.audit.eventsByType].sort()),
      hashes: this.hashes,
      ...(stateHash === undefined ? {} : { stateHash }),
      trace: this.trace,
      known: [...this.known.values()],
      ...(this.marginHistoryDroppedAt === undefined
        ? {}
        : { marginHistoryDroppedAt: this.marginHistoryDroppedAt }),
      elapsedMs: performance.now() - started,
    };
  }

  /**
   * A stuck consumer retries its batch on every later step (and on SQL holds each step up for its timeout): once
   * its failure is known, the run goes on without it, restarting the processes, and stops checking it.
   */
  private async dropMarginHistory(step: number): Promise<void> {
    this.historyStuck = false;
    this.marginHistoryDroppedAt = step;
    this.backend.dropMarginHistory();
    this.audit.dropMarginHistory();
    await this.backend.close();
    await this.backend.open();
  }

  /** The work's result, or undefined when it has not finished within the step timeout (a hang is a finding). */
  private async withinTimeout<T>(work: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.config.stepTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private stalled(plan: StepPlan): Violation {
    const commands = plan.commands.map((c) => `${c.commandId} ${c.input.command}`).join(', ');
    return {
      check: 'stalled',
      message: `step ${plan.index} (${plan.kind}${commands ? `: ${commands}` : ''}) did not finish within ${this.config.stepTimeoutMs / 1000} s`,
      details: [],
    };
  }

  /** Counts the violations of known checks; returns the others. */
  private setAsideKnown(step: number, violations: Violation[]): Violation[] {
    const failing: Violation[] = [];
    for (const v of violations) {
      if (!this.config.known.includes(v.check)) {
        failing.push(v);
        continue;
      }
      const finding = this.known.get(v.check);
      if (finding) finding.count += 1;
      else this.known.set(v.check, { check: v.check, count: 1, firstStep: step, first: v });
    }
    return failing;
  }

  private async runStep(plan: StepPlan): Promise<CommandRecord[]> {
    for (const consumer of plan.redeliver) this.faults.armRedelivery(consumer);
    if (plan.kind === 'crash-after-append') this.faults.armCrashAfterAppend(plan.crashAt ?? 1);
    if (plan.kind === 'crash-inside-batch') this.faults.armCrashInsideBatch(plan.crashAt ?? 2);
    if (plan.kind === 'restart') {
      await this.restart();
      this.faults.disarm();
      return [];
    }
    if (plan.commands.length > 1) this.stats.concurrentGroups += 1;
    const tasks: (() => Promise<CommandRecord | null>)[] = plan.commands.map(
      (c) => () => this.send(c, plan.index),
    );
    if (plan.kind === 'rebuild' || plan.kind === 'crash-during-rebuild') {
      this.stats.rebuilds += 1;
      tasks.push(() => this.rebuild(plan).then(() => null));
    }
    const only = tasks.length === 1 ? tasks[0] : undefined;
    const settled: PromiseSettledResult<CommandRecord | null>[] = only
      ? [
          await only().then(
            (value) => ({ status: 'fulfilled' as const, value }),
            (reason: unknown) => ({ status: 'rejected' as const, reason }),
          ),
        ]
      : await this.backend.runner.all(tasks);
    const records: CommandRecord[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled' && outcome.value) records.push(outcome.value);
      else if (outcome.status === 'rejected' && !isSimulatedFault(outcome.reason))
        this.logger.error('a step task failed', outcome.reason);
    }
    await this.settle();
    if (this.faults.crashed) await this.recover(plan, records);
    else await this.resendUnknown(plan, records);
    this.faults.disarm();
    return records;
  }

  private async rebuild(plan: StepPlan): Promise<void> {
    let calls = 0;
    await this.backend.rebuild(() => {
      if (this.faults.crashed) throw this.faults.crashed;
      calls += 1;
      if (plan.kind === 'crash-during-rebuild' && calls === plan.crashAt)
        throw this.faults.crash('during-rebuild');
    });
  }

  /** Sends one command to its writer and records what the sender learnt (acknowledged, rejected, or nothing). */
  private async send(
    command: PlannedCommand,
    step: number,
    resend = false,
  ): Promise<CommandRecord> {
    if (!resend) {
      this.stats.commands += 1;
      if (this.config.trace)
        this.trace.push({
          step,
          commandId: command.commandId,
          at: command.at,
          input: command.input,
        });
    }
    const writer = this.backend.writer(Math.min(command.writer, this.backend.writers - 1));
    try {
      const outcome = await writer.execute(command.input, {
        commandId: command.commandId,
        at: command.at,
        actor: 'sim',
      });
      this.stats.acked += 1;
      if (outcome.duplicate) this.stats.duplicates += 1;
      return { commandId: command.commandId, result: 'acked', outcome };
    } catch (error) {
      if (error instanceof LedgerDomainError) {
        this.stats.rejected += 1;
        this.stats.rejectedByCode[error.code] = (this.stats.rejectedByCode[error.code] ?? 0) + 1;
        return { commandId: command.commandId, result: 'rejected', code: error.code };
      }
      if (!isSimulatedFault(error) && !(error instanceof ConcurrencyError))
        this.logger.error(`${command.commandId} ${command.input.command} threw`, error);
      this.stats.unknown += 1;
      return { commandId: command.commandId, result: 'unknown', error };
    }
  }

  /** Waits for the saga and the other consumers, or for a crash (a dead process never settles). */
  private async settle(): Promise<void> {
    if (this.faults.crashed) return;
    const work = (async () => {
      await this.backend.writer(0).settle();
      await this.backend.afterSettle().catch((error: unknown) => {
        throw isSimulatedFault(error) ? error : new ConsumerFailed(error);
      });
    })();
    const outcome = await Promise.race([
      work.then(() => 'settled' as const),
      this.faults.whenCrashed().then(() => 'crashed' as const),
    ]).catch((error: unknown) => {
      // On SQL, Ledger.settle waits for the margin history too and times out naming it.
      const history =
        error instanceof ConsumerFailed || String(error).includes(MARGIN_HISTORY_CONSUMER);
      if (history) this.historyStuck = true;
      if (!isSimulatedFault(error))
        this.logger.error('settle failed', error, history ? 'margin-history' : 'unexpected-error');
      return 'failed' as const;
    });
    // A dead process's settle may still be waiting; it fails when the process is closed.
    if (outcome !== 'settled') work.catch(() => undefined);
  }

  /** Closes every process, then opens them again alive (the new processes' consumers start pumping at once). */
  private async restart(): Promise<void> {
    this.stats.restarts += 1;
    await this.backend.close();
    this.faults.revive();
    await this.backend.open();
  }

  /** After a crash: restart every process, send again what was not acknowledged (same command ids), settle. */
  private async recover(plan: StepPlan, records: CommandRecord[]): Promise<void> {
    await this.restart();
    await this.resendUnknown(plan, records);
  }

  private async resendUnknown(plan: StepPlan, records: CommandRecord[]): Promise<void> {
    const unknown = records.filter((r) => r.result === 'unknown');
    if (unknown.length === 0) return;
    for (const record of unknown) {
      const command = plan.commands.find((c) => c.commandId === record.commandId);
      if (!command) continue;
      this.stats.resent += 1;
      records[records.indexOf(record)] = await this.send(
        { ...command, writer: 0 },
        plan.index,
        true,
      );
    }
    await this.settle();
    if (this.faults.crashed) await this.restart();
  }

  private async checkStep(plan: StepPlan, records: CommandRecord[]): Promise<Violation[]> {
    this.stats.stepChecks += 1;
    const settlements = plan.commands.filter((c) => c.input.command === 'SettleFunding');
    const holders = new Map(
      settlements.map((c) => [c.commandId, this.audit.holdersOf(String(c.input.symbol))]),
    );
    const touched = await this.audit.readNew(this.backend.store());
    for (const c of plan.commands)
      if (typeof c.input.accountId === 'string') touched.add(c.input.accountId);
    const violations = this.audit.takeFound();
    const ledger = this.backend.writer(0);
    const { violations: found } = await this.audit.checkAccounts(
      touched,
      this.backend.projections,
      (symbol) => ledger.riskIndex.holdersOf(symbol),
    );
    violations.push(...found, ...this.audit.checkCommands(records));
    violations.push(...this.checkSettlements(plan, records, holders));
    for (const v of violations) {
      const command = plan.commands.find((c) => c.commandId === v.commandId);
      if (command)
        v.details.push(
          `sent to process ${Math.min(command.writer, this.backend.writers - 1)} in a ${plan.kind} step of ${plan.commands.length} commands`,
        );
    }
    violations.push(...this.logger.unexpected.splice(0));
    return violations;
  }

  /**
   * A funding settlement pays every account that held a position in the symbol when the step began and that
   * nothing else in the step touched (RULES §5; the settling process finds holders through its risk index).
   */
  private checkSettlements(
    plan: StepPlan,
    records: CommandRecord[],
    holders: Map<string, string[]>,
  ): Violation[] {
    const out: Violation[] = [];
    for (const [commandId, before] of holders) {
      const record = records.find((r) => r.commandId === commandId);
      if (record?.result !== 'acked' || record.outcome.duplicate) continue;
      const command = plan.commands.find((c) => c.commandId === commandId);
      const symbol = String(command?.input.symbol);
      const others = new Set(
        plan.commands.filter((c) => c.commandId !== commandId).map((c) => c.input.accountId),
      );
      const stillHolding = new Set(this.audit.holdersOf(symbol));
      const missed = before.filter(
        (id) =>
          !others.has(id) &&
          stillHolding.has(id) &&
          !this.audit.hasCommand(`${commandId}:funding:${id}`),
      );
      if (missed.length === 0) continue;
      out.push({
        check: 'funding-settlement',
        message: `${commandId} (SettleFunding ${symbol}, writer ${command?.writer ?? 0}) paid no funding to ${missed.join(', ')}, which held ${symbol} positions`,
        details: [],
      });
    }
    return out;
  }

  /** Every account, the sums over all accounts, margin history, the state hash (and at the end: the store again). */
  private async checkAll(
    step: number,
    last: boolean,
  ): Promise<{ violations: Violation[]; hash: string }> {
    this.stats.fullChecks += 1;
    const ids = new Set([
      ...this.audit.accountIds(),
      ...(await this.backend.projections.accountIds()),
    ]);
    const ledger = this.backend.writer(0);
    const { violations, projected } = await this.audit.checkAccounts(
      ids,
      this.backend.projections,
      (symbol) => ledger.riskIndex.holdersOf(symbol),
    );
    violations.push(...this.audit.globalConservation(projected));
    violations.push(...(await this.audit.checkMarginHistory(this.backend.marginHistory)));
    const hash = this.audit.stateHash(projected);
    this.hashes.set(step, hash);
    const expected = this.config.expectHashes?.get(step);
    if (expected !== undefined && expected !== hash) {
      violations.push({
        check: 'determinism',
        message: `the state hash after step ${step} differs between two runs of seed ${this.config.seed}: ${expected.slice(0, 16)}… then ${hash.slice(0, 16)}…`,
        details: [],
      });
    }
    if (last) {
      violations.push(...(await this.audit.checkStoreStable(this.backend.store())));
      violations.push(...(await this.backend.finalChecks(this.audit.accountIds())));
    }
    return { violations, hash };
  }
}

function describeStep(plan: StepPlan, records: CommandRecord[], ms: number): string {
  const commands = plan.commands.map((c) => {
    const record = records.find((r) => r.commandId === c.commandId);
    const result = !record ? '?' : record.result === 'rejected' ? record.code : record.result;
    const account = typeof c.input.accountId === 'string' ? ` ${c.input.accountId}` : '';
    return `${c.input.command}${account} → ${result}`;
  });
  const faults = [
    plan.crashAt === undefined ? '' : `@${plan.crashAt}`,
    plan.redeliver.length > 0 ? ` redeliver ${plan.redeliver.join('+')}` : '',
  ].join('');
  return `#${plan.index} ${plan.kind}${faults} ${ms.toFixed(1)} ms: ${commands.join('; ')}`;
}

export { SimulatedCrash };
