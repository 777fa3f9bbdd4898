import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ExportedEvent } from '@ledger/ledger-application';
import {
  ImportConflictError,
  exportEvents,
  importEvents,
  rebuildAccountProjections,
  rebuildMarginHistory,
  verifyLedger,
} from '@ledger/ledger-application';
import { configuredTarget } from '../database-target';
import { ProgressBar } from '../progress';
import { openRuntime } from '../runtime';

/** `ledger verify`: replay every stream and compare with the projections; exit 1 and a diff on mismatch. */
export async function verifyCommand(): Promise<number> {
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    const bar = new ProgressBar('verify');
    const report = await verifyLedger(runtime.database.store, (done, total) =>
      bar.update(done, total),
    );
    bar.done(report.events, report.events);
    for (const m of report.mismatches) {
      console.log(`MISMATCH ${m.accountId} (${m.what})`);
      for (const line of m.diff) console.log(`    ${line}`);
    }
    console.log(
      `${report.accounts} accounts, ${report.events} events, ${report.snapshots} snapshots: ${report.mismatches.length === 0 ? 'clean' : `${report.mismatches.length} mismatches`}`,
    );
    return report.mismatches.length === 0 ? 0 : 1;
  } finally {
    await runtime.close();
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

/** `ledger import events.jsonl`: idempotent; a conflicting file is refused before anything is written. */
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
      `${report.lines} lines: ${report.appended} appended, ${report.alreadyPresent} already present`,
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
