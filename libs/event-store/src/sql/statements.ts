/**
 * The SQL both implementations run. Big integers (global positions, xid8) travel as text: node-pg and PGlite
 * parse int8 differently (string vs lossy number), and a bigint is never safe as a JS number.
 */

export const EVENT_COLUMNS = `global_position::text AS global_position, transaction_id::text AS transaction_id,
  stream_id, stream_version, type, schema_version, data, metadata, recorded_at, encode(hash, 'hex') AS hash`;

/**
 * ORDER BY always names `events.` columns: a bare name would sort by the text alias of EVENT_COLUMNS, where
 * '10' < '9', and a LIMIT would then cut the keyset in the wrong place (skipping events).
 */
export const READER_ORDER = 'events.transaction_id, events.global_position';

/** Only transactions older than every in-flight one are final, so a reader can never skip a late commit. */
export const VISIBLE = `transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;

export const APPEND = `SELECT r_status, r_stream_id, r_first_version, r_last_version,
  r_global_positions::text[] AS r_global_positions, r_transaction_id::text AS r_transaction_id, r_recorded_at
  FROM ledger_append($1, $2, $3, $4::jsonb)`;
export const APPEND_STATEMENT_NAME = 'ledger_append_v1';

/**
 * Group commit: takes the per-stream advisory locks of a batch (the same keys as ledger_append) in the order given
 * (the caller sorts), as the transaction's first statement, i.e. before it has an xid. A volatile function in the
 * target list is evaluated after the ORDER BY (PostgreSQL ≥ 9.6), so the locks are taken in array order.
 */
export const LOCK_STREAMS = `SELECT pg_advisory_xact_lock(hashtextextended('ledger-stream:' || s.stream_id, 0))
  FROM unnest($1::text[]) WITH ORDINALITY AS s(stream_id, n) ORDER BY s.n`;
export const LOCK_STREAMS_STATEMENT_NAME = 'ledger_lock_streams_v1';

/** The transaction that added the hash chain (migration EventHashChain1732450400000). */
export const HASH_CHAIN_START = `SELECT started_transaction_id::text AS transaction_id FROM event_hash_chain`;

/**
 * Every event, one stream after another in version order (keyset on the unique (stream_id, stream_version)
 * index): what verifyHashChains walks. Committed events only, no xmin rule: a chain is checked up to its end.
 */
export function chainPageStatement(
  after: { streamId: string; streamVersion: number } | null,
  limit: number,
): { sql: string; params: unknown[] } {
  const order = 'ORDER BY events.stream_id, events.stream_version';
  if (!after)
    return { sql: `SELECT ${EVENT_COLUMNS} FROM events ${order} LIMIT $1`, params: [limit] };
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE (stream_id, stream_version) > ($1, $2) ${order} LIMIT $3`,
    params: [after.streamId, after.streamVersion, limit],
  };
}

/**
 * Stream rows that disagree with their last event (version or hash), in one statement, so one snapshot: a
 * concurrent append cannot make a stream look inconsistent.
 */
export const STREAM_HEAD_MISMATCHES = `SELECT s.stream_id, s.version, encode(s.last_hash, 'hex') AS last_hash,
    e.stream_version AS event_version, e.global_position::text AS global_position,
    encode(e.hash, 'hex') AS event_hash
  FROM streams s
  LEFT JOIN LATERAL (SELECT events.stream_version, events.global_position, events.hash FROM events
                      WHERE events.stream_id = s.stream_id ORDER BY events.stream_version DESC LIMIT 1) e ON true
  WHERE e.stream_version IS DISTINCT FROM s.version OR e.hash IS DISTINCT FROM s.last_hash
  ORDER BY s.stream_id`;

export const COMMAND_RESULT = `SELECT stream_id, first_version, last_version,
  global_positions::text[] AS global_positions, transaction_id::text AS transaction_id
  FROM command_ids WHERE command_id = $1`;

export const IS_VISIBLE = `SELECT EXISTS (SELECT 1 FROM events WHERE global_position = $1::bigint AND ${VISIBLE}) AS visible`;

export const STREAM_VERSION = `SELECT version FROM streams WHERE stream_id = $1`;

export const HEAD_CHECKPOINT = `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
  FROM events WHERE ${VISIBLE}
  ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`;

/**
 * The last committed event in reader order, visible to readers yet or still held back behind an older open
 * transaction: "every event committed before now" ends here (waitUntilCaughtUp's target).
 */
export const COMMITTED_HEAD = `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
  FROM events ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`;

export const SAVE_SNAPSHOT = `INSERT INTO snapshots (stream_id, stream_version, schema_version, state)
  VALUES ($1, $2, $3, $4::jsonb)
  ON CONFLICT (stream_id, stream_version)
  DO UPDATE SET schema_version = excluded.schema_version, state = excluded.state, recorded_at = now()`;

export const LOAD_SNAPSHOT = `SELECT stream_id, stream_version, schema_version, state FROM snapshots
  WHERE stream_id = $1 AND stream_version <= coalesce($2::integer, 2147483647)
  ORDER BY snapshots.stream_version DESC LIMIT 1`;

/**
 * What a consumer's start-up check needs, in one statement (src/subscription/server-origin.ts): this server's
 * identifier, the one stored with the checkpoint, the current transaction id, and the highest stored one.
 */
