import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import type { ApiTestApp } from './api-test-app';

/** A scenario command step as an HTTP request: the README's routes, the same field names as the body. */
export function requestOf(step: Record<string, unknown>): {
  url: string;
  body: Record<string, unknown>;
} {
  const { command, accountId, ...fields } = step as {
    command: string;
    accountId?: string;
  } & Record<string, unknown>;
  const account = (path: string) => `/accounts/${String(accountId)}/${path}`;
  switch (command) {
    case 'OpenAccount':
      return { url: '/accounts', body: { accountId, ...fields } };
    case 'Deposit':
      return { url: account('deposits'), body: fields };
    case 'Withdraw':
      return { url: account('withdrawals'), body: fields };
    case 'Fill':
      return { url: account('fills'), body: fields };
    case 'PlaceOrder':
      return { url: account('orders'), body: fields };
    case 'CancelOrder': {
      const { orderId, ...rest } = fields;
      return { url: account(`orders/${String(orderId)}/cancel`), body: rest };
    }
    case 'SetLeverage':
      return { url: account('leverage'), body: fields };
    case 'SetMarginType':
      return { url: account('margin-type'), body: fields };
    case 'SwitchAssetMode':
      return { url: account('asset-mode'), body: fields };
    case 'SetPositionMode':
      return { url: account('position-mode'), body: fields };
    case 'SetVipLevel':
      return { url: account('vip-level'), body: fields };
    case 'AdjustIsolatedMargin':
      return { url: account('isolated-margin'), body: fields };
    case 'UpdateMarkPrice':
      return { url: '/market/mark-prices', body: fields };
    case 'UpdateAssetIndex':
      return { url: '/market/asset-indexes', body: fields };
    case 'SetFundingRate':
      return { url: '/market/funding-rates', body: fields };
    case 'SettleFunding':
      return { url: '/market/funding-settlements', body: fields };
    case 'PublishReferenceData':
      return { url: '/reference-data', body: fields };
    default:
      throw new Error(`no route for ${command}`);
  }
}

export interface Scenario {
  name: string;
  start: string;
  steps: Array<Record<string, unknown>>;
}

export function loadScenario(file: string): Scenario {
  return JSON.parse(readFileSync(join(__dirname, '../../../scenarios', file), 'utf8')) as Scenario;
}

/** The command steps with the scenario clock: `at` when given, else start, then +1 s per command step. */
export function commandSteps(
  scenario: Scenario,
  offsetMs = 0,
): Array<{ index: number; step: Record<string, unknown> }> {
  let clock = Date.parse(scenario.start) + offsetMs - 1000;
  const out: Array<{ index: number; step: Record<string, unknown> }> = [];
  scenario.steps.forEach((step, index) => {
    if (!('command' in step)) return;
    clock = typeof step.at === 'string' ? Date.parse(step.at) + offsetMs : clock + 1000;
    const { expectError: _e, commandId: _c, ...rest } = step;
    out.push({ index, step: { ...rest, at: new Date(clock).toISOString() } });
  });
  return out;
}

/** Waits until the account's events include `types` in order after stream version `afterVersion`. */
export async function waitForEvents(
  api: ApiTestApp,
  accountId: string,
  afterVersion: number,
  types: string[],
  timeoutMs = 15_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = (
      await api.call('GET', `/accounts/${accountId}/events?after=${afterVersion}&limit=1000`)
    ).json<{ events?: Array<{ type: string }> }>();
    const seen = (page.events ?? []).map((e) => e.type);
    let i = 0;
    for (const type of seen) if (type === types[i]) i += 1;
    if (i === types.length) return seen;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${types.join(', ')} on ${accountId}; saw ${seen.join(', ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function streamVersion(api: ApiTestApp, accountId: string): Promise<number> {
  const page = (await api.call('GET', `/accounts/${accountId}/events?limit=1000`)).json<{
    events?: unknown[];
  }>();
  return (page.events ?? []).length;
}

/** scenario-format's decimal comparison: the actual value rounded HALF_UP to the expected string's decimals. */
export function decimalMatches(actual: unknown, expected: string): boolean {
  if (typeof actual !== 'string') return false;
  const places = expected.includes('.') ? expected.split('.')[1]!.length : 0;
  return new Decimal(actual)
    .toDecimalPlaces(places, Decimal.ROUND_HALF_UP)
    .eq(new Decimal(expected));
}
