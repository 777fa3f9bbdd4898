export * from './database/test-database';
export * from './database/real-postgres.cjs';
export * from './decider-spec';
export * from './builders/account';
export * from './builders/market';
export * from './builders/reference-data';
export * from './builders/arbitraries';
