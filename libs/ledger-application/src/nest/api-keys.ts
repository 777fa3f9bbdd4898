import { createHash, randomBytes } from 'node:crypto';
import type { EventStore } from '@ledger/event-store';
import { ACCOUNT_ID_PATTERN } from '../commands/command-schema';

/**
 * API keys (shared by the HTTP API and `ledger keys add`). A key is `lk_` + 32 random bytes (base64url); only its
 * SHA-256 is stored (a fast hash is enough for 256 random bits). The key id, the first 16 hex digits of the hash,
 * names the key in logs and scopes idempotency keys and command ids.
 */
export type ApiKeyRole = 'operator' | 'account';

export type ApiPrincipal =
  { keyId: string; role: 'operator' } | { keyId: string; role: 'account'; accountId: string };

export interface ApiKeyGrant {
  role: ApiKeyRole;
  accountId?: string;
}

export const API_KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export function generateApiKey(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyIdOfHash(hash: string): string {
  return hash.slice(0, 16);
}

export function principalOf(hash: string, grant: ApiKeyGrant): ApiPrincipal {
  const keyId = keyIdOfHash(hash);
  if (grant.role === 'operator') return { keyId, role: 'operator' };
  if (grant.accountId === undefined) throw new Error('an account key needs an account id');
  return { keyId, role: 'account', accountId: grant.accountId };
}

/**
 * `LEDGER_API_KEYS`: comma-separated `op:<key>` and `acct:<accountId>:<key>` entries (the account id may contain
 * `:`; the key is what follows the last one). Throws on a malformed entry: a typo must not start an open API.
 */
export function parseApiKeysConfig(text: string | undefined): Array<ApiKeyGrant & { key: string }> {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    const last = entry.lastIndexOf(':');
    const key = entry.slice(last + 1);
    const head = entry.slice(0, Math.max(last, 0));
    if (last < 0 || !API_KEY_PATTERN.test(key)) {
      throw new Error(
        'LEDGER_API_KEYS: each key must be 16–128 of A-Z a-z 0-9 _ - (op:<key> or acct:<id>:<key>)',
      );
    }
    if (head === 'op' || head === 'operator') return { role: 'operator', key };
    const account = /^(?:acct|account):(.+)$/.exec(head)?.[1];
    if (account !== undefined && ACCOUNT_ID_PATTERN.test(account))
      return { role: 'account', accountId: account, key };
    throw new Error(
      `LEDGER_API_KEYS: an entry must start with op: or acct:<accountId>: (got "${head}:…")`,
    );
  });
}

/** Stores a key's hash (the plain key is never stored); returns its key id. */
export async function addApiKey(
  store: EventStore,
  key: string,
  grant: ApiKeyGrant,
  label?: string,
): Promise<string> {
  if (
    grant.role === 'account' &&
    (grant.accountId === undefined || !ACCOUNT_ID_PATTERN.test(grant.accountId))
  ) {
    throw new Error('an account key needs an account id of 1–64 of A-Z a-z 0-9 _ . : -');
  }
  const hash = hashApiKey(key);
  const keyId = keyIdOfHash(hash);
  await store.query(
    `INSERT INTO api_keys (key_id, key_hash, role, account_id, label) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key_hash) DO NOTHING`,
    [keyId, hash, grant.role, grant.role === 'account' ? grant.accountId : null, label ?? null],
  );
  return keyId;
}

/** The grant of a stored, unrevoked key, by hash. */
export async function findApiKey(store: EventStore, hash: string): Promise<ApiPrincipal | null> {
  const [row] = await store.query<{ role: ApiKeyRole; account_id: string | null }>(
    'SELECT role, account_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [hash],
  );
  if (!row) return null;
  return principalOf(hash, {
    role: row.role,
    ...(row.account_id === null ? {} : { accountId: row.account_id }),
  });
}
