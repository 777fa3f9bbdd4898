export { EVENT_BUS_CONSUMER_NAME, EventBusPump } from './event-bus-pump';
export { EventBusPumpModule, EventStoreModule } from './event-store.module';
export type {
  EventBusPumpOptions,
  EventStoreModuleAsyncOptions,
  EventStoreModuleOptions,
  OpenedByModule,
  ProvidedDatabase,
} from './event-store.module-options';
export { LedgerEventRecorded } from './ledger-event-recorded';
export {
  EVENT_STORE,
  EVENT_STORE_MODULE_OPTIONS,
  LEDGER_DATA_SOURCE,
  LEDGER_DATABASE,
} from './tokens';
export { UnhandledExceptionLogger } from './unhandled-exception-logger';
