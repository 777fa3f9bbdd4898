import { LedgerDomainError } from '@ledger/margin-domain';

/**
 * Text the ledger refuses anywhere it takes a string (command fields at any depth and their names, command ids,
 * HTTP path segments and query values): NUL, which PostgreSQL's `text` and `jsonb` cannot hold (the append
 * failed with a 500), and a UTF-16 surrogate that is not half of a pair, which is not Unicode text (`jsonb`
 * refuses it; a `text` parameter silently becomes U+FFFD). With the `u` flag a paired surrogate is one code point,
 * so the class matches lone surrogates only.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const ILLEGAL_TEXT_PATTERN = /[\u0000\uD800-\uDFFF]/u;

export function isLegalText(text: string): boolean {
  return !ILLEGAL_TEXT_PATTERN.test(text);
}

/**
 * The dotted path (below `root`) of the first string or object key in `value` that holds illegal text, or
 * undefined. Iterative, so a deeply nested body cannot overflow the stack. An illegal key is named with its
 * illegal characters replaced by U+FFFD, so the path itself is always legal text.
 */
export function findIllegalText(value: unknown, root: string): string | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: root }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value: current, path } = item;
    if (typeof current === 'string') {
      if (!isLegalText(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((element, i) =>
        pending.push({ value: element, path: join(path, String(i)) }),
      );
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, element] of Object.entries(current)) {
        if (!isLegalText(key)) return join(path, replaceIllegal(key));
        pending.push({ value: element, path: join(path, key) });
      }
    }
  }
  return undefined;
}

/** Throws ILLEGAL_CHARACTERS (Binance −1100, "Illegal characters found in a parameter") naming the field. */
export function assertLegalText(value: unknown, root: string): void {
  const field = findIllegalText(value, root);
  if (field === undefined) return;
  throw new LedgerDomainError(
    'ILLEGAL_CHARACTERS',
    `${field} contains a NUL character or a lone UTF-16 surrogate`,
    { field, binanceCode: -1100 },
  );
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function replaceIllegal(text: string): string {
  return text.replace(new RegExp(ILLEGAL_TEXT_PATTERN.source, 'gu'), '\uFFFD');
}
