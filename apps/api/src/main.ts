import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { apiConfigFromEnv, describeDatabase } from './api.config';
import { createApp } from './app.factory';
import { DOCS_PATH } from './open-api';

/**
 * `npm start`: the HTTP API. PostgreSQL when DATABASE_URL is set, else the embedded PGlite in LEDGER_DATA_DIR
 * (default ./data). SIGINT/SIGTERM close the app (shutdown hooks), which closes the database.
 */
async function bootstrap(): Promise<void> {
  const config = apiConfigFromEnv(process.env);
  const logger = new Logger('Main');
  Logger.overrideLogger(config.logLevels);
  logger.log(`opening ${describeDatabase(config.database)}`);
  const app = await createApp({ database: config.database, logger: config.logLevels });
  app.enableShutdownHooks();
  await app.listen({ port: config.port, host: config.host });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.log(`API on ${url} (listening on ${config.host}:${port})`);
  logger.log(`OpenAPI docs on ${url}/${DOCS_PATH}, health on ${url}/health`);
}

bootstrap().catch((error: unknown) => {
  console.error('the API failed to start:', error);
  process.exit(1);
});
