import type {
  AppendRequest,
  EventMetadata,
  EventStore,
  JsonObject,
  RecordedEvent,
  Transaction,
} from '@ledger/event-store';
import {
  AppendAllError,
  CommandIdUsedError,
  ConcurrencyError,
  eventHash,
  eventHashText,
  isEventHash,
} from '@ledger/event-store';
import { accountStateToJson, initialAccountState } from '@ledger/margin-domain';
import type { LoadedAccount } from '../ledger/account-repository';
import { foldTail } from '../ledger/account-repository';
import { accountIdOf } from '../ledger/streams';
import { readAllBatches } from '../ledger/read-all-batches';

/**
 * One line of `ledger export`: an event as stored, before upcasters (JSON Lines; positions as strings), with its
 * link in the stream's hash chain.
 */
export interface ExportedEvent {
  globalPosition: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: JsonObject;
  /**
   * SHA-256 of (the previous event's hash ‖ the event's RFC 8785 text), 64 hex digits (libs/event-store README
   * "Hash chain"); null for an event stored before the chain. Absent in files exported before the chain.
   */
  hash?: string | null;
}

export async function* exportEvents(
  store: EventStore,
  streamId?: string,
): AsyncGenerator<ExportedEvent> {
  // Raw: the events as stored, which is what the hashes cover and what an import must store again.
  if (streamId) {
    for (const e of await store.readStream(streamId, { raw: true })) yield toExported(e);
    return;
  }
  for await (const batch of readAllBatches(store, { raw: true }))
    for (const e of batch) yield toExported(e);
}

function toExported(e: RecordedEvent): ExportedEvent {
  return {
    globalPosition: e.globalPosition.toString(),
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    metadata: e.metadata as unknown as JsonObject,
    hash: e.hash ?? null,
  };
}

export class ImportConflictError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ImportConflictError';
  }
}

export interface ImportReport {
  lines: number;
  appended: number;
  alreadyPresent: number;
  /** Lines whose hash was recomputed from their content and the previous event's hash, and matched. */
  hashesChecked: number;
  /** Lines without a hash (stored before the chain, or a file exported before it): nothing to check. */
  unhashed: number;
  /**
   * Appended events whose hash here differs from the file's: their stream's earlier events have no hash in the
   * file but got one here (every append hashes), so the chain here starts earlier. 0 for fully hashed streams.
   */
  rehashed: number;
}

/** What the import knows of one stream of the file. */
interface StreamImport {
  /** The target's events of the stream, as stored. */
  stored: RecordedEvent[];
  /** The next version an appended line must have. */
  nextVersion: number;
  /** The last line of the stream in the file: its version and hash. */
  lastLine: { version: number; hash: string | null } | undefined;
  /** The hash the target will have at `nextVersion - 1` (stored, or predicted for a pending line). */
  targetHash: string | null;
}

interface PendingLine {
  line: number;
  event: ExportedEvent;
}

/**
 * `ledger import`: all or nothing, and idempotent.
 *
 * 1. Every line is checked before anything is written: its shape; its hash, recomputed from its content and the
 *    previous event's hash (the previous line of its stream, or the event the target already has), so a file
 *    edited after the export is refused naming the line, stream, version and source position; events the target
 *    already has must be identical (same canonical text: type, schema version, data, metadata) and are skipped;
 *    the others must continue their stream without a gap; a command id may start only one append of the file.
 * 2. The missing events are appended per (stream, command id) run with their original metadata, ALL in one
 *    transaction (`EventStore.appendAll`) with the touched accounts' projections: a command id the target used
 *    for other events, or a stream that moved meanwhile, anywhere in the file, writes nothing and is named.
 *
 * The target computes the same hashes as the file (same content, same chain), except after an unhashed prefix in
 * the file (`ImportReport.rehashed`).
 */
