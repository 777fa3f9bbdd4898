/**
 * Goal: every endpoint works through HTTP, as the README shows it: an account is opened, funded, traded,
 * reconfigured and queried (now and as of a point), market data and reference data are published by an operator,
 * and every answer has the documented shape: `{ commandId, events, account }` for commands, Problem Details with a
 * stable `code` (and `binanceCode`) for rejections, which append nothing.
 */
import { A1_KEY, type ApiTestApp, BOOT_TIMEOUT_MS, startApiTestApp } from './api-test-app';

describe('HTTP API endpoints', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-endpoints');
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  const at = (minute: number): string => `2024-06-01T00:${String(minute).padStart(2, '0')}:00Z`;

  it('opens an account (201) and answers its state', async () => {
    const opened = await api.call(
      'POST',
      '/accounts',
      { accountId: 'a1', at: at(0) },
      { key: A1_KEY },
    );
    expect(opened.statusCode).toBe(201);
    const body = opened.json();
    expect(body).toMatchObject({
      commandId: expect.stringMatching(/^api:/),
      events: [
        expect.objectContaining({
          type: 'AccountOpened',
          streamId: 'account-a1',
          streamVersion: 1,
        }),
      ],
      account: { accountId: 'a1', account: { assetMode: 'SINGLE' } },
    });
    const state = await api.call('GET', '/accounts/a1', undefined, { key: A1_KEY });
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({ accountId: 'a1', vipLevel: 0, positionMode: 'ONE_WAY' });
  });

  it('publishes market data as an operator', async () => {
    const mark = await api.call('POST', '/market/mark-prices', {
      symbol: 'BTCUSDT',
      markPrice: '60000',
      at: at(1),
    });
    expect(mark.statusCode).toBe(200);
    expect(mark.json().events).toEqual([expect.objectContaining({ type: 'MarkPriceUpdated' })]);
    const index = await api.call('POST', '/market/asset-indexes', {
      asset: 'BTC',
      index: '60000',
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
      at: at(1),
    });
    expect(index.statusCode).toBe(200);
    const rate = await api.call('POST', '/market/funding-rates', {
      symbol: 'BTCUSDT',
      rate: '0.0001',
      at: at(1),
    });
    expect(rate.statusCode).toBe(200);
  });

  it('deposits, trades and shows the resulting margin state in the answer', async () => {
    const deposit = await api.call(
      'POST',
      '/accounts/a1/deposits',
      { asset: 'USDT', amount: '10000', at: at(2) },
      { key: A1_KEY },
    );
    expect(deposit.statusCode).toBe(200);
    expect(deposit.json().account.assets.USDT.walletBalance).toBe('10000');
    const leverage = await api.call(
      'POST',
      '/accounts/a1/leverage',
      { symbol: 'BTCUSDT', leverage: 10, at: at(3) },
      { key: A1_KEY },
    );
    expect(leverage.statusCode).toBe(200);
    const fill = await api.call(
      'POST',
      '/accounts/a1/fills',
      { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.1', price: '60000', fee: '0', at: at(4) },
      { key: A1_KEY },
    );
    expect(fill.statusCode).toBe(200);
    expect((fill.json().events as Array<{ type: string }>).map((e) => e.type)).toContain(
      'PositionChanged',
    );
    expect(fill.json().account.positions.BTCUSDT).toMatchObject({
      positionAmt: '0.1',
      leverage: 10,
    });
    const withdraw = await api.call(
      'POST',
      '/accounts/a1/withdrawals',
      { asset: 'USDT', amount: '100', at: at(5) },
      { key: A1_KEY },
    );
    expect(withdraw.statusCode).toBe(200);
    expect(withdraw.json().account.assets.USDT.walletBalance).toBe('9900');
  });

  it('places and cancels orders (POST …/cancel and DELETE)', async () => {
    const order = { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.01', price: '59000' };
    const placed = await api.call(
      'POST',
      '/accounts/a1/orders',
      { ...order, orderId: 'o1', at: at(6) },
      { key: A1_KEY },
    );
    expect(placed.statusCode).toBe(201);
    expect(placed.json().account.openOrders).toHaveLength(1);
    const canceled = await api.call(
      'POST',
      '/accounts/a1/orders/o1/cancel',
      { at: at(7) },
      { key: A1_KEY },
    );
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json().events).toEqual([expect.objectContaining({ type: 'OrderCanceled' })]);
    await api.call(
      'POST',
      '/accounts/a1/orders',
      { ...order, orderId: 'o2', at: at(8) },
      { key: A1_KEY },
    );
    const deleted = await api.call(
      'DELETE',
      '/accounts/a1/orders/o2',
      { at: at(9) },
      { key: A1_KEY },
    );
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().account.openOrders).toHaveLength(0);
    const unknown = await api.call(
      'DELETE',
      '/accounts/a1/orders/nope',
      { at: at(9) },
      { key: A1_KEY },
    );
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'UNKNOWN_ORDER', binanceCode: -2011 });
  });

  it('changes margin type, position mode, VIP level and asset mode, and reads them back', async () => {
    const isolated = await api.call(
      'POST',
      '/accounts/a1/margin-type',
      { symbol: 'BNBUSDT', marginType: 'ISOLATED', at: at(10) },
      { key: A1_KEY },
    );
    expect(isolated.statusCode).toBe(200);
    const vip = await api.call(
      'POST',
      '/accounts/a1/vip-level',
      { vipLevel: 2, at: at(10) },
      { key: A1_KEY },
    );
    expect(vip.statusCode).toBe(200);
    expect(
      (await api.call('GET', '/accounts/a1/vip-level', undefined, { key: A1_KEY })).json(),
    ).toEqual({ vipLevel: 2 });
    // −4168's counterpart: to MULTI with an isolated symbol is −4167.
    const multi = await api.call(
      'POST',
      '/accounts/a1/asset-mode',
      { assetMode: 'MULTI', at: at(11) },
      { key: A1_KEY },
    );
    expect(multi.statusCode).toBe(400);
    expect(multi.json()).toMatchObject({
      code: 'ISOLATED_REJECT_WITH_JOINT_MARGIN',
      binanceCode: -4167,
      field: 'assetMode',
      pointer: '#/assetMode',
    });
    expect(
      (await api.call('GET', '/accounts/a1/asset-mode', undefined, { key: A1_KEY })).json(),
    ).toEqual({ assetMode: 'SINGLE' });
    expect(
      (await api.call('GET', '/accounts/a1/position-mode', undefined, { key: A1_KEY })).json(),
    ).toEqual({ positionMode: 'ONE_WAY' });
    const same = await api.call(
      'POST',
      '/accounts/a1/position-mode',
      { positionMode: 'ONE_WAY', at: at(12) },
      { key: A1_KEY },
    );
    expect(same.json()).toMatchObject({
      code: 'NO_NEED_TO_CHANGE_POSITION_SIDE',
      binanceCode: -4059,
    });
  });

  it('answers −4168 for ISOLATED in Multi-Assets Mode, with the JSON pointer of the field', async () => {
    await api.call('POST', '/accounts', { accountId: 'm1', assetMode: 'MULTI', at: at(13) });
    const response = await api.call('POST', '/accounts/m1/margin-type', {
      symbol: 'BTCUSDT',
      marginType: 'ISOLATED',
      at: at(14),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toEqual({
      type: 'urn:margin-ledger:problem:JOINT_MARGIN_REJECT_WITH_ISOLATED',
      title: 'The command was rejected',
      status: 400,
      detail: expect.any(String),
      instance: '/accounts/m1/margin-type',
      code: 'JOINT_MARGIN_REJECT_WITH_ISOLATED',
      binanceCode: -4168,
      field: 'marginType',
      pointer: '#/marginType',
    });
  });

  it('adjusts isolated margin', async () => {
    await api.call(
      'POST',
      '/accounts/a1/leverage',
      { symbol: 'BNBUSDT', leverage: 5, at: at(15) },
      { key: A1_KEY },
    );
    await api.call('POST', '/market/mark-prices', {
      symbol: 'BNBUSDT',
      markPrice: '600',
      at: at(15),
    });
    const fill = await api.call(
      'POST',
      '/accounts/a1/fills',
      { symbol: 'BNBUSDT', side: 'BUY', quantity: '1', price: '600', fee: '0', at: at(16) },
      { key: A1_KEY },
    );
    expect(fill.statusCode).toBe(200);
    const add = await api.call(
      'POST',
      '/accounts/a1/isolated-margin',
      { symbol: 'BNBUSDT', amount: '100', at: at(17) },
      { key: A1_KEY },
    );
    expect(add.statusCode).toBe(200);
    expect(add.json().events).toEqual([
      expect.objectContaining({ type: 'IsolatedMarginAdjusted' }),
    ]);
  });

  it('settles funding for position holders', async () => {
    const settled = await api.call('POST', '/market/funding-settlements', {
      symbol: 'BTCUSDT',
      at: at(20),
    });
    expect(settled.statusCode).toBe(200);
    expect(settled.json().events).toEqual([
      expect.objectContaining({ type: 'FundingSettlementRecorded', streamId: 'funding-BTCUSDT' }),
      expect.objectContaining({ type: 'FundingSettled', streamId: 'account-a1' }),
    ]);
  });

  it('publishes and lists reference-data versions', async () => {
    const published = await api.call('POST', '/reference-data', {
      version: 'e2e-v2',
      overrides: {},
      at: at(21),
    });
    expect(published.statusCode).toBe(201);
    const list = await api.call('GET', '/reference-data');
    expect(list.statusCode).toBe(200);
    expect((list.json().versions as Array<{ version: string }>).map((v) => v.version)).toContain(
      'e2e-v2',
    );
    expect((await api.call('GET', '/reference-data/e2e-v2')).statusCode).toBe(200);
    expect((await api.call('GET', '/reference-data/none')).statusCode).toBe(404);
  });

  it('lists events with cursor pagination', async () => {
    const first = await api.call('GET', '/accounts/a1/events?limit=3', undefined, { key: A1_KEY });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ next: '3', hasMore: true });
    expect(
      (first.json().events as Array<{ streamVersion: number }>).map((e) => e.streamVersion),
    ).toEqual([1, 2, 3]);
    const all: number[] = [];
    let after = '0';
    for (;;) {
      const page = (
        await api.call('GET', `/accounts/a1/events?after=${after}&limit=4`, undefined, {
          key: A1_KEY,
        })
      ).json();
      all.push(...(page.events as Array<{ streamVersion: number }>).map((e) => e.streamVersion));
      after = page.next;
      if (!page.hasMore) break;
    }
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect((await api.call('GET', '/accounts/a1/events?after=x')).json()).toMatchObject({
      code: 'INVALID_CURSOR',
    });
    expect((await api.call('GET', '/accounts/a1/events?limit=0')).json()).toMatchObject({
      code: 'INVALID_LIMIT',
    });
    expect((await api.call('GET', '/accounts/nobody/events')).statusCode).toBe(404);
  });

  it('answers the state as of a time and as of a global position', async () => {
    const asOfTime = await api.call(
      'GET',
      `/accounts/a1?asOf=${encodeURIComponent(at(2))}`,
      undefined,
      { key: A1_KEY },
    );
    expect(asOfTime.statusCode).toBe(200);
    expect(asOfTime.json().assets.USDT.walletBalance).toBe('10000');
    expect(asOfTime.json().positions).toEqual({});
    const events = (
      await api.call('GET', '/accounts/a1/events?limit=1', undefined, { key: A1_KEY })
    ).json().events;
    const asOfPosition = await api.call(
      'GET',
      `/accounts/a1?asOf=${events[0].globalPosition}`,
      undefined,
      { key: A1_KEY },
    );
    expect(asOfPosition.statusCode).toBe(200);
    expect(asOfPosition.json().assets.USDT.walletBalance).toBe('0');
    const bad = await api.call('GET', '/accounts/a1?asOf=yesterday', undefined, { key: A1_KEY });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_TIME', field: 'asOf' });
    expect(
      (await api.call('GET', `/accounts/a1?asOf=${encodeURIComponent('1999-01-01T00:00:00Z')}`))
        .statusCode,
    ).toBe(404);
  });

  it('reads the margin history (empty until its projection has run) and validates the range', async () => {
    const history = await api.call(
      'GET',
      `/accounts/a1/margin-history?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(59))}`,
      undefined,
      { key: A1_KEY },
    );
    expect(history.statusCode).toBe(200);
    expect(history.json()).toMatchObject({ points: expect.any(Array), hasMore: false });
    const bad = await api.call('GET', '/accounts/a1/margin-history?from=soon', undefined, {
      key: A1_KEY,
    });
    expect(bad.json()).toMatchObject({ status: 400, code: 'INVALID_TIME', field: 'from' });
    expect((await api.call('GET', '/accounts/zz/margin-history')).statusCode).toBe(404);
  });

  it('rejects bad requests with Problem Details and appends nothing', async () => {
    const before = await api.eventCount();
    const cases: Array<[string, unknown, string, number]> = [
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '1e3' }, 'INVALID_DECIMAL', 400],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '1.123456789' }, 'TOO_MANY_DECIMALS', 400],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: 5 }, 'INVALID_DECIMAL', 400],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '+5' }, 'INVALID_DECIMAL', 400],
      ['/accounts/a1/deposits', { asset: 'USDT' }, 'MISSING_FIELD', 400],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '5', extra: 1 }, 'UNKNOWN_FIELD', 400],
      ['/accounts/a1/deposits', { asset: 'NOPE', amount: '5' }, 'UNKNOWN_ASSET', 400],
      [
        '/accounts/a1/deposits',
        { asset: 'USDT', amount: '5', accountId: 'a2' },
        'INVALID_FIELD',
        400,
      ],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '5', at: 'noon' }, 'INVALID_TIME', 400],
      ['/accounts/a1/deposits', [1, 2], 'INVALID_BODY', 400],
      ['/accounts/a1/leverage', { symbol: 'NOPEUSDT', leverage: 5 }, 'UNKNOWN_SYMBOL', 400],
      ['/accounts/a1/leverage', { symbol: 'BTCUSDT', leverage: 500 }, 'INVALID_LEVERAGE', 400],
      ['/accounts/a1/deposits', '{"asset":', 'BAD_REQUEST', 400],
    ];
    for (const [url, body, code, status] of cases) {
      const response = await api.call('POST', url, body, { key: A1_KEY });
      expect({ url, body, status: response.statusCode, code: response.json().code }).toEqual({
        url,
        body,
        status,
        code,
      });
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
    const huge = await api.call(
      'POST',
      '/accounts/a1/deposits',
      { asset: 'USDT', amount: '1', pad: 'x'.repeat(70_000) },
      { key: A1_KEY },
    );
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await api.eventCount()).toBe(before);
  });

  it('serves the OpenAPI document with every endpoint, and /metrics', async () => {
    const doc = (await api.call('GET', '/docs/openapi.json', undefined, { key: null })).json();
    for (const path of [
      '/accounts',
      '/accounts/{accountId}/deposits',
      '/market/mark-prices',
      '/reference-data',
      '/accounts/{accountId}/stream',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const metrics = await api.call('GET', '/metrics', undefined, { key: null });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('ledger_commands_total{command="Deposit",outcome="accepted"}');
    expect(metrics.body).toContain('ledger_command_duration_seconds_bucket');
    expect(metrics.body).toContain('ledger_append_batch_events_bucket');
    expect(metrics.body).toMatch(/ledger_subscription_lag_events\{consumer="risk-saga"\} \d+/);
    expect(metrics.body).toContain('ledger_auto_exchanges_total');
    expect(metrics.body).toContain('ledger_liquidations_total');
  });

  it('echoes the correlation id and stores it in the events', async () => {
    const response = await api.call(
      'POST',
      '/accounts/a1/deposits',
      { asset: 'USDT', amount: '1', at: at(30) },
      { key: A1_KEY, headers: { 'x-correlation-id': 'corr-123' } },
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-correlation-id']).toBe('corr-123');
    const [row] = await api.database.store.query<{ c: string }>(
      `SELECT metadata->>'correlationId' AS c FROM events WHERE metadata->>'commandId' = $1`,
      [response.json().commandId],
    );
    expect(row?.c).toBe('corr-123');
  });
});
