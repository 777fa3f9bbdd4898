import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LedgerDomainError } from '@ledger/margin-domain';

/** Name of the set the ledger runs on when nothing else is said (config/reference-data/binance-2024.json). */
export const DEFAULT_REFERENCE_DATA = 'binance-2024';

/** `LEDGER_CONFIG_DIR`, else the nearest `config/reference-data` above this file (source and dist layouts). */
export function referenceDataDir(): string {
  const configured = process.env.LEDGER_CONFIG_DIR;
  if (configured) return resolve(configured, 'reference-data');
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'config', 'reference-data');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('config/reference-data not found; set LEDGER_CONFIG_DIR');
    dir = parent;
  }
}

/** Reads a shipped set by name (the domain validates it). */
export function readShippedReferenceData(name: string): unknown {
  if (!/^[A-Za-z0-9._+-]{1,128}$/.test(name)) {
    throw new LedgerDomainError(
      'UNKNOWN_REFERENCE_DATA',
      `no shipped reference data named ${name}`,
      {
        field: 'referenceData',
      },
    );
  }
  const file = join(referenceDataDir(), `${name}.json`);
  if (!existsSync(file)) {
    throw new LedgerDomainError(
      'UNKNOWN_REFERENCE_DATA',
      `no shipped reference data named ${name}`,
      {
        field: 'referenceData',
      },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}
