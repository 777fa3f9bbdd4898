/** Paths where two JSON values differ, for readable verify reports (`wallets[1][1]: "10" ≠ "12"`). */
export function jsonDiff(
  expected: unknown,
  actual: unknown,
  path = '$',
  out: string[] = [],
): string[] {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return out;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) jsonDiff(expected[i], actual[i], `${path}[${i}]`, out);
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      jsonDiff(expected[key], actual[key], `${path}.${key}`, out);
    }
    return out;
  }
  out.push(`${path}: expected ${JSON.stringify(expected)}, projected ${JSON.stringify(actual)}`);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
