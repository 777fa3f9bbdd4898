import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tamper evidence (issue 11): every event appended from now on carries
 *
 *     hash = sha256(previous ‖ convert_to(C, 'UTF8'))
 *
 * where C is the RFC 8785 canonical JSON of {streamId, streamVersion, type, schemaVersion, data, metadata} and
 * `previous` is the previous event's hash in its stream, or the empty byte string when there is none (version 1)
 * or it has none (the last event stored before this migration). Definition and proof of the JS side:
 * libs/event-store/src/hash-chain.ts; README "Hash chain".
 *
 * - `events.hash bytea` (32 bytes; NULL for the events stored before this migration, which are never updated:
 *   events are forever). bytea rather than hex text: half the size, and `sha256()` takes and returns bytea, so the
 *   chain is `sha256(prev || text)` with no decoding. Readers get it as hex (`encode(hash, 'hex')`).
 * - `streams.last_hash bytea`: the stream's last hash, read by the append in O(1) with the version it reads anyway.
 * - `event_hash_chain`: one row, the transaction that added the chain. An event stored without a hash by a later
 *   transaction was not written by `ledger_append`; `verify` reports it.
 * - `ledger_append`, same signature: `p_events` now holds, per event, `[head, tail]`, the canonical text around the
 *   stream version (C = head || version || tail); the function hashes C and stores the columns parsed from C
 *   itself, so what is hashed is what is stored. Still one call, one round trip. An application older than this
 *   migration sends `{type, schemaVersion, data, metadata}` objects: refused with a clear error, never stored
 *   without a hash in the middle of a chain.
 */
export class EventHashChain1732450400000 implements MigrationInterface {
  name = 'EventHashChain1732450400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE events ADD COLUMN hash bytea;
      -- NOT VALID: no scan of the existing rows (all NULL); every new row is checked.
      ALTER TABLE events ADD CONSTRAINT events_hash_is_sha256
        CHECK (hash IS NULL OR octet_length(hash) = 32) NOT VALID;
      ALTER TABLE streams ADD COLUMN last_hash bytea;
      CREATE TABLE event_hash_chain (
        id                     boolean     PRIMARY KEY DEFAULT true CHECK (id),
        started_transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
        started_at             timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO event_hash_chain DEFAULT VALUES;
    `);
    await queryRunner.query(HASH_CHAIN_APPEND_FUNCTION);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(PREVIOUS_APPEND_FUNCTION);
    await queryRunner.query(`
      DROP TABLE event_hash_chain;
      ALTER TABLE streams DROP COLUMN last_hash;
      ALTER TABLE events DROP CONSTRAINT events_hash_is_sha256;
      ALTER TABLE events DROP COLUMN hash;
    `);
  }
}

/*
 * As in CreateEventStore1732450000000 (locks, duplicates, conflicts, the command id, the NOTIFY), plus the chain.
 * The stream's advisory lock serializes every append to it, so the version and last hash read below cannot change
 * before this transaction commits; the compare-and-set on `streams` stays as a second guard.
 */
export const HASH_CHAIN_APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION ledger_append(
  p_stream_id text, p_expected_version integer, p_command_id text, p_events jsonb,
  OUT r_status text, OUT r_stream_id text, OUT r_first_version integer, OUT r_last_version integer,
  OUT r_global_positions bigint[], OUT r_transaction_id xid8, OUT r_recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_count   integer := jsonb_array_length(p_events);
  v_version integer;
  v_hash    bytea;
  v_parts   jsonb;
  v_text    text;
  v_doc     jsonb;
  v_docs    jsonb[] := '{}';
  v_hashes  bytea[] := '{}';
BEGIN
  -- Before the transaction's first write, so xid order = version order per stream (see the first migration).
  PERFORM pg_advisory_xact_lock(hashtextextended('ledger-stream:' || p_stream_id, 0));

  SELECT 'duplicate', c.stream_id, c.first_version, c.last_version, c.global_positions, c.transaction_id,
         c.recorded_at
    INTO r_status, r_stream_id, r_first_version, r_last_version, r_global_positions, r_transaction_id,
         r_recorded_at
    FROM command_ids c WHERE c.command_id = p_command_id;
  IF FOUND THEN RETURN; END IF;

  SELECT s.version, s.last_hash INTO v_version, v_hash FROM streams s WHERE s.stream_id = p_stream_id;
  v_version := coalesce(v_version, 0);
  IF p_expected_version IS NOT NULL AND p_expected_version <> v_version THEN
    r_status := 'conflict';
    r_stream_id := p_stream_id;
    r_last_version := v_version;
    RETURN;
  END IF;

  -- The chain: hash(v) = sha256(hash(v - 1) || UTF-8 of C(v)); NULL previous (new stream, or an unhashed last
  -- event) counts as the empty byte string. The stored columns come from C(v) itself.
  FOR i IN 1 .. v_count LOOP
    v_parts := p_events -> (i - 1);
    IF jsonb_typeof(v_parts) IS DISTINCT FROM 'array' OR jsonb_array_length(v_parts) <> 2
       OR jsonb_typeof(v_parts -> 0) IS DISTINCT FROM 'string'
       OR jsonb_typeof(v_parts -> 1) IS DISTINCT FROM 'string' THEN
      RAISE EXCEPTION 'ledger_append: event % of % is not [head, tail] canonical text: an application older than migration EventHashChain1732450400000 is appending',
        i, p_stream_id USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_text := (v_parts ->> 0) || (v_version + i)::text || (v_parts ->> 1);
    v_doc := v_text::jsonb;
    IF v_doc ->> 'streamId' IS DISTINCT FROM p_stream_id
       OR (v_doc ->> 'streamVersion')::integer IS DISTINCT FROM v_version + i THEN
      RAISE EXCEPTION 'ledger_append: the canonical text of event % names another stream or version than %:%',
        i, p_stream_id, v_version + i USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_hash := sha256(coalesce(v_hash, ''::bytea) || convert_to(v_text, 'UTF8'));
    v_docs := array_append(v_docs, v_doc);
    v_hashes := array_append(v_hashes, v_hash);
  END LOOP;

  IF v_version = 0 THEN
    INSERT INTO streams (stream_id, version, last_hash) VALUES (p_stream_id, v_count, v_hash)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING version INTO r_last_version;
  ELSE
    UPDATE streams SET version = v_version + v_count, last_hash = v_hash
      WHERE stream_id = p_stream_id AND version = v_version
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
  r_first_version := v_version + 1;
  r_transaction_id := pg_current_xact_id();
  r_recorded_at := now();
  -- Identity values follow the ORDER BY, so a transaction's events are in stream order for readers too.
  WITH inserted AS (
    INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, hash, transaction_id,
                        recorded_at)
    SELECT p_stream_id, v_version + e.n::integer, e.doc ->> 'type', (e.doc ->> 'schemaVersion')::integer,
           e.doc -> 'data', e.doc -> 'metadata', e.hash, r_transaction_id, r_recorded_at
      FROM unnest(v_docs, v_hashes) WITH ORDINALITY AS e(doc, hash, n)
     ORDER BY e.n
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

/** CreateEventStore1732450000000's version, for down(). */
const PREVIOUS_APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION ledger_append(
  p_stream_id text, p_expected_version integer, p_command_id text, p_events jsonb,
  OUT r_status text, OUT r_stream_id text, OUT r_first_version integer, OUT r_last_version integer,
  OUT r_global_positions bigint[], OUT r_transaction_id xid8, OUT r_recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_count integer := jsonb_array_length(p_events);
BEGIN
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

  PERFORM pg_notify('ledger_events', '');
END
$$;
`;
