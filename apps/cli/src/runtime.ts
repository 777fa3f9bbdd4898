import type { LedgerRuntime } from '@ledger/ledger-application';
import { openLedgerRuntime } from '@ledger/ledger-application';
import type { ReferenceData } from '@ledger/margin-domain';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { DatabaseTarget } from './database-target';

export function openRuntime(
  target: DatabaseTarget,
  options: {
    referenceData?: ReferenceData;
    riskSaga?: boolean;
    marginHistory?: boolean;
    maxClockSkewMs?: number;
  } = {},
): Promise<LedgerRuntime> {
  return openLedgerRuntime({
    ...(target.url === undefined ? {} : { url: target.url }),
    ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
    migrations: ALL_MIGRATIONS,
    ...options,
  });
}

/** `--as-of` / `--to`: an integer is a global position, anything else an ISO time. */
export function parsePoint(value: string): { position: bigint } | { time: string } {
  return /^\d+$/.test(value) ? { position: BigInt(value) } : { time: value };
}
