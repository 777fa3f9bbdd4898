import type { ModuleMetadata } from '@nestjs/common';

import type { LedgerDatabase, OpenDatabaseOptions } from '../database/open-database';

export interface EventBusPumpOptions {
  batchSize?: number;
  pollIntervalMs?: number;
}

interface CommonOptions {
  /** Consumer settings of the EventBus pump. */
  eventBus?: EventBusPumpOptions;
}

/** A database the module opens (and closes on shutdown) … */
export type OpenedByModule = OpenDatabaseOptions & CommonOptions;
/** … or one opened elsewhere (tests, the CLI), closed on shutdown only with `closeOnShutdown`. */
export type ProvidedDatabase = CommonOptions & {
  database: LedgerDatabase;
  closeOnShutdown?: boolean;
};

export type EventStoreModuleOptions = OpenedByModule | ProvidedDatabase;

export interface EventStoreModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => EventStoreModuleOptions | Promise<EventStoreModuleOptions>;
  /** Structural, so not in the factory: include the EventBus pump (needs CqrsModule.forRoot()). Default true. */
  publishToEventBus?: boolean;
}

export function isProvidedDatabase(options: EventStoreModuleOptions): options is ProvidedDatabase {
  return 'database' in options && options.database !== undefined;
}
