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
 * `:`; the key is what follows the last one). Throws on a malformed entry, and on a key listed twice (which grant
 * would it carry?): a typo must not start an open API. Messages name entries by position and grant, and a key by
 * its key id, never by the key itself.
 */
export function parseApiKeysConfig(text: string | undefined): Array<ApiKeyGrant & { key: string }> {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const grants = entries.map((entry) => parseApiKeyEntry(entry));
  const firstEntryOf = new Map<string, number>();
  grants.forEach((grant, index) => {
    const first = firstEntryOf.get(grant.key);
    if (first === undefined) {
      firstEntryOf.set(grant.key, index);
      return;
    }
    const describe = (i: number): string => {
      const g = grants[i];
      return `entry ${i + 1} (${g?.role === 'account' ? `acct:${g.accountId}` : 'op'}:…)`;
    };
    throw new Error(
      `LEDGER_API_KEYS: ${describe(index)} repeats the key of ${describe(first)} ` +
        `(key id ${keyIdOfHash(hashApiKey(grant.key))}); list each key once`,
    );
  });
  return grants;
}

function parseApiKeyEntry(entry: string): ApiKeyGrant & { key: string } {
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

/** A stored key as `ledger keys list` shows it: never the key, which is not stored. */
export interface StoredApiKey {
  keyId: string;
  role: ApiKeyRole;
  accountId: string | null;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** Every key of `api_keys`, oldest first, revoked ones included. */
export function listApiKeys(store: EventStore): Promise<StoredApiKey[]> {
  return selectKeys(store, 'TRUE', []);
}

async function selectKeys(
  store: EventStore,
  where: string,
  params: unknown[],
): Promise<StoredApiKey[]> {
  const rows = await store.query<{
    key_id: string;
    role: ApiKeyRole;
    account_id: string | null;
    label: string | null;
    created_at: Date | string;
    revoked_at: Date | string | null;
  }>(
    `SELECT key_id, role, account_id, label, created_at, revoked_at FROM api_keys WHERE ${where}
      ORDER BY created_at, key_id`,
    params,
  );
  const iso = (value: Date | string): string => new Date(value).toISOString();
  return rows.map((row) => ({
    keyId: row.key_id,
    role: row.role,
    accountId: row.account_id,
    label: row.label,
    createdAt: iso(row.created_at),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  }));
}

/** A key id as printed by `ledger keys add` (16 hex digits), or the start of one (at least 6). */
const KEY_ID_PREFIX = /^[0-9a-f]{6,16}$/;

export type RevokeOutcome =
  | { outcome: 'revoked'; key: StoredApiKey }
  | { outcome: 'already-revoked'; key: StoredApiKey }
  | { outcome: 'not-found' }
  | { outcome: 'ambiguous'; keyIds: string[] };

/**
 * Revokes a stored key, named by the key itself or by its key id (or a unique start of it, ≥ 6 hex digits): the
 * key is tried first, as its hash, so a key that happens to look like hex is never mistaken for an id. Revocation
 * sets `revoked_at`; the API looks every stored key up on each request, so every instance answers 401 at once.
 * Keys of LEDGER_API_KEYS are not stored: remove them from the variable and restart.
 */
export async function revokeApiKey(store: EventStore, keyOrId: string): Promise<RevokeOutcome> {
  const byHash = await selectKeys(store, 'key_hash = $1', [hashApiKey(keyOrId)]);
  const matches =
    byHash.length > 0 || !KEY_ID_PREFIX.test(keyOrId)
      ? byHash
      : await selectKeys(store, "key_id LIKE $1 || '%'", [keyOrId]);
  const [match] = matches;
  if (!match) return { outcome: 'not-found' };
  if (matches.length > 1) return { outcome: 'ambiguous', keyIds: matches.map((k) => k.keyId) };
  if (match.revokedAt !== null) return { outcome: 'already-revoked', key: match };
  await store.query(
    'UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
    [match.keyId],
  );
  const [revoked] = await selectKeys(store, 'key_id = $1', [match.keyId]);
  return { outcome: 'revoked', key: revoked ?? match };
}
