import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type ApiKeyGrant,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  LedgerGate,
  type LedgerModuleOptions,
} from '@ledger/ledger-application';
import { type ApiDatabase, ApiModule } from './api.module';
import {
  MAX_PATH_PARAM_LENGTH,
  clientErrorHandler,
  edgeCheck,
  frameworkErrorHandler,
  sendProblem,
} from './http-edge';
import { setupOpenApi } from './open-api';

/** Request bodies above this answer 413 (LEDGER_API_BODY_LIMIT bytes to change). */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
export const CORRELATION_ID_HEADER = 'x-correlation-id';
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface CreateAppOptions {
  /** `{ url }` (PostgreSQL) or `{ dataDir }` (PGlite): the app opens and closes it; `{ database }`: the caller's. */
  database: ApiDatabase;
  /** Nest log levels, `false` to silence Nest (tests), or a logger (main: JSON lines). Default: fatal…log. */
  logger?: LogLevel[] | false | LoggerService;
  /** Bootstrap API keys (LEDGER_API_KEYS). */
  apiKeys?: Array<ApiKeyGrant & { key: string }>;
  bodyLimitBytes?: number;
  /**
   * How far an explicit `at` may be ahead of the server clock (LEDGER_MAX_CLOCK_SKEW_MS); `null`: no bound.
   * Default DEFAULT_MAX_CLOCK_SKEW_MS (5 minutes). Overrides `ledger.maxClockSkewMs`.
   */
  maxClockSkewMs?: number | null;
  ledger?: LedgerModuleOptions;
}

/**
 * Builds the API, initialised but not listening: `main.ts` calls `listen`, tests call `app.inject(...)`.
 * Opening the database runs the migrations, so the app is ready to serve when this resolves.
 */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // The correlation id: the caller's X-Correlation-Id when it is sane, else a new UUID. It is the request id,
    // so every log line of the request and every event's metadata carry it.
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers[CORRELATION_ID_HEADER];
      return typeof given === 'string' && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
    },
    // Closing waits for requests in flight; idle keep-alive connections are closed at once.
    forceCloseConnections: 'idle',
    // Requests during the shutdown answer our own 503 problem (installRequestHooks), not Fastify's JSON.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  const { maxClockSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS } = options;
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot({
      database: options.database,
      ...(options.apiKeys === undefined ? {} : { apiKeys: options.apiKeys }),
      ledger: {
        ...options.ledger,
        ...(maxClockSkewMs === null ? { maxClockSkewMs: undefined } : { maxClockSkewMs }),
      },
    }),
    adapter,
    {
      logger: options.logger ?? ['fatal', 'error', 'warn', 'log'],
      // Throw instead of exiting the process on a bootstrap error: main decides, tests see the error.
      abortOnError: false,
    },
  );
  try {
    installRequestHooks(app);
    setupOpenApi(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  } catch (error) {
    await app.close();
    throw error;
  }
}

/**
 * The edge checks of every request (http-edge.ts: shutdown, URL length, JSON bodies, legal text), the correlation
 * id echoed, and one structured log line per request.
 */
function installRequestHooks(app: NestFastifyApplication): void {
  const logger = new Logger('Http');
  const fastify = app.getHttpAdapter().getInstance();
  const gate = app.get(LedgerGate);
  fastify.addHook('onRequest', async (request, reply) => {
    const problem = edgeCheck(request, gate.isClosing);
    if (problem === undefined) return;
    if (problem.code === 'SHUTTING_DOWN') reply.header('connection', 'close');
    return sendProblem(reply, problem);
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header(CORRELATION_ID_HEADER, request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    logger.log({
      msg: 'request',
      correlationId: request.id,
      method: request.method,
      url: request.url.split('?')[0],
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    });
  });
}
