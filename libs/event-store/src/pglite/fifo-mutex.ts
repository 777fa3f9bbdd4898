/** A FIFO mutex: waiters get the lock in arrival order, so no unit of work starves behind later ones. */
export class FifoMutex {
  private locked = false;
  private readonly queue: Array<() => void> = [];

  /** Resolves with the release function once the caller holds the lock. Release exactly once. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.locked = true;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.handOver();
        });
      };
      if (this.locked) this.queue.push(grant);
      else grant();
    });
  }

  get waiting(): number {
    return this.queue.length;
  }

  private handOver(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.locked = false;
  }
}
