/**
 * The SQL of parked events (`consumer_parked_events`, migration ConsumerParking): what the subscription pump
 * writes when an event keeps failing, and what operators list and retry. Both databases run it as is.
 */
import type {
  ParkedCount,
  ParkedEvent,
  ParkedEventFilter,
  ParkedEventStatus,
  RetryParkedSelector,
} from '../event-store';
import type { SqlExecutor } from './sql-session';
import { type EventRow, toDate } from './rows';
import { EVENT_COLUMNS, READER_ORDER } from './statements';

const COLUMNS = `id::text AS id, consumer, partition, status, global_position::text AS global_position,
  transaction_id::text AS transaction_id, stream_id, stream_version, event_type, error, attempts,
  first_failed_at, last_failed_at, parked_at, retry_requested_at`;

/** Parked rows in reader order of their events. */
const ORDER = 'consumer_parked_events.transaction_id, consumer_parked_events.global_position';

interface ParkedRow {
  id: string;
  consumer: string;
  partition: number;
  status: ParkedEventStatus;
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_type: string;
  error: string | null;
  attempts: number;
  first_failed_at: Date | string | null;
  last_failed_at: Date | string | null;
  parked_at: Date | string;
  retry_requested_at: Date | string | null;
}

function toParkedEvent(row: ParkedRow): ParkedEvent {
  return {
    id: BigInt(row.id),
    consumer: row.consumer,
    partition: row.partition,
    status: row.status,
    globalPosition: BigInt(row.global_position),
    transactionId: BigInt(row.transaction_id),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.event_type,
    error: row.error,
    attempts: row.attempts,
    firstFailedAt: row.first_failed_at === null ? null : toDate(row.first_failed_at),
    lastFailedAt: row.last_failed_at === null ? null : toDate(row.last_failed_at),
    parkedAt: toDate(row.parked_at),
    retryRequestedAt: row.retry_requested_at === null ? null : toDate(row.retry_requested_at),
  };
}

/** What the pump writes for one event it moves past without applying. */
export interface ParkRequest {
  status: ParkedEventStatus;
  globalPosition: bigint;
  transactionId: bigint;
  streamId: string;
  streamVersion: number;
  type: string;
  /** `failed` only. */
  failure?: ParkedFailure;
}

