import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables of the HTTP API, outside the event store (ARCHITECTURE "The event store"):
 * - `api_keys`: keys added by `ledger keys add`, stored as SHA-256 hashes (a key is 32 random bytes, so a fast
 *   hash is enough; the plain key is printed once and never stored). `role` is `operator` or `account`.
 * - `idempotency_responses`: the first response (status, content type, body bytes) per (API key, Idempotency-Key),
 *   with a hash of the request, so a retry returns the same answer byte for byte, a rejection included, and the
 *   same key with another request is refused.
 */
export class CreateApiTables1732450200000 implements MigrationInterface {
  name = 'CreateApiTables1732450200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
CREATE TABLE api_keys (
  key_id      text PRIMARY KEY,
  key_hash    text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('operator', 'account')),
  account_id  text,
  label       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  CHECK ((role = 'account') = (account_id IS NOT NULL))
);
CREATE TABLE idempotency_responses (
  api_key_id      text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  command_id      text NOT NULL,
  status_code     integer NOT NULL,
  content_type    text NOT NULL,
  body            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, idempotency_key)
);
`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP TABLE IF EXISTS idempotency_responses; DROP TABLE IF EXISTS api_keys;',
    );
  }
}
