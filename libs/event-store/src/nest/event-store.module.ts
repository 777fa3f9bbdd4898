import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';

import { type LedgerDatabase, openDatabase } from '../database/open-database';
import { EventBusPump } from './event-bus-pump';
import {
  type EventStoreModuleAsyncOptions,
  type EventStoreModuleOptions,
  isProvidedDatabase,
} from './event-store.module-options';
import {
  EVENT_STORE,
  EVENT_STORE_MODULE_OPTIONS,
  LEDGER_DATABASE,
  LEDGER_DATA_SOURCE,
} from './tokens';
import { UnhandledExceptionLogger } from './unhandled-exception-logger';

/** Closes the database after every module's onModuleDestroy (the pump stops there first). */
@Injectable()
class LedgerDatabaseCloser implements OnApplicationShutdown {
  constructor(
    @Inject(LEDGER_DATABASE) private readonly database: LedgerDatabase,
    @Inject(EVENT_STORE_MODULE_OPTIONS) private readonly options: EventStoreModuleOptions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const owned = !isProvidedDatabase(this.options) || this.options.closeOnShutdown === true;
    if (owned) await this.database.close();
  }
}

/**
 * Not global, on purpose: imported by the global EventStoreModule, it sits below the global modules, so its
 * bootstrap hook (the pump's start) runs after CqrsModule has registered the event handlers.
 */
@Module({ providers: [EventBusPump, UnhandledExceptionLogger], exports: [EventBusPump] })
export class EventBusPumpModule {}

/**
 * Provides the LedgerDatabase, its EventStore and its TypeORM DataSource under LEDGER_DATABASE, EVENT_STORE and
 * LEDGER_DATA_SOURCE (global), and, unless `publishToEventBus: false`, the EventBusPump and the
 * UnhandledExceptionLogger (they need `CqrsModule.forRoot()` in the application).
 */
@Module({})
export class EventStoreModule {
  static forRoot(
    options: EventStoreModuleOptions & { publishToEventBus?: boolean },
  ): DynamicModule {
    return EventStoreModule.build(
      [{ provide: EVENT_STORE_MODULE_OPTIONS, useValue: options }],
      [],
      options.publishToEventBus ?? true,
    );
  }

  static forRootAsync(options: EventStoreModuleAsyncOptions): DynamicModule {
    return EventStoreModule.build(
      [
        {
          provide: EVENT_STORE_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
      options.publishToEventBus ?? true,
    );
  }

  private static build(
    optionsProviders: Provider[],
    imports: NonNullable<DynamicModule['imports']>,
    publishToEventBus: boolean,
  ): DynamicModule {
    const pump = publishToEventBus ? [EventBusPumpModule] : [];
    return {
      module: EventStoreModule,
      global: true,
      imports: [...imports, ...pump],
      providers: [
        ...optionsProviders,
        {
          provide: LEDGER_DATABASE,
          inject: [EVENT_STORE_MODULE_OPTIONS],
          useFactory: (
            options: EventStoreModuleOptions,
          ): LedgerDatabase | Promise<LedgerDatabase> =>
            isProvidedDatabase(options) ? options.database : openDatabase(options),
        },
        {
          provide: EVENT_STORE,
          inject: [LEDGER_DATABASE],
          useFactory: (db: LedgerDatabase) => db.store,
        },
        {
          provide: LEDGER_DATA_SOURCE,
          inject: [LEDGER_DATABASE],
          useFactory: (db: LedgerDatabase) => db.dataSource,
        },
        LedgerDatabaseCloser,
      ],
      exports: [
        LEDGER_DATABASE,
        EVENT_STORE,
        LEDGER_DATA_SOURCE,
        EVENT_STORE_MODULE_OPTIONS,
        ...pump,
      ],
    };
  }
}
