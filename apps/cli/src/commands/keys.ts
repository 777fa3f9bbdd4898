import {
  addApiKey,
  generateApiKey,
  listApiKeys,
  revokeApiKey,
  type StoredApiKey,
} from '@ledger/ledger-application';
import { type LedgerDatabase, openDatabase } from '@ledger/event-store';
import { ALL_MIGRATIONS } from '../../../../migrations';
import { configuredTarget } from '../database-target';

/**
 * `ledger keys add --operator | --account ID [--label TEXT]`: creates an API key on the configured database
 * (DATABASE_URL, else the PGlite in LEDGER_DATA_DIR) and prints it once. Only its SHA-256 is stored. On PGlite,
 * stop the API first: the data folder is one process's (the same holds for `keys revoke` and `keys list`).
 */
export async function keysAddCommand(options: {
  operator?: boolean;
  account?: string;
  label?: string;
}): Promise<number> {
  if (Boolean(options.operator) === (options.account !== undefined)) {
    console.error('keys add: give exactly one of --operator or --account ID');
    return 2;
  }
  return withDatabase(async (database, label) => {
    const key = generateApiKey();
    const keyId = await addApiKey(
      database.store,
      key,
      options.operator ? { role: 'operator' } : { role: 'account', accountId: options.account },
      options.label,
    );
    console.error(
      `added ${options.operator ? 'an operator key' : `a key for account ${options.account}`} (key id ${keyId}) ` +
        `on ${label}. It is shown once; only its hash is stored:`,
    );
    console.log(key);
    return 0;
  });
}

/**
 * `ledger keys revoke <key | key id>`: revokes a key of `api_keys`, named by the key itself or by its key id (the
 * 16 hex digits `keys add` and `keys list` print, or a unique start of at least 6). Every API instance on the
 * database answers it 401 from the next request on. Exit status: 0 revoked (or already revoked), 1 no such key or
 * an ambiguous id start (nothing revoked). Keys of LEDGER_API_KEYS are not stored: remove them there and restart.
 */
export function keysRevokeCommand(keyOrId: string): Promise<number> {
  return withDatabase(async (database, label) => {
    const result = await revokeApiKey(database.store, keyOrId.trim());
    switch (result.outcome) {
      case 'revoked':
        console.error(`revoked ${describeKey(result.key)} on ${label}`);
        return 0;
      case 'already-revoked':
        console.error(`${describeKey(result.key)} was already revoked (${result.key.revokedAt})`);
        return 0;
      case 'ambiguous':
        console.error(
          `keys revoke: "${keyOrId}" starts ${result.keyIds.length} key ids (${result.keyIds.join(', ')}); ` +
            'give more digits. Nothing was revoked.',
        );
        return 1;
      case 'not-found':
        console.error(
          `keys revoke: no stored key is "${keyOrId}" or has that key id on ${label} ` +
            '(keys of LEDGER_API_KEYS are not stored: remove them from the variable and restart the API)',
        );
        return 1;
      default: {
        const exhaustive: never = result;
        throw new Error(`unexpected outcome ${JSON.stringify(exhaustive)}`);
      }
    }
  });
}

/** `ledger keys list [--json]`: every stored key (id, role, account, label, created, revoked); never a key. */
export function keysListCommand(options: { json?: boolean }): Promise<number> {
  return withDatabase(async (database) => {
    const keys = await listApiKeys(database.store);
    if (options.json) {
      for (const key of keys) console.log(JSON.stringify(key));
      return 0;
    }
    for (const key of keys) {
      console.log(
        [
          key.keyId,
          key.role === 'account' ? `account:${key.accountId}` : 'operator',
          key.revokedAt === null ? 'active' : `revoked ${key.revokedAt}`,
          `created ${key.createdAt}`,
          key.label ?? '',
        ]
          .join('  ')
          .trimEnd(),
      );
    }
    return 0;
  });
}

function describeKey(key: StoredApiKey): string {
  const grant = key.role === 'account' ? `account ${key.accountId}` : 'operator';
  return `key ${key.keyId} (${grant}${key.label === null ? '' : `, ${key.label}`})`;
}

/** The configured database (DATABASE_URL, else the PGlite in LEDGER_DATA_DIR), migrated, closed afterwards. */
async function withDatabase(
  work: (database: LedgerDatabase, label: string) => Promise<number>,
): Promise<number> {
  const target = configuredTarget();
  const database = await openDatabase({
    ...(target.url === undefined ? {} : { url: target.url }),
    ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
    migrations: ALL_MIGRATIONS,
  });
  try {
    return await work(database, target.label);
  } finally {
    await database.close();
  }
}
