/**
 * Goal: the auth matrix. Every endpoint × {no key, wrong key, other account's key, own key, operator key}: no or
 * a wrong key is 401; another account's key sees another account as not existing (404, never 403); an account key
 * on an operator endpoint is 403; the own key and the operator key get through. Nothing denied appends an event,
 * and no answer is a 5xx. Keys added with `addApiKey` (what `ledger keys add` does) work, and are stored hashed.
 */
import { addApiKey, generateApiKey, hashApiKey } from '@ledger/ledger-application';
import {
  A1_KEY,
  A2_KEY,
  type ApiTestApp,
  BOOT_TIMEOUT_MS,
  OPERATOR_KEY,
  WRONG_KEY,
  startApiTestApp,
} from './api-test-app';

type Scope = 'account' | 'operator';
interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: unknown;
  scope: Scope;
  /** SSE endpoints never end when allowed: only the denials are checked here (the SSE suite covers the rest). */
  stream?: boolean;
}

const T = '2024-06-01T01:00:00Z';
const ENDPOINTS: Endpoint[] = [
  { method: 'POST', url: '/accounts', body: { accountId: 'a1', at: T }, scope: 'account' },
  { method: 'GET', url: '/accounts/a1', scope: 'account' },
  { method: 'GET', url: '/accounts/a1?asOf=2024-06-01T00%3A30%3A00Z', scope: 'account' },
  { method: 'GET', url: '/accounts/a1/events', scope: 'account' },
  { method: 'GET', url: '/accounts/a1/margin-history', scope: 'account' },
  {
    method: 'POST',
    url: '/accounts/a1/deposits',
    body: { asset: 'USDT', amount: '1', at: T },
    scope: 'account',
  },
  {
    method: 'POST',
    url: '/accounts/a1/withdrawals',
    body: { asset: 'USDT', amount: '1', at: T },
    scope: 'account',
  },
  {
    method: 'POST',
    url: '/accounts/a1/fills',
    body: { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.001', price: '60000', at: T },
    scope: 'account',
  },
  {
    method: 'POST',
    url: '/accounts/a1/orders',
    body: {
      orderId: 'o1',
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.001',
      price: '50000',
      at: T,
    },
    scope: 'account',
  },
  { method: 'POST', url: '/accounts/a1/orders/o1/cancel', body: { at: T }, scope: 'account' },
  { method: 'DELETE', url: '/accounts/a1/orders/o1', body: { at: T }, scope: 'account' },
  {
    method: 'POST',
    url: '/accounts/a1/leverage',
    body: { symbol: 'BTCUSDT', leverage: 5, at: T },
    scope: 'account',
  },
  {
    method: 'POST',
    url: '/accounts/a1/margin-type',
    body: { symbol: 'BTCUSDT', marginType: 'CROSSED', at: T },
    scope: 'account',
  },
  { method: 'GET', url: '/accounts/a1/asset-mode', scope: 'account' },
  {
    method: 'POST',
    url: '/accounts/a1/asset-mode',
    body: { assetMode: 'SINGLE', at: T },
    scope: 'account',
  },
  { method: 'GET', url: '/accounts/a1/position-mode', scope: 'account' },
  {
    method: 'POST',
    url: '/accounts/a1/position-mode',
    body: { positionMode: 'ONE_WAY', at: T },
    scope: 'account',
  },
  { method: 'GET', url: '/accounts/a1/vip-level', scope: 'account' },
  { method: 'POST', url: '/accounts/a1/vip-level', body: { vipLevel: 0, at: T }, scope: 'account' },
  {
    method: 'POST',
    url: '/accounts/a1/isolated-margin',
    body: { symbol: 'BTCUSDT', amount: '1', at: T },
    scope: 'account',
  },
  { method: 'GET', url: '/accounts/a1/stream', scope: 'account', stream: true },
  {
    method: 'POST',
    url: '/market/mark-prices',
    body: { symbol: 'BTCUSDT', markPrice: '60000', at: T },
    scope: 'operator',
  },
  {
    method: 'POST',
    url: '/market/asset-indexes',
    body: {
      asset: 'BTC',
      index: '60000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
      at: T,
    },
    scope: 'operator',
  },
  {
    method: 'POST',
    url: '/market/funding-rates',
    body: { symbol: 'BTCUSDT', rate: '0.0001', at: T },
    scope: 'operator',
  },
  {
    method: 'POST',
    url: '/market/funding-settlements',
    body: { symbol: 'BTCUSDT', at: T },
    scope: 'operator',
  },
  { method: 'POST', url: '/reference-data', body: { overrides: {}, at: T }, scope: 'operator' },
  { method: 'GET', url: '/reference-data', scope: 'operator' },
  { method: 'GET', url: '/stream', scope: 'operator', stream: true },
];

type Who = 'no key' | 'wrong key' | "other account's key" | 'own key' | 'operator key';
const WHO: Array<[Who, string | null]> = [
  ['no key', null],
  ['wrong key', WRONG_KEY],
  ["other account's key", A2_KEY],
  ['own key', A1_KEY],
  ['operator key', OPERATOR_KEY],
];

function expectedStatus(
  endpoint: Endpoint,
  who: Who,
): 'denied-401' | 'denied-403' | 'denied-404' | 'allowed' {
  if (who === 'no key' || who === 'wrong key') return 'denied-401';
  if (who === 'operator key') return 'allowed';
  if (endpoint.scope === 'operator') return 'denied-403';
  return who === 'own key' ? 'allowed' : 'denied-404';
}

describe('auth matrix', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-auth');
    await api.call('POST', '/accounts', { accountId: 'a1', at: '2024-06-01T00:00:00Z' });
    await api.call('POST', '/accounts', { accountId: 'a2', at: '2024-06-01T00:00:00Z' });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  const cases = ENDPOINTS.flatMap((endpoint) => WHO.map(([who, key]) => ({ endpoint, who, key })));

  it.each(cases.map((c) => [`${c.endpoint.method} ${c.endpoint.url} with ${c.who}`, c] as const))(
    '%s',
    async (_name, c) => {
      const expected = expectedStatus(c.endpoint, c.who);
      if (expected === 'allowed' && c.endpoint.stream) return; // covered by the SSE suite
      const before = await api.eventCount();
      const response = await api.call(c.endpoint.method, c.endpoint.url, c.endpoint.body, {
        key: c.key,
      });
      expect(response.statusCode).toBeLessThan(500);
      if (expected === 'allowed') {
        expect([401, 403, 404]).not.toContain(response.statusCode);
        return;
      }
      const status = Number(expected.slice('denied-'.length));
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        status,
        code: { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }[status],
      });
      if (status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(await api.eventCount()).toBe(before);
    },
  );

  it("answers another account's id exactly like an account that does not exist", async () => {
    const other = await api.call('GET', '/accounts/a2', undefined, { key: A1_KEY });
    const missing = await api.call('GET', '/accounts/zz', undefined, { key: OPERATOR_KEY });
    expect(other.statusCode).toBe(404);
    expect({ ...other.json(), instance: null, detail: null }).toEqual({
      ...missing.json(),
      instance: null,
      detail: null,
    });
  });

  it('accepts keys added through the admin path (ledger keys add), stored only as hashes', async () => {
    const operatorKey = generateApiKey();
    const accountKey = generateApiKey();
    await addApiKey(api.database.store, operatorKey, { role: 'operator' }, 'e2e');
    await addApiKey(api.database.store, accountKey, { role: 'account', accountId: 'a2' });
    expect(
      (await api.call('GET', '/reference-data', undefined, { key: operatorKey })).statusCode,
    ).toBe(200);
    expect((await api.call('GET', '/accounts/a2', undefined, { key: accountKey })).statusCode).toBe(
      200,
    );
    expect((await api.call('GET', '/accounts/a1', undefined, { key: accountKey })).statusCode).toBe(
      404,
    );
    const rows = await api.database.store.query<{ key_hash: string }>(
      'SELECT key_hash FROM api_keys',
    );
    expect(rows.map((r) => r.key_hash)).toEqual(
      expect.arrayContaining([hashApiKey(operatorKey), hashApiKey(accountKey)]),
    );
    const raw = JSON.stringify(await api.database.store.query('SELECT * FROM api_keys'));
    expect(raw).not.toContain(operatorKey);
    expect(raw).not.toContain(accountKey);
  });

  it('takes the key from X-API-Key as well as Authorization: Bearer', async () => {
    const response = await api.call('GET', '/accounts/a1', undefined, {
      key: null,
      headers: { 'x-api-key': A1_KEY },
    });
    expect(response.statusCode).toBe(200);
  });

  it('lets /health, /metrics and /docs through without a key', async () => {
    for (const url of ['/health', '/health/live', '/metrics', '/docs/openapi.json']) {
      expect((await api.call('GET', url, undefined, { key: null })).statusCode).toBe(200);
    }
  });
});
