import type {
  AppendResult,
  Checkpoint,
  EventMetadata,
  JsonObject,
  RecordedEvent,
} from '../event-store';

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: JsonObject;
  metadata: EventMetadata;
  recorded_at: Date | string;
  /** Hex; null for events stored before the hash chain. */
  hash: string | null;
}

export interface CheckpointRow {
  transaction_id: string | null;
  global_position: string | null;
}

export interface AppendRow {
  r_status: 'appended' | 'duplicate' | 'conflict';
  r_stream_id: string;
  r_first_version: number | null;
  r_last_version: number;
  r_global_positions: string[] | null;
  r_transaction_id: string | null;
  r_recorded_at: Date | string | null;
}

export interface CommandResultRow {
  stream_id: string;
  first_version: number;
  last_version: number;
  global_positions: string[];
  transaction_id: string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    globalPosition: BigInt(row.global_position),
    transactionId: BigInt(row.transaction_id),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: toDate(row.recorded_at),
    hash: row.hash,
  };
}

export function toCheckpoint(row: CheckpointRow | undefined): Checkpoint | null {
  if (!row || row.transaction_id === null || row.global_position === null) return null;
  return { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
}

export function toAppendResult(
  row: AppendRow | CommandResultRow,
  duplicate: boolean,
): AppendResult {
  const r = 'r_status' in row ? fromAppendRow(row) : row;
  return {
    streamId: r.stream_id,
    firstVersion: r.first_version,
    lastVersion: r.last_version,
    globalPositions: r.global_positions.map((p) => BigInt(p)),
    transactionId: BigInt(r.transaction_id),
    duplicate,
  };
}

function fromAppendRow(row: AppendRow): CommandResultRow {
  if (
    row.r_first_version === null ||
    row.r_global_positions === null ||
    row.r_transaction_id === null
  ) {
    throw new Error(
      `ledger_append returned an incomplete ${row.r_status} result for ${row.r_stream_id}`,
    );
  }
  return {
    stream_id: row.r_stream_id,
    first_version: row.r_first_version,
    last_version: row.r_last_version,
    global_positions: row.r_global_positions,
    transaction_id: row.r_transaction_id,
  };
}

export function toDate(value: Date | string | null): Date {
  if (value === null) throw new Error('missing timestamp');
  return value instanceof Date ? value : new Date(value);
}

/** The one row a statement must return. */
export function single<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (row === undefined || rows.length > 1)
    throw new Error(`${what}: expected one row, got ${rows.length}`);
  return row;
}
