import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EventStoreModule, type LedgerDatabase } from '@ledger/event-store';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { DatabaseOptions } from './api.config';
import { HealthModule } from './health/health.module';
import { ProblemDetailsFilter } from './problem-details.filter';

/**
 * The database the API opens (and closes on shutdown) from a URL or a PGlite folder, or one opened by the caller
 * (tests, the CLI), which the caller closes.
 */
export type ApiDatabase = DatabaseOptions | { database: LedgerDatabase };

export interface ApiModuleOptions {
  database: ApiDatabase;
}

/**
 * The HTTP API's root module: CQRS buses, the event store (migrated on open) with its EventBus pump, /health,
 * and the problem-details filter for every error. Feature modules (accounts, market, reference data) join here.
 */
@Module({})
export class ApiModule {
  static forRoot(options: ApiModuleOptions): DynamicModule {
    const { database } = options;
    return {
      module: ApiModule,
      imports: [
        CqrsModule.forRoot(),
        EventStoreModule.forRoot(
          'database' in database ? database : { ...database, migrations: ALL_MIGRATIONS },
        ),
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
