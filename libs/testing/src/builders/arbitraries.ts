/**
 * fast-check arbitraries for property specs: decimal strings with a fixed number of
 * decimals, built from integers so that every value is exactly representable and no float ever enters the maths.
 */
import fc from 'fast-check';

/** A decimal string of `units` × 10^-scale, e.g. units 12345, scale 2 → "123.45". */
export function fromUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = scale === 0 ? '' : digits.slice(digits.length - scale).replace(/0+$/, '');
  const body = frac === '' ? int : `${int}.${frac}`;
  return negative && body !== '0' ? `-${body}` : body;
}

/**
 * A decimal string in [min, max] with at most `scale` (≤ 9) decimals. Drawn as one or two 32-bit integers (whole
 * part and fraction) and clamped, an order of magnitude cheaper than `fc.bigInt`; |min|, |max| must be < 2^31.
 */
export function decimalString(min: number, max: number, scale = 8): fc.Arbitrary<string> {
  const f = 10 ** scale;
  // min/max × 10^scale stay far below 2^53 for every range the specs use, so the rounding is exact.
  const lo = BigInt(Math.round(min * f));
  const hi = BigInt(Math.round(max * f));
  if (hi - lo < 2n ** 31n)
    return fc
      .integer({ min: 0, max: Number(hi - lo) })
      .map((u) => fromUnits(lo + BigInt(u), scale));
  return fc
    .tuple(
      fc.integer({ min: Math.floor(min), max: Math.ceil(max) }),
      fc.integer({ min: 0, max: f - 1 }),
    )
    .map(([whole, frac]) => {
      let units = BigInt(whole) * BigInt(f) + BigInt(frac);
      if (units < lo) units = lo;
      if (units > hi) units = hi;
      return fromUnits(units, scale);
    });
}

/** A cheap assertion for property bodies (jest's expect costs more than the code under test there). */
export function holds(condition: boolean, message = 'property violated'): void {
  if (!condition) throw new Error(message);
}
