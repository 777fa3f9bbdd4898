import { LedgerDomainError } from '@ledger/margin-domain';

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * The instants the ledger takes. From the epoch, where the initial reference data is in force (nothing before it
 * has rules to be decided by), to the last instant of year 9999: beyond it `toISOString()` writes a six-digit year
 * (`+010000-…`), which breaks string order = time order, and PostgreSQL's timestamps have no year 0.
 */
export const EARLIEST_TIME = '1970-01-01T00:00:00.000Z';
export const LATEST_TIME = '9999-12-31T23:59:59.999Z';

/** How far an explicit `at` may be ahead of the server clock where the bound applies (LEDGER_MAX_CLOCK_SKEW_MS). */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Command times are ISO-8601 instants with a zone; stored as `Date#toISOString()` (UTC, milliseconds) so that
 * string order is time order. The calendar fields are checked one by one: `Date` would read `2024-02-30` as
 * 1 March and `T24:00` as the next day, silently.
 */
export function normalizeTime(value: unknown, field = 'at'): string {
  const match = typeof value === 'string' ? ISO_INSTANT.exec(value) : null;
  if (!match) {
    throw new LedgerDomainError(
      'INVALID_TIME',
      `${field} must be an ISO-8601 instant with a zone, e.g. 2024-06-01T00:00:00Z`,
      { field },
    );
  }
  // Absent seconds and offset minutes (`Z`) count as 0; every group matched is two or four digits.
  const part = (group: number): number => Number(match[group] ?? 0);
  const year = part(1);
  const month = part(2);
  const day = part(3);
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    part(4) <= 23 && // hour
    part(5) <= 59 && // minute
    part(6) <= 59 && // second
    part(7) <= 23 && // offset hours
    part(8) <= 59; // offset minutes
  const time = valid ? new Date(match.input) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) {
    throw new LedgerDomainError(
      'INVALID_TIME',
      `${field} is not a valid time (no such date or time of day)`,
      { field },
    );
  }
  const iso = time.toISOString();
  if (!(iso >= EARLIEST_TIME && iso <= LATEST_TIME)) {
    throw new LedgerDomainError(
      'INVALID_TIME',
      `${field} must be from ${EARLIEST_TIME} to ${LATEST_TIME}`,
      { field },
    );
  }
  return iso;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Refuses an explicit command time more than `maxSkewMs` ahead of `now` (ARCHITECTURE "Time"): per stream `at`
 * never goes back, so one command dated 9999 would stamp every later command of its stream 9999. Binance answers
 * the same situation with -1021 ("Timestamp for this request was … ahead of the server's time").
 */
export function assertNotAheadOfClock(at: string, now: Date, maxSkewMs: number): void {
  const latest = now.getTime() + maxSkewMs;
  if (Date.parse(at) <= latest) return;
  throw new LedgerDomainError(
    'AT_IN_FUTURE',
    `at ${at} is more than ${maxSkewMs} ms ahead of the server clock (${now.toISOString()})`,
    { field: 'at', binanceCode: -1021 },
  );
}

/**
 * LEDGER_MAX_CLOCK_SKEW_MS: milliseconds (an integer ≥ 0), `off` for no bound, unset or empty for the default.
 * Returns undefined for `off`. Throws on anything else: a typo must not lift the bound silently.
 */
export function parseMaxClockSkewMs(text: string | undefined): number | undefined {
  const value = text?.trim() ?? '';
  if (value === '') return DEFAULT_MAX_CLOCK_SKEW_MS;
  if (value.toLowerCase() === 'off') return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  throw new Error(
    `LEDGER_MAX_CLOCK_SKEW_MS must be a number of milliseconds (≥ 0) or off, got "${value}"`,
  );
}
