/** The @nestjs/cqrs glue of the ledger (STYLE §5): module, command handler, queries. */
export * from './ledger.tokens';
export * from './ledger-gate';
export * from './execute-ledger-command';
export * from './ledger.queries';
export * from './ledger.module';
export * from './api-keys';
