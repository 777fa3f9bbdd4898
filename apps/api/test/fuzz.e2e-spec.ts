/**
 * Goal: hostile input never breaks the API. 5,000+ generated malformed requests (wrong types, huge numbers,
 * 30-digit decimals, NaN/Infinity strings, negative zero, unicode, missing and extra fields, broken JSON, oversized
 * bodies, other accounts' ids and keys) each get a 4xx Problem Details answer, never a 5xx, and the event count
 * does not move. Every generated request carries at least one defect, so none may succeed.
 */
import fc from 'fast-check';
import {
  A1_KEY,
  A2_KEY,
  type ApiTestApp,
  BOOT_TIMEOUT_MS,
  OPERATOR_KEY,
  WRONG_KEY,
  startApiTestApp,
} from './api-test-app';

const RUNS = 5_200;

/** Values that are never a valid decimal string. */
const badDecimal = fc.oneof(
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '1e5',
    '1E-3',
    '+1',
    '.5',
    '5.',
    '--1',
    '0x10',
    '1,5',
    ' 1',
    '1 ',
    '',
    '１２',
    '٣',
    '1_000',
  ),
  fc.constantFrom(
    '123456789012345678901234567890',
    '0.123456789012345678901234567890',
    '1000000000000000001',
    '-0.000000001',
  ),
  fc.double({ noNaN: false }),
  fc
    .bigInt()
    .map((n) => n * 10n ** 30n)
    .map(String)
    .filter((s) => s.replace('-', '').length > 19),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^-?(0|[1-9]\d*)(\.\d{1,8})?$/.test(s)),
);
const anyValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  badDecimal,
  fc.constant('-0'),
  fc.constant(-0),
);
const badInteger = fc.oneof(
  fc.constantFrom(1e308, -1, 126, 1.5, -0.5, 2 ** 53 + 2, '5', '10', null, true, 'NaN'),
  fc.double().filter((d) => !Number.isInteger(d)),
);
/** Never a valid id, symbol, asset or enum value: not a string, empty, too long. */
const badText = fc.oneof(
  fc.constantFrom('', 'x'.repeat(65), null, 0, -0, true, 1e308),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.double(),
);
const DECIMAL_FIELDS = new Set([
  'amount',
  'quantity',
  'price',
  'fee',
  'rate',
  'markPrice',
  'index',
  'bidBuffer',
  'askBuffer',
  'autoExchangeBidBuffer',
  'autoExchangeAskBuffer',
]);
const INTEGER_FIELDS = new Set(['leverage', 'vipLevel']);
const FREE_TEXT_FIELDS = new Set(['orderId']);
const KNOWN_FIELDS = [
  'at',
  'command',
  'accountId',
  'asset',
  'amount',
  'symbol',
  'leverage',
  'marginType',
  'assetMode',
  'positionMode',
  'vipLevel',
  'side',
  'quantity',
  'price',
  'fee',
  'maker',
  'positionSide',
  'orderId',
  'rate',
  'markPrice',
  'indexPrice',
  'index',
  'bidBuffer',
  'askBuffer',
  'autoExchangeBidBuffer',
  'autoExchangeAskBuffer',
  'overrides',
  'version',
  '__proto__',
  'constructor',
];
function badValueFor(name: string): fc.Arbitrary<unknown> {
  if (DECIMAL_FIELDS.has(name)) return fc.oneof(badDecimal, unicode);
  if (INTEGER_FIELDS.has(name)) return badInteger;
  if (FREE_TEXT_FIELDS.has(name)) return badText;
  return fc.oneof(badText, unicode);
}
const unicode = fc.constantFrom(
  'ＵＳＤＴ',
  'USDT\u0000',
  'UŚDT',
  '𝔘𝔖𝔇𝔗',
  'usdt',
  'USDT ',
  '\u202eTDSU',
  'BTCUSDT\n',
  '💥',
);

interface Request {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: unknown;
  key: string | null;
  headers?: Record<string, string>;
}

