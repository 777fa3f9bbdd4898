import { LedgerDomainError } from '@ledger/margin-domain';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Command times are ISO-8601 instants with a zone; stored as `Date#toISOString()` (UTC, milliseconds) so that
 * string order is time order.
 */
export function normalizeTime(value: unknown, field = 'at'): string {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) {
    throw new LedgerDomainError(
      'INVALID_TIME',
      `${field} must be an ISO-8601 instant with a zone, e.g. 2024-06-01T00:00:00Z`,
      {
        field,
      },
    );
  }
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new LedgerDomainError('INVALID_TIME', `${field} is not a valid time`, { field });
  }
  return time.toISOString();
}
