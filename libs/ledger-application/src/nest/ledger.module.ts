import { type DynamicModule, Module } from '@nestjs/common';
import { LEDGER_DATABASE, type LedgerDatabase } from '@ledger/event-store';
import type { ReferenceData } from '@ledger/margin-domain';
import { parseReferenceData } from '@ledger/margin-domain';
import { Ledger } from '../ledger/ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from '../ledger/shipped-reference-data';
import { sqlAccountProjection } from '../read/account-projection';
import { ExecuteLedgerCommandHandler } from './execute-ledger-command';
import { LedgerGate } from './ledger-gate';
import { GetAccountViewHandler, ListAccountEventsHandler } from './ledger.queries';
import { LEDGER, LEDGER_MODULE_OPTIONS } from './ledger.tokens';

export interface LedgerModuleOptions {
  /** The set published when the store holds no reference data yet (default: the shipped binance-2024). */
  referenceData?: ReferenceData;
  /** Run the durable risk saga in this process (default true). */
  riskSaga?: boolean;
  /** Refuse an explicit `at` more than this many ms ahead of the clock (LedgerOptions; unset: no bound). */
  maxClockSkewMs?: number;
}

/**
 * The ledger on the EventStoreModule's database (which must be imported by the application, with
 * `CqrsModule.forRoot()`): the `Ledger` under LEDGER with the SQL inline projections, the command handler
 * (`ExecuteLedgerCommand`), the queries, and the LedgerGate that drains commands on shutdown.
 */
@Module({})
export class LedgerModule {
  static forRoot(options: LedgerModuleOptions = {}): DynamicModule {
    return {
      module: LedgerModule,
      global: true,
      providers: [
        { provide: LEDGER_MODULE_OPTIONS, useValue: options },
        {
          provide: LEDGER,
          inject: [LEDGER_DATABASE],
          useFactory: (database: LedgerDatabase): Promise<Ledger> =>
            Ledger.open({
              store: database.store,
              referenceData:
                options.referenceData ??
                parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
              projection: sqlAccountProjection,
              riskSaga: options.riskSaga ?? true,
              ...(options.maxClockSkewMs === undefined
                ? {}
                : { maxClockSkewMs: options.maxClockSkewMs }),
            }),
        },
        LedgerGate,
        ExecuteLedgerCommandHandler,
        GetAccountViewHandler,
        ListAccountEventsHandler,
      ],
      exports: [LEDGER, LEDGER_MODULE_OPTIONS, LedgerGate],
    };
  }
}
