import Decimal from 'decimal.js';

/**
 * The domain's private Decimal constructor (STYLE §3, RULES §8 (iv)): precision 40, HALF_UP, never exponent
 * notation in `toString()`. A global `Decimal.set` elsewhere cannot change our maths.
 */
export const D = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Dec = Decimal;

export const ZERO: Dec = new D(0);
export const ONE: Dec = new D(1);

/** Decimals of every stored amount (RULES §8 (iv)). */
export const STORED_DECIMALS = 8;

/** Largest absolute amount or price accepted from a command (beyond it: `AMOUNT_TOO_LARGE`). */
export const MAX_ABS_AMOUNT: Dec = new D('1e18');

/** A decimal string as accepted on input: optional '-', digits, at most 8 decimals, no exponent, no '+'. */
export const DECIMAL_INPUT_PATTERN = /^-?(0|[1-9]\d*)(\.\d{1,8})?$/;

/** Parses a trusted decimal string (events, reference data). Throws on anything else: a programmer error. */
export function dec(value: string): Dec {
  if (typeof value !== 'string')
    throw new TypeError(`expected a decimal string, got ${typeof value}`);
  return new D(value);
}

/** Round to the stored scale, HALF_UP (RULES §8 (iv)). */
export function round8(value: Dec): Dec {
  return value.toDecimalPlaces(STORED_DECIMALS, D.ROUND_HALF_UP);
}

/** Round UP (away from zero) to `decimals`: auto-exchange sell quantities (RULES §3.2). */
export function roundUp(value: Dec, decimals: number): Dec {
  return value.toDecimalPlaces(decimals, D.ROUND_UP);
}

/** Canonical string of a decimal: no exponent, no trailing zeros, "-0" normalised to "0". */
export function str(value: Dec): string {
  if (value.isZero()) return '0';
  return value.toFixed();
}

export function max(a: Dec, b: Dec): Dec {
  return a.gte(b) ? a : b;
}

export function min(a: Dec, b: Dec): Dec {
  return a.lte(b) ? a : b;
}

export function sum(values: Iterable<Dec>): Dec {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}
