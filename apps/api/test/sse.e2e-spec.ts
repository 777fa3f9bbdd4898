/**
 * Goal: live updates over SSE. An account's stream delivers every event of a scenario (TV-10, with the saga's
 * auto-exchange) exactly once and in order, each with its cursor id and the account's margin figures right after
 * that event (as of its global position); a client that disconnects halfway and reconnects with Last-Event-ID
 * misses nothing, sees nothing twice, and gets for each replayed event the figures a live subscriber received. The operators'
 * stream carries every stream's events; an account key cannot open another account's stream.
 */
import { type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  A1_KEY,
  A2_KEY,
  type ApiTestApp,
  BOOT_TIMEOUT_MS,
  OPERATOR_KEY,
  startApiTestApp,
} from './api-test-app';
import { commandSteps, loadScenario, requestOf, waitForEvents } from './scenario-driver';

interface SseMessage {
  id: string;
  data: {
    cursor: string;
    event: { type: string; globalPosition: string; streamId: string };
    margin?: { account: { totalWalletBalance: string } } | null;
  };
}

class SseClient {
  readonly messages: SseMessage[] = [];
  private response: IncomingMessage | undefined;
  private buffer = '';
  status = 0;

  constructor(private readonly base: string) {}

  open(path: string, key: string, lastEventId?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${path}`, {
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
      });
      req.on('response', (response) => {
        this.response = response;
        this.status = response.statusCode ?? 0;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.feed(chunk));
        response.on('error', () => undefined);
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const id = /^id: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (id !== undefined && data !== undefined)
        this.messages.push({ id, data: JSON.parse(data) as SseMessage['data'] });
    }
  }

  close(): void {
    this.response?.destroy();
  }

  async waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline)
        throw new Error(`SSE: ${this.messages.length} of ${count} messages`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('SSE live updates', () => {
  let api: ApiTestApp;
  let base: string;

  beforeAll(async () => {
    api = await startApiTestApp('api-sse');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await api?.close();
  });

  const allEvents = async (accountId: string) =>
    (await api.call('GET', `/accounts/${accountId}/events?limit=1000`)).json().events as Array<{
      globalPosition: string;
      type: string;
    }>;

  it('delivers every event of TV-10 exactly once, also across a reconnect with Last-Event-ID', async () => {
    const operatorStream = new SseClient(base);
    await operatorStream.open('/stream?from=start', OPERATOR_KEY);
    // Connected throughout: what a live subscriber receives, to compare the replays with.
    const live = new SseClient(base);
    await live.open('/accounts/a1/stream', OPERATOR_KEY);
    const first = new SseClient(base);
    await first.open('/accounts/a1/stream', OPERATOR_KEY);
    expect(first.status).toBe(200);
    const steps = commandSteps(loadScenario('tv-10-auto-exchange-threshold-vip1.json'));
    const half = Math.floor(steps.length / 2);
    for (const { index, step } of steps.slice(0, half)) {
      const { url, body } = requestOf(step);
      expect(
        (await api.call('POST', url, body, { headers: { 'idempotency-key': `sse-${index}` } }))
          .statusCode,
      ).toBeLessThan(300);
    }
    await first.waitFor((await allEvents('a1')).length);
    first.close();
    const resumeFrom = first.messages[first.messages.length - 1]!.id;
    expect(resumeFrom).toMatch(/^\d+:\d+$/);

    for (const { index, step } of steps.slice(half)) {
      const { url, body } = requestOf(step);
      expect(
        (await api.call('POST', url, body, { headers: { 'idempotency-key': `sse-${index}` } }))
          .statusCode,
      ).toBeLessThan(300);
    }
    await waitForEvents(api, 'a1', 0, ['AutoExchangeExecuted']);
    const second = new SseClient(base);
    await second.open('/accounts/a1/stream', A1_KEY, resumeFrom);
    const expected = await allEvents('a1');
    await second.waitFor(expected.length - first.messages.length);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may arrive
    second.close();

    // A late client replaying from the first event, once the account has moved on.
    const replay = new SseClient(base);
    await replay.open('/accounts/a1/stream', A1_KEY, first.messages[0]!.id);
    await replay.waitFor(expected.length - 1);
    await live.waitFor(expected.length);
    replay.close();
    live.close();

    // Each event carries the figures right after it, not the state at send time: a replay after a reconnect
    // carries exactly what the live subscriber received for the same event, and the as-of query agrees.
    const liveByCursor = new Map(live.messages.map((m) => [m.id, m.data.margin]));
    expect(live.messages.map((m) => m.data.event.globalPosition)).toEqual(
      expected.map((e) => e.globalPosition),
    );
    for (const message of [...second.messages, ...replay.messages, ...first.messages]) {
      expect({ id: message.id, margin: message.data.margin }).toEqual({
        id: message.id,
        margin: liveByCursor.get(message.id),
      });
    }
    for (const message of live.messages) {
      const asOf = await api.call('GET', `/accounts/a1?asOf=${message.data.event.globalPosition}`);
      expect(message.data.margin).toEqual(asOf.json());
    }
    const wallets = new Set(live.messages.map((m) => m.data.margin?.account.totalWalletBalance));
    expect(wallets.size).toBeGreaterThan(1); // the figures move along the events
    const current = (await api.call('GET', '/accounts/a1')).json();
    expect(replay.messages[0]!.data.margin).not.toEqual(current);

    const received = [...first.messages, ...second.messages].map(
      (m) => m.data.event.globalPosition,
    );
    expect(received).toEqual(expected.map((e) => e.globalPosition));
    expect(new Set(received).size).toBe(received.length);
    expect([...first.messages, ...second.messages].map((m) => m.data.event.type)).toContain(
      'AutoExchangeExecuted',
    );
    for (const message of [...first.messages, ...second.messages]) {
      expect(message.id).toBe(message.data.cursor);
      expect(message.data.margin).toMatchObject({ accountId: 'a1', account: expect.any(Object) });
    }

    // The operators' stream saw every event of every stream, once, in reader order.
    const [count] = await api.database.store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM events',
    );
    await operatorStream.waitFor(Number(count?.n));
    operatorStream.close();
    const positions = operatorStream.messages.map((m) => m.data.event.globalPosition);
    expect(new Set(positions).size).toBe(Number(count?.n));
    expect(operatorStream.messages.some((m) => m.data.event.streamId === 'asset-index')).toBe(true);
  }, 60_000);

  it("refuses another account's stream (404), the operators' stream to account keys (403), and a bad cursor (400)", async () => {
    const other = new SseClient(base);
    await other.open('/accounts/a1/stream', A2_KEY);
    expect(other.status).toBe(404);
    other.close();
    const all = new SseClient(base);
    await all.open('/stream', A1_KEY);
    expect(all.status).toBe(403);
    all.close();
    const bad = new SseClient(base);
    await bad.open('/accounts/a1/stream', A1_KEY, 'garbage');
    expect(bad.status).toBe(400);
    bad.close();
  });
});
