import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store's schema (ARCHITECTURE.md "The event store"). Raw SQL so that PostgreSQL and PGlite run the
 * same statements. Money never appears here: payloads are JSONB whose amounts are decimal strings.
 *
 * Readers order by `(transaction_id, global_position)` and read only below
 * `pg_snapshot_xmin(pg_current_snapshot())`; the index below makes that a keyset scan.
 */
export class CreateEventStore1732450000000 implements MigrationInterface {
  name = 'CreateEventStore1732450000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(TABLES);
    await queryRunner.query(IMMUTABILITY_TRIGGER);
    await queryRunner.query(APPEND_FUNCTION);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP FUNCTION IF EXISTS ledger_append(text, integer, text, jsonb);
      DROP TABLE IF EXISTS subscription_checkpoints;
      DROP TABLE IF EXISTS snapshots;
      DROP TABLE IF EXISTS command_ids;
      DROP TABLE IF EXISTS streams;
      DROP TABLE IF EXISTS events;
      DROP FUNCTION IF EXISTS ledger_events_are_immutable();
    `);
  }
}

const TABLES = `
CREATE TABLE events (
  -- Unique and increasing in insert order, NOT in commit order: never a reader's position on its own.
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id       text        NOT NULL,
  stream_version  integer     NOT NULL CHECK (stream_version > 0),
  type            text        NOT NULL,
  schema_version  integer     NOT NULL CHECK (schema_version > 0),
  data            jsonb       NOT NULL,
  metadata        jsonb       NOT NULL,
  transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_reader_order_idx ON events (transaction_id, global_position);

-- One row per stream; its row lock serializes the appends to that stream.
CREATE TABLE streams (
  stream_id text    PRIMARY KEY,
  version   integer NOT NULL CHECK (version >= 0)
);

-- Idempotency: the first result of each command id, returned again for a retry.
CREATE TABLE command_ids (
  command_id       text        PRIMARY KEY,
  stream_id        text        NOT NULL,
  first_version    integer     NOT NULL,
  last_version     integer     NOT NULL,
  global_positions bigint[]    NOT NULL,
  transaction_id   xid8        NOT NULL,
  recorded_at      timestamptz NOT NULL
);

CREATE TABLE snapshots (
  stream_id      text        NOT NULL,
  stream_version integer     NOT NULL CHECK (stream_version > 0),
  schema_version integer     NOT NULL,
  state          jsonb       NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, stream_version)
);

-- A durable consumer's position: the pair, never a bare global position. NULL pair = from the start.
CREATE TABLE subscription_checkpoints (
  name            text        PRIMARY KEY,
  transaction_id  xid8,
  global_position bigint,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((transaction_id IS NULL) = (global_position IS NULL))
);
`;

// Statement-level, so that even an UPDATE or DELETE matching no row is refused: events are forever.
const IMMUTABILITY_TRIGGER = `
CREATE FUNCTION ledger_events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are immutable: % on events is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_are_immutable
  BEFORE UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_are_immutable();
`;

/*
 * The append, in one call so that an append without inline projections is one round trip.
 * p_expected_version NULL means "any". p_events is a JSON array of {type, schemaVersion, data, metadata}.
 * r_status: 'appended', 'duplicate' (the command id was seen: nothing written, the first result returned) or
 * 'conflict' (r_last_version is then the stream's actual version; nothing written).
 *
 * Races on one command id: two appends to the same stream meet on the stream's advisory lock, and the second
 * finds the first's command id once it holds the lock (in READ COMMITTED each statement of this VOLATILE
 * function sees a fresh snapshot). Appends to different streams with one id do not meet there: the second
 * raises unique_violation on command_ids_pkey, which the caller turns into the first's result.
 */
const APPEND_FUNCTION = `
CREATE FUNCTION ledger_append(
  p_stream_id text, p_expected_version integer, p_command_id text, p_events jsonb,
  OUT r_status text, OUT r_stream_id text, OUT r_first_version integer, OUT r_last_version integer,
  OUT r_global_positions bigint[], OUT r_transaction_id xid8, OUT r_recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_count integer := jsonb_array_length(p_events);
BEGIN
  -- Serialize the stream's appends BEFORE this transaction's first write, which is when it gets its xid: then
  -- xid order = lock order = version order per stream, and readers, who order by (xid, position), see each
  -- stream's versions in order. The stream row lock alone is not enough: a row lock needs the xid first, so a
  -- later version could carry a smaller xid. An advisory lock needs no xid. (This holds while ledger_append is
  -- the first write of its transaction, as EventStore.append makes it.)
  PERFORM pg_advisory_xact_lock(hashtextextended('ledger-stream:' || p_stream_id, 0));

  SELECT 'duplicate', c.stream_id, c.first_version, c.last_version, c.global_positions, c.transaction_id,
         c.recorded_at
    INTO r_status, r_stream_id, r_first_version, r_last_version, r_global_positions, r_transaction_id,
         r_recorded_at
    FROM command_ids c WHERE c.command_id = p_command_id;
  IF FOUND THEN RETURN; END IF;

  IF p_expected_version IS NULL THEN
    INSERT INTO streams AS s (stream_id, version) VALUES (p_stream_id, v_count)
      ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_count
      RETURNING s.version INTO r_last_version;
  ELSIF p_expected_version = 0 THEN
    INSERT INTO streams (stream_id, version) VALUES (p_stream_id, v_count)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING version INTO r_last_version;
  ELSE
    UPDATE streams SET version = version + v_count
      WHERE stream_id = p_stream_id AND version = p_expected_version
      RETURNING version INTO r_last_version;
  END IF;

  IF r_last_version IS NULL THEN
    r_status := 'conflict';
    r_stream_id := p_stream_id;
    r_last_version := coalesce((SELECT s.version FROM streams s WHERE s.stream_id = p_stream_id), 0);
    RETURN;
  END IF;

  r_status := 'appended';
  r_stream_id := p_stream_id;
  r_first_version := r_last_version - v_count + 1;
  r_transaction_id := pg_current_xact_id();
  r_recorded_at := now();
  -- Identity values follow the ORDER BY, so a transaction's events are in stream order for readers too.
  WITH inserted AS (
    INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, transaction_id,
                        recorded_at)
    SELECT p_stream_id, r_first_version + e.ordinality::integer - 1, e.value->>'type',
           (e.value->>'schemaVersion')::integer, e.value->'data', e.value->'metadata', r_transaction_id,
           r_recorded_at
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ordinality)
     ORDER BY e.ordinality
    RETURNING global_position, stream_version
  )
  SELECT array_agg(i.global_position ORDER BY i.stream_version) INTO r_global_positions FROM inserted i;

  INSERT INTO command_ids (command_id, stream_id, first_version, last_version, global_positions,
                           transaction_id, recorded_at)
    VALUES (p_command_id, p_stream_id, r_first_version, r_last_version, r_global_positions,
            r_transaction_id, r_recorded_at);

  -- Wakes the durable subscriptions (LISTEN ledger_events). Delivered at commit, dropped on rollback.
  PERFORM pg_notify('ledger_events', '');
END
$$;
`;
