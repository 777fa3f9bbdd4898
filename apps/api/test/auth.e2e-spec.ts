/**
 * Goal: the auth matrix. Every endpoint × {no key, wrong key, other account's key, own key, operator key}: no or
 * a wrong key is 401; another account's key sees another account as not existing (404, never 403); an account key
 * on an operator endpoint is 403; the own key and the operator key get through (the SSE streams too: their head
 * and first frame are checked). Every case asserts. Nothing denied appends an event, and no answer is a 5xx. Keys
 * added with `addApiKey` (what `ledger keys add` does) work, and are stored hashed; a key revoked with
 * `revokeApiKey` (what `ledger keys revoke` does) answers 401 from the next request on, on every instance.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  addApiKey,
  generateApiKey,
  hashApiKey,
  keyIdOfHash,
  listApiKeys,
  revokeApiKey,
} from '@ledger/ledger-application';
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
  /** SSE endpoints never end when allowed: the answer's head and first frame are checked, then it is dropped. */
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
      expect.hasAssertions();
      const expected = expectedStatus(c.endpoint, c.who);
      if (expected === 'allowed' && c.endpoint.stream) {
        await expectStreamOpens(c.endpoint.url, c.key);
        return;
      }
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

  /** An allowed SSE request: 200, `text/event-stream`, and the stream's first frame; then the client goes away. */
  async function expectStreamOpens(url: string, key: string | null): Promise<void> {
    const response = await api.app.inject({
      method: 'GET',
      url,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      payloadAsStream: true,
    });
    const stream = response.stream();
    try {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      const first = await new Promise<string>((resolve, reject) => {
        stream.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
        stream.once('error', reject);
      });
      expect(first).toMatch(/^retry: \d+\n\n/);
    } finally {
      stream.destroy();
    }
  }

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

  describe('ledger keys revoke', () => {
    const statusOn = async (app: NestFastifyApplication, key: string): Promise<number> =>
      (
        await app.inject({
          method: 'GET',
          url: '/accounts/a2',
          headers: { authorization: `Bearer ${key}` },
        })
      ).statusCode;

    it('answers a revoked key 401 from the next request on', async () => {
      const key = generateApiKey();
      const keyId = await addApiKey(api.database.store, key, { role: 'account', accountId: 'a2' });
      // Used first, so that a cache in the instance would hold it. The revocation is written to the database
      // only, as `ledger keys revoke` (another process) does: what this instance sees, every instance sees.
      expect(await statusOn(api.app, key)).toBe(200);
      expect(await revokeApiKey(api.database.store, keyId)).toMatchObject({
        outcome: 'revoked',
        key: { keyId, role: 'account', accountId: 'a2', revokedAt: expect.any(String) },
      });
      expect(await statusOn(api.app, key)).toBe(401);
    });

    it('revokes by the key itself, or by a unique start of its key id', async () => {
      const byKey = generateApiKey();
      const byPrefix = generateApiKey();
      await addApiKey(api.database.store, byKey, { role: 'operator' });
      const prefixId = await addApiKey(api.database.store, byPrefix, { role: 'operator' });
      expect((await revokeApiKey(api.database.store, byKey)).outcome).toBe('revoked');
      expect((await revokeApiKey(api.database.store, prefixId.slice(0, 8))).outcome).toBe(
        'revoked',
      );
      for (const key of [byKey, byPrefix]) expect(await statusOn(api.app, key)).toBe(401);
      expect((await revokeApiKey(api.database.store, byKey)).outcome).toBe('already-revoked');
    });

    it('revokes nothing for an unknown key, an id start that is too short or ambiguous', async () => {
      const keys = await listApiKeys(api.database.store);
      expect(keys.length).toBeGreaterThan(1);
      const before = keys.filter((k) => k.revokedAt === null).length;
      expect((await revokeApiKey(api.database.store, generateApiKey())).outcome).toBe('not-found');
      expect((await revokeApiKey(api.database.store, 'abc')).outcome).toBe('not-found');
      // A start of 6 digits that two key ids share, made on purpose.
      const sharing = twoKeysWhoseIdsShareSixDigits();
      for (const key of sharing.keys)
        await addApiKey(api.database.store, key, { role: 'operator' });
      expect(await revokeApiKey(api.database.store, sharing.prefix)).toEqual({
        outcome: 'ambiguous',
        keyIds: expect.arrayContaining(sharing.keys.map((k) => keyIdOfHash(hashApiKey(k)))),
      });
      const after = (await listApiKeys(api.database.store)).filter((k) => k.revokedAt === null);
      expect(after.length).toBe(before + 2);
    });

    it('does not store or list a key itself', async () => {
      const listed = JSON.stringify(await listApiKeys(api.database.store));
      expect(listed).not.toMatch(/lk_/);
    });
  });
});

/** Two keys whose key ids start with the same 6 hex digits (a birthday search: a few thousand hashes). */
function twoKeysWhoseIdsShareSixDigits(): { keys: [string, string]; prefix: string } {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const key = `shared_prefix_key_${i}`;
    const prefix = keyIdOfHash(hashApiKey(key)).slice(0, 6);
    const other = seen.get(prefix);
    if (other !== undefined) return { keys: [other, key], prefix };
    seen.set(prefix, key);
  }
}