export async function importEvents(
  store: EventStore,
  lines: ExportedEvent[],
  project = true,
): Promise<ImportReport> {
  if (!store.appendAll) throw new Error('this event store cannot append all or nothing: no import');
  const streams = new Map<string, StreamImport>();
  const pending: PendingLine[] = [];
  const report: ImportReport = {
    lines: lines.length,
    appended: 0,
    alreadyPresent: 0,
    hashesChecked: 0,
    unhashed: 0,
    rehashed: 0,
  };
  for (const [i, event] of lines.entries()) {
    const line = i + 1;
    validate(event, line);
    let stream = streams.get(event.streamId);
    if (!stream) {
      const stored = await store.readStream(event.streamId, { raw: true });
      stream = {
        stored,
        nextVersion: stored.length + 1,
        lastLine: undefined,
        targetHash: stored.at(-1)?.hash ?? null,
      };
      streams.set(event.streamId, stream);
    }
    checkFileChain(stream, event, line, report);
    const present = stream.stored[event.streamVersion - 1];
    if (present) {
      if (eventHashText(present) !== eventHashText(hashedFields(event))) {
        throw new ImportConflictError(
          line,
          `${event.streamId} version ${event.streamVersion} differs from the stored event`,
        );
      }
      report.alreadyPresent += 1;
      continue;
    }
    if (event.streamVersion !== stream.nextVersion) {
      throw new ImportConflictError(
        line,
        `${event.streamId} expects version ${stream.nextVersion} next, the file has ${event.streamVersion}`,
      );
    }
    stream.targetHash = eventHash(stream.targetHash, hashedFields(event));
    if (event.hash && event.hash !== stream.targetHash) report.rehashed += 1;
    stream.nextVersion += 1;
    pending.push({ line, event });
  }
  const runs = appendRuns(pending);
  const requests = await appendRequests(store, runs, project);
  try {
    await store.appendAll(requests);
  } catch (error) {
    throw refusal(error, runs);
  }
  report.appended = pending.length;
  return report;
}

/**
 * The line's hash must be SHA-256(previous hash ‖ its canonical text), the previous hash being that of the line
 * before it in its stream, or of the target's stored event when the file starts later; none before version 1 or
 * after an unhashed event. Once a stream's lines carry hashes, every later line of it must.
 */
function checkFileChain(
  stream: StreamImport,
  event: ExportedEvent,
  line: number,
  report: ImportReport,
): void {
  const hash = event.hash ?? null;
  const last = stream.lastLine;
  stream.lastLine = { version: event.streamVersion, hash };
  const where = `${event.streamId} version ${event.streamVersion} (global position ${event.globalPosition} in the export)`;
  if (hash === null) {
    if (last?.version === event.streamVersion - 1 && last.hash !== null)
      throw new ImportConflictError(
        line,
        `${where} has no hash, after hashed events of its stream`,
      );
    report.unhashed += 1;
    return;
  }
  const inFile = last?.version === event.streamVersion - 1;
  const stored = stream.stored[event.streamVersion - 2];
  // No event before this one, in the file or here: a gap, which the version check refuses next.
  if (!inFile && event.streamVersion > 1 && !stored) return;
  const previous = inFile ? (last?.hash ?? null) : (stored?.hash ?? null);
  if (eventHash(previous, hashedFields(event)) !== hash) {
    throw new ImportConflictError(
      line,
      `${where}: its hash does not match its content and the previous event's hash; the file was changed after the export`,
    );
  }
  report.hashesChecked += 1;
}

/** Consecutive lines of one stream and one command id: one append of the source. */
function appendRuns(pending: PendingLine[]): PendingLine[][] {
  const runs: PendingLine[][] = [];
  const firstLineOf = new Map<string, number>();
  for (const item of pending) {
    const run = runs.at(-1);
    const first = run?.[0];
    if (
      run &&
      first?.event.streamId === item.event.streamId &&
      commandIdOf(first.event) === commandIdOf(item.event)
    ) {
      run.push(item);
      continue;
    }
    const commandId = commandIdOf(item.event);
    const earlier = firstLineOf.get(commandId);
    if (earlier !== undefined) {
      throw new ImportConflictError(
        item.line,
        `command id ${commandId} (${item.event.streamId} version ${item.event.streamVersion}) already starts the append at line ${earlier}`,
      );
    }
    firstLineOf.set(commandId, item.line);
    runs.push([item]);
  }
  return runs;
}

