/** Timing helpers of the bench: a monotonic clock, latency percentiles and rounding for the report. */

export function nowMs(): number {
  return performance.now();
}

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  count: number;
}

/** Nearest-rank percentiles of latencies in milliseconds. */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN, count: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    p50: round(at(0.5), 3),
    p99: round(at(0.99), 3),
    p999: round(at(0.999), 3),
    max: round(sorted[sorted.length - 1] ?? NaN, 3),
    mean: round(sum / sorted.length, 3),
    count: sorted.length,
  };
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? round((count * 1000) / ms) : 0;
}

export function ratio(value: number, reference: number | undefined): number | null {
  if (reference === undefined || !(reference > 0) || !Number.isFinite(value)) return null;
  return round(value / reference, 3);
}

/** Runs `worker(client)` on `clients` concurrent loops until `durationMs` has passed; each loop awaits its work. */
export async function runFor(
  clients: number,
  durationMs: number,
  worker: (client: number) => Promise<void>,
): Promise<number> {
  const started = nowMs();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (nowMs() < deadline) await worker(client);
    }),
  );
  return nowMs() - started;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
