/**
 * One open PGlite instance per data folder (issue: two processes on one embedded database lost writes). A second
 * opener, in another process or in this one, is refused with a message naming the holder (PID and instance id)
 * before PGlite reads a byte; the folder opens again once the holder closed it, or once the holder is gone
 * (SIGKILL leaves the lock file behind: it is taken over). Always PGlite on disk, whatever the jest project.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { transformFileSync } from '@swc/core';
import { ALL_MIGRATIONS } from '../../../migrations';
import type { LedgerDatabase } from '../src';
import { DATA_DIR_LOCK_FILE, DataDirLockedError, openDatabase } from '../src';

jest.setTimeout(300_000);

let workDir: string;
let dataDir: string;
let lockModule: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'ledger-lock-test-'));
  dataDir = join(workDir, 'data');
  // The lock module compiled on its own, so a plain child `node` can hold the lock as another process would.
  lockModule = join(workDir, 'data-dir-lock.js');
  const { code } = transformFileSync(resolve(__dirname, '../src/database/data-dir-lock.ts'), {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  writeFileSync(lockModule, code);
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const open = (): Promise<LedgerDatabase> => openDatabase({ dataDir, migrations: ALL_MIGRATIONS });

/** A child process that takes the folder's lock and keeps it until killed. */
async function holdInChild(): Promise<ChildProcessByStdio<null, Readable, null>> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(lockModule)}).acquireDataDirLock(${JSON.stringify(dataDir)});` +
        `console.log('locked'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) if (line === 'locked') break;
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

describe('one opener per PGlite data folder', () => {
  it('refuses a second opener in the same process, naming it, and opens again after close', async () => {
    const first = await open();
    try {
      const second = open();
      await expect(second).rejects.toThrow(DataDirLockedError);
      await expect(second).rejects.toThrow(/already open in this process \(instance [0-9a-f-]{36}/);
      // The refused opener changed nothing: the holder still writes and reads.
      await first.store.append('s-1', [event()], { commandId: 'c-1', expectedVersion: 0 });
      expect(await first.store.streamVersion('s-1')).toBe(1);
    } finally {
      await first.close();
    }
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);
    const again = await open();
    try {
      expect(await again.store.streamVersion('s-1')).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('refuses while another process holds the folder, naming its PID; takes over once it was killed', async () => {
    const child = await holdInChild();
    try {
      const holder = JSON.parse(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')) as {
        pid: number;
        instanceId: string;
      };
      expect(holder.pid).toBe(child.pid);
      const refused = open();
      await expect(refused).rejects.toThrow(DataDirLockedError);
      await expect(refused).rejects.toThrow(
        new RegExp(`in process ${child.pid} on .*instance ${holder.instanceId}`),
      );
    } finally {
      await killed(child);
    }
    // SIGKILL left the file: its holder is gone, so the next opener takes it over.
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(true);
    const db = await open();
    try {
      expect(await db.store.streamVersion('s-1')).toBe(1);
      const holder = JSON.parse(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')) as {
        pid: number;
      };
      expect(holder.pid).toBe(process.pid);
    } finally {
      await db.close();
    }
  });

  it('treats a lock naming a reused PID (another start time) as stale', async () => {
    writeFileSync(
      join(dataDir, DATA_DIR_LOCK_FILE),
      JSON.stringify({
        pid: process.ppid,
        instanceId: '00000000-0000-4000-8000-000000000000',
        hostname: (await import('node:os')).hostname(),
        command: 'an old process',
        since: '2020-01-01T00:00:00.000Z',
        processStartTicks: '1',
      }),
    );
    const db = await open();
    await db.close();
  });
});

function event() {
  return {
    type: 'Happened',
    schemaVersion: 1,
    data: { n: '1' },
    metadata: { commandId: 'c-1', occurredAt: '2024-01-01T00:00:00.000Z' },
  };
}