export interface ParkedFailure {
  error: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

/** An error message as stored: long enough to diagnose, bounded so a huge message cannot bloat the table. */
export const PARKED_ERROR_LENGTH_MAX = 4_000;

export async function listParked(
  db: SqlExecutor,
  filter: ParkedEventFilter = {},
): Promise<ParkedEvent[]> {
  const rows = await db.query<ParkedRow>(
    `SELECT ${COLUMNS} FROM consumer_parked_events
      WHERE ($1::text IS NULL OR consumer = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY consumer, partition, ${ORDER}`,
    [filter.consumer ?? null, filter.status ?? null],
  );
  return rows.map(toParkedEvent);
}

export async function countParked(db: SqlExecutor): Promise<ParkedCount[]> {
  const rows = await db.query<{
    consumer: string;
    partition: number;
    failed: string;
    blocked: string;
  }>(
    `SELECT consumer, partition, count(*) FILTER (WHERE status = 'failed')::text AS failed,
            count(*) FILTER (WHERE status = 'blocked')::text AS blocked
       FROM consumer_parked_events GROUP BY consumer, partition ORDER BY consumer, partition`,
  );
  return rows.map((r) => ({
    consumer: r.consumer,
    partition: r.partition,
    failed: Number(r.failed),
    blocked: Number(r.blocked),
  }));
}

/** Marks `failed` rows for a retry; blocked rows wait for their stream's failed one and are never marked. */
export async function requestRetry(
  db: SqlExecutor,
  selector: RetryParkedSelector,
): Promise<ParkedEvent[]> {
  const ids = 'ids' in selector ? selector.ids.map(String) : null;
  const consumer = 'all' in selector ? (selector.consumer ?? null) : null;
  const rows = await db.query<ParkedRow>(
    `UPDATE consumer_parked_events SET retry_requested_at = now()
      WHERE status = 'failed' AND ($1::bigint[] IS NULL OR id = ANY ($1::bigint[]))
        AND ($2::text IS NULL OR consumer = $2)
      RETURNING ${COLUMNS}`,
    [ids, consumer],
  );
  return rows.map(toParkedEvent).sort((a, b) => compareIds(a.id, b.id));
}

function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inside the transaction that moves the checkpoint past these events (one statement for all of them). */
export async function insertParked(
  tx: SqlExecutor,
  consumer: string,
  partition: number,
  requests: ParkRequest[],
): Promise<ParkedEvent[]> {
  if (requests.length === 0) return [];
  const rows = await tx.query<ParkedRow>(
    `INSERT INTO consumer_parked_events (consumer, partition, status, global_position, transaction_id, stream_id,
                                        stream_version, event_type, error, attempts, first_failed_at,
                                        last_failed_at)
     SELECT $1, $2, r->>'status', (r->>'globalPosition')::bigint, (r->>'transactionId')::xid8, r->>'streamId',
            (r->>'streamVersion')::integer, r->>'type', r->>'error', coalesce((r->>'attempts')::integer, 0),
            (r->>'firstFailedAt')::timestamptz, (r->>'lastFailedAt')::timestamptz
       FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS a(r, n) ORDER BY a.n
     RETURNING ${COLUMNS}`,
    [
      consumer,
      partition,
      JSON.stringify(
        requests.map((r) => ({
          status: r.status,
          globalPosition: String(r.globalPosition),
          transactionId: String(r.transactionId),
          streamId: r.streamId,
          streamVersion: r.streamVersion,
          type: r.type,
          ...(r.failure ? failureJson(r.failure) : {}),
        })),
      ),
    ],
  );
  return rows.map(toParkedEvent);
}

function failureJson(failure: ParkedFailure): Record<string, string | number> {
  return {
    error: failure.error.slice(0, PARKED_ERROR_LENGTH_MAX),
    attempts: failure.attempts,
    firstFailedAt: failure.firstFailedAt.toISOString(),
    lastFailedAt: failure.lastFailedAt.toISOString(),
  };
}

/** The streams whose later events wait for this consumer partition (they have a parked row). */
export async function parkedStreams(
  db: SqlExecutor,
  consumer: string,
  partition: number,
): Promise<Set<string>> {
  const rows = await db.query<{ stream_id: string }>(
    `SELECT DISTINCT stream_id FROM consumer_parked_events WHERE consumer = $1 AND partition = $2`,
    [consumer, partition],
  );
  return new Set(rows.map((r) => r.stream_id));
}

/**
 * The next row the pump must deliver again, oldest first: a `failed` one whose retry was requested, or the first
 * `blocked` one of a stream that no longer has a failed one (its retry succeeded, and the process stopped or
 * crashed before it delivered the rest).
 */
export async function nextDueParked(
  db: SqlExecutor,
  consumer: string,
  partition: number,
): Promise<ParkedEvent | null> {
  const rows = await db.query<ParkedRow>(
    `SELECT ${COLUMNS} FROM consumer_parked_events p
      WHERE p.consumer = $1 AND p.partition = $2
        AND ((p.status = 'failed' AND p.retry_requested_at IS NOT NULL)
          OR (p.status = 'blocked' AND NOT EXISTS (
                SELECT 1 FROM consumer_parked_events h
                 WHERE h.consumer = p.consumer AND h.partition = p.partition AND h.stream_id = p.stream_id
                   AND (h.status = 'failed' OR h.stream_version < p.stream_version))))
      ORDER BY p.transaction_id, p.global_position LIMIT 1`,
    [consumer, partition],
  );
  const row = rows[0];
  return row ? toParkedEvent(row) : null;
}

/**
 * In the transaction that delivered the row's event: removes it. Zero rows means another instance delivered it
 * meanwhile (this one lost its lease), so the transaction must roll back.
 */
export async function deleteParked(tx: SqlExecutor, id: bigint): Promise<void> {
  const rows = await tx.query(`DELETE FROM consumer_parked_events WHERE id = $1 RETURNING id`, [
    String(id),
  ]);
  if (rows.length !== 1)
    throw new Error(`parked event ${id} is gone: another instance is consuming it`);
}

/**
 * A delivery of a parked row failed: it is (or becomes, for a blocked row) the failed event its stream waits
 * behind, with the new error; `attempts` adds to what the row had; the retry request is answered.
 */
export async function recordParkedFailure(
  db: SqlExecutor,
  id: bigint,
  failure: ParkedFailure,
): Promise<ParkedEvent | null> {
  const rows = await db.query<ParkedRow>(
    `UPDATE consumer_parked_events
        SET status = 'failed', error = $2, attempts = attempts + $3,
            first_failed_at = coalesce(first_failed_at, $4::timestamptz), last_failed_at = $5::timestamptz,
            retry_requested_at = NULL
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      String(id),
      failure.error.slice(0, PARKED_ERROR_LENGTH_MAX),
      failure.attempts,
      failure.firstFailedAt.toISOString(),
      failure.lastFailedAt.toISOString(),
    ],
  );
  const row = rows[0];
  return row ? toParkedEvent(row) : null;
}

/** The events at these global positions, in reader order (a parked row's event, to deliver it again). */
export function readEventsAt(db: SqlExecutor, positions: bigint[]): Promise<EventRow[]> {
  return db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position = ANY ($1::bigint[]) ORDER BY ${READER_ORDER}`,
    [positions.map(String)],
  );
}