const accountCommands: Array<[string, Record<string, unknown>]> = [
  ['deposits', { asset: 'USDT', amount: '1' }],
  ['withdrawals', { asset: 'USDT', amount: '1' }],
  ['fills', { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.001', price: '60000', fee: '0' }],
  ['orders', { orderId: 'o-1', symbol: 'BTCUSDT', side: 'BUY', quantity: '0.001', price: '50000' }],
  ['leverage', { symbol: 'BTCUSDT', leverage: 5 }],
  ['margin-type', { symbol: 'BTCUSDT', marginType: 'ISOLATED' }],
  ['asset-mode', { assetMode: 'MULTI' }],
  ['position-mode', { positionMode: 'HEDGE' }],
  ['vip-level', { vipLevel: 3 }],
  ['isolated-margin', { symbol: 'BTCUSDT', amount: '1' }],
];
const marketCommands: Array<[string, Record<string, unknown>]> = [
  ['/market/mark-prices', { symbol: 'BTCUSDT', markPrice: '60000' }],
  [
    '/market/asset-indexes',
    {
      asset: 'BTC',
      index: '60000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
    },
  ],
  ['/market/funding-rates', { symbol: 'BTCUSDT', rate: '0.0001' }],
  ['/reference-data', { overrides: { 'policy.nonexistent.key': 1 } }],
];

/** A valid command with exactly one defect injected. */
function corrupt(fields: Record<string, unknown>) {
  const names = Object.keys(fields);
  return fc.oneof(
    // A field with a bad value of the wrong kind.
    fc
      .constantFrom(...names)
      .chain((name) => badValueFor(name).map((value) => ({ ...fields, [name]: value }))),
    // A required field missing.
    fc
      .constantFrom(...names)
      .map((name) => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== name))),
    // An extra field.
    fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !KNOWN_FIELDS.includes(k)),
        anyValue,
      )
      .map(([k, v]) => ({ ...fields, [k]: v })),
    // A bad time.
    fc
      .constantFrom(
        'yesterday',
        '2024-13-01T00:00:00Z',
        '2024-06-01',
        1717200000000,
        '9999-99-99T99:99:99Z',
        '2024-06-01T00:00:00',
        'T',
      )
      .map((at) => ({ ...fields, at })),
    // Another account's id in the body.
    fc.constant({ ...fields, accountId: 'a2' }),
    // Not an object at all.
    fc.oneof(
      fc.constant([fields]),
      fc.constant('"text"'),
      fc.constant('[]'),
      fc.constant('42'),
      fc.constant('null'),
    ),
  );
}

const accountRequest: fc.Arbitrary<Request> = fc
  .tuple(fc.constantFrom(...accountCommands), fc.constantFrom(A1_KEY, OPERATOR_KEY))
  .chain(([[path, fields], key]) =>
    corrupt(fields).map((body) => ({
      method: 'POST' as const,
      url: `/accounts/a1/${path}`,
      body,
      key,
    })),
  );

const marketRequest: fc.Arbitrary<Request> = fc
  .constantFrom(...marketCommands)
  .chain(([url, fields]) =>
    corrupt(fields).map((body) => ({ method: 'POST' as const, url, body, key: OPERATOR_KEY })),
  );

/** A valid request made invalid by who sends it: no key, a wrong key, another account's key, an account key on operator data. */
const wrongPrincipal: fc.Arbitrary<Request> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...accountCommands),
      fc.constantFrom(null, WRONG_KEY, A2_KEY, 'x', 'Bearer', '\u00e9'.repeat(300)),
    )
    .map(([[path, body], key]) => ({
      method: 'POST' as const,
      url: `/accounts/a1/${path}`,
      body,
      key,
    })),
  fc
    .tuple(fc.constantFrom(...marketCommands), fc.constantFrom(A1_KEY, A2_KEY, null))
    .map(([[url, body], key]) => ({ method: 'POST' as const, url, body, key })),
  fc
    .constantFrom(
      'a2',
      'a3',
      'A1',
      'a1 ',
      '..',
      '%00',
      '%F0%9F%92%A5',
      'a'.repeat(65),
      'a1%2Fdeposits',
    )
    .map((account) => ({
      method: 'POST' as const,
      url: `/accounts/${account}/deposits`,
      body: { asset: 'USDT', amount: '1' },
      key: A1_KEY,
    })),
  fc.constant({
    method: 'POST' as const,
    url: '/accounts',
    body: { accountId: 'a3' },
    key: A1_KEY,
  }),
);

