/**
 * Goal: GET /accounts/:id/margin-history answers the async `margin_history` projection with real rows: a deposit,
 * a fill, a mark-price move and more commands driven through HTTP give one point per account event (none for the
 * market's own events), each with the wallets and totals of the as-of query at that global position (so a point
 * after the price move carries the unrealized profit at the new price); `from`/`to` filter by time, inclusive;
 * `after`/`limit` page through the points without loss or overlap; a bad cursor is a 400.
 */
import Decimal from 'decimal.js';
import { LEDGER, type Ledger } from '@ledger/ledger-application';
import { A1_KEY, type ApiTestApp, BOOT_TIMEOUT_MS, startApiTestApp } from './api-test-app';

interface Point {
  globalPosition: string;
  occurredAt: string;
  eventType: string;
  totalWalletBalance: string;
  totalMarginBalance: string;
  totalMaintMargin: string;
  marginRatio: string | null;
  wallets: Record<string, string>;
}

const at = (minute: number): string => `2024-06-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

describe('margin history', () => {
  let api: ApiTestApp;
  let all: Point[];

  beforeAll(async () => {
    api = await startApiTestApp('api-margin-history');
    const steps: Array<[string, Record<string, unknown>, string?]> = [
      ['/accounts', { accountId: 'a1', at: at(0) }, A1_KEY],
      ['/market/mark-prices', { symbol: 'BTCUSDT', markPrice: '60000', at: at(1) }],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '10000', at: at(2) }, A1_KEY],
      ['/accounts/a1/leverage', { symbol: 'BTCUSDT', leverage: 10, at: at(3) }, A1_KEY],
      [
        '/accounts/a1/fills',
        { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.1', price: '60000', fee: '2.4', at: at(4) },
        A1_KEY,
      ],
      ['/market/mark-prices', { symbol: 'BTCUSDT', markPrice: '62000', at: at(5) }],
      ['/accounts/a1/deposits', { asset: 'USDT', amount: '100', at: at(6) }, A1_KEY],
      ['/accounts/a1/withdrawals', { asset: 'USDT', amount: '50', at: at(7) }, A1_KEY],
    ];
    for (const [url, body, key] of steps) {
      const response = await api.call('POST', url, body, key === undefined ? {} : { key });
      expect({ url, status: response.statusCode }).toEqual({
        url,
        status: response.statusCode < 300 ? response.statusCode : 200,
      });
    }
    await api.app.get<Ledger>(LEDGER).settle(); // the projection has caught up
    all = (await api.call('GET', '/accounts/a1/margin-history', undefined, { key: A1_KEY })).json()
      .points as Point[];
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  it('has one point per account event, in order, and none for the market events', async () => {
    const events = (
      await api.call('GET', '/accounts/a1/events?limit=1000', undefined, { key: A1_KEY })
    ).json().events as Array<{ globalPosition: string; type: string; occurredAt: string }>;
    expect(events.length).toBeGreaterThanOrEqual(6);
    expect(all.map((p) => [p.globalPosition, p.eventType, p.occurredAt])).toEqual(
      events.map((e) => [e.globalPosition, e.type, new Date(e.occurredAt).toISOString()]),
    );
  });

  it('carries, at each point, the figures of the as-of query at its global position', async () => {
    for (const point of all) {
      const view = (
        await api.call('GET', `/accounts/a1?asOf=${point.globalPosition}`, undefined, {
          key: A1_KEY,
        })
      ).json();
      const same = (a: string | null, b: string | null): boolean =>
        a === null || b === null ? a === b : new Decimal(a).eq(b);
      expect({
        at: point.globalPosition,
        wallet: same(point.totalWalletBalance, view.account.totalWalletBalance),
        margin: same(point.totalMarginBalance, view.account.totalMarginBalance),
        maint: same(point.totalMaintMargin, view.account.totalMaintMargin),
        ratio: same(point.marginRatio, view.account.marginRatio),
      }).toEqual({
        at: point.globalPosition,
        wallet: true,
        margin: true,
        maint: true,
        ratio: true,
      });
      for (const [asset, balance] of Object.entries(point.wallets)) {
        expect(new Decimal(balance).eq(view.assets[asset]?.walletBalance ?? '0')).toBe(true);
      }
    }
    // After the move to 62,000 the long 0.1 BTC is 200 USDT in profit: the margin balance shows it, the wallet not.
    const afterMove = all.find((p) => p.occurredAt === at(6))!;
    expect(new Decimal(afterMove.totalWalletBalance).eq('10097.6')).toBe(true);
    expect(new Decimal(afterMove.totalMarginBalance).eq('10297.6')).toBe(true);
    expect(new Decimal(afterMove.wallets.USDT!).eq('10097.6')).toBe(true);
    const last = all[all.length - 1]!;
    expect(last.eventType).toBe('Withdrawn');
    expect(new Decimal(last.totalWalletBalance).eq('10047.6')).toBe(true);
  });

  it('filters by time, both ends inclusive', async () => {
    const query = `from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(4))}`;
    const page = (
      await api.call('GET', `/accounts/a1/margin-history?${query}`, undefined, { key: A1_KEY })
    ).json();
    const expected = all.filter((p) => p.occurredAt >= at(2) && p.occurredAt <= at(4));
    expect(expected.map((p) => p.occurredAt)).toEqual(
      expect.arrayContaining([at(2), at(3), at(4)]),
    );
    expect(page).toEqual({
      points: expected,
      next: expected[expected.length - 1]!.globalPosition,
      hasMore: false,
    });
    const none = (
      await api.call(
        'GET',
        `/accounts/a1/margin-history?from=${encodeURIComponent(at(30))}`,
        undefined,
        { key: A1_KEY },
      )
    ).json();
    expect(none).toEqual({ points: [], next: null, hasMore: false });
  });

  it('pages with after/limit without loss or overlap, also inside a time range', async () => {
    const walk = async (query: string): Promise<Point[]> => {
      const out: Point[] = [];
      let cursor = '';
      for (let pages = 0; pages < 100; pages++) {
        const page = (
          await api.call('GET', `/accounts/a1/margin-history?limit=2${query}${cursor}`, undefined, {
            key: A1_KEY,
          })
        ).json();
        expect(page.points.length).toBeLessThanOrEqual(2);
        out.push(...(page.points as Point[]));
        if (!page.hasMore) return out;
        cursor = `&after=${String(page.next)}`;
      }
      throw new Error('too many pages');
    };
    expect(await walk('')).toEqual(all);
    const range = `&from=${encodeURIComponent(at(3))}&to=${encodeURIComponent(at(7))}`;
    expect(await walk(range)).toEqual(
      all.filter((p) => p.occurredAt >= at(3) && p.occurredAt <= at(7)),
    );
    const bad = await api.call('GET', '/accounts/a1/margin-history?after=x', undefined, {
      key: A1_KEY,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_CURSOR', field: 'after' });
    expect((await api.call('GET', '/accounts/a1/margin-history?limit=5001')).json()).toMatchObject({
      code: 'INVALID_LIMIT',
    });
  });
});
