/**
 * Goal: hostile text and time never reach the database and never answer 500 (issue 11, item 9). A NUL or a lone
 * surrogate in any string (a body field at any depth, a field name, a path segment, a query value) is a 400
 * ILLEGAL_CHARACTERS (-1100) naming the field; a time in year 0000, before the epoch or on a day that does not
 * exist (2024-02-30) is INVALID_TIME, not 1 March; an `at` beyond the server clock plus LEDGER_MAX_CLOCK_SKEW_MS is
 * AT_IN_FUTURE (-1021), so one command cannot stamp an account or market stream 9999 for good. Only JSON bodies
 * run commands (415 otherwise); what Fastify answers by itself (a bad %-encoding, an over-long path segment or
 * URL) and an SSE cursor past the head are problem documents with stable codes too. Headers that reach the ledger
 * are checked. Every refusal appends nothing.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { formatCheckpoint } from '@ledger/event-store';
import {
  A1_KEY,
  type ApiTestApp,
  BOOT_TIMEOUT_MS,
  OPERATOR_KEY,
  startApiTestApp,
} from './api-test-app';

const T0 = '2024-06-01T00:00:00Z';

/** Sends raw bytes over TCP (app.inject bypasses Node's HTTP parser) and reads the answer until the server closes. */
function rawHttp(
  port: number,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request, 'latin1'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

describe('hostile input', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-hostile');
    await api.call('POST', '/accounts', { accountId: 'a1', at: T0 });
    await api.call('POST', '/accounts/a1/deposits', { asset: 'USDT', amount: '100000', at: T0 });
    await api.call('POST', '/market/mark-prices', {
      symbol: 'BTCUSDT',
      markPrice: '60000',
      at: T0,
    });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  type Response = Awaited<ReturnType<ApiTestApp['call']>>;

  /** A problem document with this status and code, and nothing appended by the request. */
  async function expectProblem(
    request: () => Promise<Response>,
    status: number,
    code: string,
    extra: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const before = await api.eventCount();
    const response = await request();
    expect({ status: response.statusCode, body: response.body }).toEqual({
      status,
      body: expect.any(String),
    });
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<Record<string, unknown>>();
    expect(problem).toMatchObject({ status, code, ...extra });
    expect(JSON.stringify(problem)).not.toMatch(/\bat \w+ \(|node_modules|\.ts:\d+/); // no stack
    expect(await api.eventCount()).toBe(before);
    return problem;
  }

  describe('NUL and lone surrogates', () => {
    const order = (orderId: string) => ({
      orderId,
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.001',
      price: '50000',
    });

    it.each([
      ['a NUL in orderId', '/accounts/a1/orders', order('o\u0000x'), 'orderId'],
      ['a lone high surrogate in orderId', '/accounts/a1/orders', order('o\uD800x'), 'orderId'],
      ['a lone low surrogate in orderId', '/accounts/a1/orders', order('\uDC00'), 'orderId'],
      ['a NUL in a fill orderId', '/accounts/a1/fills', { ...order('o\u0000') }, 'orderId'],
      [
        'a NUL in the reference-data version',
        '/reference-data',
        { overrides: {}, version: 'v\u0000' },
        'version',
      ],
      [
        'a lone surrogate deep in the overrides',
        '/reference-data',
        { overrides: { fees: { note: ['\uD83D'] } }, version: 'v-x' },
        'overrides.fees.note.0',
      ],
      [
        'a NUL in a field name',
        '/accounts/a1/deposits',
        { asset: 'USDT', amount: '1', 'x\u0000': 1 },
        'x\uFFFD',
      ],
      ['a NUL in accountId', '/accounts', { accountId: 'a\u0000' }, 'accountId'],
    ])('refuses %s with 400 ILLEGAL_CHARACTERS', async (_name, url, body, field) => {
      await expectProblem(
        () => api.call('POST', url, { ...body, at: T0 }),
        400,
        'ILLEGAL_CHARACTERS',
        {
          binanceCode: -1100,
          field,
          type: 'urn:margin-ledger:problem:ILLEGAL_CHARACTERS',
        },
      );
    });

    it('keeps a refusal for the Idempotency-Key like any other answer, byte for byte', async () => {
      const send = () =>
        api.call(
          'POST',
          '/accounts/a1/orders',
          { ...order('o\u0000'), at: T0 },
          {
            headers: { 'idempotency-key': 'hostile-1' },
          },
        );
      const first = await send();
      const again = await send();
      expect(first.statusCode).toBe(400);
      expect(again.body).toBe(first.body);
    });

    it.each([
      ['an account id', '/accounts/%00', 'accountId'],
      ['the account id of the events', '/accounts/a%00b/events', 'accountId'],
      ['the account id of the margin history', '/accounts/%00/margin-history', 'accountId'],
      ['the account id of the asset mode', '/accounts/%00/asset-mode', 'accountId'],
      ['a reference-data version', '/reference-data/v%00', 'version'],
      ['an asOf', '/accounts/a1?asOf=%00', 'asOf'],
      ['a cursor', '/accounts/a1/events?after=1%00', 'after'],
      ['a from', '/accounts/a1/margin-history?from=2024%00', 'from'],
      ['an unknown query parameter', '/accounts/a1?x=%00', 'x'],
      ['a repeated query parameter', '/accounts/a1?x=1&x=%00', 'x.1'],
      ['the SSE cursor of the query', '/accounts/a1/stream?lastEventId=1:1%00', 'lastEventId'],
    ])('refuses a NUL in %s (GET) with 400 ILLEGAL_CHARACTERS', async (_name, url, field) => {
      await expectProblem(() => api.call('GET', url), 400, 'ILLEGAL_CHARACTERS', {
        binanceCode: -1100,
        field,
      });
    });

    it.each([
      ['POST', '/accounts/a1/orders/%00/cancel', 'orderId'],
      ['DELETE', '/accounts/a1/orders/o%00', 'orderId'],
      ['POST', '/accounts/%00/deposits', 'accountId'],
    ] as const)('refuses a NUL in the path of %s %s', async (method, url, field) => {
      await expectProblem(() => api.call(method, url, { at: T0 }), 400, 'ILLEGAL_CHARACTERS', {
        field,
      });
    });

    it('lets paired surrogates and other Unicode through to the ledger', async () => {
      const placed = await api.call('POST', '/accounts/a1/orders', {
        ...order('ordre-é-😀'),
        at: T0,
      });
      expect(placed.statusCode).toBe(201);
      const cancelled = await api.call(
        'POST',
        `/accounts/a1/orders/${encodeURIComponent('ordre-é-😀')}/cancel`,
        { at: T0 },
      );
      expect(cancelled.statusCode).toBe(200);
    });
  });

  describe('time', () => {
    it.each([
      ['year 0000 on a new account', '/accounts', { accountId: 'y0', at: '0000-01-01T00:00:00Z' }],
      ['year 0001', '/accounts', { accountId: 'y1', at: '0001-01-01T00:00:00Z' }],
      ['before the epoch', '/accounts', { accountId: 'y2', at: '1969-12-31T23:59:59Z' }],
      [
        'a day that does not exist (not 1 March)',
        '/accounts/a1/deposits',
        { asset: 'USDT', amount: '1', at: '2024-02-30T00:00:00Z' },
      ],
      [
        'hour 24 (not the next day)',
        '/accounts/a1/deposits',
        { asset: 'USDT', amount: '1', at: '2024-06-01T24:00:00Z' },
      ],
      [
        'a market command in year 0000',
        '/market/mark-prices',
        { symbol: 'BTCUSDT', markPrice: '60000', at: '0000-01-01T00:00:00Z' },
      ],
    ])('refuses %s with 400 INVALID_TIME on at', async (_name, url, body) => {
      await expectProblem(() => api.call('POST', url, body), 400, 'INVALID_TIME', { field: 'at' });
    });

    it.each([
      ['/accounts/a1?asOf=0000-01-01T00:00:00Z', 'asOf'],
      ['/accounts/a1?asOf=2024-02-30T00:00:00Z', 'asOf'],
      ['/accounts/a1/margin-history?from=0000-01-01T00:00:00Z', 'from'],
      ['/accounts/a1/margin-history?to=2023-02-29T00:00:00Z', 'to'],
    ])('refuses GET %s with 400 INVALID_TIME', async (url, field) => {
      await expectProblem(() => api.call('GET', url), 400, 'INVALID_TIME', { field });
    });

    it('refuses an at in 9999 on an account (AT_IN_FUTURE, -1021); the stream time does not move', async () => {
      await expectProblem(
        () =>
          api.call('POST', '/accounts/a1/deposits', {
            asset: 'USDT',
            amount: '1',
            at: '9999-01-01T00:00:00Z',
          }),
        400,
        'AT_IN_FUTURE',
        { binanceCode: -1021, field: 'at' },
      );
      const later = await api.call('POST', '/accounts/a1/deposits', { asset: 'USDT', amount: '1' });
      expect(later.statusCode).toBe(200);
      const stampedMs = Date.parse(later.json().events[0].occurredAt as string);
      expect(Math.abs(stampedMs - Date.now())).toBeLessThan(60_000);
      const asOfNow = await api.call('GET', `/accounts/a1?asOf=${new Date().toISOString()}`);
      expect(asOfNow.json().assets.USDT.walletBalance).toBe('100001');
    });

    it('refuses an at in 9999 on a market stream, so an operator cannot stamp it either', async () => {
      await expectProblem(
        () =>
          api.call('POST', '/market/mark-prices', {
            symbol: 'BTCUSDT',
            markPrice: '61000',
            at: '9999-01-01T00:00:00Z',
          }),
        400,
        'AT_IN_FUTURE',
      );
      const later = await api.call('POST', '/market/mark-prices', {
        symbol: 'BTCUSDT',
        markPrice: '61000',
      });
      expect(later.statusCode).toBe(200);
    });

    it('takes an at within the skew (a client clock slightly ahead) and any at in the past', async () => {
      const ahead = new Date(Date.now() + 60_000).toISOString();
      expect(
        (await api.call('POST', '/accounts', { accountId: 'skew1', at: ahead })).statusCode,
      ).toBe(201);
      expect(
        (await api.call('POST', '/accounts', { accountId: 'past1', at: '2001-01-01T00:00:00Z' }))
          .statusCode,
      ).toBe(201);
    });
  });

  describe('content types', () => {
    it.each([
      ['a form', 'application/x-www-form-urlencoded', 'asset=USDT&amount=1'],
      ['plain text', 'text/plain', '{"asset":"USDT","amount":"1"}'],
      [
        'JSON under another media type',
        'application/vnd.api+json',
        '{"asset":"USDT","amount":"1"}',
      ],
      ['multipart', 'multipart/form-data; boundary=x', '--x--'],
    ])('refuses %s with 415 UNSUPPORTED_MEDIA_TYPE and runs nothing', async (_name, type, body) => {
      await expectProblem(
        () =>
          api.app.inject({
            method: 'POST',
            url: '/accounts/a1/deposits',
            headers: { authorization: `Bearer ${A1_KEY}`, 'content-type': type },
            payload: body,
          }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        { type: 'urn:margin-ledger:problem:UNSUPPORTED_MEDIA_TYPE' },
      );
    });

    it('refuses a body without a Content-Type', async () => {
      await expectProblem(
        () =>
          api.app.inject({
            method: 'POST',
            url: '/accounts/a1/deposits',
            headers: { authorization: `Bearer ${A1_KEY}`, 'content-length': '2' },
            payload: '{}',
          }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('takes application/json with a charset, and a POST without a body', async () => {
      const deposit = await api.app.inject({
        method: 'POST',
        url: '/accounts/a1/deposits',
        headers: {
          authorization: `Bearer ${A1_KEY}`,
          'content-type': 'Application/JSON; charset=UTF-8',
        },
        payload: JSON.stringify({ asset: 'USDT', amount: '1' }),
      });
      expect(deposit.statusCode).toBe(200);
      const noBody = await api.app.inject({
        method: 'POST',
        url: '/accounts/a1/orders/nope/cancel',
        headers: { authorization: `Bearer ${A1_KEY}` },
      });
      expect(noBody.statusCode).toBe(400);
      expect(noBody.json()).toMatchObject({ code: 'UNKNOWN_ORDER' });
    });
  });

  describe('what the framework answers by itself', () => {
    it.each([
      ['a bad %-encoding in the path', '/accounts/%ZZ'],
      ['an encoded lone surrogate (not UTF-8) in the path', '/reference-data/%ED%A0%80'],
    ])('answers %s with 400 MALFORMED_URL', async (_name, url) => {
      await expectProblem(() => api.call('GET', url), 400, 'MALFORMED_URL', {
        type: 'urn:margin-ledger:problem:MALFORMED_URL',
      });
    });

    it('answers a path segment over 100 characters with 414 URI_TOO_LONG', async () => {
      const problem = await expectProblem(
        () => api.call('GET', `/accounts/${'a'.repeat(500)}`),
        414,
        'URI_TOO_LONG',
      );
      expect(String(problem.instance).length).toBeLessThanOrEqual(256);
    });

    it('answers a URL over 8 KiB with 414 URI_TOO_LONG', async () => {
      await expectProblem(
        () => api.call('GET', `/accounts/a1?x=${'b'.repeat(9000)}`),
        414,
        'URI_TOO_LONG',
      );
    });

    it('keeps a bad %-encoding in a query value as text (the ledger refuses it as a value)', async () => {
      await expectProblem(() => api.call('GET', '/accounts/a1?asOf=%ZZ'), 400, 'INVALID_TIME');
    });
  });

  describe('SSE cursors', () => {
    it('refuses a Last-Event-ID past the head with 400 CURSOR_BEYOND_HEAD instead of waiting', async () => {
      for (const url of ['/accounts/a1/stream', '/stream']) {
        await expectProblem(
          () =>
            api.call('GET', url, undefined, { headers: { 'last-event-id': '999999999:999999' } }),
          400,
          'CURSOR_BEYOND_HEAD',
          { field: 'Last-Event-ID' },
        );
      }
      await expectProblem(
        () => api.call('GET', '/accounts/a1/stream?lastEventId=999999999:1'),
        400,
        'CURSOR_BEYOND_HEAD',
      );
    });

    it('refuses a Last-Event-ID that is not a cursor with 400 INVALID_CURSOR', async () => {
      await expectProblem(
        () => api.call('GET', '/stream', undefined, { headers: { 'last-event-id': '12' } }),
        400,
        'INVALID_CURSOR',
        { field: 'Last-Event-ID' },
      );
    });

    it('resumes from the head itself', async () => {
      const head = await api.database.store.headCheckpoint();
      expect(head).not.toBeNull();
      const response = await api.app.inject({
        method: 'GET',
        url: '/stream',
        headers: {
          authorization: `Bearer ${OPERATOR_KEY}`,
          'last-event-id': formatCheckpoint(head!),
        },
        payloadAsStream: true,
      });
      response.stream().destroy();
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    });
  });

  describe('headers that reach the ledger', () => {
    it.each([
      ['a NUL', 'k\u0000'],
      ['a lone surrogate', 'k\uD800'],
      ['a control character', 'k\u0001'],
      ['a space', 'k 1'],
    ])('refuses an Idempotency-Key with %s (400 INVALID_IDEMPOTENCY_KEY)', async (_name, key) => {
      await expectProblem(
        () =>
          api.call(
            'POST',
            '/accounts/a1/deposits',
            { asset: 'USDT', amount: '1' },
            {
              headers: { 'idempotency-key': key },
            },
          ),
        400,
        'INVALID_IDEMPOTENCY_KEY',
      );
    });

    it('does not echo or record an X-Correlation-Id that is not sane', async () => {
      const response = await api.call(
        'POST',
        '/accounts/a1/deposits',
        { asset: 'USDT', amount: '1' },
        {
          headers: { 'x-correlation-id': 'c\u0000\uD800' },
        },
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers an API key with a NUL 401', async () => {
      await expectProblem(
        () =>
          api.call('GET', '/accounts/a1', undefined, {
            key: null,
            headers: { 'x-api-key': `${A1_KEY}\u0000` },
          }),
        401,
        'UNAUTHORIZED',
      );
    });
  });

  describe('what Node refuses before Fastify sees a request (real HTTP)', () => {
    let port: number;

    beforeAll(async () => {
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      port = (api.app.getHttpServer().address() as AddressInfo).port;
    });

    const get = (path: string, extra = ''): string =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${A1_KEY}\r\n${extra}\r\n`;

    it.each([
      ['headers above 16 KiB', get('/accounts/a1', `X-Big: ${'h'.repeat(20_000)}\r\n`)],
      ['a URL above 16 KiB', get(`/accounts/a1?x=${'u'.repeat(20_000)}`)],
    ])('answers %s with 431 HEADERS_TOO_LARGE', async (_name, request) => {
      const answer = await rawHttp(port, request);
      expect(answer.status).toBe(431);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({
        status: 431,
        code: 'HEADERS_TOO_LARGE',
      });
    });

    it.each([
      ['a NUL in a header value', get('/accounts/a1', 'X-Test: a\u0000b\r\n')],
      ['a control character in a header value', get('/accounts/a1', 'X-Test: a\u0001b\r\n')],
      ['a space in the request target', get('/accounts/a 1')],
      ['a header without a colon', get('/accounts/a1', 'Broken header\r\n')],
    ])('answers %s with 400 MALFORMED_REQUEST', async (_name, request) => {
      const answer = await rawHttp(port, request);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
    });

    it('still answers a well-formed request on the same server', async () => {
      const answer = await rawHttp(port, get('/accounts/a1', 'Connection: close\r\n'));
      expect(answer.status).toBe(200);
    });
  });
});
