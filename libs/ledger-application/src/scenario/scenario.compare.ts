import { D } from '@ledger/margin-domain';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * spec/scenario-format.md "Decimal comparison": the actual value, rounded HALF_UP to as many decimals as the
 * expected string has, must equal the expected string. Other values compare exactly (null included).
 */
export function matches(expected: unknown, actual: unknown): boolean {
  if (
    typeof expected === 'string' &&
    DECIMAL.test(expected) &&
    typeof actual === 'string' &&
    DECIMAL.test(actual)
  ) {
    const decimals = expected.includes('.') ? expected.length - expected.indexOf('.') - 1 : 0;
    const rounded = new D(actual).toFixed(decimals, D.ROUND_HALF_UP);
    return (
      rounded === new D(expected).toFixed(decimals) ||
      (new D(rounded).isZero() && new D(expected).isZero())
    );
  }
  return expected === actual;
}

export function compareFields(
  prefix: string,
  expected: Record<string, unknown>,
  actual: Record<string, unknown> | undefined,
  failures: string[],
): void {
  for (const [key, value] of Object.entries(expected)) {
    const got = actual?.[key];
    if (got === undefined && value !== undefined) {
      failures.push(`${prefix}.${key}: expected ${JSON.stringify(value)}, got nothing`);
    } else if (!matches(value, got)) {
      failures.push(
        `${prefix}.${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got)}`,
      );
    }
  }
}
