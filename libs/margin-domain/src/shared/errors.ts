/**
 * Business rejections (STYLE §4). Every rejection has a stable `code` (exact strings, no prefix, listed in
 * docs/error-codes.md), Binance's numeric code where Binance has one, and the field at fault where there is one.
 * A rejected command appends nothing.
 */
export class LedgerDomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: { binanceCode?: number; field?: string } = {},
  ) {
    super(message);
    this.name = 'LedgerDomainError';
  }

  get binanceCode(): number | undefined {
    return this.details.binanceCode;
  }

  get field(): string | undefined {
    return this.details.field;
  }
}

/** Programmer error: an invariant that must hold did not (STYLE §4: assert and crash; never caught). */
export class AssertionFailed extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionFailed';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}
