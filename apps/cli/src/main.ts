import 'reflect-metadata';
import { Command } from 'commander';
import { DataDirLockedError } from '@ledger/event-store';
import { LedgerDomainError } from '@ledger/margin-domain';
import { scenarioRun } from './commands/scenario-run';
import { stateCommand } from './commands/state';
import { replayCommand } from './commands/replay';
import {
  exportCommand,
  importCommand,
  rebuildCommand,
  verifyCommand,
} from './commands/maintenance';
import { keysAddCommand, keysListCommand, keysRevokeCommand } from './commands/keys';
import { benchCommand } from './commands/bench';
import { applyCommand } from './commands/apply';
import { parkedListCommand, parkedRetryCommand } from './commands/parked';
import type { SimCommandOptions } from './commands/sim';
import { simCommand } from './commands/sim';

/**
 * The `ledger` command. It works on DATABASE_URL (PostgreSQL) or the embedded PGlite in LEDGER_DATA_DIR
 * (default ./data); `scenario run` always uses a fresh temporary database per file.
 */
export function buildProgram(): Command {
  const program = new Command('ledger')
    .description(
      'Event-sourced Binance USDⓈ-M futures margin ledger: scenarios, state, replay, audit tools',
    )
    .showHelpAfterError();
  const exit = (code: Promise<number>): Promise<void> =>
    code.then((c) => void (process.exitCode = c));

  const scenario = program
    .command('scenario')
    .description('run scenario files (spec/scenario-format.md)');
  scenario
    .command('run')
    .description('run each FILE against a fresh, empty ledger and check its expectations')
    .argument('<files...>', 'scenario JSON files')
    .option('--json', 'print a machine-readable report instead of one line per step')
    .option(
      '--memory',
      'use the in-memory store instead of a temporary database (fast, not durable)',
    )
    .action((files: string[], opts: { json?: boolean; memory?: boolean }) =>
      exit(scenarioRun(files, opts)),
    );

  program
    .command('state')
    .description("print an account's margin state (Binance field names) as JSON")
    .argument('<account>', 'account id')
    .option('--as-of <point>', 'an ISO time (inclusive) or a global position')
    .action((account: string, opts: { asOf?: string }) => exit(stateCommand(account, opts)));

  program
    .command('replay')
    .description("print an account's events, each with the state change it caused")
    .argument('<account>', 'account id')
    .option('--to <point>', 'stop at an ISO time (inclusive) or a global position')
    .option('--json', 'one JSON object per event')
    .action((account: string, opts: { to?: string; json?: boolean }) =>
      exit(replayCommand(account, opts)),
    );

  program
    .command('verify')
    .description(
      "check every stream's hash chain, replay every stream and compare with the projections and snapshots; exit 1 on a mismatch",
    )
    .action(() => exit(verifyCommand()));

  program
    .command('rebuild')
    .description('rebuild a projection from the events (default: accounts), swapped in atomically')
    .argument('[projection]', 'accounts | margin-history')
    .action((projection: string | undefined) => exit(rebuildCommand(projection)));

  program
    .command('export')
    .description(
      'write every event (or one stream) as stored, with its hash, as JSON Lines to stdout',
    )
    .option('--stream <stream>', 'only this stream, e.g. account-a1')
    .action((opts: { stream?: string }) => exit(exportCommand(opts)));

  program
    .command('import')
    .description(
      'append the events of an export file, all or nothing; idempotent, checks the hashes, refuses conflicting or tampered files before writing',
    )
    .argument('<file>', 'a JSON Lines file written by `ledger export`')
    .action((file: string) => exit(importCommand(file)));

  program
    .command('apply')
    .description(
      'execute commands read as JSON Lines (each with a commandId), acknowledging each on stdout once committed',
    )
    .argument('[file]', 'a JSON Lines file of commands, or - for stdin (default)')
    .option('--settle', 'wait for the risk saga to act on each command before acknowledging it')
    .action((file: string | undefined, opts: { settle?: boolean }) =>
      exit(applyCommand(file, opts)),
    );

  program
    .command('bench')
    .description(
      'measure the ledger beside raw limits of the same database (bench/README.md); reports, never fails',
    )
    .option('--quick', 'small sizes: every figure in under 2 minutes')
    .option(
      '--only <figures>',
      'comma-separated: raw,commands,http,rebuild,as-of,fan-out,margin,sim',
    )
    .option('--backends <list>', 'postgres,pglite (default: both with DATABASE_URL, else pglite)')
    .option('--out <file>', 'results JSON (default bench/results/latest.json)')
    .action((opts: { quick?: boolean; only?: string; backends?: string; out?: string }) =>
      exit(benchCommand(opts)),
    );

  const parked = program
    .command('parked')
    .description('events the consumers parked after they kept failing: list them, retry them');
  parked
    .command('list', { isDefault: true })
    .description(
      'list parked events (and how many events of their stream wait behind each); the default of `ledger parked`',
    )
    .option('--consumer <name>', 'only this consumer, e.g. margin-history, risk-saga, event-bus')
    .option('--blocked', 'list the events waiting behind them too')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { consumer?: string; blocked?: boolean; json?: boolean }) =>
      exit(parkedListCommand(opts)),
    );
  parked
    .command('retry')
    .description(
      'deliver parked events again (then the events waiting behind them) and report each outcome; the ledger ' +
        'consumers run in this process while it waits unless another process holds them',
    )
    .argument('[ids...]', 'ids from `ledger parked`')
    .option('--all', 'every parked event (of --consumer)')
    .option('--consumer <name>', 'with --all: only this consumer')
    .option('--wait <seconds>', 'how long to wait for the outcomes', '30')
    .option('--json', 'print JSON instead of one line per event')
    .action(
      (ids: string[], opts: { all?: boolean; consumer?: string; wait?: string; json?: boolean }) =>
        exit(parkedRetryCommand(ids, opts)),
    );
  program
    .command('sim')
    .description(
      'seeded simulation with faults, checking every invariant after each step; exit 0 only when all held',
    )
    .option('--seed <n>', 'the seed (the same seed replays the same run on memory)', '1')
    .option('--steps <n>', 'steps to run', '1000')
    .option(
      '--backend <kind>',
      'memory | pglite | postgres (DATABASE_URL or TEST_DATABASE_URL)',
      'memory',
    )
    .option('--accounts <n>', 'accounts the workload opens (default 16)')
    .option('--check-every <k>', 'check everything every K steps (default 100; 25 on a database)')
    .option(
      '--no-crashes',
      'no crash points (after an append, inside a consumer batch, during a rebuild)',
    )
    .option('--no-restarts', 'no process restarts')
    .option('--no-rebuilds', 'no projection rebuilds')
    .option('--no-redelivery', 'no consumer batches failed after their handler ran')
    .option('--no-concurrency', 'no concurrent writers')
    .option('--no-determinism', 'memory: do not run the seed a second time to compare state hashes')
    .option('--no-shrink', 'on a failure, do not shrink it to a scenario file')
    .option('--shrink-budget <seconds>', 'time the shrinker may take', '60')
    .option('--step-timeout <seconds>', 'a step taking longer has stalled (a failure)', '120')
    .option('--known <checks>', 'comma-separated checks reported but not failed on (open findings)')
    .option('--out-dir <dir>', 'where the shrunk scenario goes (default <tmpdir>/ledger-sim)')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress lines')
    .option('--verbose', 'one line per step: its commands, their outcome, its duration')
    .action((opts: SimCommandOptions) => exit(simCommand(opts)));

  const keys = program.command('keys').description('API keys of the HTTP API (stored hashed)');
  keys
    .command('add')
    .description(
      'create an API key and print it once: --operator (everything) or --account ID (that account only)',
    )
    .option('--operator', 'an operator key: every account, market data, reference data')
    .option('--account <accountId>', 'a key for one account')
    .option('--label <text>', 'a note stored with the key')
    .action((opts: { operator?: boolean; account?: string; label?: string }) =>
      exit(keysAddCommand(opts)),
    );
  keys
    .command('revoke')
    .description(
      'revoke a stored API key at once (every API instance answers it 401 from the next request)',
    )
    .argument(
      '<key-or-id>',
      'the key itself, or its key id (16 hex digits, or a unique start of 6+)',
    )
    .action((keyOrId: string) => exit(keysRevokeCommand(keyOrId)));
  keys
    .command('list')
    .description(
      'list the stored API keys: key id, role, account, state, created, label (never a key)',
    )
    .option('--json', 'one JSON object per key')
    .action((opts: { json?: boolean }) => exit(keysListCommand(opts)));

  return program;
}

export function runCli(argv: string[] = process.argv): Promise<void> {
  return buildProgram()
    .parseAsync(argv)
    .then(() => undefined)
    .catch((error: unknown) => {
      if (error instanceof LedgerDomainError) console.error(`${error.code}: ${error.message}`);
      else if (error instanceof DataDirLockedError)
        console.error(`DATABASE_IN_USE: ${error.message}`);
      else console.error(error);
      process.exitCode = 2;
    });
}

if (require.main === module) void runCli();
