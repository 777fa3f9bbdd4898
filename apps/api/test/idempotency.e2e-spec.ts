/**
 * Goal: the Idempotency-Key contract. The key becomes the command id, scoped by API key; the same key sent ten
 * times at once runs one command and answers ten identical responses; a retry later returns the first response
 * byte for byte, a rejection included, even when a new attempt would now succeed; the same key with another body
 * is a 422; two API keys using the same Idempotency-Key never collide.
 */
import { A1_KEY, A2_KEY, type ApiTestApp, BOOT_TIMEOUT_MS, startApiTestApp } from './api-test-app';

describe('Idempotency-Key', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-idempotency');
    await api.call('POST', '/accounts', { accountId: 'a1', at: '2024-06-01T00:00:00Z' });
    await api.call('POST', '/accounts', { accountId: 'a2', at: '2024-06-01T00:00:00Z' });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  const deposit = (key: string, amount: string, apiKey = A1_KEY, account = 'a1') =>
    api.call(
      'POST',
      `/accounts/${account}/deposits`,
      { asset: 'USDT', amount },
      { key: apiKey, headers: { 'idempotency-key': key } },
    );

  it('runs one command for ten concurrent requests with the same key, and answers them identically', async () => {
    const before = await api.eventCount();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => deposit('concurrent-1', '10')),
    );
    expect(await api.eventCount()).toBe(before + 1);
    const first = responses[0]!;
    expect(first.statusCode).toBe(200);
    for (const response of responses) {
      expect(response.statusCode).toBe(first.statusCode);
      expect(response.headers['content-type']).toBe(first.headers['content-type']);
      expect(response.body).toBe(first.body);
    }
    expect(first.json().account.assets.USDT.walletBalance).toBe('10');
  });

  it('returns the first response byte for byte on a later retry', async () => {
    const first = await deposit('retry-1', '5');
    await deposit('other', '1');
    const before = await api.eventCount();
    const retry = await deposit('retry-1', '5');
    expect(await api.eventCount()).toBe(before);
    expect(retry.statusCode).toBe(first.statusCode);
    expect(retry.body).toBe(first.body);
  });

  it('keeps a rejection: the retry answers the same 400 even once the command could succeed', async () => {
    const rejected = await api.call(
      'POST',
      '/accounts/a1/withdrawals',
      { asset: 'USDT', amount: '1000' },
      { key: A1_KEY, headers: { 'idempotency-key': 'withdraw-1' } },
    );
    expect(rejected.statusCode).toBe(400);
    expect(rejected.json()).toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    await deposit('big', '5000');
    const before = await api.eventCount();
    const retry = await api.call(
      'POST',
      '/accounts/a1/withdrawals',
      { asset: 'USDT', amount: '1000' },
      { key: A1_KEY, headers: { 'idempotency-key': 'withdraw-1' } },
    );
    expect(retry.statusCode).toBe(400);
    expect(retry.body).toBe(rejected.body);
    expect(await api.eventCount()).toBe(before);
  });

  it('answers 422 for the same key with a different body or endpoint, and appends nothing', async () => {
    await deposit('reuse-1', '1');
    const before = await api.eventCount();
    const other = await deposit('reuse-1', '2');
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    const elsewhere = await api.call(
      'POST',
      '/accounts/a1/withdrawals',
      { asset: 'USDT', amount: '1' },
      { key: A1_KEY, headers: { 'idempotency-key': 'reuse-1' } },
    );
    expect(elsewhere.statusCode).toBe(422);
    expect(await api.eventCount()).toBe(before);
  });

  it('treats the same body with keys in another order as the same request', async () => {
    const first = await api.call('POST', '/accounts/a1/deposits', '{"asset":"USDT","amount":"3"}', {
      key: A1_KEY,
      headers: { 'idempotency-key': 'order-1' },
    });
    const second = await api.call(
      'POST',
      '/accounts/a1/deposits',
      '{"amount":"3","asset":"USDT"}',
      { key: A1_KEY, headers: { 'idempotency-key': 'order-1' } },
    );
    expect(second.body).toBe(first.body);
  });

  it('scopes keys by API key: two clients with the same Idempotency-Key run two commands', async () => {
    const one = await deposit('shared-key', '7', A1_KEY, 'a1');
    const two = await deposit('shared-key', '7', A2_KEY, 'a2');
    expect(one.statusCode).toBe(200);
    expect(two.statusCode).toBe(200);
    expect(one.json().commandId).not.toBe(two.json().commandId);
    expect(two.json().events).toHaveLength(1);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const response = await deposit('x'.repeat(300), '1');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_IDEMPOTENCY_KEY' });
  });

  it('runs each request without a key as a new command', async () => {
    const before = await api.eventCount();
    const one = await api.call(
      'POST',
      '/accounts/a1/deposits',
      { asset: 'USDT', amount: '1' },
      { key: A1_KEY },
    );
    const two = await api.call(
      'POST',
      '/accounts/a1/deposits',
      { asset: 'USDT', amount: '1' },
      { key: A1_KEY },
    );
    expect(one.json().commandId).not.toBe(two.json().commandId);
    expect(await api.eventCount()).toBe(before + 2);
  });
});
