/**
 * KeyedQueue: work for one key runs strictly one at a time in arrival order, also after a failure; different keys
 * overlap; the queue forgets a key once its work is done.
 */
import { KeyedQueue } from './keyed-queue';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedQueue', () => {
  it('serialises one key in arrival order, even when a job fails', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    let running = 0;
    const job =
      (name: string, fail = false) =>
      async () => {
        running += 1;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await tick(5);
        log.push(`end ${name}`);
        running -= 1;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run('a', job('1')),
      queue.run('a', job('2', true)),
      queue.run('a', job('3')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    await tick(0);
    expect(queue.size).toBe(0);
  });

  it('runs different keys concurrently', async () => {
    const queue = new KeyedQueue();
    let overlap = 0;
    let running = 0;
    const job = async () => {
      running += 1;
      overlap = Math.max(overlap, running);
      await tick(5);
      running -= 1;
    };
    await Promise.all([queue.run('a', job), queue.run('b', job), queue.run('c', job)]);
    expect(overlap).toBe(3);
  });
});
