import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@ledger/event-store';

/** A response as sent: kept byte for byte for retries with the same Idempotency-Key. */
export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface IdempotencyRecord extends StoredResponse {
  requestHash: string;
  commandId: string;
}

/** Idempotency-Key: 1–255 printable ASCII characters (RFC draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The command id of a request: derived from (API key, Idempotency-Key), so two clients choosing the same key never
 * share a command id, and a retry always maps to the same one (the event store then writes nothing twice).
 */
export function commandIdFor(keyId: string, idempotencyKey: string): string {
  return `api:${createHash('sha256').update(`${keyId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 40)}`;
}

/** JSON with object keys sorted, so the same body in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function requestHashOf(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body ?? null)}`, 'utf8')
    .digest('hex');
}

/** The `idempotency_responses` table (migration CreateApiTables), outside the event store. */
@Injectable()
export class IdempotencyStore {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async find(keyId: string, idempotencyKey: string): Promise<IdempotencyRecord | null> {
    const [row] = await this.store.query<{
      request_hash: string;
      command_id: string;
      status_code: number;
      content_type: string;
      body: string;
    }>(
      `SELECT request_hash, command_id, status_code, content_type, body FROM idempotency_responses
        WHERE api_key_id = $1 AND idempotency_key = $2`,
      [keyId, idempotencyKey],
    );
    if (!row) return null;
    return {
      requestHash: row.request_hash,
      commandId: row.command_id,
      status: Number(row.status_code),
      contentType: row.content_type,
      body: row.body,
    };
  }

  /** Keeps the first response; when another process stored one first, returns that one instead. */
  async saveFirst(
    keyId: string,
    idempotencyKey: string,
    record: IdempotencyRecord,
  ): Promise<IdempotencyRecord> {
    const inserted = await this.store.query(
      `INSERT INTO idempotency_responses
         (api_key_id, idempotency_key, request_hash, command_id, status_code, content_type, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (api_key_id, idempotency_key) DO NOTHING RETURNING 1 AS inserted`,
      [
        keyId,
        idempotencyKey,
        record.requestHash,
        record.commandId,
        record.status,
        record.contentType,
        record.body,
      ],
    );
    if (inserted.length > 0) return record;
    return (await this.find(keyId, idempotencyKey)) ?? record;
  }
}
