import type { AddressInfo } from 'node:net';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { DataDirLockedError } from '@ledger/event-store';
import { parseApiKeysConfig } from '@ledger/ledger-application';
import { apiConfigFromEnv, describeDatabase } from './api.config';
import { createApp } from './app.factory';
import { DOCS_PATH } from './open-api';

/**
 * `npm start`: the HTTP API. PostgreSQL when DATABASE_URL is set, else the embedded PGlite in LEDGER_DATA_DIR
 * (default ./data). Logs are JSON lines (LOG_FORMAT=text for Nest's coloured text). SIGINT/SIGTERM close the app:
 * new requests answer 503 and /health reports draining, commands in flight finish, the consumers store their
 * checkpoints, SSE streams end, then the database closes and the process exits 0.
 */
async function bootstrap(): Promise<void> {
  const config = apiConfigFromEnv(process.env);
  const json = (process.env.LOG_FORMAT ?? 'json').toLowerCase() !== 'text';
  const consoleLogger = new ConsoleLogger({
    json,
    ...(config.logLevels === false ? {} : { logLevels: config.logLevels }),
  });
  if (config.logLevels === false) consoleLogger.setLogLevels([]);
  Logger.overrideLogger(consoleLogger);
  const logger = new Logger('Main');
  const apiKeys = parseApiKeysConfig(process.env.LEDGER_API_KEYS);
  logger.log(`opening ${describeDatabase(config.database)}`);
  const bodyLimit = Number(process.env.LEDGER_API_BODY_LIMIT);
  const app = await createApp({
    database: config.database,
    logger: consoleLogger,
    apiKeys,
    maxClockSkewMs: config.maxClockSkewMs,
    ...(Number.isInteger(bodyLimit) && bodyLimit > 0 ? { bodyLimitBytes: bodyLimit } : {}),
  });
  // SIGINT/SIGTERM: a graceful shutdown (/health reports draining meanwhile), then exit 0. Without useProcessExit
  // Nest re-raises the signal once closed, and the process ends "killed by SIGTERM" (status 143), not 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen({ port: config.port, host: config.host });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.log(`API on ${url} (listening on ${config.host}:${port})`);
  logger.log(
    `OpenAPI docs (Swagger UI) on ${url}/${DOCS_PATH}, health on ${url}/health, metrics on ${url}/metrics`,
  );
  logger.log(
    config.maxClockSkewMs === null
      ? 'LEDGER_MAX_CLOCK_SKEW_MS=off: command times (at) have no upper bound'
      : `command times (at) may be up to ${config.maxClockSkewMs} ms ahead of this server's clock`,
  );
  if (apiKeys.length === 0) {
    logger.warn(
      'no LEDGER_API_KEYS configured: add a key with `ledger keys add --operator` before calling the API',
    );
  }
}

bootstrap().catch((error: unknown) => {
  // A refused embedded database names its holder: the message is the whole story, no stack.
  console.error(
    'the API failed to start:',
    error instanceof DataDirLockedError ? error.message : error,
  );
  process.exit(1);
});
