import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ExportedEvent } from '@ledger/ledger-application';
import {
  ImportConflictError,
  exportEvents,
  importEvents,
  rebuildAccountProjections,
  rebuildMarginHistory,
  verifyIsClean,
  verifyLedger,
} from '@ledger/ledger-application';
import type { VerifyReport } from '@ledger/ledger-application';
import { configuredTarget } from '../database-target';
import { ProgressBar } from '../progress';
import { openRuntime } from '../runtime';

/**
 * `ledger verify`: recompute every stream's hash chain, replay every account stream and compare with the
 * projections; exit 1 and name what differs (for a chain: stream, version, global position).
 */
export async function verifyCommand(): Promise<number> {
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    const chainBar = new ProgressBar('chains');
    const bar = new ProgressBar('verify');
    const report = await verifyLedger(
      runtime.database.store,
      (done, total) => bar.update(done, total),
      (done) => chainBar.update(done, done),
    );
    bar.done(report.events, report.events);
    printChains(report);
    for (const m of report.mismatches) {
      console.log(`MISMATCH ${m.accountId} (${m.what})`);
      for (const line of m.diff) console.log(`    ${line}`);
    }
    const problems = report.mismatches.length + (report.chains?.mismatches.length ?? 0);
    console.log(
      `${report.accounts} accounts, ${report.events} events, ${report.snapshots} snapshots: ${problems === 0 ? 'clean' : `${problems} mismatches`}`,
    );
    return verifyIsClean(report) ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

/** Streams named on the unhashed-prefix line before it says "and N more". */
const PREFIXES_NAMED = 10;

function printChains(report: VerifyReport): void {
  const chains = report.chains;
  if (!chains) {
    console.log('hash chains: not kept by this store');
    return;
  }
  const prefixed = chains.unhashedPrefixes;
  const unhashed = prefixed.reduce((sum, p) => sum + p.events, 0);
  const named = prefixed
    .slice(0, PREFIXES_NAMED)
    .map((p) => `${p.streamId} (${p.events})`)
    .join(', ');
  const more =
    prefixed.length > PREFIXES_NAMED ? `, and ${prefixed.length - PREFIXES_NAMED} more` : '';
  console.log(
    `hash chains: ${chains.streams} streams, ${chains.events} events, ${chains.hashedEvents} hashes match` +
      (prefixed.length === 0
        ? ''
        : `; unhashed prefix (stored before the chain) in ${prefixed.length} streams, ${unhashed} events: ${named}${more}`),
  );
  for (const m of chains.mismatches) {
    const position = m.globalPosition === null ? '' : `, global position ${m.globalPosition}`;
    console.log(`CHAIN MISMATCH ${m.streamId} version ${m.streamVersion}${position}: ${m.reason}`);
  }
}

/**
 * `ledger rebuild [accounts|margin-history]`: accounts are rebuilt in one transaction (readers see the old rows
 * until the commit); margin history side by side in `margin_history_next`, then swapped in one transaction.
 */
export async function rebuildCommand(projection: string | undefined): Promise<number> {
  if (projection !== undefined && projection !== 'accounts' && projection !== 'margin-history') {
    console.error(`unknown projection ${projection}; known: accounts, margin-history`);
    return 2;
  }
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false, marginHistory: false });
  try {
    if (projection === 'margin-history') {
      const bar = new ProgressBar('margin-history');
      const started = Date.now();
      const result = await rebuildMarginHistory(runtime.database.store, (p) =>
        bar.update(p.done, p.total),
      );
      bar.done(result.events, result.events);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `rebuilt margin history side by side: ${result.rows} rows from ${result.events} events in ${seconds.toFixed(1)} s`,
      );
      return 0;
    }
    const fold = new ProgressBar('fold ');
    const write = new ProgressBar('write');
    const started = Date.now();
    const result = await rebuildAccountProjections(runtime.database.store, (p) =>
      (p.phase === 'fold' ? fold : write).update(p.done, p.total),
    );
    write.done(result.accounts, result.accounts);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `rebuilt ${result.accounts} accounts from ${result.events} events in ${seconds.toFixed(1)} s (${Math.round(result.events / Math.max(seconds, 0.001))} events/s)`,
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

/** `ledger export [--stream S] > events.jsonl` */
export async function exportCommand(options: { stream?: string }): Promise<number> {
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    for await (const event of exportEvents(runtime.database.store, options.stream)) {
      process.stdout.write(`${JSON.stringify(event)}\n`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

/**
 * `ledger import events.jsonl`: all or nothing, idempotent; a conflicting or tampered file (hashes recomputed) and a
 * command id used by other events here are refused, and nothing is written.
 */
export async function importCommand(file: string): Promise<number> {
  const lines: ExportedEvent[] = [];
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of reader) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      lines.push(JSON.parse(line) as ExportedEvent);
    } catch {
      console.error(`line ${n}: not JSON`);
      return 1;
    }
  }
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    const report = await importEvents(runtime.database.store, lines);
    console.log(
      `${report.lines} lines: ${report.appended} appended, ${report.alreadyPresent} already present; ` +
        `${report.hashesChecked} hashes checked, ${report.unhashed} lines without a hash` +
        (report.rehashed === 0
          ? ''
          : `, ${report.rehashed} events hashed anew (their stream has unhashed events in the file)`),
    );
    return 0;
  } catch (error) {
    if (error instanceof ImportConflictError) {
      console.error(`refused: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await runtime.close();
  }
}
