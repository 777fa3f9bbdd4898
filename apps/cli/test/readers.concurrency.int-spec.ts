/**
 * The CLI's read and audit commands (`state`, `replay`, `export`, `verify`) on PostgreSQL while a service holds
 * the durable consumers' locks (the risk saga's and margin history's): they answer instead of waiting forever for
 * a lock they do not need. Before the fix, `state` opened margin history's consumer and hung in its lock wait.
 * Real PostgreSQL only (two holders of one database).
 */
import type { LedgerRuntime } from '@ledger/ledger-application';
import { openLedgerRuntime } from '@ledger/ledger-application';
import type { TestDatabase } from '@ledger/testing';
import { createConcurrencyTestDatabase } from '@ledger/testing';
import { ALL_MIGRATIONS } from '../../../migrations';
import { exportCommand, verifyCommand } from '../src/commands/maintenance';
import { replayCommand } from '../src/commands/replay';
import { stateCommand } from '../src/commands/state';

jest.setTimeout(300_000);

let db: TestDatabase & { url: string };
let service: LedgerRuntime;
const savedUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  db = await createConcurrencyTestDatabase('cli-readers');
  service = await openLedgerRuntime({ url: db.url, migrations: ALL_MIGRATIONS });
  const at = '2024-06-01T00:00:00.000Z';
  await service.ledger.execute({ command: 'OpenAccount', accountId: 'r1' }, { commandId: 'o', at });
  await service.ledger.execute(
    { command: 'Deposit', accountId: 'r1', asset: 'USDT', amount: '125' },
    { commandId: 'd', at },
  );
  await service.ledger.settle();
  process.env.DATABASE_URL = db.url;
});

afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await service?.close();
  await db?.drop();
});

/** Runs a command, returning its exit code and what it printed. */
async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(`${args.map(String).join(' ')}\n`);
  });
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run();
    return { code, out: lines.join('').trim() };
  } finally {
    log.mockRestore();
    write.mockRestore();
    stderr.mockRestore();
  }
}

describe('CLI readers beside a running service on PostgreSQL', () => {
  it('the service holds both consumer locks', async () => {
    const holders = await db.store.query<{ application_name: string }>(
      `SELECT application_name FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'ledger-consumer:%'`,
    );
    expect(holders.map((h) => h.application_name).sort()).toEqual([
      'ledger-consumer:margin-history',
      'ledger-consumer:risk-saga',
    ]);
  });

  it('state answers with the account', async () => {
    const { code, out } = await captured(() => stateCommand('r1', {}));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ accountId: 'r1' });
    expect(out).toContain('"125');
  });

  it('replay answers with each event', async () => {
    const { code, out } = await captured(() => replayCommand('r1', { json: true }));
    expect(code).toBe(0);
    expect(out.split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'AccountOpened',
      'Deposited',
    ]);
  });

  it('export writes every event and verify is clean', async () => {
    const exported = await captured(() => exportCommand({ stream: 'account-r1' }));
    expect(exported.code).toBe(0);
    expect(exported.out.split('\n')).toHaveLength(2);
    const verified = await captured(() => verifyCommand());
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/clean/);
  });
});
