/**
 * Wakes other processes' consumers after this process committed appends, outside any writing transaction
 * (issue 12; ARCHITECTURE "The event store"). NOTIFY inside the append made every appending transaction on the
 * server commit one at a time (the notification-queue lock is held through the commit); one `pg_notify` of its
 * own, after the commit, costs the writers nothing. Requests are coalesced: at most one signal in flight, and
 * signals at least `minIntervalMs` apart, so a busy process sends a few hundred a second at most however many
 * commands it commits. A signal is a hint: consumers also poll, and this process's own consumers are woken in
 * process at once.
 */
export class CoalescingSignal {
  private inFlight: Promise<void> | undefined;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly minIntervalMs = 5,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Asks for a signal: sent now, or once the one in flight or the interval is over (one for all requests). */
  request(): void {
    if (this.closed) return;
    if (this.inFlight || this.timer) {
      this.pending = true;
      return;
    }
    const waitMs = this.lastSentAtMs + this.minIntervalMs - this.now();
    if (waitMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.fire();
      }, waitMs);
      this.timer.unref();
      return;
    }
    this.fire();
  }

  /** Sends nothing more; resolves once the signal in flight (if any) has ended. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private fire(): void {
    this.pending = false;
    this.lastSentAtMs = this.now();
    this.inFlight = this.send()
      .catch(this.onError)
      .finally(() => {
        this.inFlight = undefined;
        if (this.pending) this.request();
      });
  }
}
