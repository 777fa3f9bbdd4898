/**
 * Goal: graceful shutdown over real HTTP. Twelve commands (on twelve accounts) are held in flight inside the LedgerGate (a barrier in
 * front of `Ledger.execute`, so the test decides when they run) and `app.close()` starts meanwhile: every request
 * that got in finishes with its normal answer (200 for the deposits, 400 for a withdrawal above the balance), none
 * is cut; requests that arrive once the gate is closing answer `503 SHUTTING_DOWN` as Problem Details and append
 * nothing; meanwhile /health answers 503 draining (liveness stays 200) and every other request a 503 problem
 * document, also once the HTTP server itself is closing (a request pipelined behind a read held in flight). After
 * the close, the store holds exactly the events the acknowledged responses claim, each durable
 * consumer ('risk-saga', 'event-bus', 'margin-history') has a stored checkpoint no further than the head, and an
 * app restarted on the same database catches every consumer up to the head exactly once (one margin_history row
 * per account event); a refused request retried with its Idempotency-Key then succeeds.
 */
import { request } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventBusPump } from '@ledger/event-store';
import { LEDGER, type Ledger, LedgerGate } from '@ledger/ledger-application';
import {
  A1_KEY,
  type ApiTestApp,
  BOOT_TIMEOUT_MS,
  OPERATOR_KEY,
  openApiApp,
  startApiTestApp,
} from './api-test-app';

/** Commands held in flight (one deposit on each of s0…s10), plus one withdrawal that a1 cannot cover. */
const HELD = 11;

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** One POST on its own connection (no keep-alive); rejects when the connection is cut. */
function post(
  base: string,
  path: string,
  body: unknown,
  idempotencyKey: string,
  key = OPERATOR_KEY,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(`${base}${path}`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        'idempotency-key': idempotencyKey,
      },
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type']),
          body: text,
        }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET on its own connection; resolves with the answer. */
function get(base: string, path: string, key: string | null = OPERATOR_KEY): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      agent: false,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type']),
          body: text,
        }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw keep-alive connection: requests are written as they come (pipelined), answers read until it closes. */
