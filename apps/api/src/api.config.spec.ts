/**
 * Goal: the API's environment is read the way README "Configuration" says: PostgreSQL when DATABASE_URL is set,
 * else PGlite in LEDGER_DATA_DIR (default ./data); port 3000 and host 0.0.0.0 by default; bad values fail at
 * start rather than later (LEDGER_MAX_CLOCK_SKEW_MS too); and the database description for the logs never shows a password.
 */
import { resolve } from 'node:path';
import { apiConfigFromEnv, describeDatabase } from './api.config';

describe('apiConfigFromEnv', () => {
  it('defaults to PGlite in ./data on 0.0.0.0:3000 with log level "log"', () => {
    expect(apiConfigFromEnv({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      database: { dataDir: resolve('./data') },
      logLevels: ['fatal', 'error', 'warn', 'log'],
      maxClockSkewMs: 300_000,
    });
  });

  it('reads LEDGER_MAX_CLOCK_SKEW_MS (ms, or off for no bound) and refuses anything else', () => {
    expect(apiConfigFromEnv({ LEDGER_MAX_CLOCK_SKEW_MS: '1000' }).maxClockSkewMs).toBe(1000);
    expect(apiConfigFromEnv({ LEDGER_MAX_CLOCK_SKEW_MS: 'off' }).maxClockSkewMs).toBeNull();
    expect(() => apiConfigFromEnv({ LEDGER_MAX_CLOCK_SKEW_MS: '5 minutes' })).toThrow(
      /LEDGER_MAX_CLOCK_SKEW_MS/,
    );
  });

  it('uses PostgreSQL when DATABASE_URL is set, whatever LEDGER_DATA_DIR says', () => {
    const config = apiConfigFromEnv({
      DATABASE_URL: 'postgres://u@db/ledger',
      LEDGER_DATA_DIR: '/srv/x',
    });
    expect(config.database).toEqual({ url: 'postgres://u@db/ledger' });
  });

  it('puts PGlite in LEDGER_DATA_DIR, resolved to an absolute path; blank values count as unset', () => {
    expect(apiConfigFromEnv({ LEDGER_DATA_DIR: 'var/ledger', DATABASE_URL: ' ' }).database).toEqual(
      {
        dataDir: resolve('var/ledger'),
      },
    );
  });

  it('reads PORT and HOST, and accepts port 0 (any free port)', () => {
    expect(apiConfigFromEnv({ PORT: '8080', HOST: '127.0.0.1' })).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
    });
    expect(apiConfigFromEnv({ PORT: '0' }).port).toBe(0);
  });

  it.each(['-1', '65536', '3000.5', 'abc', '1e3'])('rejects PORT=%s', (port) => {
    expect(() => apiConfigFromEnv({ PORT: port })).toThrow(/PORT/);
  });

  it('maps LOG_LEVEL to the levels at or above it; info is log, silent turns logging off', () => {
    expect(apiConfigFromEnv({ LOG_LEVEL: 'warn' }).logLevels).toEqual(['fatal', 'error', 'warn']);
    expect(apiConfigFromEnv({ LOG_LEVEL: 'INFO' }).logLevels).toEqual([
      'fatal',
      'error',
      'warn',
      'log',
    ]);
    expect(apiConfigFromEnv({ LOG_LEVEL: 'verbose' }).logLevels).toHaveLength(6);
    expect(apiConfigFromEnv({ LOG_LEVEL: 'silent' }).logLevels).toBe(false);
    expect(() => apiConfigFromEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('describeDatabase', () => {
  it('names the PostgreSQL user, host and database but never the password', () => {
    const text = describeDatabase({ url: 'postgres://ledger:s3cret@db.internal:5432/ledger' });
    expect(text).toBe('PostgreSQL ledger@db.internal:5432/ledger');
    expect(text).not.toContain('s3cret');
  });

  it('does not echo a DATABASE_URL it cannot parse (it may hold a password)', () => {
    expect(describeDatabase({ url: 'ledger:s3cret@nowhere' })).not.toContain('s3cret');
  });

  it('names the PGlite folder', () => {
    expect(describeDatabase({ dataDir: '/srv/ledger/data' })).toBe(
      'embedded PGlite in /srv/ledger/data',
    );
  });
});
