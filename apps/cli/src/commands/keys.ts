import { addApiKey, generateApiKey } from '@ledger/ledger-application';
import { openDatabase } from '@ledger/event-store';
import { ALL_MIGRATIONS } from '../../../../migrations';
import { configuredTarget } from '../database-target';

/**
 * `ledger keys add --operator | --account ID [--label TEXT]`: creates an API key on the configured database
 * (DATABASE_URL, else the PGlite in LEDGER_DATA_DIR) and prints it once. Only its SHA-256 is stored. On PGlite,
 * stop the API first: the data folder is one process's.
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
  const target = configuredTarget();
  const database = await openDatabase({
    ...(target.url === undefined ? {} : { url: target.url }),
    ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
    migrations: ALL_MIGRATIONS,
  });
  try {
    const key = generateApiKey();
    const keyId = await addApiKey(
      database.store,
      key,
      options.operator ? { role: 'operator' } : { role: 'account', accountId: options.account },
      options.label,
    );
    console.error(
      `added ${options.operator ? 'an operator key' : `a key for account ${options.account}`} (key id ${keyId}) ` +
        `on ${target.label}. It is shown once; only its hash is stored:`,
    );
    console.log(key);
    return 0;
  } finally {
    await database.close();
  }
}
