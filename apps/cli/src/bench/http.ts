import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandFigures } from './commands';
import { MARK, setup } from './commands';
import type { BenchDatabase } from './databases';
import { log, nowMs, prng, ratio, round } from './stats';
import { openBenchLedger } from './workload';

export interface HttpRun {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  /** 2xx answers; non-2xx answers by status; transport errors and timeouts. */
  ok: number;
  non2xx: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** requests/s ÷ in-process per-command commands/s at the same number of clients (same run, other database). */
  ratioToInProcess: number | null;
}

export interface HttpFigures {
  measured: boolean;
  reason?: string;
  probe?: { path: string; status: number | null };
  accounts?: number;
  mix?: string;
  server?: string;
  runs?: HttpRun[];
}

/** The compiled API next to this CLI (dist/apps/api/src/main.js). */
function apiMain(): string {
  return join(__dirname, '..', '..', '..', 'api', 'src', 'main.js');
}

/** The subset of autocannon's API the bench uses (the package ships no types). */
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number; max: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
  '2xx': number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

function loadAutocannon(): Autocannon | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('autocannon') as Autocannon;
  } catch {
    return undefined;
  }
}

/**
 * The command mix of figure 2 over the API: the compiled API runs as a child on 127.0.0.1 against the bench
 * database (accounts opened and funded in process first) with an operator key; autocannon drives 50% deposits and
 * 50% fills over uniformly random accounts, each request with its own Idempotency-Key, for a bounded duration at
 * each number of connections. Loopback only.
 */
export async function measureHttp(
  db: BenchDatabase,
  options: { accounts: number; seconds: number; connections: number[] },
  inProcess: CommandFigures | undefined,
): Promise<HttpFigures> {
  const main = apiMain();
  if (!existsSync(main))
    return { measured: false, reason: `the API is not built (${main} missing)` };
  const autocannon = loadAutocannon();
  if (!autocannon) return { measured: false, reason: 'autocannon is not installed (npm install)' };
  const accounts = Array.from(
    { length: options.accounts },
    (_, i) => `h${String(i).padStart(6, '0')}`,
  );
  const started = nowMs();
  const seeded = await openBenchLedger(db);
  try {
    await setup(seeded.ledger, accounts);
  } finally {
    await seeded.close();
  }
  log(
    `${db.kind} http: ${accounts.length} accounts opened and funded in process in ${Math.round(nowMs() - started)} ms`,
  );

  const key = `op_bench_${randomBytes(16).toString('hex')}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    LEDGER_API_KEYS: `op:${key}`,
  };
  delete env.DATABASE_URL;
  delete env.LEDGER_DATA_DIR;
  if (db.url) env.DATABASE_URL = db.url;
  if (db.dataDir) env.LEDGER_DATA_DIR = db.dataDir;
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${key}` };
  try {
    const deadline = Date.now() + 60_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${base}/health/live`);
        if (res.status < 500) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!up)
      return {
        measured: false,
        reason: `the API did not start on loopback within 60 s${stderr ? `: ${stderr.slice(0, 300)}` : ''}`,
      };
    const probePath = `/accounts/${accounts[0] ?? 'h000000'}/deposits`;
    const res = await fetch(`${base}${probePath}`, {
      method: 'POST',
      headers: {
        ...auth,
        'content-type': 'application/json',
        'idempotency-key': `bench-probe-${key}`,
      },
      body: JSON.stringify({ asset: 'USDT', amount: '1' }),
    });
    const probe = { path: `POST ${probePath}`, status: res.status };
    await res.arrayBuffer();
    if (res.status >= 300) {
      return {
        measured: false,
        reason: `the probe deposit answered ${res.status}: ${stderr.slice(0, 200)}`,
        probe,
      };
    }

    const runs: HttpRun[] = [];
    let seq = 0;
    for (const connections of options.connections) {
      const rng = prng(7919 * connections);
      const request = {
        method: 'POST',
        setupRequest: (req: AutocannonRequest): AutocannonRequest => {
          const accountId = accounts[Math.floor(rng() * accounts.length)] ?? 'h000000';
          const deposit = rng() < 0.5;
          const body = deposit
            ? { asset: 'USDT', amount: '10' }
            : {
                symbol: 'BTCUSDT',
                side: rng() < 0.5 ? 'BUY' : 'SELL',
                quantity: '0.001',
                price: MARK,
                fee: '0.02',
              };
          return {
            ...req,
            method: 'POST',
            path: `/accounts/${accountId}/${deposit ? 'deposits' : 'fills'}`,
            headers: {
              ...auth,
              'content-type': 'application/json',
              'idempotency-key': `bench-${connections}-${seq++}`,
            },
            body: JSON.stringify(body),
          };
        },
      };
      const result = await autocannon({
        url: base,
        connections,
        pipelining: 1,
        duration: options.seconds,
        timeout: 30,
        requests: [request],
      });
      const statuses: Record<string, number> = {};
      for (const [status, s] of Object.entries(result.statusCodeStats ?? {}))
        statuses[status] = s.count;
      const rps = result.duration > 0 ? round(result['2xx'] / result.duration) : 0;
      const inProc = inProcess?.runs.find(
        (x) => x.mode === 'per-command' && x.clients === connections,
      )?.commandsPerSecond;
      const run: HttpRun = {
        connections,
        seconds: result.duration,
        requests: result.requests.total,
        requestsPerSecond: rps,
        latencyMs: {
          p50: result.latency.p50,
          p99: result.latency.p99,
          mean: result.latency.average,
          max: result.latency.max,
        },
        ok: result['2xx'],
        non2xx: result.non2xx,
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
        ratioToInProcess: ratio(rps, inProc),
      };
      runs.push(run);
      log(
        `${db.kind} http ${connections} connections: ${rps} req/s (2xx), p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors}`,
      );
    }
    return {
      measured: true,
      probe,
      accounts: accounts.length,
      mix: '50% POST /accounts/:id/deposits (USDT 10), 50% POST /accounts/:id/fills (BTCUSDT 0.001, random side), uniform over accounts, a fresh Idempotency-Key each',
      server:
        'compiled API (dist/apps/api/src/main.js) as a child on 127.0.0.1: SQL projection, risk saga and margin history on, as deployed',
      runs,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(undefined);
      else child.once('exit', resolve);
      setTimeout(resolve, 10_000).unref();
    });
    log(`http on ${db.kind} done`);
  }
}
