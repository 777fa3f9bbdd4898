import { resolve } from 'node:path';
import type { LogLevel } from '@nestjs/common';
import { parseMaxClockSkewMs } from '@ledger/ledger-application';

/**
 * Where the API keeps its events. `url` (PostgreSQL) wins; without it the API runs on the embedded PGlite in
 * `dataDir`, with the same migrations, so `npm install && npm start` needs no database server.
 */
export type DatabaseOptions = { url: string } | { dataDir: string };

export interface ApiConfig {
  port: number;
  host: string;
  database: DatabaseOptions;
  /** Nest log levels to print; `false` silences the logger. */
  logLevels: LogLevel[] | false;
  /** LEDGER_MAX_CLOCK_SKEW_MS: how far an explicit `at` may be ahead of the server clock; null: no bound. */
  maxClockSkewMs: number | null;
}

/** Most severe first: LOG_LEVEL=warn prints fatal, error and warn. */
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export const DEFAULT_PORT = 3000;
/** All interfaces, so the same default works inside a container (docker-compose maps the port). */
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_DATA_DIR = './data';

/** Reads the API's configuration from the environment (README "Configuration"). Throws on a bad value. */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    port: parsePort(env.PORT),
    host: nonEmpty(env.HOST) ?? DEFAULT_HOST,
    database: databaseFromEnv(env),
    logLevels: parseLogLevel(env.LOG_LEVEL),
    maxClockSkewMs: parseMaxClockSkewMs(env.LEDGER_MAX_CLOCK_SKEW_MS) ?? null,
  };
}

export function databaseFromEnv(env: NodeJS.ProcessEnv): DatabaseOptions {
  const url = nonEmpty(env.DATABASE_URL);
  if (url !== undefined) return { url };
  return { dataDir: resolve(nonEmpty(env.LEDGER_DATA_DIR) ?? DEFAULT_DATA_DIR) };
}

/** A human description of the database for logs: never prints a password. */
export function describeDatabase(database: DatabaseOptions): string {
  if ('dataDir' in database) return `embedded PGlite in ${database.dataDir}`;
  const unreadable = 'PostgreSQL (DATABASE_URL is not a postgres:// URL)';
  try {
    const url = new URL(database.url);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return unreadable;
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    return `PostgreSQL ${user}${url.host}${url.pathname}`;
  } catch {
    return unreadable;
  }
}

function parsePort(value: string | undefined): number {
  const text = nonEmpty(value);
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new Error(`PORT must be an integer 0..65535, got "${text}"`);
  return port;
}

function parseLogLevel(value: string | undefined): LogLevel[] | false {
  const text = (nonEmpty(value) ?? 'log').toLowerCase();
  if (text === 'silent' || text === 'off') return false;
  const level = text === 'info' ? 'log' : text;
  const index = LOG_LEVELS.indexOf(level as LogLevel);
  if (index === -1) {
    throw new Error(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, info or silent, got "${text}"`,
    );
  }
  return LOG_LEVELS.slice(0, index + 1);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
