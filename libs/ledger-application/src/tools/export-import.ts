import type { EventStore, JsonObject, RecordedEvent } from '@ledger/event-store';
import { ConcurrencyError } from '@ledger/event-store';
import { accountStateToJson } from '@ledger/margin-domain';
import { foldTail } from '../ledger/account-repository';
import { accountIdOf } from '../ledger/streams';
import { readAllBatches } from '../ledger/read-all-batches';
import { initialAccountState } from '@ledger/margin-domain';

/** One line of `ledger export`: an event as stored (JSON Lines; positions as strings). */
export interface ExportedEvent {
  globalPosition: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: JsonObject;
}

export async function* exportEvents(
  store: EventStore,
  streamId?: string,
): AsyncGenerator<ExportedEvent> {
  if (streamId) {
    for (const e of await store.readStream(streamId)) yield toExported(e);
    return;
  }
  for await (const batch of readAllBatches(store)) for (const e of batch) yield toExported(e);
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
}

/**
 * `ledger import`: idempotent. Events already present (same stream, version, type, data) are skipped; a file whose
 * events conflict with existing ones (same stream and version, different content, or a gap) is refused before
 * anything is written. Missing events are appended per (stream, command id) run with their original metadata, and
 * the touched accounts' projections are refreshed from a fold.
 */
export async function importEvents(
  store: EventStore,
  lines: ExportedEvent[],
  project = true,
): Promise<ImportReport> {
  const streamVersions = new Map<string, number>();
  const existing = new Map<string, RecordedEvent[]>();
  const pending: { line: number; event: ExportedEvent }[] = [];
  let alreadyPresent = 0;
  for (const [i, event] of lines.entries()) {
    const line = i + 1;
    validate(event, line);
    if (!existing.has(event.streamId))
      existing.set(event.streamId, await store.readStream(event.streamId));
    const stored = existing.get(event.streamId) ?? [];
    const present = stored[event.streamVersion - 1];
    if (present) {
      if (
        present.type !== event.type ||
        JSON.stringify(present.data) !== JSON.stringify(event.data)
      ) {
        throw new ImportConflictError(
          line,
          `${event.streamId} version ${event.streamVersion} differs from the stored event`,
        );
      }
      alreadyPresent += 1;
      continue;
    }
    const expected = (streamVersions.get(event.streamId) ?? stored.length) + 1;
    if (event.streamVersion !== expected) {
      throw new ImportConflictError(
        line,
        `${event.streamId} expects version ${expected} next, the file has ${event.streamVersion}`,
      );
    }
    streamVersions.set(event.streamId, event.streamVersion);
    pending.push({ line, event });
  }
  let appended = 0;
  const touched = new Set<string>();
  for (let i = 0; i < pending.length;) {
    const first = pending[i];
    if (!first) break;
    const run = [first];
    while (
      pending[i + run.length]?.event.streamId === first.event.streamId &&
      pending[i + run.length]?.event.metadata.commandId === first.event.metadata.commandId
    ) {
      run.push(pending[i + run.length] as (typeof pending)[number]);
    }
    try {
      const result = await store.append(
        first.event.streamId,
        run.map(({ event }) => ({
          type: event.type,
          schemaVersion: event.schemaVersion,
          data: event.data,
          metadata: event.metadata as never,
        })),
        { commandId: commandIdOf(first.event), expectedVersion: first.event.streamVersion - 1 },
      );
      if (result.duplicate)
        throw new ImportConflictError(
          first.line,
          `command id ${commandIdOf(first.event)} was used by other events`,
        );
    } catch (error) {
      if (error instanceof ConcurrencyError)
        throw new ImportConflictError(
          first.line,
          `${first.event.streamId} changed during the import`,
        );
      throw error;
    }
    appended += run.length;
    const id = accountIdOf(first.event.streamId);
    if (id !== undefined) touched.add(id);
    i += run.length;
  }
  if (project) {
    for (const accountId of touched) {
      const events = await store.readStream(`account-${accountId}`);
      const folded = foldTail(
        { state: initialAccountState(accountId), version: 0, lastAt: undefined },
        events,
      );
      const json = { ...accountStateToJson(folded.state), lastAt: folded.lastAt };
      await store.withTransaction((tx) =>
        tx.query('SELECT ledger_project_account($1, $2, $3::jsonb)', [
          accountId,
          folded.version,
          JSON.stringify(json),
        ]),
      );
    }
  }
  return { lines: lines.length, appended, alreadyPresent };
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
    typeof event.metadata.occurredAt === 'string';
  if (!ok)
    throw new ImportConflictError(
      line,
      'not an exported event (streamId, streamVersion, type, schemaVersion, data, metadata.commandId, metadata.occurredAt)',
    );
}

function commandIdOf(event: ExportedEvent): string {
  const id = event.metadata.commandId;
  if (typeof id !== 'string') throw new Error('validated events carry a string commandId');
  return id;
}
