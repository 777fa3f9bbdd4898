/**
 * The cross-process wake-up signal (append-signal.ts): requests made while one signal is in flight, or within the
 * minimum interval, become ONE more signal, never none (a commit is never left unannounced) and never one each.
 */
import { CoalescingSignal } from './append-signal';

function harness(minIntervalMs = 5) {
  let now = 0;
  const sends: Array<() => void> = [];
  const signal = new CoalescingSignal(
    () => new Promise<void>((resolve) => sends.push(resolve)),
    (error) => {
      throw error;
    },
    minIntervalMs,
    () => now,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    signal,
    sends,
    settle,
    advance: (ms: number) => (now += ms),
  };
}

describe('CoalescingSignal', () => {
  it('sends at once when idle, and one more for every burst of requests made while a send is in flight', async () => {
    const { signal, sends, settle, advance } = harness(0);
    signal.request();
    expect(sends).toHaveLength(1);
    signal.request();
    signal.request();
    signal.request();
    expect(sends).toHaveLength(1);
    advance(1);
    sends[0]!();
    await settle();
    expect(sends).toHaveLength(2);
    sends[1]!();
    await settle();
    expect(sends).toHaveLength(2);
    await signal.close();
  });

  it('keeps signals at least the minimum interval apart, still sending the last one', async () => {
    jest.useFakeTimers();
    try {
      const { signal, sends, advance } = harness(5);
      signal.request();
      sends[0]!();
      await jest.advanceTimersByTimeAsync(0);
      signal.request();
      signal.request();
      expect(sends).toHaveLength(1);
      advance(5);
      await jest.advanceTimersByTimeAsync(5);
      expect(sends).toHaveLength(2);
      sends[1]!();
      await signal.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends nothing after close, and close waits for the send in flight', async () => {
    const { signal, sends, settle } = harness(0);
    signal.request();
    let closed = false;
    const closing = signal.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    sends[0]!();
    await closing;
    signal.request();
    expect(sends).toHaveLength(1);
  });
});