/**
 * One append request per run. The accounts' projections are written in the same transaction, by the last run of
 * each account, from the fold of its stored events and of every run appended to it.
 */
async function appendRequests(
  store: EventStore,
  runs: PendingLine[][],
  project: boolean,
): Promise<AppendRequest[]> {
  const accounts = new Map<string, { loaded: LoadedAccount; lastRun: number }>();
  if (project) {
    for (const [index, run] of runs.entries()) {
      const id = accountIdOf(run[0]?.event.streamId ?? '');
      if (id === undefined) continue;
      const known = accounts.get(id);
      if (known) {
        known.lastRun = index;
        continue;
      }
      const base = { state: initialAccountState(id), version: 0, lastAt: undefined };
      const stored = await store.readStream(run[0]?.event.streamId ?? '');
      accounts.set(id, { loaded: foldTail(base, stored), lastRun: index });
    }
  }
  return runs.map((run, index) => {
    const first = run[0] as PendingLine;
    const id = accountIdOf(first.event.streamId);
    const account = id === undefined ? undefined : accounts.get(id);
    return {
      streamId: first.event.streamId,
      events: run.map(({ event }) => ({
        type: event.type,
        schemaVersion: event.schemaVersion,
        data: event.data,
        metadata: event.metadata as EventMetadata,
      })),
      options: {
        commandId: commandIdOf(first.event),
        expectedVersion: first.event.streamVersion - 1,
        ...(id === undefined || account === undefined
          ? {}
          : {
              onAppended: async (tx: Transaction, _result: unknown, recorded: RecordedEvent[]) => {
                account.loaded = foldTail(account.loaded, recorded);
                if (account.lastRun === index) await projectAccount(tx, id, account.loaded);
              },
            }),
      },
    };
  });
}

async function projectAccount(tx: Transaction, accountId: string, loaded: LoadedAccount) {
  const json = { ...accountStateToJson(loaded.state), lastAt: loaded.lastAt };
  await tx.query('SELECT ledger_project_account($1, $2, $3::jsonb)', [
    accountId,
    loaded.version,
    JSON.stringify(json),
  ]);
}

/** The import's error for a batch that wrote nothing: which line, and why. */
function refusal(error: unknown, runs: PendingLine[][]): unknown {
  if (!(error instanceof AppendAllError)) return error;
  const first = runs[error.index]?.[0];
  if (!first) return error;
  const where = `${first.event.streamId} version ${first.event.streamVersion}`;
  if (error.cause instanceof CommandIdUsedError) {
    const used = error.cause.usedBy;
    return new ImportConflictError(
      first.line,
      `command id ${error.commandId} (${where}) was used by other events of this ledger: ${used.streamId} versions ${used.firstVersion}–${used.lastVersion}; nothing was imported`,
    );
  }
  if (error.cause instanceof ConcurrencyError) {
    return new ImportConflictError(
      first.line,
      `${first.event.streamId} changed during the import; nothing was imported`,
    );
  }
  return error;
}

/** The fields the hash covers, from a line. */
function hashedFields(event: ExportedEvent) {
  return {
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
  };
}

function validate(event: ExportedEvent, line: number): void {
  const ok =
    typeof event === 'object' &&
    event !== null &&
    typeof event.streamId === 'string' &&
    Number.isInteger(event.streamVersion) &&
    event.streamVersion > 0 &&
    typeof event.type === 'string' &&
    Number.isInteger(event.schemaVersion) &&
    typeof event.data === 'object' &&
    typeof event.metadata === 'object' &&
    event.metadata !== null &&
    typeof event.metadata.commandId === 'string' &&
    typeof event.metadata.occurredAt === 'string' &&
    (event.hash === undefined || event.hash === null || isEventHash(event.hash));
  if (!ok)
    throw new ImportConflictError(
      line,
      'not an exported event (streamId, streamVersion, type, schemaVersion, data, metadata.commandId, metadata.occurredAt, hash: 64 hex digits or null)',
    );
}

function commandIdOf(event: ExportedEvent): string {
  const id = event.metadata.commandId;
  if (typeof id !== 'string') throw new Error('validated events carry a string commandId');
  return id;
}
