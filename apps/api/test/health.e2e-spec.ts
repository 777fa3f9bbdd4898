/**
 * Goal: the API starts on both databases it supports and says so on GET /health: on the embedded PGlite from a
 * data folder (what `npm start` does with no DATABASE_URL), and on the suite's test database from
 * `createTestDatabase`, which is PostgreSQL whenever TEST_DATABASE_URL is set (always in CI) or a Docker engine
 * answers, else PGlite. On the PGlite app it also checks the scaffold around /health: the OpenAPI document and a
 * 404 answered as Problem Details. An event a consumer parked (its rows keep failing) keeps /health at 200, is
 * listed there, and is counted in /metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LEDGER, type Ledger, MARGIN_HISTORY_CONSUMER } from '@ledger/ledger-application';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';
import { createApp } from '../src/app.factory';
import { PROBLEM_CONTENT_TYPE } from '../src/problem-details.filter';
import { type ApiTestApp, startApiTestApp } from './api-test-app';

// Opening PGlite and running the migrations takes seconds on a busy 2-core machine.
const BOOT_TIMEOUT_MS = 60_000;

async function expectHealthy(
  app: NestFastifyApplication,
  kind: 'postgres' | 'pglite',
): Promise<void> {
  const response = await app.inject({ method: 'GET', url: '/health' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.json()).toEqual({
    status: 'ok',
    info: {
      database: { status: 'up', kind, responseTime: expect.any(Number) },
      migrations: { status: 'up', pending: false, responseTime: expect.any(Number) },
      subscriptions: { status: 'up', lag: expect.any(Object), responseTime: expect.any(Number) },
      parked: NOTHING_PARKED,
    },
    error: {},
    details: {
      database: { status: 'up', kind, responseTime: expect.any(Number) },
      migrations: { status: 'up', pending: false, responseTime: expect.any(Number) },
      subscriptions: { status: 'up', lag: expect.any(Object), responseTime: expect.any(Number) },
      parked: NOTHING_PARKED,
    },
  });
}

const NOTHING_PARKED = {
  status: 'up',
  failed: 0,
  blocked: 0,
  events: [],
  responseTime: expect.any(Number),
};

describe('GET /health', () => {
  describe('on the embedded PGlite, opened by the app from a data folder', () => {
    let dataDir: string;
    let app: NestFastifyApplication | undefined;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'ledger-api-e2e-'));
      app = await createApp({ database: { dataDir }, logger: false });
    }, BOOT_TIMEOUT_MS);

    afterAll(async () => {
      await app?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers 200 with the database reachable and no migration pending', async () => {
      await expectHealthy(app!, 'pglite');
    });

    it('answers liveness without touching the database', async () => {
      const response = await app!.inject({ method: 'GET', url: '/health/live' });
      expect(response.json()).toEqual({ status: 'ok' });
    });

    it('serves the OpenAPI document, which lists /health', async () => {
      const response = await app!.inject({ method: 'GET', url: '/docs/openapi.json' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        openapi: expect.any(String),
        paths: { '/health': expect.any(Object) },
      });
    });

    it('answers an unknown route with a 404 Problem Details body', async () => {
      const response = await app!.inject({ method: 'GET', url: '/no-such-route' });
      expect(response.statusCode).toBe(404);
      expect(String(response.headers['content-type']).startsWith(PROBLEM_CONTENT_TYPE)).toBe(true);
      expect(response.json()).toMatchObject({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        code: 'NOT_FOUND',
        instance: '/no-such-route',
      });
    });
  });

  describe('on the test database (PostgreSQL with TEST_DATABASE_URL)', () => {
    let testDatabase: TestDatabase | undefined;
    let app: NestFastifyApplication | undefined;

    beforeAll(async () => {
      testDatabase = await createTestDatabase('api-health');
      // On a server, the app opens its own pool from the URL, as with DATABASE_URL; PGlite has one session only,
      // so the app is handed the open database instead.
      app = await createApp({
        database: testDatabase.url ? { url: testDatabase.url } : { database: testDatabase },
        logger: false,
      });
    }, BOOT_TIMEOUT_MS);

    afterAll(async () => {
      await app?.close();
      await testDatabase?.drop();
    });

    it('answers 200 with the database reachable and no migration pending', async () => {
      await expectHealthy(app!, testDatabase!.kind);
    });

    it('runs on PostgreSQL whenever TEST_DATABASE_URL is set', () => {
      if (process.env.TEST_DATABASE_URL) expect(testDatabase!.kind).toBe('postgres');
      else expect(['postgres', 'pglite']).toContain(testDatabase!.kind);
    });
  });

  describe('with an event a consumer parked', () => {
    let api: ApiTestApp | undefined;

    beforeAll(async () => {
      api = await startApiTestApp('api-health-parked');
      // Every margin-history row of p1 fails: the projection parks p1's first event after its attempts.
      await api.database.store.query(`
        CREATE FUNCTION test_poison_p1() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.account_id = 'p1' THEN RAISE EXCEPTION 'poisoned account p1'; END IF;
          RETURN NEW;
        END $$`);
      await api.database.store.query(`CREATE TRIGGER test_poison_p1 BEFORE INSERT ON margin_history
        FOR EACH ROW EXECUTE FUNCTION test_poison_p1()`);
      const opened = await api.call('POST', '/accounts', {
        accountId: 'p1',
        at: '2024-06-01T00:00:00.000Z',
      });
      expect(opened.statusCode).toBeLessThan(300);
      await api.app.get<Ledger>(LEDGER).settle(); // margin history has moved past it: parked
    }, BOOT_TIMEOUT_MS);

    afterAll(async () => {
      await api?.close();
    });

    it('answers 200 and lists the parked event with its error and attempts', async () => {
      const response = await api!.app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ status: string; details: { parked: unknown } }>();
      expect(body.status).toBe('ok');
      expect(body.details.parked).toEqual({
        status: 'up',
        failed: 1,
        blocked: 0,
        events: [
          {
            id: expect.stringMatching(/^\d+$/),
            consumer: MARGIN_HISTORY_CONSUMER,
            partition: 0,
            streamId: 'account-p1',
            streamVersion: 1,
            globalPosition: expect.stringMatching(/^\d+$/),
            type: 'AccountOpened',
            error: expect.stringContaining('poisoned account p1'),
            attempts: 5,
            firstFailedAt: expect.any(String),
            lastFailedAt: expect.any(String),
            retryRequestedAt: null,
          },
        ],
        responseTime: expect.any(Number),
      });
    });

    it('counts it in /metrics', async () => {
      const response = await api!.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.body).toMatch(
        /^ledger_consumer_parked_events\{consumer="margin-history",status="failed"\} 1$/m,
      );
    });
  });
});
