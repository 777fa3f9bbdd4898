/**
 * The event store's public entry point: the only import path other libs and apps may use (`@ledger/event-store`).
 * It stores typed envelopes in streams and knows no margin (libs/event-store/README.md).
 */
export * from './event-store';
export { compareCheckpoints, checkpointOf, formatCheckpoint, parseCheckpoint } from './checkpoint';
export { UpcasterRegistry } from './upcaster-registry';
export { canonicalJson } from './canonical-json';
export { ConsumerStartRefusedError, decideServerOrigin } from './subscription/server-origin';
export type { ServerOrigin, ServerOriginDecision } from './subscription/server-origin';
export {
  EVENT_HASH_HEX_LENGTH,
  eventHash,
  eventHashText,
  eventHashTextParts,
  isEventHash,
} from './hash-chain';
export type { HashedEvent } from './hash-chain';
export { GroupCommitAppender } from './group-commit';
export type { GroupCommitOptions } from './group-commit';
export { openDatabase } from './database/open-database';
export { DATA_DIR_LOCK_FILE, DataDirLockedError } from './database/data-dir-lock';
export type { DataDirLockHolder } from './database/data-dir-lock';
export type { LedgerDatabase, MigrationClass, OpenDatabaseOptions } from './database/open-database';
export * from './nest';
