import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EventStoreModule, type LedgerDatabase } from '@ledger/event-store';
import {
  type ApiKeyGrant,
  LedgerModule,
  type LedgerModuleOptions,
} from '@ledger/ledger-application';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { DatabaseOptions } from './api.config';
import { ApiKeyGuard } from './auth/api-key.guard';
import { API_KEYS_CONFIG, ApiKeyService } from './auth/api-key.service';
import { AccountsController } from './commands/accounts.controller';
import { CommandRunner } from './commands/command-runner';
import { IdempotencyStore } from './commands/idempotency.store';
import { MarginHistoryReader } from './commands/margin-history.reader';
import { MarketController, ReferenceDataController } from './commands/market.controller';
import { HealthModule } from './health/health.module';
import { ApiMetrics } from './metrics/api-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { ProblemDetailsFilter } from './problem-details.filter';
import { LiveStreams } from './streams/live-streams';
import { StreamsController } from './streams/streams.controller';

/**
 * The database the API opens (and closes on shutdown) from a URL or a PGlite folder, or one opened by the caller
 * (tests, the CLI), which the caller closes.
 */
export type ApiDatabase = DatabaseOptions | { database: LedgerDatabase };

export interface ApiModuleOptions {
  database: ApiDatabase;
  /** Bootstrap keys (LEDGER_API_KEYS), hashed in memory; more keys come from `ledger keys add`. */
  apiKeys?: Array<ApiKeyGrant & { key: string }>;
  ledger?: LedgerModuleOptions;
}

/**
 * The HTTP API's root module: CQRS buses, the event store (migrated on open) with its EventBus pump, the ledger,
 * the API-key guard on every route, the problem-details filter for every error, the command, query, stream,
 * metrics and health endpoints.
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
        LedgerModule.forRoot(options.ledger ?? {}),
        HealthModule,
      ],
      controllers: [
        AccountsController,
        MarketController,
        ReferenceDataController,
        StreamsController,
        MetricsController,
      ],
      providers: [
        { provide: API_KEYS_CONFIG, useValue: options.apiKeys ?? [] },
        ApiKeyService,
        IdempotencyStore,
        CommandRunner,
        MarginHistoryReader,
        ApiMetrics,
        LiveStreams,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
