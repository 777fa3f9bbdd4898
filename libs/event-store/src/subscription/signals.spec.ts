/*
 * The pump's wake-up latch never loses a wake that arrives before the pump waits, and a stop cuts every sleep
 * short, so stop() returns promptly.
 */
import { StopToken, WakeSignal } from './signals';

describe('WakeSignal', () => {
  it('remembers a wake that came before the wait', async () => {
    const signal = new WakeSignal();
    signal.wake();
    const startedAt = Date.now();
    await signal.wait(10_000);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('resolves a waiter on wake, and on timeout without one', async () => {
    const signal = new WakeSignal();
    const woken = signal.wait(10_000);
    signal.wake();
    await woken;
    const startedAt = Date.now();
    await signal.wait(20);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(15);
  });
});

describe('StopToken', () => {
  it('cuts every sleep short on stop, and sleeps no more once stopped', async () => {
    const token = new StopToken();
    const startedAt = Date.now();
    const sleeps = Promise.all([token.sleep(10_000), token.sleep(10_000)]);
    token.stop();
    await sleeps;
    await token.sleep(10_000);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(token.stopped).toBe(true);
  });
});
