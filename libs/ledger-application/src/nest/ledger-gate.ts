import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Ledger } from '../ledger/ledger';
import { LEDGER } from './ledger.tokens';

/** Thrown for a command that arrives while the ledger is shutting down (the API answers 503). */
export class LedgerClosingError extends Error {
  constructor() {
    super('the ledger is shutting down');
    this.name = 'LedgerClosingError';
  }
}

/**
 * Graceful shutdown of the command side: counts the commands in flight; on shutdown it refuses new ones, waits
 * until those in flight have finished (their events and projections committed), then stops the risk saga, which
 * stores its checkpoint after the batch in flight. The database closes after this (EventStoreModule).
 */
@Injectable()
export class LedgerGate implements OnModuleDestroy {
  private readonly logger = new Logger('LedgerGate');
  private inFlight = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(@Inject(LEDGER) private readonly ledger: Ledger) {}

  get commandsInFlight(): number {
    return this.inFlight;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) throw new LedgerClosingError();
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      this.logger.log(`waiting for ${this.inFlight} command(s) in flight`);
      await new Promise<void>((resolve) => (this.drained = resolve));
    }
    await this.ledger.close();
  }
}
