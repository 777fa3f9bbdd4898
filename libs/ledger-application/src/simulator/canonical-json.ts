import type { RecordedEvent } from '@ledger/event-store';

/**
 * JSON with object keys sorted at every level, so equal values give equal bytes whatever order a database (JSONB)
 * or a spread gave their keys. Bigints become decimal strings; undefined members are left out, as JSON.stringify
 * does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
  }
  return 'null';
}

/**
 * One event as the state hash sees it: position, stream, version, type, schema version, payload and metadata.
 * Not the transaction id nor the recording time, which a database assigns.
 */
export function canonicalEvent(e: RecordedEvent): string {
  return canonicalJson({
    p: e.globalPosition,
    s: e.streamId,
    v: e.streamVersion,
    t: e.type,
    sv: e.schemaVersion,
    d: e.data,
    m: e.metadata,
  });
}
