import { createHash } from 'node:crypto';

import { canonicalJson } from './canonical-json';
import type { EventMetadata, JsonObject } from './event-store';

/**
 * The event hash chain (tamper evidence; libs/event-store/README.md "Hash chain"). For the event at version v of a
 * stream:
 *
 *     hash(v) = SHA-256( previous(v) ‖ UTF-8( C(v) ) )
 *
 * - `C(v)` is the RFC 8785 canonical JSON (`canonicalJson`) of
 *   `{ streamId, streamVersion, type, schemaVersion, data, metadata }` with `data` and `metadata` as stored (before
 *   upcasters). Not the global position, the transaction id or the recorded time: an export/import or a restore
 *   keeps every hash.
 * - `previous(v)` is the 32 bytes of hash(v − 1) when the event at v − 1 has a hash; otherwise (v = 1, or v − 1 is
 *   the last event of the stream's unhashed prefix, stored before the chain existed) it is the empty byte string,
 *   so hash(v) = SHA-256(UTF-8(C(v))).
 *
 * The append computes it in SQL (`ledger_append`, migration EventHashChain1732450400000) from the text JS sends;
 * this module computes the same hash in JS for `verifyHashChains` and for importers.
 */

/** The fields the hash covers. */
export interface HashedEvent {
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: EventMetadata | JsonObject;
}

/** A hash is 32 bytes; the store returns it as 64 lower-case hex digits. */
export const EVENT_HASH_HEX_LENGTH = 64;

/**
 * `C(v)` split around the stream version, which only the append knows (expected version `'any'`). The canonical key
 * order is data < metadata < schemaVersion < streamId < streamVersion < type, so the version sits between a head
 * and a tail JS can write: C(v) = head + String(v) + tail.
 */
export function eventHashTextParts(
  streamId: string,
  event: Omit<HashedEvent, 'streamId' | 'streamVersion'>,
): [head: string, tail: string] {
  return [
    `{"data":${canonicalJson(event.data)},"metadata":${canonicalJson(event.metadata)},` +
      `"schemaVersion":${canonicalJson(event.schemaVersion)},"streamId":${canonicalJson(streamId)},` +
      `"streamVersion":`,
    `,"type":${canonicalJson(event.type)}}`,
  ];
}

/** `C(v)`: the text the hash covers. */
export function eventHashText(event: HashedEvent): string {
  const [head, tail] = eventHashTextParts(event.streamId, event);
  return `${head}${event.streamVersion}${tail}`;
}

/** hash(v) in lower-case hex; `previousHash` null = the empty byte string (version 1, or after the unhashed prefix). */
export function eventHash(previousHash: string | null, event: HashedEvent): string {
  const sha = createHash('sha256');
  if (previousHash !== null) sha.update(hashBytes(previousHash));
  sha.update(eventHashText(event), 'utf8');
  return sha.digest('hex');
}

function hashBytes(hex: string): Buffer {
  if (!isEventHash(hex))
    throw new Error(`not an event hash (64 lower-case hex digits): ${JSON.stringify(hex)}`);
  return Buffer.from(hex, 'hex');
}

export function isEventHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
