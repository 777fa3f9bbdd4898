/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one text of a JSON value that the event hash chain hashes.
 *
 * - Object members sorted by their names' UTF-16 code units (JS string comparison, not locale, not UTF-8 bytes),
 *   no whitespace anywhere.
 * - Numbers in ECMAScript's shortest round-trip form (`String(n)`: `1e+21`, `1e-7`, `-0` as `0`); NaN and
 *   ±Infinity are not JSON and are refused (RFC 8785 §3.2.2.3), instead of JSON.stringify's silent `null`.
 * - Strings escaped exactly as JSON.stringify escapes them (RFC 8785 §3.2.2.2 is that algorithm): `"`, `\`, the
 *   short escapes `\b \f \n \r \t`, other controls as `\u00xx` in lower case, lone surrogates as `\udxxx`,
 *   everything else (non-ASCII included) as is; the caller encodes the text in UTF-8.
 *
 * Values follow JSON.stringify otherwise, so that the canonical text of a value and of
 * `JSON.parse(JSON.stringify(value))` are the same: `toJSON()` is honoured (a Date becomes its ISO string), object
 * members whose value is `undefined`, a function or a symbol are left out, and such values in an array become
 * `null`. A bigint, a cycle, or an `undefined` at the top is refused.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value, '', new Set());
  if (text === undefined) throw new TypeError('canonicalJson: the value has no JSON text');
  return text;
}

function serialize(value: unknown, key: string, ancestors: Set<object>): string | undefined {
  if (hasToJson(value)) value = value.toJSON(key);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${String(value)} is not a JSON number`);
      // ECMAScript Number::toString: the shortest digits that round-trip, -0 as 0 (RFC 8785 §3.2.2.3).
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: a bigint is not a JSON number');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
  }
  if (value === null) return 'null';
  const object = value;
  if (ancestors.has(object)) throw new TypeError('canonicalJson: the value has a cycle');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.map(
        (item: unknown, i) => serialize(item, String(i), ancestors) ?? 'null',
      );
      return `[${items.join(',')}]`;
    }
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks for.
    for (const name of Object.keys(record).sort()) {
      const member = serialize(record[name], name, ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}

function hasToJson(value: unknown): value is { toJSON(key: string): unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  );
}
