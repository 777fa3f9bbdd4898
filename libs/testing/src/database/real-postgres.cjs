'use strict';
/*
 * Which database the int suites get, decided synchronously: jest.config.js needs the answer while it loads, before
 * any TypeScript transform exists, hence plain CommonJS (typed by real-postgres.d.cts).
 *
 * Real PostgreSQL = TEST_DATABASE_URL, or a Docker engine that answers (testcontainers). Docker detection is cheap
 * first (environment, the usual socket paths) because this machine has the Docker CLI and no engine, and the
 * testcontainers probe hangs forever on a socket that accepts and never answers: when a hint exists, the probe
 * runs in a child process with a timeout.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const CONCURRENCY_SUITE_PATTERN = '\\.concurrency\\.int-spec\\.ts$';
const DOCKER_PROBE_TIMEOUT_MS = 4000;

/** Environment variables or files that say a Docker engine might answer; [] means surely none. */
function dockerHints(env = process.env) {
  const hints = [];
  if (env.DOCKER_HOST) hints.push(`DOCKER_HOST=${env.DOCKER_HOST}`);
  if (env.TESTCONTAINERS_HOST_OVERRIDE)
    hints.push(`TESTCONTAINERS_HOST_OVERRIDE=${env.TESTCONTAINERS_HOST_OVERRIDE}`);
  const home = os.homedir();
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const candidates = [
    '/var/run/docker.sock',
    env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
    uid === undefined ? undefined : `/run/user/${uid}/docker.sock`,
    path.join(home, '.testcontainers.properties'),
  ];
  for (const candidate of candidates) {
    if (candidate && fs.existsSync(candidate)) hints.push(candidate);
  }
  return hints;
}

let dockerAnswer;

/** True when testcontainers reaches a Docker engine within a few seconds (asked once per process). */
function dockerEngineAnswersSync(env = process.env) {
  if (dockerAnswer !== undefined) return dockerAnswer;
  if (dockerHints(env).length === 0) {
    dockerAnswer = false;
    return dockerAnswer;
  }
  const probe =
    "require('testcontainers').getContainerRuntimeClient()" +
    '.then(() => process.exit(0), () => process.exit(1))';
  const result = spawnSync(process.execPath, ['-e', probe], {
    cwd: path.resolve(__dirname, '..', '..', '..', '..'),
    env,
    stdio: 'ignore',
    timeout: DOCKER_PROBE_TIMEOUT_MS,
  });
  dockerAnswer = result.status === 0;
  return dockerAnswer;
}

/** Whether the int suites run on real PostgreSQL (TEST_DATABASE_URL or Docker), i.e. concurrency suites can run. */
function isRealPostgresAvailable(env = process.env) {
  if (env.LEDGER_TEST_FORCE_PGLITE === '1') return false;
  if (env.TEST_DATABASE_URL) return true;
  return dockerEngineAnswersSync(env);
}

/** `*.concurrency.int-spec.ts` files under apps/ and libs/, relative to the repository root. */
function findConcurrencySuites(rootDir) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.'))
        continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (new RegExp(CONCURRENCY_SUITE_PATTERN).test(entry.name))
        found.push(path.relative(rootDir, full));
    }
  };
  for (const top of ['apps', 'libs']) walk(path.join(rootDir, top));
  return found.sort();
}

/** The projects named by --selectProjects (all when absent). */
function selectedProjects(argv) {
  const selected = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--selectProjects='))
      selected.push(...arg.slice('--selectProjects='.length).split(','));
    else if (arg === '--selectProjects') {
      for (let j = i + 1; j < argv.length && !argv[j].startsWith('-'); j += 1)
        selected.push(argv[j]);
    }
  }
  return selected.length > 0 ? selected : undefined;
}

const excludedBy = new Map();
let announced = false;

/**
 * testPathIgnorePatterns for a jest project. Concurrency suites need real concurrency: never registered on the
 * `event-store-pglite` project, and on `int` only with real PostgreSQL. This is a capability split, not a skip,
 * so the run prints one line naming the suites left out, once.
 */
function concurrencySuiteIgnorePatterns(project, rootDir, argv = process.argv) {
  const exclude = project === 'event-store-pglite' || !isRealPostgresAvailable();
  if (exclude) excludedBy.set(project, true);
  const patterns = ['/node_modules/'];
  if (exclude) patterns.push(CONCURRENCY_SUITE_PATTERN);
  // Announce after both projects asked (the config defines `int` first, then `event-store-pglite`).
  if (project === 'event-store-pglite') announceExclusions(rootDir, argv);
  return patterns;
}

function announceExclusions(rootDir, argv) {
  if (announced) return;
  announced = true;
  const selected = selectedProjects(argv);
  const projects = [...excludedBy.keys()].filter((p) => !selected || selected.includes(p));
  const suites = findConcurrencySuites(rootDir);
  if (projects.length === 0 || suites.length === 0) return;
  const why = projects.includes('int') ? ' (no TEST_DATABASE_URL and no Docker engine)' : '';
  console.log(
    `Concurrency suites not registered on PGlite, in jest project(s) ${projects.join(', ')}${why}: ${suites.join(', ')}`,
  );
}

module.exports = {
  CONCURRENCY_SUITE_PATTERN,
  concurrencySuiteIgnorePatterns,
  dockerEngineAnswersSync,
  dockerHints,
  findConcurrencySuites,
  isRealPostgresAvailable,
};
