/**
 * Crash safety of the command path, end to end: `ledger apply - --settle` runs as a child process on a fresh
 * PostgreSQL database and is fed 2,000 mixed commands (accounts, deposits, fills at moving prices, mark-price and
 * asset-index ticks that drive the risk saga into auto-exchanges and liquidations, withdrawals, funding, and
 * commands rejected on purpose) through its stdin. It is killed with SIGKILL at seeded random points (during
 * start-up, mid-command, mid-saga), restarted, and sent every command it had not acknowledged, with the same
 * command id (a retry on an unknown outcome). Afterwards every acknowledged command is in the store exactly once,
 * the projections equal a replay, the saga acted at most once per trigger, and nothing is left for it to do.
 *
 * The CLI is compiled with swc into a private folder (node_modules/.cache/…), not dist/: another suite or a
 * developer running `npm run build` (which empties dist/ first) must not pull the program from under a restart.
 * `node <build>/apps/cli/src/main.js` is what `bin/ledger.js` loads from dist/.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '@ledger/testing';
import { createConcurrencyTestDatabase } from '@ledger/testing';
import { assessRisk } from '@ledger/margin-domain';
import { ALL_MIGRATIONS } from '../../../migrations';
import { foldAllAccounts, openLedgerRuntime, verifyLedger } from '../src';
import type { WorkloadCommand } from './workload';
import { generateWorkload, seededRandom, toApplyLine } from './workload';

const ROOT = resolve(__dirname, '../../..');
const SEED = 20240601;
const COMMANDS = 2000;
const KILLS = 6;

interface Ack {
  commandId: string | null;
  ok: boolean;
  duplicate?: boolean;
  events?: number;
  code?: string;
}

interface RunResult {
  acks: number;
  killed: boolean;
  exitCode: number | null;
  stderr: string;
}

let db: TestDatabase & { url: string };
let buildDir: string;

beforeAll(async () => {
  buildDir = join(
    ROOT,
    'node_modules',
    '.cache',
    `ledger-crash-safety-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(buildDir, { recursive: true });
  const swc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@swc', 'cli', 'bin', 'swc.js'),
      'apps',
      'libs',
      'migrations',
      '-d',
      buildDir,
      '--copy-files',
      '--quiet',
      '--ignore',
      '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/test/**,**/*.d.cts',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (swc.status !== 0) throw new Error(`swc build failed: ${swc.stderr}`);
  db = await createConcurrencyTestDatabase('crash_safety');
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/**
 * Starts `ledger apply - --settle`, writes `commands` to its stdin and collects the acknowledgements in order.
 * `kill` (if given) SIGKILLs the child after that many acks plus a delay, or after a delay from the start.
 */
function runChild(
  commands: WorkloadCommand[],
  onAck: (ack: Ack, index: number) => void,
  kill?: { afterAcks: number; delayMs: number } | { afterStartMs: number },
): Promise<RunResult> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [join(buildDir, 'apps', 'cli', 'src', 'main.js'), 'apply', '-', '--settle'],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, LEDGER_CONFIG_DIR: join(ROOT, 'config') },
      stdio: 'pipe',
    },
  );
  let acks = 0;
  let killed = false;
  let stderr = '';
  const doKill = (): void => {
    if (child.exitCode === null && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  child.stdin.on('error', () => undefined); // EPIPE after a kill
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const timers: NodeJS.Timeout[] = [];
  if (kill && 'afterStartMs' in kill) timers.push(setTimeout(doKill, kill.afterStartMs));
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (killed) return; // a line that raced the kill is not an acknowledgement we act on
    onAck(JSON.parse(line) as Ack, acks);
    acks += 1;
    if (kill && 'afterAcks' in kill && acks === kill.afterAcks)
      timers.push(setTimeout(doKill, kill.delayMs));
  });
  child.stdin.end(commands.map((c) => `${toApplyLine(c)}\n`).join(''));
  return new Promise((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      for (const t of timers) clearTimeout(t);
      resolveRun({ acks, killed, exitCode: code, stderr });
    });
  });
}