const brokenHttp: fc.Arbitrary<Request> = fc.oneof(
  fc
    .constantFrom(
      '{',
      '{"asset":',
      '{"asset":"USDT",}',
      "{'asset':'USDT'}",
      '{"__proto__":{"x":1},"asset":"USDT","amount":"1"}',
      '{"constructor":{"prototype":{"x":1}}}',
      'NaN',
      '\u0000',
    )
    .map((body) => ({ method: 'POST' as const, url: '/accounts/a1/deposits', body, key: A1_KEY })),
  fc.integer({ min: 70_000, max: 200_000 }).map((n) => ({
    method: 'POST' as const,
    url: '/accounts/a1/deposits',
    body: { asset: 'USDT', amount: '1', pad: 'x'.repeat(n) },
    key: A1_KEY,
  })),
  fc.constantFrom('x'.repeat(300), 'bad key with spaces', '\u00ff').map((idem) => ({
    method: 'POST' as const,
    url: '/accounts/a1/deposits',
    body: { asset: 'USDT', amount: '-1' },
    key: A1_KEY,
    headers: { 'idempotency-key': idem },
  })),
  fc
    .constantFrom(
      '/accounts/a1?asOf=NaN',
      '/accounts/a1?asOf=-1',
      '/accounts/a1?asOf=99999999999999999999999',
      '/accounts/a1/events?after=-1',
      '/accounts/a1/events?limit=1e9',
      '/accounts/a1/margin-history?from=Infinity',
      '/accounts/a2',
      '/nowhere',
      '/accounts/a1/stream?lastEventId=garbage',
    )
    .map((url) => ({ method: 'GET' as const, url, key: A1_KEY })),
  fc.constant({
    method: 'POST' as const,
    url: '/accounts/a1/deposits',
    body: { asset: 'USDT', amount: '1' },
    key: A1_KEY,
    headers: { 'content-type': 'text/plain' },
  }),
);

describe('fuzz: malformed and hostile requests', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-fuzz');
    await api.call('POST', '/accounts', { accountId: 'a1', at: '2024-06-01T00:00:00Z' });
    await api.call('POST', '/accounts', { accountId: 'a2', at: '2024-06-01T00:00:00Z' });
    await api.call('POST', '/accounts/a1/deposits', {
      asset: 'USDT',
      amount: '0.5',
      at: '2024-06-01T00:00:01Z',
    });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  it(`answers ${RUNS} bad requests with 4xx Problem Details and appends nothing`, async () => {
    const before = await api.eventCount();
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { arbitrary: accountRequest, weight: 5 },
          { arbitrary: marketRequest, weight: 2 },
          { arbitrary: wrongPrincipal, weight: 2 },
          { arbitrary: brokenHttp, weight: 1 },
        ),
        async (request) => {
          const response = await api.call(request.method, request.url, request.body, {
            key: request.key,
            ...(request.headers === undefined ? {} : { headers: request.headers }),
          });
          seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
          if (response.statusCode < 400 || response.statusCode >= 500) {
            throw new Error(
              `${request.method} ${request.url} ${JSON.stringify(request.body)?.slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 300)}`,
            );
          }
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          const problem = response.json();
          expect(problem).toMatchObject({
            status: response.statusCode,
            code: expect.any(String),
            title: expect.any(String),
          });
          expect(response.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
        },
      ),
      { numRuns: RUNS, seed: 20240601 },
    );
    expect(await api.eventCount()).toBe(before);
    // Every kind of refusal was exercised.
    for (const status of [400, 401, 403, 404, 413])
      expect(seen.get(status) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
