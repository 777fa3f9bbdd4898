/**
 * Goal: the risk saga's outcomes are reachable through the API alone. TV-10 (RULES §9, §3.1–§3.3: a realized
 * USDC loss at the VIP 1 threshold is auto-exchanged from BTC) and a SINGLE cross liquidation (with the insurance
 * fund covering a gapped pool) are driven step by step over HTTP; the resulting events and margin state are
 * checked against the scenario files' expectations, and /metrics shows the risk saga's own counts of
 * the auto-exchange, the liquidations and its rejected commands.
 */
import { LEDGER, type Ledger } from '@ledger/ledger-application';
import { type ApiTestApp, BOOT_TIMEOUT_MS, startApiTestApp } from './api-test-app';
import {
  commandSteps,
  decimalMatches,
  loadScenario,
  requestOf,
  streamVersion,
  waitForEvents,
} from './scenario-driver';

/** The scenarios share the market streams, whose time never goes back: the second one runs a day later. */
const DAY_MS = 86_400_000;

describe('risk scenarios through the API', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp('api-risk');
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  async function run(
    file: string,
    prefix: string,
    until?: number,
    offsetMs = 0,
  ): Promise<Map<number, number>> {
    const versions = new Map<number, number>();
    for (const { index, step } of commandSteps(loadScenario(file), offsetMs)) {
      if (until !== undefined && index > until) break;
      const renamed =
        'accountId' in step ? { ...step, accountId: `${prefix}${String(step.accountId)}` } : step;
      const { url, body } = requestOf(renamed);
      const response = await api.call('POST', url, body, {
        headers: { 'idempotency-key': `${prefix}${file}#${index}` },
      });
      expect({
        index,
        status: response.statusCode,
        body: response.statusCode < 300 ? '' : response.body,
      }).toEqual({
        index,
        status: response.statusCode < 300 ? response.statusCode : 200,
        body: '',
      });
      versions.set(index, response.json().events.length);
    }
    return versions;
  }

  it('TV-10: the realized USDC loss at the threshold is auto-exchanged from BTC', async () => {
    const scenario = loadScenario('tv-10-auto-exchange-threshold-vip1.json');
    const closingFill = scenario.steps.findIndex((s, i) => i > 7 && s.command === 'Fill');
    await run('tv-10-auto-exchange-threshold-vip1.json', 'tv10-', closingFill - 1);
    const before = await streamVersion(api, 'tv10-a1');
    await run('tv-10-auto-exchange-threshold-vip1.json', 'tv10-');
    const types = await waitForEvents(api, 'tv10-a1', before, [
      'PositionChanged',
      'AutoExchangeExecuted',
    ]);
    expect(types).toEqual(['PositionChanged', 'AutoExchangeExecuted']);
    const state = (await api.call('GET', '/accounts/tv10-a1')).json();
    expect(state.positions.BTCUSDC).toBeUndefined();
    expect(decimalMatches(state.assets.USDC.walletBalance, '0.0003625')).toBe(true);
    expect(decimalMatches(state.assets.BTC.walletBalance, '0.29743589')).toBe(true);
    expect(decimalMatches(state.account.totalWalletBalance, '14128.20513750')).toBe(true);
    expect(decimalMatches(state.account.totalMarginBalance, '14128.20513750')).toBe(true);
  });

  it('SINGLE cross liquidation: closed at the mark, and the insurance fund covers the gapped pool', async () => {
    const file = 'single-cross-liquidation.json';
    const scenario = loadScenario(file);
    const lastUpdate = scenario.steps
      .map((s, i) => [s, i] as const)
      .filter(([s]) => s.command === 'UpdateMarkPrice')
      .map(([, i]) => i);
    const liquidatingTick = lastUpdate[lastUpdate.length - 2]!;
    await run(file, 'liq-', liquidatingTick - 1, DAY_MS);
    const a1Before = await streamVersion(api, 'liq-a1');
    const a2Before = await streamVersion(api, 'liq-a2');
    await run(file, 'liq-', undefined, DAY_MS);
    // The price ticks hit every holder of the symbol; the market streams are shared, so only the prefixed accounts count.
    expect(
      await waitForEvents(api, 'liq-a1', a1Before, [
        'LiquidationTriggered',
        'OrderCanceled',
        'PositionLiquidated',
      ]),
    ).toEqual(['LiquidationTriggered', 'OrderCanceled', 'PositionLiquidated']);
    expect(
      await waitForEvents(api, 'liq-a2', a2Before, [
        'LiquidationTriggered',
        'PositionLiquidated',
        'InsuranceFundCovered',
      ]),
    ).toEqual(['LiquidationTriggered', 'PositionLiquidated', 'InsuranceFundCovered']);
    const a1 = (await api.call('GET', '/accounts/liq-a1')).json();
    expect(a1.positions.BTCUSDT).toBeUndefined();
    expect(decimalMatches(a1.account.totalWalletBalance, '201')).toBe(true);
    expect(decimalMatches(a1.account.availableBalance, '201')).toBe(true);
    const a2 = (await api.call('GET', '/accounts/liq-a2')).json();
    expect(decimalMatches(a2.assets.USDC.walletBalance, '0')).toBe(true);
    const metrics = (await api.call('GET', '/metrics', undefined, { key: null })).body;
    expect(metrics).toMatch(/ledger_auto_exchanges_total [1-9]/);
    expect(metrics).toMatch(/ledger_liquidations_total [2-9]/);
    // The saga's own counters: they equal what it appended in this process.
    const saga = api.app.get<Ledger>(LEDGER).sagaMetrics()!;
    expect(metrics).toContain(`ledger_auto_exchanges_total ${saga.autoExchanges}`);
    expect(metrics).toContain(`ledger_liquidations_total ${saga.liquidations}`);
    expect(metrics).toContain(`ledger_risk_saga_rejected_total ${saga.rejected}`);
  });
});