describe('ledger apply under SIGKILL', () => {
  it('applies every acknowledged command exactly once, loses none, and the saga acts once per trigger', async () => {
    const commands = generateWorkload({
      seed: SEED,
      count: COMMANDS,
      prefix: 'crash',
      singleAccounts: ['s1', 's2', 's3', 's4'],
      multiAccounts: ['m1', 'm2', 'm3'],
    });
    const random = seededRandom(SEED + 1);
    const acks = new Map<string, Ack>();
    const protocolErrors: string[] = [];
    let next = 0;
    let kills = 0;
    let runs = 0;
    let retriedAfterCrash = 0;
    const started = Date.now();

    while (next < commands.length) {
      runs += 1;
      const batch = commands.slice(next);
      const remainingKills = KILLS - kills;
      // The first planned kill hits start-up (migrations, saga catch-up); the others land after some acks, with
      // a delay that puts them inside a command, its settle, or between ack and the next command.
      const plan =
        remainingKills <= 0
          ? undefined
          : kills === 1
            ? { afterStartMs: 150 + Math.floor(random() * 600) }
            : {
                afterAcks: Math.min(
                  batch.length - 1,
                  20 + Math.floor(random() * (COMMANDS / (KILLS + 1))),
                ),
                delayMs: Math.floor(random() * 12),
              };
      const firstOfRun = next;
      const result = await runChild(
        batch,
        (ack, i) => {
          const expected = commands[firstOfRun + i];
          if (!expected || ack.commandId !== expected.commandId) {
            protocolErrors.push(`ack ${JSON.stringify(ack)} where ${expected?.commandId} was due`);
            return;
          }
          if (ack.duplicate && i === 0 && firstOfRun > 0) retriedAfterCrash += 1;
          acks.set(expected.commandId, ack);
          next = firstOfRun + i + 1;
        },
        plan,
      );
      if (result.killed) kills += 1;
      else if (result.exitCode !== 0)
        throw new Error(`ledger apply exited with ${result.exitCode}: ${result.stderr}`);
      if (runs > KILLS + 5)
        throw new Error(`no progress after ${runs} runs; stderr: ${result.stderr}`);
    }
    const seconds = (Date.now() - started) / 1000;

    expect(protocolErrors).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(acks.size).toBe(COMMANDS);

    // Rejected on purpose means rejected; the workload must really have exercised acceptance and rejection.
    const wronglyAccepted = commands
      .filter((c) => c.mustReject && acks.get(c.commandId)?.ok)
      .map((c) => c.commandId);
    expect(wronglyAccepted).toEqual([]);
    const rejected = [...acks.values()].filter((a) => !a.ok).length;
    expect(rejected).toBeGreaterThan(50);
    expect(COMMANDS - rejected).toBeGreaterThan(1500);

    // Events by command id (a SettleFunding's per-account events carry `<id>:funding:<account>`).
    const rows = await db.store.query<{
      command_id: string;
      n: string;
      txs: string;
      streams: string;
    }>(
      `SELECT metadata->>'commandId' AS command_id, count(*) AS n, count(DISTINCT transaction_id) AS txs,
              count(DISTINCT stream_id) AS streams
         FROM events GROUP BY 1`,
    );
    const stored = new Map(rows.map((r) => [r.command_id, Number(r.n)]));
    // No command id applied twice: all its events come from one append (one transaction, one stream).
    expect(
      rows.filter((r) => Number(r.txs) !== 1 || Number(r.streams) !== 1).map((r) => r.command_id),
    ).toEqual([]);
    // command_ids: exactly one row per command id that has events, naming exactly those events.
    const commandIdMismatches = await db.store.query<{
      command_id: string | null;
      event_id: string | null;
    }>(
      `SELECT c.command_id, e.id AS event_id
         FROM command_ids c
         FULL JOIN (SELECT metadata->>'commandId' AS id, array_agg(global_position ORDER BY global_position) AS pos
                      FROM events GROUP BY 1) e ON e.id = c.command_id
        WHERE c.command_id IS NULL OR e.id IS NULL OR c.global_positions <> e.pos`,
    );
    expect(commandIdMismatches).toEqual([]);

    const lost: string[] = [];
    for (const c of commands) {
      const ack = acks.get(c.commandId);
      if (!ack) continue;
      if (c.input.command === 'SettleFunding') {
        // Its record (under its own id) and one payment per recorded holder (`<id>:funding:<account>`).
        const paid = rows
          .filter(
            (r) =>
              r.command_id === c.commandId || r.command_id.startsWith(`${c.commandId}:funding:`),
          )
          .reduce((sum, r) => sum + Number(r.n), 0);
        // A retried settlement pays the recorded holders only; one liquidated meanwhile gets nothing, none twice.
        if (ack.ok && paid < (ack.events ?? 0))
          lost.push(`${c.commandId}: acked ${ack.events}, stored ${paid}`);
        continue;
      }
      const n = stored.get(c.commandId) ?? 0;
      if (ack.ok ? n !== ack.events : n !== 0)
        lost.push(`${c.commandId}: ack ${JSON.stringify(ack)}, stored ${n}`);
    }
    expect(lost).toEqual([]);

    // Per stream: versions 1..n without gaps, and the streams table agrees.
    const gaps = await db.store.query(
      `SELECT e.stream_id FROM events e JOIN streams s USING (stream_id)
        GROUP BY e.stream_id, s.version
       HAVING min(e.stream_version) <> 1 OR max(e.stream_version) <> count(*) OR s.version <> count(*)`,
    );
    expect(gaps).toEqual([]);

    // The saga acted at most once per (trigger, action, account, asset): no two commands did the same thing.
    const sagaDuplicates = await db.store.query(
      `SELECT stream_id, type, metadata->>'causationId' AS causation,
              coalesce(data->>'negAsset', data->>'asset', '') || ':' || coalesce(data->>'symbol', '') AS target,
              count(DISTINCT metadata->>'commandId') AS commands
         FROM events
        WHERE type IN ('AutoExchangeExecuted', 'LiquidationTriggered')
        GROUP BY 1, 2, 3, 4
       HAVING count(DISTINCT metadata->>'commandId') > 1`,
    );
    expect(sagaDuplicates).toEqual([]);
    const sagaActions = await db.store.query<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM events WHERE type IN ('AutoExchangeExecuted', 'LiquidationTriggered') GROUP BY 1`,
    );
    const byType = Object.fromEntries(sagaActions.map((r) => [r.type, Number(r.n)]));
    expect(byType.AutoExchangeExecuted ?? 0).toBeGreaterThan(0);
    expect(byType.LiquidationTriggered ?? 0).toBeGreaterThan(0);

    // Projections = replay (and every snapshot = replay of its prefix).
    const report = await verifyLedger(db.store);
    expect(report.mismatches).toEqual([]);
    expect(report.accounts).toBe(7);

    // A ledger opened on the same database, settled: the saga has nothing left to do.
    const runtime = await openLedgerRuntime({ url: db.url, migrations: ALL_MIGRATIONS });
    try {
      await runtime.ledger.settle();
      const folds = await foldAllAccounts(runtime.database.store);
      const due: string[] = [];
      for (const [id, account] of folds) {
        const actions = assessRisk(
          account.state,
          runtime.ledger.market,
          runtime.ledger.references.latest(),
        );
        if (actions.length > 0) due.push(`${id}: ${JSON.stringify(actions)}`);
      }
      expect(due).toEqual([]);
    } finally {
      await runtime.close();
    }

    console.log(
      `crash safety: ${COMMANDS} commands in ${runs} runs (${kills} SIGKILLs) in ${seconds.toFixed(1)} s; ` +
        `${rejected} rejected, ${retriedAfterCrash} retries found already applied; saga actions ${JSON.stringify(byType)}`,
    );
  }, 300_000);
});