export const SERVER_ORIGIN = `SELECT
    (SELECT system_identifier::text FROM pg_control_system()) AS current_identifier,
    (SELECT c.system_identifier::text FROM subscription_checkpoints c WHERE c.name = $1) AS stored_identifier,
    pg_current_xact_id()::text AS current_transaction_id,
    (SELECT e.transaction_id::text FROM events e ORDER BY e.transaction_id DESC LIMIT 1) AS highest_event,
    (SELECT c.transaction_id::text FROM subscription_checkpoints c WHERE c.transaction_id IS NOT NULL
      ORDER BY c.transaction_id DESC LIMIT 1) AS highest_checkpoint`;

/** A writer's restore check: the counter now against the highest stored event transaction id. */
export const WRITER_ORIGIN = `SELECT pg_current_xact_id()::text AS current_transaction_id,
    (SELECT e.transaction_id::text FROM events e ORDER BY e.transaction_id DESC LIMIT 1) AS highest_event`;

export const RECORD_SERVER_ORIGIN = `INSERT INTO subscription_checkpoints (name, system_identifier)
  VALUES ($1, $2::bigint)
  ON CONFLICT (name) DO UPDATE SET system_identifier = excluded.system_identifier`;

export const ENSURE_CHECKPOINT = `INSERT INTO subscription_checkpoints (name) VALUES ($1)
  ON CONFLICT (name) DO NOTHING`;

export const LOAD_CHECKPOINT = `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
  FROM subscription_checkpoints WHERE name = $1`;

/**
 * Compare-and-set: the checkpoint moves only from the position this batch started at. If another instance moved
 * it (possible only after this one lost its lease), no row matches and the batch rolls back.
 */
export const STORE_CHECKPOINT = `UPDATE subscription_checkpoints
  SET transaction_id = $2::xid8, global_position = $3::bigint, updated_at = now()
  WHERE name = $1 AND transaction_id IS NOT DISTINCT FROM $4::xid8
    AND global_position IS NOT DISTINCT FROM $5::bigint
  RETURNING name`;

export interface EventFilters {
  streamPrefixes?: string[] | undefined;
  types?: string[] | undefined;
}

/** Appends the filter conditions (an empty or absent list filters nothing) and their parameters. */
export function filterConditions(filters: EventFilters, params: unknown[]): string {
  let sql = '';
  if (filters.streamPrefixes?.length) {
    params.push(filters.streamPrefixes.map(likePrefix));
    sql += ` AND stream_id LIKE ANY ($${params.length}::text[])`;
  }
  if (filters.types?.length) {
    params.push(filters.types);
    sql += ` AND type = ANY ($${params.length}::text[])`;
  }
  return sql;
}

function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `after` null = from the start; (0, 0) sorts before every event (xids start at 3, positions at 1). */
export function readAllStatement(
  after: { transactionId: bigint; globalPosition: bigint } | null,
  limit: number,
  filters: EventFilters,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [
    String(after?.transactionId ?? 0n),
    String(after?.globalPosition ?? 0n),
    limit,
  ];
  const sql = `SELECT ${EVENT_COLUMNS} FROM events
    WHERE ${VISIBLE} AND (transaction_id, global_position) > ($1::xid8, $2::bigint)${filterConditions(filters, params)}
    ORDER BY ${READER_ORDER} LIMIT $3`;
  return { sql, params };
}

/**
 * A subscription's batch and the visible head, in ONE statement so both see the same snapshot: when the batch is
 * not full, every matching event up to the head was returned, so the checkpoint may move to the head even if the
 * filters matched nothing (waitUntilCaughtUp then terminates for filtered consumers).
 *
 * `held_back`: committed events exist at or above xmin, i.e. an older transaction (in any database of the
 * cluster: xids are cluster-wide) is still open. No NOTIFY will announce when it ends, so the pump polls again
 * soon instead of sleeping a full poll interval.
 *
 * The first row always exists (head and batch are LEFT JOINed to it); batch columns are NULL when it is empty.
 */
export function subscriptionBatchStatement(
  after: { transactionId: bigint; globalPosition: bigint } | null,
  limit: number,
  filters: EventFilters,
): { sql: string; params: unknown[] } {
  const read = readAllStatement(after, limit, filters);
  const sql = `WITH head AS (${HEAD_CHECKPOINT}), batch AS (${read.sql}),
      held AS (SELECT EXISTS (SELECT 1 FROM events WHERE NOT (${VISIBLE})) AS held_back)
    SELECT batch.*, head.transaction_id AS head_transaction_id, head.global_position AS head_global_position,
      held.held_back
    FROM held LEFT JOIN head ON true LEFT JOIN batch ON true
    ORDER BY batch.transaction_id::xid8, batch.global_position::bigint`;
  return { sql, params: read.params };
}

export function readStreamStatement(
  streamId: string,
  options: {
    fromVersion?: number | undefined;
    toVersion?: number | undefined;
    toGlobalPosition?: bigint | undefined;
  },
): { sql: string; params: unknown[] } {
  const params: unknown[] = [streamId, options.fromVersion ?? 1];
  let sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2`;
  if (options.toVersion !== undefined) {
    params.push(options.toVersion);
    sql += ` AND stream_version <= $${params.length}`;
  }
  if (options.toGlobalPosition !== undefined) {
    params.push(String(options.toGlobalPosition));
    sql += ` AND global_position <= $${params.length}::bigint`;
  }
  return { sql: `${sql} ORDER BY events.stream_version`, params };
}
