import { createHash } from 'node:crypto';

/**
 * The simulator's seeded pseudo-random numbers: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128 bits
 * of state, passes PractRand), seeded from sha256(seed, stream name). Independent named streams keep one part of
 * the simulator (the scheduler, say) from shifting the choices of another (the workload) when it draws more or
 * fewer numbers. The same seed gives the same sequence on every platform: only 32-bit integer arithmetic.
 *
 * Probabilities and choices use JS numbers; amounts never do (the workload builds decimal strings from integers).
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string, stream = 'main') {
    const digest = createHash('sha256')
      .update(`${String(seed)}\u0000${stream}`)
      .digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`int(${n})`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** An integer in [lo, hi], both inclusive. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.nextUint32() < p * 2 ** 32;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new RangeError('pick from an empty list');
    return list[this.int(list.length)] as T;
  }

  /** One of the entries, each with probability weight / Σ weights (integer weights). */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let x = this.int(total);
    for (const [value, weight] of entries) {
      if (x < weight) return value;
      x -= weight;
    }
    throw new Error('unreachable: weights changed during the draw');
  }
}
