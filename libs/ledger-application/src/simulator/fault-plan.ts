import type { RecordedEvent } from '@ledger/event-store';
import type { LedgerFaults } from '../ledger/faults';
import { RISK_SAGA_CONSUMER } from '../saga/risk-saga';

/** Where the simulator crashes a process (in process: the ledger is dropped and opened again on the same store). */
export type CrashPoint = 'after-append' | 'inside-consumer-batch' | 'during-rebuild';

/** A process crash injected by the simulator: everything the process does afterwards fails with it too. */
export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`simulated crash (${point})`);
    this.name = 'SimulatedCrash';
  }
}

/** A consumer batch failed on purpose after its handler ran: the store delivers it again. */
export class SimulatedRedelivery extends Error {
  constructor(readonly consumer: string) {
    super(`simulated failure of a ${consumer} batch after its handler ran (redelivery)`);
    this.name = 'SimulatedRedelivery';
  }
}

export function isSimulatedFault(error: unknown): boolean {
  return error instanceof SimulatedCrash || error instanceof SimulatedRedelivery;
}

/** How many faults fired, by kind (the report's figures). */
export interface FaultCounts {
  crashAfterAppend: number;
  crashInsideConsumerBatch: number;
  crashDuringRebuild: number;
  redeliveries: number;
}

/**
 * The simulator's side of the fault seam (ledger/faults.ts), shared by every process of one simulated deployment.
 * A step arms faults; they fire at the next matching point. A crash marks the deployment dead: from then on every
 * hook throws, so the dead processes do no further work (their saga stops mid-batch, an in-flight command is never
 * acknowledged), until the simulator restarts them and calls `revive`.
 */
export class FaultPlan implements LedgerFaults {
  readonly counts: FaultCounts = {
    crashAfterAppend: 0,
    crashInsideConsumerBatch: 0,
    crashDuringRebuild: 0,
    redeliveries: 0,
  };
  private dead: SimulatedCrash | undefined;
  private appendsBeforeCrash: number | undefined;
  private runsBeforeCrash: number | undefined;
  private readonly redeliver = new Set<string>();
  private signal = deferred<SimulatedCrash>();

  /** Crash right after the n-th append committed from now on (n ≥ 1). */
  armCrashAfterAppend(n: number): void {
    this.appendsBeforeCrash = n;
  }

  /** Crash the risk saga before its n-th run of a batch from now on (n ≥ 2: part of the batch is done). */
  armCrashInsideBatch(n: number): void {
    this.runsBeforeCrash = n;
  }

  /** The next batch of `consumer` fails once after its handler ran. */
  armRedelivery(consumer: string): void {
    this.redeliver.add(consumer);
  }

  /** Faults armed for a step and not fired are dropped at its end. */
  disarm(): void {
    this.appendsBeforeCrash = undefined;
    this.runsBeforeCrash = undefined;
    this.redeliver.clear();
  }

  get crashed(): SimulatedCrash | undefined {
    return this.dead;
  }

  /** Resolves when a crash fires (to stop waiting for a dead process to settle). */
  whenCrashed(): Promise<SimulatedCrash> {
    return this.signal.promise;
  }

  crash(point: CrashPoint): SimulatedCrash {
    if (this.dead) return this.dead;
    const crash = new SimulatedCrash(point);
    this.dead = crash;
    if (point === 'after-append') this.counts.crashAfterAppend += 1;
    else if (point === 'inside-consumer-batch') this.counts.crashInsideConsumerBatch += 1;
    else this.counts.crashDuringRebuild += 1;
    this.disarm();
    this.signal.resolve(crash);
    return crash;
  }

  /** The processes were restarted. */
  revive(): void {
    this.dead = undefined;
    this.signal = deferred<SimulatedCrash>();
  }

  afterAppend(): void {
    if (this.dead) throw this.dead;
    if (this.appendsBeforeCrash === undefined) return;
    this.appendsBeforeCrash -= 1;
    if (this.appendsBeforeCrash <= 0) throw this.crash('after-append');
  }

  consumerBatch(
    consumer: string,
    phase: 'inside' | 'after',
    _batch: readonly RecordedEvent[],
  ): void {
    if (this.dead) throw this.dead;
    if (phase === 'inside') {
      if (consumer !== RISK_SAGA_CONSUMER || this.runsBeforeCrash === undefined) return;
      this.runsBeforeCrash -= 1;
      if (this.runsBeforeCrash <= 0) throw this.crash('inside-consumer-batch');
      return;
    }
    if (this.redeliver.delete(consumer)) {
      this.counts.redeliveries += 1;
      throw new SimulatedRedelivery(consumer);
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
