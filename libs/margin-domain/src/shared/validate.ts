import type { Dec } from '../money/decimal';
import { D, DECIMAL_INPUT_PATTERN, MAX_ABS_AMOUNT } from '../money/decimal';
import { LedgerDomainError } from './errors';

/**
 * Input validation shared by every decider: each failure names the field and carries a stable code (and Binance's
 * code where Binance has one). Decimal input: at most 8 decimals, no exponent, no leading '+', |x| ≤ 1e18.
 */
export function requireString(value: unknown, field: string): string {
  if (value === undefined || value === null) {
    throw new LedgerDomainError('MISSING_FIELD', `${field} is required`, {
      field,
      binanceCode: -1102,
    });
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new LedgerDomainError(
      'INVALID_FIELD',
      `${field} must be a non-empty string of at most 64 characters`,
      {
        field,
      },
    );
  }
  return value;
}

export function requireDecimal(value: unknown, field: string): Dec {
  if (value === undefined || value === null) {
    throw new LedgerDomainError('MISSING_FIELD', `${field} is required`, {
      field,
      binanceCode: -1102,
    });
  }
  if (typeof value !== 'string') {
    throw new LedgerDomainError('INVALID_DECIMAL', `${field} must be a decimal string`, {
      field,
      binanceCode: -1100,
    });
  }
  if (!DECIMAL_INPUT_PATTERN.test(value)) {
    if (/^-?(0|[1-9]\d*)\.\d{9,}$/.test(value)) {
      throw new LedgerDomainError('TOO_MANY_DECIMALS', `${field} has more than 8 decimals`, {
        field,
        binanceCode: -1111,
      });
    }
    throw new LedgerDomainError(
      'INVALID_DECIMAL',
      `${field} must be a decimal string with at most 8 decimals, no exponent and no '+'`,
      { field, binanceCode: -1100 },
    );
  }
  const parsed = new D(value);
  if (parsed.abs().gt(MAX_ABS_AMOUNT)) {
    throw new LedgerDomainError('AMOUNT_TOO_LARGE', `${field} exceeds 1e18 in absolute value`, {
      field,
    });
  }
  return parsed;
}

export function requirePositive(
  value: unknown,
  field: string,
  code: string,
  binanceCode?: number,
): Dec {
  const parsed = requireDecimal(value, field);
  if (parsed.lte(0)) {
    throw new LedgerDomainError(code, `${field} must be greater than 0`, {
      field,
      ...(binanceCode === undefined ? {} : { binanceCode }),
    });
  }
  return parsed;
}

export function requireInteger(
  value: unknown,
  field: string,
  minimum: number,
  maximum: number,
  code: string,
  binanceCode?: number,
): number {
  if (value === undefined || value === null) {
    throw new LedgerDomainError('MISSING_FIELD', `${field} is required`, {
      field,
      binanceCode: -1102,
    });
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw new LedgerDomainError(code, `${field} must be an integer from ${minimum} to ${maximum}`, {
      field,
      ...(binanceCode === undefined ? {} : { binanceCode }),
    });
  }
  return value;
}

export function requireEnum<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  fallback?: T,
  binanceCode?: number,
): T {
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (value === undefined || value === null) {
    throw new LedgerDomainError('MISSING_FIELD', `${field} is required`, {
      field,
      binanceCode: -1102,
    });
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new LedgerDomainError('INVALID_ENUM', `${field} must be one of ${allowed.join(', ')}`, {
      field,
      ...(binanceCode === undefined ? {} : { binanceCode }),
    });
  }
  return value as T;
}

export function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') {
    throw new LedgerDomainError('INVALID_FIELD', `${field} must be a boolean`, { field });
  }
  return value;
}
