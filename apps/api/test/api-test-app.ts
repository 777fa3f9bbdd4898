import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';
import { createApp } from '../src/app.factory';

/** Keys of the e2e suites: one operator, one per account a1 and a2 (LEDGER_API_KEYS shape). */
export const OPERATOR_KEY = 'op_e2e_key_0000000000000001';
export const A1_KEY = 'a1_e2e_key_0000000000000001';
export const A2_KEY = 'a2_e2e_key_0000000000000002';
export const WRONG_KEY = 'no_such_key_000000000000000';

export const BOOT_TIMEOUT_MS = 60_000;

export interface ApiTestApp {
  app: NestFastifyApplication;
  database: TestDatabase;
  close(): Promise<void>;
  /** app.inject with JSON and the key (operator by default). */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    options?: { key?: string | null; headers?: Record<string, string> },
  ): ReturnType<NestFastifyApplication['inject']>;
  /** Total events in the store (to check that rejections append nothing). */
  eventCount(): Promise<number>;
}

/** An app on the suite's database with the e2e keys: its own pool on PostgreSQL, the open PGlite otherwise. */
export function openApiApp(database: TestDatabase): Promise<NestFastifyApplication> {
  return createApp({
    database: database.url ? { url: database.url } : { database },
    logger: false,
    apiKeys: [
      { role: 'operator', key: OPERATOR_KEY },
      { role: 'account', accountId: 'a1', key: A1_KEY },
      { role: 'account', accountId: 'a2', key: A2_KEY },
    ],
  });
}

/** One app and one database per suite (STYLE §6): PostgreSQL with TEST_DATABASE_URL, else PGlite. */
export async function startApiTestApp(suite: string): Promise<ApiTestApp> {
  const database = await createTestDatabase(suite);
  try {
    const app = await openApiApp(database);
    return {
      app,
      database,
      close: async () => {
        await app.close();
        await database.drop();
      },
      call: (method, url, body, options = {}) => {
        const key = options.key === undefined ? OPERATOR_KEY : options.key;
        const request = {
          method: method as 'GET',
          url,
          headers: {
            ...(key === null ? {} : { authorization: `Bearer ${key}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          ...(body === undefined
            ? {}
            : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
        };
        return app.inject(request);
      },
      eventCount: async () => {
        const [row] = await database.store.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM events',
        );
        return Number(row?.n ?? 0);
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}
