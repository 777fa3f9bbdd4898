/** Injection token of the `Ledger` instance (a string, so two copies of this module in jest registries agree). */
export const LEDGER = 'ledger-application:Ledger';
/** Injection token of the LedgerModule's options. */
export const LEDGER_MODULE_OPTIONS = 'ledger-application:LedgerModuleOptions';