function rawConnection(port: number): {
  socket: Socket;
  write(path: string): void;
  text: Promise<string>;
} {
  const socket = connect(port, '127.0.0.1');
  const text = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  return {
    socket,
    text,
    write: (path) =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${OPERATOR_KEY}\r\n\r\n`,
      ),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('graceful shutdown', () => {
  let api: ApiTestApp;
  let restarted: NestFastifyApplication | undefined;

  beforeAll(async () => {
    api = await startApiTestApp('api-shutdown');
    await api.call('POST', '/accounts', { accountId: 'a1', at: '2024-06-01T00:00:00Z' });
    await api.call('POST', '/accounts/a1/deposits', {
      asset: 'USDT',
      amount: '100',
      at: '2024-06-01T00:00:01Z',
    });
    // One account per held command: twelve commands released at once on one stream would contend for its version.
    for (let i = 0; i < HELD; i++)
      await api.call('POST', '/accounts', { accountId: `s${i}`, at: '2024-06-01T00:00:00Z' });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await restarted?.close();
    await api?.database.drop();
  });

  const scalar = async (sql: string, params: unknown[] = []): Promise<string | null> => {
    const [row] = await api.database.store.query<{ v: string | null }>(sql, params);
    return row?.v ?? null;
  };
  const checkpoints = async (): Promise<Record<string, string | null>> => {
    const rows = await api.database.store.query<{ name: string; position: string | null }>(
      'SELECT name, global_position::text AS position FROM subscription_checkpoints ORDER BY name',
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.position]));
  };

  it('finishes the commands in flight, refuses new ones with 503, and stores every checkpoint', async () => {
    const app = api.app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const ledger = app.get<Ledger>(LEDGER);
    const gate = app.get(LedgerGate);
    await ledger.settle();
    const eventsBefore = await api.eventCount();

    // Hold every command inside the gate until released; then each runs for real.
    let release: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const execute = ledger.execute.bind(ledger);
    const held = jest.spyOn(ledger, 'execute').mockImplementation(async (input, meta) => {
      await barrier;
      return execute(input, meta);
    });

    const inFlight = [
      ...Array.from({ length: HELD }, (_, i) =>
        post(
          base,
          `/accounts/s${i}/deposits`,
          { asset: 'USDT', amount: String(i + 1) },
          `in-flight-${i}`,
        ),
      ),
      post(
        base,
        '/accounts/a1/withdrawals',
        { asset: 'USDT', amount: '1000000' },
        'in-flight-withdrawal',
        A1_KEY,
      ),
    ];
    await until(() => gate.commandsInFlight === inFlight.length, 'the commands to enter the gate');

    // A read held in flight on a keep-alive connection: it keeps the HTTP server closing (not closed) below.
    let releaseRead: () => void = () => undefined;
    const readBarrier = new Promise<void>((resolve) => (releaseRead = resolve));
    let readHeld = false;
    const accountView = ledger.accountView.bind(ledger);
    const heldRead = jest.spyOn(ledger, 'accountView').mockImplementation(async (id, asOf) => {
      if (id === 'held-read') {
        readHeld = true;
        await readBarrier;
      }
      return accountView(id, asOf);
    });
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const connection = rawConnection(port);
    connection.write('/accounts/held-read');
    await until(() => readHeld, 'the read to be held');

    const closed = app.close();
    await until(() => gate.isClosing, 'the gate to close');
    const late = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(base, '/accounts/a1/deposits', { asset: 'USDT', amount: '1000' }, `late-${i}`, A1_KEY),
      ),
    );
    for (const answer of late) {
      expect(answer.status).toBe(503);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({
        status: 503,
        code: 'SHUTTING_DOWN',
        instance: '/accounts/a1/deposits',
      });
    }
    expect(gate.commandsInFlight).toBe(inFlight.length); // still held: the close waits for them

    // Draining: /health says so (503) for the load balancer, liveness holds, other requests answer 503 problems.
    const health = await get(base, '/health', null);
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body)).toMatchObject({
      status: 'shutting_down',
      error: { draining: { status: 'down', commandsInFlight: inFlight.length } },
    });
    expect((await get(base, '/health/live', null)).status).toBe(200);
    for (const path of ['/accounts/a1', '/reference-data', '/metrics']) {
      const answer = await get(base, path);
      expect(answer.status).toBe(503);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 503, code: 'SHUTTING_DOWN' });
    }

    release();
    const answers = await Promise.all(inFlight); // rejects if any connection were cut
    held.mockRestore();

    // The HTTP server is closing now (Fastify's own phase): a request that still arrives, pipelined on the
    // held read's connection, gets the same 503 problem document, not Fastify's JSON.
    await until(() => !app.getHttpServer().listening, 'the HTTP server to stop listening');
    connection.write('/accounts/a1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    releaseRead();
    const raw = await connection.text;
    heldRead.mockRestore();
    await closed;
    const [first, second] = raw.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 404 /); // the held read ends normally: no such account
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(JSON.parse(second!.slice(second!.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 503,
      code: 'SHUTTING_DOWN',
      instance: '/accounts/a1',
    });

    expect(answers.map((a) => a.status)).toEqual([...Array<number>(HELD).fill(200), 400]);
    expect(JSON.parse(answers[HELD]!.body)).toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    const acknowledged = answers
      .filter((a) => a.status === 200)
      .reduce((sum, a) => sum + (JSON.parse(a.body) as { events: unknown[] }).events.length, 0);
    expect(acknowledged).toBe(HELD);
    // Exactly what the acknowledged responses claim: nothing from the 400, the 503s, or twice.
    expect(await api.eventCount()).toBe(eventsBefore + acknowledged);
    const deposits = await scalar(
      `SELECT coalesce(sum((data->>'amount')::numeric), 0)::text AS v FROM events
        WHERE stream_id LIKE 'account-s%' AND type = 'Deposited'`,
    );
    expect(Number(deposits)).toBe((HELD * (HELD + 1)) / 2);

    // Every consumer stored its checkpoint on the way down, never past the head: the last event in reader order
    // (transaction id, then position), not the largest position, which concurrent appends may commit earlier.
    const head = BigInt(
      (await scalar(
        'SELECT global_position::text AS v FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
      )) ?? '0',
    );
    const stored = await checkpoints();
    for (const consumer of ['event-bus', 'margin-history', 'risk-saga']) {
      expect(stored[consumer]).toEqual(expect.stringMatching(/^\d+$/));
      expect(BigInt(stored[consumer]!)).toBeLessThanOrEqual(head);
    }

    // A new process on the same database resumes each consumer from its checkpoint and reaches the head.
    restarted = await openApiApp(api.database);
    const ledgerAgain = restarted.get<Ledger>(LEDGER);
    await ledgerAgain.settle();
    await restarted.get(EventBusPump).waitUntilCaughtUp();
    // Checkpoints are stored after each batch's commit; give the last store a bounded moment (never skipped).
    let caughtUp = await checkpoints();
    for (let i = 0; i < 100 && Object.values(caughtUp).some((c) => c !== String(head)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      caughtUp = await checkpoints();
    }
    for (const consumer of ['event-bus', 'margin-history', 'risk-saga'])
      expect(caughtUp[consumer]).toBe(String(head));
    const rows = await scalar('SELECT count(*)::text AS v FROM margin_history');
    const accountEvents = await scalar(
      "SELECT count(*)::text AS v FROM events WHERE stream_id LIKE 'account-%'",
    );
    expect(rows).toBe(accountEvents);
    expect((await ledgerAgain.accountView(`s${HELD - 1}`))?.assets.USDT?.walletBalance).toBe(
      String(HELD),
    );

    // The refused requests were not kept: a retry with the same key runs now.
    const retry = await restarted.inject({
      method: 'POST',
      url: '/accounts/a1/deposits',
      headers: {
        authorization: `Bearer ${A1_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': 'late-0',
      },
      payload: JSON.stringify({ asset: 'USDT', amount: '1000' }),
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().account.assets.USDT.walletBalance).toBe('1100');
  }, 60_000);
});
