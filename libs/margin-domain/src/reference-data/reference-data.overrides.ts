/**
 * New versions of a set (reference-data.md "Versions") and the three forms of a scenario's `referenceData`
 * (scenario-format.md "Rules"). Overrides are dotted paths whose values replace what is there whole; the result is
 * validated as a whole, so an invalid override throws and leaves nothing changed. All of it is pure: the domain
 * cannot read `config/reference-data/`, so a shipped set is resolved by a callback the caller passes.
 */
import { LedgerDomainError } from '../shared/errors';
import {
  hasOwn,
  invalidReferenceData,
  isPlainObject,
  parseReferenceData,
} from './reference-data.parse';
import type { ReferenceData, ShippedReferenceDataResolver } from './reference-data.types';

/** Error code of a `referenceData` name that no shipped set has. */
export const UNKNOWN_REFERENCE_DATA = 'UNKNOWN_REFERENCE_DATA';

/** Top-level keys an override may address. `version` is not one: the new name is the `version` argument. */
const OVERRIDABLE_ROOTS: ReadonlySet<string> = new Set([
  'assets',
  'symbols',
  'autoExchange',
  'fees',
  'liquidation',
  'funding',
  'defaultLeverage',
  'flags',
]);

/**
 * A new set from `base`: each key of `overrides` is a dotted path into the schema (`autoExchange.ltvTrigger`,
 * `symbols.ETHUSDT`, `assets.BTC.defaultIndex`) whose value replaces what is there whole (an array is replaced,
 * not merged; a missing object on the path is created). The result is validated with `parseReferenceData`, so a bad
 * value throws `INVALID_REFERENCE_DATA` naming its path. Its name is `version`, else `<base.version>+<sequence>`
 * (sequence default 1). Never mutates `base` or `overrides`.
 */
export function applyOverrides(
  base: ReferenceData,
  overrides: Record<string, unknown>,
  version?: string,
  sequence = 1,
): ReferenceData {
  if (!isPlainObject(overrides)) invalidReferenceData('overrides', 'expected an object');
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    invalidReferenceData('version', `sequence must be an integer ≥ 1, got ${String(sequence)}`);
  }
  const parsedBase = parseReferenceData(base);
  let draft: Record<string, unknown> = { ...parsedBase };
  for (const key of Object.keys(overrides)) {
    draft = setPath(draft, overridePath(key), overrides[key], key);
  }
  draft.version = version ?? `${parsedBase.version}+${sequence}`;
  return parseReferenceData(draft);
}

/**
 * Resolves a scenario's `referenceData`: a shipped set's name, an inline set, or `{ base, overrides, version? }`.
 * `resolveShipped(name)` returns a shipped set's raw JSON or `undefined`; a name it does not know throws
 * `UNKNOWN_REFERENCE_DATA` (field `referenceData`, or `base`). Every form is validated as a whole.
 */
export function loadReferenceDataSpec(
  spec: unknown,
  resolveShipped: ShippedReferenceDataResolver,
): ReferenceData {
  if (typeof spec === 'string')
    return loadShippedReferenceData(spec, resolveShipped, 'referenceData');
  if (isPlainObject(spec) && hasOwn(spec, 'base')) {
    for (const key of Object.keys(spec)) {
      if (key !== 'base' && key !== 'overrides' && key !== 'version')
        invalidReferenceData(key, 'unknown key');
    }
    if (typeof spec.base !== 'string')
      invalidReferenceData('base', 'expected the name of a shipped set');
    if (spec.version !== undefined && typeof spec.version !== 'string') {
      invalidReferenceData('version', 'expected a string');
    }
    const base = loadShippedReferenceData(spec.base, resolveShipped, 'base');
    const overrides = spec.overrides ?? {};
    if (!isPlainObject(overrides)) invalidReferenceData('overrides', 'expected an object');
    return applyOverrides(base, overrides, spec.version);
  }
  return parseReferenceData(spec);
}

/**
 * A shipped set by name, validated. Its `version` must equal its name, since events record the version and an
 * audit finds the set by it.
 */
export function loadShippedReferenceData(
  name: string,
  resolveShipped: ShippedReferenceDataResolver,
  field = 'referenceData',
): ReferenceData {
  const raw = resolveShipped(name);
  if (raw === undefined) {
    throw new LedgerDomainError(
      UNKNOWN_REFERENCE_DATA,
      `${field}: no shipped reference data named "${name}"`,
      {
        field,
      },
    );
  }
  const data = parseReferenceData(raw);
  if (data.version !== name) {
    invalidReferenceData(
      'version',
      `expected "${name}" (the shipped set's name), got "${data.version}"`,
    );
  }
  return data;
}

function overridePath(key: string): string[] {
  const segments = key.split('.');
  if (segments.some((s) => s === ''))
    invalidReferenceData(key, 'expected a dotted path (no empty segment)');
  const root = segments[0] as string;
  if (root === 'version') {
    invalidReferenceData(key, 'not an override: name the new version with the version argument');
  }
  if (!OVERRIDABLE_ROOTS.has(root)) invalidReferenceData(key, `unknown key "${root}"`);
  return segments;
}

/**
 * Copy-on-write set: copies each object along the path, so nothing reachable from the input changes. A path may
 * not go through an array (replace the array whole) or a scalar.
 */
function setPath(
  target: Record<string, unknown>,
  segments: readonly string[],
  value: unknown,
  key: string,
): Record<string, unknown> {
  const [head, ...rest] = segments as [string, ...string[]];
  const copy: Record<string, unknown> = { ...target };
  let next: unknown = value;
  if (rest.length > 0) {
    const child = hasOwn(target, head) ? target[head] : {};
    if (Array.isArray(child)) {
      invalidReferenceData(key, `"${head}" is an array: override it whole, not by index`);
    }
    if (!isPlainObject(child)) invalidReferenceData(key, `"${head}" is not an object`);
    next = setPath(child, rest, value, key);
  }
  // defineProperty, not assignment: a key such as "__proto__" becomes an own key (and validation rejects it).
  Object.defineProperty(copy, head, {
    value: next,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}
