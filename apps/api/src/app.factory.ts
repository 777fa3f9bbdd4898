import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ApiDatabase, ApiModule } from './api.module';
import { setupOpenApi } from './open-api';

export interface CreateAppOptions {
  /** `{ url }` (PostgreSQL) or `{ dataDir }` (PGlite): the app opens and closes it; `{ database }`: the caller's. */
  database: ApiDatabase;
  /** Nest log levels; `false` silences Nest (tests). Default: fatal, error, warn, log. */
  logger?: LogLevel[] | false;
}

/**
 * Builds the API, initialised but not listening: `main.ts` calls `listen`, tests call `app.inject(...)`.
 * Opening the database runs the migrations, so the app is ready to serve when this resolves.
 */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot({ database: options.database }),
    new FastifyAdapter(),
    {
      logger: options.logger ?? ['fatal', 'error', 'warn', 'log'],
      // Throw instead of exiting the process on a bootstrap error: main decides, tests see the error.
      abortOnError: false,
    },
  );
  try {
    setupOpenApi(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  } catch (error) {
    await app.close();
    throw error;
  }
}
