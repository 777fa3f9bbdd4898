import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { measureAsOf } from './as-of';
import { measureCommands } from './commands';
import { admin, withBenchDatabase } from './databases';
import { measureFanOut } from './fan-out';
import { measureHttp } from './http';
import { measureMarginMath } from './margin-math';
import type { BackendKind, BenchOptions, FigureName } from './options';
import { sizesFor } from './options';
import { measureRawLimits } from './raw-limits';
import { measureRebuild } from './rebuild';
import { measureSim } from './sim';
import type { BackendResults, BenchResults } from './report';
import { machineInfo, renderTable, verdicts } from './report';
import { log } from './stats';

function packageVersion(pkg: string): string {
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'node_modules', ...pkg.split('/'), 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function ledgerVersion(): string {
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'margin-ledger') return pkg.version ?? 'unknown';
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** One figure in its own fresh database; an error is recorded, never thrown (benchmarks report, they do not fail). */
async function figure(
  results: BackendResults,
  name: FigureName,
  options: BenchOptions,
  kind: BackendKind,
  work: (db: Parameters<Parameters<typeof withBenchDatabase>[2]>[0]) => Promise<void>,
): Promise<void> {
  if (!options.figures.includes(name)) return;
  try {
    await withBenchDatabase(kind, options.url, async (db) => {
      results.database ??=
        db.kind === 'postgres'
          ? 'ledger_bench_<random> per figure, dropped after'
          : 'PGlite in a temp dir per figure, deleted after';
      await work(db);
    });
  } catch (error) {
    results.errors[name] = error instanceof Error ? `${error.message}` : String(error);
    log(`${kind} ${name} failed: ${results.errors[name]}`);
    if (error instanceof Error && error.stack) log(error.stack);
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const startedAt = new Date().toISOString();
  const versions: Record<string, string> = {
    node: process.version,
    ledger: ledgerVersion(),
    pg: packageVersion('pg'),
    pglite: packageVersion('@electric-sql/pglite'),
    'decimal.js': packageVersion('decimal.js'),
  };
  if (options.url && options.backends.includes('postgres')) {
    try {
      const [row] = await admin<{ v: string; fsync: string; sc: string }>(
        options.url,
        `SELECT current_setting('server_version') AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc`,
      );
      versions.postgres = row?.v ?? 'unknown';
      versions.postgresDurability = `fsync=${row?.fsync ?? '?'}, synchronous_commit=${row?.sc ?? '?'}`;
    } catch (error) {
      versions.postgres = `unreachable: ${(error as Error).message}`;
    }
  }
  const results: BenchResults = {
    startedAt,
    finishedAt: startedAt,
    quick: options.quick,
    sizes: options.sizes,
    machine: machineInfo(),
    versions,
    backends: {},
    verdicts: [],
  };
  for (const kind of options.backends) {
    const sizes = sizesFor(kind, options.sizes);
    const r: BackendResults = { errors: {} };
    results.backends[kind] = r;
    log(`=== ${kind} ===`);
    await figure(r, 'raw', options, kind, async (db) => {
      r.raw = await measureRawLimits(db, sizes.rawSeconds);
    });
    await figure(r, 'commands', options, kind, async (db) => {
      r.commands = await measureCommands(
        db,
        {
          accounts: sizes.commandAccounts,
          seconds: sizes.commandSeconds,
          clients: sizes.commandClients,
          modes: ['per-command', 'group-commit'],
        },
        r.raw,
      );
    });
    await figure(r, 'http', options, kind, async (db) => {
      r.http = await measureHttp(
        db,
        {
          accounts: options.quick ? 500 : 2_000,
          seconds: sizes.httpSeconds,
          connections: sizes.commandClients,
        },
        r.commands,
      );
    });
    await figure(r, 'rebuild', options, kind, async (db) => {
      r.rebuild = await measureRebuild(db, sizes.rebuildEvents);
    });
    await figure(r, 'as-of', options, kind, async (db) => {
      r.asOf = await measureAsOf(db, {
        events: sizes.asOfEvents,
        samples: sizes.asOfSamples,
        samplesWithoutSnapshots: sizes.asOfSamplesWithoutSnapshots,
      });
    });
    await figure(r, 'fan-out', options, kind, async (db) => {
      r.fanOut = await measureFanOut(db, {
        positions: sizes.fanOutPositions,
        ticks: sizes.fanOutTicks,
        positionsPerAccount: sizes.positionsPerAccount,
      });
    });
    await figure(r, 'sim', options, kind, async (db) => {
      r.sim = await measureSim(sizes.simStepsDatabase, db);
    });
  }
  if (options.figures.includes('sim')) {
    try {
      results.simMemory = await measureSim(options.sizes.simSteps);
    } catch (error) {
      log(`sim memory failed: ${(error as Error).message}`);
    }
  }
  if (options.figures.includes('margin')) {
    try {
      results.marginMath = measureMarginMath(options.sizes.marginSeconds);
    } catch (error) {
      log(`margin math failed: ${(error as Error).message}`);
    }
  }
  results.finishedAt = new Date().toISOString();
  results.verdicts = verdicts(results);
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(renderTable(results));
  console.log(`\nresults: ${out}`);
  return results;
}
