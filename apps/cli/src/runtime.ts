import type { LedgerRuntime } from '@ledger/ledger-application';
import { openLedgerRuntime } from '@ledger/ledger-application';
import type { ReferenceData } from '@ledger/margin-domain';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { DatabaseTarget } from './database-target';

/**
 * The ledger on the configured database. `riskSaga: false` is how the read and maintenance commands open it: no
 * durable consumer at all (neither the saga nor margin history, whose work belongs to the running service: on
 * PostgreSQL a consumer started here would wait for the lock the service holds) and no background warm-up of the
 * account cache (a one-shot command reads what it needs).
 */
export function openRuntime(
  target: DatabaseTarget,
  options: {
    referenceData?: ReferenceData;
    riskSaga?: boolean;
    marginHistory?: boolean;
    maxClockSkewMs?: number;
  } = {},
): Promise<LedgerRuntime> {
  const consumers = options.riskSaga ?? true;
  return openLedgerRuntime({
    ...(target.url === undefined ? {} : { url: target.url }),
    ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
    migrations: ALL_MIGRATIONS,
    ...(options.referenceData === undefined ? {} : { referenceData: options.referenceData }),
    riskSaga: consumers,
    marginHistory: options.marginHistory ?? consumers,
    warmAccountCache: consumers,
  });
}

/** `--as-of` / `--to`: an integer is a global position, anything else an ISO time. */
export function parsePoint(value: string): { position: bigint } | { time: string } {
  return /^\d+$/.test(value) ? { position: BigInt(value) } : { time: value };
}
