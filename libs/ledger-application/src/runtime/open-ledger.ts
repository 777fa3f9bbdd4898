import type { LedgerDatabase, MigrationClass } from '@ledger/event-store';
import { openDatabase } from '@ledger/event-store';
import type { ReferenceData } from '@ledger/margin-domain';
import { parseReferenceData } from '@ledger/margin-domain';
import type { LedgerFaults } from '../ledger/faults';
import { Ledger } from '../ledger/ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from '../ledger/shipped-reference-data';
import { sqlAccountProjection } from '../read/account-projection';

export interface LedgerRuntimeOptions {
  /** PostgreSQL; without it the embedded PGlite in `dataDir` (in memory when absent). */
  url?: string;
  dataDir?: string;
  migrations: MigrationClass[];
  /** The set published when the store has none yet (default: the shipped binance-2024). */
  referenceData?: ReferenceData;
  riskSaga?: boolean;
  marginHistory?: boolean;
  /** Fold every account in the background after opening (default true; one-shot tools turn it off). */
  warmAccountCache?: boolean;
  poolSize?: number;
  /** Refuse an explicit `at` more than this many ms ahead of the clock (LedgerOptions; unset: no bound). */
  maxClockSkewMs?: number;
  /** The simulator's fault-injection hooks and clock (ledger/faults.ts); never set in the product. */
  faults?: LedgerFaults;
  clock?: () => Date;
  logger?: Pick<Console, 'warn' | 'error'>;
}

export interface LedgerRuntime {
  database: LedgerDatabase;
  ledger: Ledger;
  close(): Promise<void>;
}

/** Opens the database (running migrations) and the ledger on it, with the SQL inline projections. */
export async function openLedgerRuntime(options: LedgerRuntimeOptions): Promise<LedgerRuntime> {
  const database = await openDatabase({
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    migrations: options.migrations,
  });
  try {
    const ledger = await Ledger.open({
      store: database.store,
      referenceData:
        options.referenceData ??
        parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
      projection: sqlAccountProjection,
      riskSaga: options.riskSaga ?? true,
      ...(options.marginHistory === undefined ? {} : { marginHistory: options.marginHistory }),
      ...(options.warmAccountCache === undefined
        ? {}
        : { warmAccountCache: options.warmAccountCache }),
      ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
      ...(options.faults === undefined ? {} : { faults: options.faults }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    return {
      database,
      ledger,
      close: async () => {
        await ledger.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
