/**
 * Goal: the API starts on both databases it supports and says so on GET /health: on the embedded PGlite from a
 * data folder (what `npm start` does with no DATABASE_URL), and on the suite's test database from
 * `createTestDatabase`, which is PostgreSQL whenever TEST_DATABASE_URL is set (always in CI) or a Docker engine
 * answers, else PGlite. On the PGlite app it also checks the scaffold around /health: the OpenAPI document and a
 * 404 answered as Problem Details.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';
import { createApp } from '../src/app.factory';
import { PROBLEM_CONTENT_TYPE } from '../src/problem-details.filter';

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
    },
    error: {},
    details: {
      database: { status: 'up', kind, responseTime: expect.any(Number) },
      migrations: { status: 'up', pending: false, responseTime: expect.any(Number) },
      subscriptions: { status: 'up', lag: expect.any(Object), responseTime: expect.any(Number) },
    },
  });
}

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
});
