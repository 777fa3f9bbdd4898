import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Parked events of durable consumers (libs/event-store/README.md "Subscriptions"). An event whose handler keeps
 * failing is parked here, keyed by (consumer, partition), and the consumer's checkpoint moves past it in the same
 * transaction; the later events of its stream are parked too, as `blocked`, so the consumer still sees every
 * stream in version order. A successful retry deletes the row and delivers the blocked ones in order.
 *
 * `partition` is 0 for now: a later change splits each consumer into K partitions by account hash, each with its
 * own checkpoint. The event's payload stays in `events` (never copied); the row keeps its position and identity.
 */
export class ConsumerParking1732450300000 implements MigrationInterface {
  name = 'ConsumerParking1732450300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
CREATE TABLE consumer_parked_events (
  id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  consumer           text        NOT NULL,
  partition          integer     NOT NULL DEFAULT 0 CHECK (partition >= 0),
  status             text        NOT NULL CHECK (status IN ('failed', 'blocked')),
  global_position    bigint      NOT NULL,
  transaction_id     xid8        NOT NULL,
  stream_id          text        NOT NULL,
  stream_version     integer     NOT NULL CHECK (stream_version > 0),
  event_type         text        NOT NULL,
  error              text,
  attempts           integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  first_failed_at    timestamptz,
  last_failed_at     timestamptz,
  parked_at          timestamptz NOT NULL DEFAULT now(),
  retry_requested_at timestamptz,
  CONSTRAINT consumer_parked_events_position_key UNIQUE (consumer, partition, global_position),
  CONSTRAINT consumer_parked_events_failure_check CHECK (
    status = 'blocked'
    OR (error IS NOT NULL AND attempts > 0 AND first_failed_at IS NOT NULL AND last_failed_at IS NOT NULL))
);
-- One failed event per stream and consumer partition: the head its stream's later events wait behind.
CREATE UNIQUE INDEX consumer_parked_events_head_key
  ON consumer_parked_events (consumer, partition, stream_id) WHERE status = 'failed';
CREATE INDEX consumer_parked_events_stream_idx
  ON consumer_parked_events (consumer, partition, stream_id, stream_version);
`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS consumer_parked_events');
  }
}
