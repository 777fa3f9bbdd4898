/** @ledger/ledger-application: the command side, read side, risk saga and scenario runner of the ledger. */
export * from './commands/command-schema';
export * from './ledger/ledger';
export * from './ledger/streams';
export * from './ledger/time';
export * from './ledger/account-repository';
export * from './ledger/reference-data-registry';
export * from './ledger/shipped-reference-data';
export * from './read/as-of-reader';
export * from './saga/risk-index';
export * from './saga/risk-saga';
export * from './simulator/in-memory-event-store';
export * from './scenario/scenario.types';
export * from './scenario/scenario.parse';
export * from './scenario/scenario.compare';
export * from './scenario/scenario.runner';
