/**
 * Goal: the API as `npm start` runs it, a real process (issue 11, item 10). Built with swc into a temporary folder
 * and started with PORT=0 (on the test PostgreSQL database, else on PGlite), it serves /health; SIGTERM (and SIGINT) shut it down gracefully
 * and it exits 0, not "killed by SIGTERM" (143). A key listed twice in LEDGER_API_KEYS stops the start (exit 1)
 * with a message that names the repeated entries, never the key; a bad LEDGER_MAX_CLOCK_SKEW_MS too. The README's
 * HTTP walk-through, run as a non-interactive bash script, works and stops the server it started (exit status 0,
 * nothing left listening).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';

const ROOT = resolve(__dirname, '../../..');
const KEY = 'op_process_key_000000000001';
const BOOT_MS = 90_000;

let buildDir: string;
const dataDirs: string[] = [];
/** With TEST_DATABASE_URL the processes share one PostgreSQL test database (fast); else each gets a PGlite. */
let database: TestDatabase | undefined;

beforeAll(async () => {
  buildDir = join(
    ROOT,
    'node_modules',
    '.cache',
    `ledger-api-process-${randomBytes(4).toString('hex')}`,
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
  if (process.env.TEST_DATABASE_URL) {
    database = await createTestDatabase('api-process');
  }
}, 60_000);

afterAll(async () => {
  await database?.drop();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>): Started {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-api-process-'));
  dataDirs.push(dataDir);
  const child = spawn(process.execPath, [join(buildDir, 'apps', 'api', 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: database?.url ?? '',
      LEDGER_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, output: () => output, exited };
}

async function portOf(started: Started): Promise<number> {
  const deadline = Date.now() + BOOT_MS;
  for (;;) {
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(started.output())?.[1];
    if (port) return Number(port);
    if (started.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the API did not start:\n${started.output()}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('the API process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'shuts down gracefully on %s and exits 0',
    async (signal) => {
      const started = start({ LEDGER_API_KEYS: `op:${KEY}` });
      try {
        const port = await portOf(started);
        expect(await status(port, '/health')).toBe(200);
        started.child.kill(signal);
        expect(await started.exited).toEqual({ code: 0, signal: null });
      } finally {
        started.child.kill('SIGKILL');
      }
    },
    BOOT_MS + 30_000,
  );

  it('refuses to start with a key listed twice in LEDGER_API_KEYS, naming the entries, not the key', async () => {
    const started = start({ LEDGER_API_KEYS: `op:${KEY},acct:a1:${KEY}` });
    try {
      expect(await started.exited).toEqual({ code: 1, signal: null });
      expect(started.output()).toContain(
        'LEDGER_API_KEYS: entry 2 (acct:a1:…) repeats the key of entry 1 (op:…)',
      );
      expect(started.output()).not.toContain(KEY);
    } finally {
      started.child.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses to start with a LEDGER_MAX_CLOCK_SKEW_MS that is not a number of ms or off', async () => {
    const started = start({ LEDGER_MAX_CLOCK_SKEW_MS: '5min' });
    try {
      expect(await started.exited).toEqual({ code: 1, signal: null });
      expect(started.output()).toContain('LEDGER_MAX_CLOCK_SKEW_MS');
    } finally {
      started.child.kill('SIGKILL');
    }
  }, 30_000);

  it(
    'runs the README walk-through as a bash script, which stops the server it started',
    async () => {
      const port = await freePort();
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('### Auth'), readme.indexOf('## Configuration'));
      const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
      expect(blocks.length).toBeGreaterThanOrEqual(3);
      // The same script on a free port, with the build of this suite (`npm run build` is done already).
      const script = blocks
        .join('\n')
        .replaceAll('localhost:3000', `127.0.0.1:${port}`)
        .replace(/^npm run build\b.*$/m, ': built by the test')
        .replaceAll('dist/apps/api/src/main.js', join(buildDir, 'apps', 'api', 'src', 'main.js'));
      const tmp = mkdtempSync(join(tmpdir(), 'ledger-readme-'));
      dataDirs.push(tmp);
      const run = spawnSync('bash', ['-c', script], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: BOOT_MS + 30_000,
        env: {
          ...process.env,
          DATABASE_URL: '',
          PORT: String(port),
          HOST: '127.0.0.1',
          TMPDIR: tmp,
        },
      });
      const output = `${run.stdout}${run.stderr}`;
      expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
      expect(output).toContain('"type":"AccountOpened"');
      expect(output).toContain('"code":"IDEMPOTENCY_KEY_REUSED"');
      expect(output).toContain('"code":"JOINT_MARGIN_REJECT_WITH_ISOLATED"');
      expect(output).toMatch(/exit status 0\s*$/);
      expect(await listening(port)).toBe(false);
    },
    BOOT_MS + 60_000,
  );
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolveListening) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolveListening(true);
    });
    socket.on('error', () => resolveListening(false));
  });
}
