/*
 * `ledger verify`, `ledger export` and `ledger import` as an auditor runs them, on a database of their own
 * (TEST_DATABASE_URL's server, else PGlite in a temporary folder): verify reports the hash chains and is clean
 * after the tour; export writes every event with its hash; import refuses an export file edited afterwards,
 * naming the line and event (exit 1, nothing written); and after a superuser edits one event behind the ledger's
 * back (immutability trigger disabled), verify names it (stream, version, global position) and exits 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { openDatabase } from '@ledger/event-store';
import type { ExportedEvent } from '@ledger/ledger-application';

import { ALL_MIGRATIONS } from '../../../../migrations';
import { type DatabaseTarget, temporaryTarget } from '../database-target';
import { applyCommand } from './apply';
import { exportCommand, importCommand, verifyCommand } from './maintenance';

const TOUR = resolve(__dirname, '../../../../docs/tour.jsonl');

/** Runs a CLI command with its output captured (stdout, console.log and console.error). */
async function captured(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const collect = (chunk: unknown): void => {
    out += String(chunk);
  };
  /** A stream write: collected, and its callback called (`ledger apply` waits for it). */
  const write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    collect(chunk);
    const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(write),
    jest.spyOn(process.stderr, 'write').mockImplementation(write),
    jest
      .spyOn(console, 'log')
      .mockImplementation((...args: unknown[]) => collect(`${args.join(' ')}\n`)),
    jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => collect(`${args.join(' ')}\n`)),
    jest.spyOn(console, 'warn').mockImplementation(() => undefined),
  ];
  try {
    return { code: await run(), out };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('ledger verify / export / import and the hash chain', () => {
  const saved = { url: process.env.DATABASE_URL, dataDir: process.env.LEDGER_DATA_DIR };
  let target: DatabaseTarget;
  let dispose: () => Promise<void>;
  let files: string;

  beforeAll(async () => {
    if (process.env.TEST_DATABASE_URL) process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
    else delete process.env.DATABASE_URL;
    const temporary = await temporaryTarget();
    target = temporary.target;
    dispose = () => temporary.dispose();
    if (target.url) process.env.DATABASE_URL = target.url;
    else process.env.LEDGER_DATA_DIR = target.dataDir;
    files = mkdtempSync(join(tmpdir(), 'ledger-cli-test-'));
    expect((await captured(() => applyCommand(TOUR, {}))).code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await dispose?.();
    rmSync(files, { recursive: true, force: true });
    if (saved.url === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved.url;
    if (saved.dataDir === undefined) delete process.env.LEDGER_DATA_DIR;
    else process.env.LEDGER_DATA_DIR = saved.dataDir;
  });

  let exported: ExportedEvent[] = [];

  it('verify reports every chain and is clean after the tour', async () => {
    const { code, out } = await captured(() => verifyCommand());
    expect(out).toMatch(/hash chains: \d+ streams, (\d+) events, \1 hashes match\n/);
    expect(out).toMatch(/: clean\n/);
    expect(code).toBe(0);
  }, 300_000);

  it('export writes every event with its hash; import refuses the file once edited, writing nothing', async () => {
    const { code, out } = await captured(() => exportCommand({}));
    expect(code).toBe(0);
    exported = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ExportedEvent);
    expect(exported.length).toBeGreaterThanOrEqual(8);
    expect(exported.every((e) => /^[0-9a-f]{64}$/.test(e.hash ?? ''))).toBe(true);

    const i = exported.findIndex((e) => e.type === 'Deposited');
    const victim = exported[i]!;
    const file = join(files, 'tampered.jsonl');
    writeFileSync(
      file,
      exported
        .map((e, n) =>
          JSON.stringify(n === i ? { ...e, data: { ...e.data, amount: '1000000' } } : e),
        )
        .join('\n'),
    );
    const refused = await captured(() => importCommand(file));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `refused: line ${i + 1}: ${victim.streamId} version ${victim.streamVersion} (global position ${victim.globalPosition} in the export): its hash does not match`,
    );

    const untouched = join(files, 'export.jsonl');
    writeFileSync(untouched, exported.map((e) => JSON.stringify(e)).join('\n'));
    const again = await captured(() => importCommand(untouched));
    expect(again.out).toContain(
      `${exported.length} lines: 0 appended, ${exported.length} already present; ${exported.length} hashes checked`,
    );
    expect(again.code).toBe(0);
  }, 300_000);

  it('verify names an event edited behind the ledger’s back and exits 1', async () => {
    const victim = exported.find((e) => e.streamId === 'account-a1' && e.type === 'Deposited')!;
    const database = await openDatabase({
      ...(target.url ? { url: target.url } : { dataDir: target.dataDir ?? '' }),
      migrations: ALL_MIGRATIONS,
    });
    try {
      await database.store.withTransaction(async (tx) => {
        await tx.query('ALTER TABLE events DISABLE TRIGGER events_are_immutable');
        await tx.query(
          `UPDATE events SET data = jsonb_set(data, '{amount}', '"1000000"') WHERE global_position = $1`,
          [victim.globalPosition],
        );
        await tx.query('ALTER TABLE events ENABLE TRIGGER events_are_immutable');
      });
    } finally {
      await database.close();
    }
    const { code, out } = await captured(() => verifyCommand());
    expect(out).toContain(
      `CHAIN MISMATCH ${victim.streamId} version ${victim.streamVersion}, global position ${victim.globalPosition}: stored hash`,
    );
    expect(code).toBe(1);
  }, 300_000);
});
