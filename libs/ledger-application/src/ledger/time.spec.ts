/**
 * Goal: command times are real instants in a range the ledger and PostgreSQL agree on (ARCHITECTURE "Time").
 * `normalizeTime` checks the calendar fields, not just the shape: `2024-02-30` is an error, not 1 March, and so
 * are hour 24, minute 60 and an offset of +24:00; year 0000 (which PostgreSQL has no timestamp for) and anything
 * before the epoch or after year 9999 is refused. `assertNotAheadOfClock` bounds an explicit `at` by the server
 * clock plus the configured skew, and `parseMaxClockSkewMs` reads LEDGER_MAX_CLOCK_SKEW_MS strictly.
 */
import { LedgerDomainError } from '@ledger/margin-domain';
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  assertNotAheadOfClock,
  normalizeTime,
  parseMaxClockSkewMs,
} from './time';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof LedgerDomainError ? error.code : `not a domain error: ${String(error)}`;
  }
}

describe('normalizeTime', () => {
  it.each([
    ['2024-06-01T00:00:00Z', '2024-06-01T00:00:00.000Z'],
    ['2024-06-01T02:00+02:00', '2024-06-01T00:00:00.000Z'],
    ['2024-02-29T12:00:00.123456789Z', '2024-02-29T12:00:00.123Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['2024-12-31T23:59:59-23:59', '2025-01-01T23:58:59.000Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(normalizeTime(input)).toBe(expected);
  });

  it.each([
    ['a day that does not exist', '2024-02-30T00:00:00Z'],
    ['29 February of a common year', '2023-02-29T00:00:00Z'],
    ['29 February of a century that is no leap year', '1900-02-29T00:00:00Z'],
    ['31 April', '2024-04-31T00:00:00Z'],
    ['month 13', '2024-13-01T00:00:00Z'],
    ['month 00', '2024-00-10T00:00:00Z'],
    ['day 00', '2024-01-00T00:00:00Z'],
    ['hour 24', '2024-06-01T24:00:00Z'],
    ['minute 60', '2024-06-01T00:60:00Z'],
    ['second 60', '2024-06-01T00:00:60Z'],
    ['an offset of 24 hours', '2024-06-01T00:00:00+24:00'],
    ['an offset minute of 60', '2024-06-01T00:00:00+01:60'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['year 0001', '0001-01-01T00:00:00Z'],
    ['before the epoch', '1969-12-31T23:59:59Z'],
    ['before the epoch once the offset is applied', '1970-01-01T00:00:00+00:01'],
    ['after year 9999 once the offset is applied', '9999-12-31T23:59:59-00:01'],
    ['no zone', '2024-06-01T00:00:00'],
    ['a NUL', '2024-06-01T00:00:00Z\u0000'],
    ['a number', 1717200000000],
  ])('refuses %s with INVALID_TIME', (_name, input) => {
    expect(codeOf(() => normalizeTime(input))).toBe('INVALID_TIME');
  });

  it('names the field at fault', () => {
    const error = (() => {
      try {
        return normalizeTime('2024-02-30T00:00:00Z', 'asOf');
      } catch (e) {
        return e as LedgerDomainError;
      }
    })();
    expect(error).toBeInstanceOf(LedgerDomainError);
    expect((error as LedgerDomainError).field).toBe('asOf');
  });
});

describe('assertNotAheadOfClock', () => {
  const now = new Date('2024-06-01T00:00:00Z');

  it('accepts the past, now, and up to the skew ahead', () => {
    for (const at of ['1970-01-01T00:00:00.000Z', now.toISOString(), '2024-06-01T00:05:00.000Z'])
      expect(() => assertNotAheadOfClock(at, now, DEFAULT_MAX_CLOCK_SKEW_MS)).not.toThrow();
  });

  it('refuses one millisecond beyond the skew with AT_IN_FUTURE (Binance -1021) on at', () => {
    let error: unknown;
    try {
      assertNotAheadOfClock('2024-06-01T00:05:00.001Z', now, DEFAULT_MAX_CLOCK_SKEW_MS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LedgerDomainError);
    expect(error).toMatchObject({ code: 'AT_IN_FUTURE', binanceCode: -1021, field: 'at' });
  });

  it('refuses year 9999 with a zero skew and with the default', () => {
    expect(codeOf(() => assertNotAheadOfClock('9999-01-01T00:00:00.000Z', now, 0))).toBe(
      'AT_IN_FUTURE',
    );
  });
});

describe('parseMaxClockSkewMs (LEDGER_MAX_CLOCK_SKEW_MS)', () => {
  it('defaults to five minutes when unset or empty', () => {
    expect(DEFAULT_MAX_CLOCK_SKEW_MS).toBe(300_000);
    expect(parseMaxClockSkewMs(undefined)).toBe(300_000);
    expect(parseMaxClockSkewMs('  ')).toBe(300_000);
  });

  it('reads milliseconds, and off for no bound', () => {
    expect(parseMaxClockSkewMs('0')).toBe(0);
    expect(parseMaxClockSkewMs('60000')).toBe(60_000);
    expect(parseMaxClockSkewMs('OFF')).toBeUndefined();
  });

  it.each(['-1', '1.5', '5m', 'none', '1e6'])('refuses %s', (text) => {
    expect(() => parseMaxClockSkewMs(text)).toThrow(/LEDGER_MAX_CLOCK_SKEW_MS/);
  });
});
