/*
 * The FIFO mutex that serializes PGlite's units of work: one holder at a time, waiters served in arrival order,
 * and a release called twice does not let two waiters in.
 */
import { FifoMutex } from './fifo-mutex';

describe('FifoMutex', () => {
  it('lets one holder in at a time, in arrival order', async () => {
    const mutex = new FifoMutex();
    const order: string[] = [];
    let inside = 0;
    const work = async (name: string): Promise<void> => {
      const release = await mutex.acquire();
      inside += 1;
      expect(inside).toBe(1);
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inside -= 1;
      release();
    };
    await Promise.all(['a', 'b', 'c', 'd'].map(work));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ignores a second release of the same holder', async () => {
    const mutex = new FifoMutex();
    const release = await mutex.acquire();
    const second = mutex.acquire();
    const third = mutex.acquire();
    release();
    release();
    await second;
    expect(mutex.waiting).toBe(1);
    let thirdIn = false;
    void third.then(() => (thirdIn = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(thirdIn).toBe(false);
  });
});
