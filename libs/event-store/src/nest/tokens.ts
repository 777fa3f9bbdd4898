/** Injection tokens. Strings, not symbols, so that two copies of this module (jest registries) still agree. */
export const LEDGER_DATABASE = 'ledger-event-store:LedgerDatabase';
export const EVENT_STORE = 'ledger-event-store:EventStore';
export const LEDGER_DATA_SOURCE = 'ledger-event-store:DataSource';
export const EVENT_STORE_MODULE_OPTIONS = 'ledger-event-store:ModuleOptions';
