import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDatabase } from './databases';
import { log } from './stats';

export interface HttpFigures {
  measured: boolean;
  reason?: string;
  probe?: { path: string; status: number | null };
}

/** The compiled API next to this CLI (dist/apps/api/src/main.js). */
function apiMain(): string {
  return join(__dirname, '..', '..', '..', 'api', 'src', 'main.js');
}

function hasAutocannon(): boolean {
  try {
    require.resolve('autocannon');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the API on loopback against the bench database and probes the command endpoints. The figure is measured
 * only when they exist and autocannon is installed; otherwise the report says why not.
 */
export async function measureHttp(db: BenchDatabase): Promise<HttpFigures> {
  const main = apiMain();
  if (!existsSync(main)) return { measured: false, reason: `the API is not built (${main} missing)` };
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  delete env.LEDGER_DATA_DIR;
  if (db.url) env.DATABASE_URL = db.url;
  if (db.dataDir) env.LEDGER_DATA_DIR = db.dataDir;
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${base}/health`);
        if (res.status < 500) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!up) return { measured: false, reason: `the API did not start on loopback within 30 s${stderr ? `: ${stderr.slice(0, 300)}` : ''}` };
    const path = '/accounts/bench-probe/deposits';
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'bench-probe-1' },
      body: JSON.stringify({ asset: 'USDT', amount: '1' }),
    });
    const probe = { path: `POST ${path}`, status: res.status };
    if (res.status === 404) {
      return { measured: false, reason: 'the API has no command endpoints yet (POST /accounts/:id/deposits answers 404; only /health exists)', probe };
    }
    if (!hasAutocannon()) return { measured: false, reason: 'command endpoints exist but autocannon is not installed', probe };
    return { measured: false, reason: 'command endpoints answered; the autocannon run is not wired yet', probe };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(undefined);
      else child.once('exit', resolve);
      setTimeout(resolve, 5000).unref();
    });
    log(`http probe on ${db.kind} done`);
  }
}
