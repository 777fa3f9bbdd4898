import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One open PGlite instance per data folder, across processes and within one. PGlite is a single PostgreSQL
 * session over plain files with no lock of its own: two openers of one folder each keep their own buffers and
 * write over each other (lost events, a stream read returning another account's event). So the opener takes
 * `<dataDir>/ledger.lock`, created exclusively, naming the holder; a second opener is refused with that name.
 * A lock whose holder is gone (a SIGKILL leaves the file behind) is taken over: the holder is gone when its PID
 * no longer runs on this host, or runs a different process (a PID reused after a reboot: the start time differs).
 */
export const DATA_DIR_LOCK_FILE = 'ledger.lock';

export interface DataDirLockHolder {
  pid: number;
  instanceId: string;
  hostname: string;
  /** The holder's command line, for the message. */
  command: string;
  /** When the lock was taken (ISO). */
  since: string;
  /** Linux: the process start time in clock ticks since boot (/proc/PID/stat field 22); null elsewhere. */
  processStartTicks: string | null;
}

/** The folder's embedded database is open elsewhere: the message names the holder and what to do. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirLockHolder,
  ) {
    const where =
      holder.pid === process.pid && holder.hostname === hostname()
        ? 'in this process'
        : `in process ${holder.pid} on ${holder.hostname}`;
    super(
      `the embedded database in ${dataDir} is already open ${where} ` +
        `(instance ${holder.instanceId}, since ${holder.since}: ${holder.command}). ` +
        `One process at a time may open an embedded database: stop that process, send the commands to its ` +
        `HTTP API, or use PostgreSQL (DATABASE_URL). If that process is gone, delete ` +
        `${join(dataDir, DATA_DIR_LOCK_FILE)}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly holder: DataDirLockHolder;
  /** Removes the lock file if it is still this opener's. Idempotent. */
  release(): void;
}

/** Folders locked by this process, by real path: a second opener in-process is refused without touching files. */
const lockedHere = new Map<string, DataDirLockHolder>();

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = realpathSync(dataDir);
  const file = join(dir, DATA_DIR_LOCK_FILE);
  const inProcess = lockedHere.get(dir);
  if (inProcess) throw new DataDirLockedError(dir, inProcess);
  const holder: DataDirLockHolder = {
    pid: process.pid,
    instanceId: randomUUID(),
    hostname: hostname(),
    command: process.argv.map((arg) => arg.replace(/^.*[/\\]/, '')).join(' '),
    since: new Date().toISOString(),
    processStartTicks: processStartTicks(process.pid),
  };
  // Two rounds: the second after removing a stale file (another opener may win the race for it: then we lose).
  for (let round = 0; round < 2; round++) {
    if (tryCreate(file, holder)) {
      lockedHere.set(dir, holder);
      return lockFor(dir, file, holder);
    }
    const current = readHolder(file);
    if (current === null) continue; // removed or half-written meanwhile: try again
    if (holderIsAlive(current)) throw new DataDirLockedError(dir, current);
    removeIfHeldBy(file, current.instanceId);
  }
  const current = readHolder(file);
  if (current) throw new DataDirLockedError(dir, current);
  throw new Error(`cannot take ${file}: another opener keeps replacing it`);
}

function lockFor(dir: string, file: string, holder: DataDirLockHolder): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    lockedHere.delete(dir);
    process.removeListener('exit', release);
    removeIfHeldBy(file, holder.instanceId);
  };
  // A normal exit (also process.exit) removes the file; a SIGKILL leaves it, and the next opener takes it over.
  process.on('exit', release);
  return { holder, release };
}

function tryCreate(file: string, holder: DataDirLockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(file: string): DataDirLockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DataDirLockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.instanceId !== 'string') return null;
    return {
      pid: parsed.pid,
      instanceId: parsed.instanceId,
      hostname: typeof parsed.hostname === 'string' ? parsed.hostname : 'unknown host',
      command: typeof parsed.command === 'string' ? parsed.command : 'unknown command',
      since: typeof parsed.since === 'string' ? parsed.since : 'unknown time',
      processStartTicks:
        typeof parsed.processStartTicks === 'string' ? parsed.processStartTicks : null,
    };
  } catch {
    return null;
  }
}

function holderIsAlive(holder: DataDirLockHolder): boolean {
  // Another host sharing the folder (a network mount): we cannot see its processes, so it counts as alive.
  if (holder.hostname !== hostname()) return true;
  // This process's own openers are in `lockedHere` (checked first): a file naming our PID is a leftover.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return sameProcess(holder);
}

/** The PID runs the process that wrote the lock (not one that reused its PID), as far as this OS can tell. */
function sameProcess(holder: DataDirLockHolder): boolean {
  if (holder.processStartTicks === null) return true;
  const now = processStartTicks(holder.pid);
  return now === null || now === holder.processStartTicks;
}

function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 of the whole line
  } catch {
    return null;
  }
}

function removeIfHeldBy(file: string, instanceId: string): void {
  const current = readHolder(file);
  if (current?.instanceId !== instanceId) return;
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
