#!/usr/bin/env node
// `npm test`: the whole CI sequence of STYLE §7, in order: lint (ESLint + dependency-cruiser), typecheck,
// the four jest projects (unit, int, event-store-pglite, e2e) in ONE jest run (workers are shared, so it is
// faster than four runs), then the swc build. Each step's output streams live; a summary follows, and the
// last line printed is always exactly `N passed, N failed`: jest tests passed/failed, plus 1 failed per failed
// non-jest step (or per jest suite that could not run). Exit code 0 only when nothing failed and jest ran tests.
//
//   node scripts/test.mjs            the full sequence (what CI runs through .ci/run)
//   node scripts/test.mjs --quick    jest only (skips lint, typecheck and build), for local use
//   node scripts/test.mjs -- <args>  extra arguments after `--` go to jest (e.g. a path pattern)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const JEST_PROJECTS = ['unit', 'int', 'event-store-pglite', 'e2e'];

const argv = process.argv.slice(2);
const separator = argv.indexOf('--');
const ownArgs = separator === -1 ? argv : argv.slice(0, separator);
const jestExtraArgs = separator === -1 ? [] : argv.slice(separator + 1);
const unknown = ownArgs.filter((arg) => arg !== '--quick');
if (unknown.length > 0) {
  console.error(`unknown option(s): ${unknown.join(' ')} (use --quick, or -- <jest args>)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const quick = ownArgs.includes('--quick');

/** Runs a command with inherited stdio; resolves with its exit code (a signal or spawn error counts as 1). */
function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`cannot start ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

const banner = (title) => console.log(`\n━━━ ${title} ━━━`);
const seconds = (startMs) => ((performance.now() - startMs) / 1000).toFixed(1);

/** One non-jest step: counts as 1 failed when its command fails. */
async function step(name, command, args) {
  banner(name);
  const startMs = performance.now();
  const code = await run(command, args);
  return { name, ok: code === 0, passed: 0, failed: code === 0 ? 0 : 1, seconds: seconds(startMs) };
}

/** The jest projects in one run; counts come from jest's JSON report. */
async function jestStep() {
  const name = `jest (${JEST_PROJECTS.join(', ')})`;
  banner(name);
  const startMs = performance.now();
  const reportDir = mkdtempSync(join(tmpdir(), 'ledger-jest-'));
  const reportFile = join(reportDir, 'report.json');
  // PGlite loads its WASM through dynamic import(), which jest's VM sandbox allows only with this flag.
  const nodeOptions = [
    process.env.NODE_OPTIONS,
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
  ]
    .filter(Boolean)
    .join(' ');
  const code = await run(
    bin('jest'),
    [
      '--selectProjects',
      ...JEST_PROJECTS,
      '--maxWorkers=2',
      '--json',
      `--outputFile=${reportFile}`,
      ...(process.env.CI ? ['--ci'] : []),
      ...jestExtraArgs,
    ],
    { ...process.env, NODE_OPTIONS: nodeOptions },
  );
  let passed = 0;
  let failed = 0;
  let notes = [];
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    passed = report.numPassedTests;
    failed = report.numFailedTests;
    // A suite that fails to load (syntax error, failing beforeAll import) has no failed test but is a failure.
    if (report.numRuntimeErrorTestSuites > 0) {
      failed += report.numRuntimeErrorTestSuites;
      notes.push(`${report.numRuntimeErrorTestSuites} suite(s) failed to run`);
    }
    if (report.numTotalTests === 0) {
      failed += 1;
      notes.push('jest ran no tests');
    }
  } catch (error) {
    notes.push(`no jest report (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  // jest failed for a reason the counts do not show (no report, open handles, a crash): still a failure.
  if (code !== 0 && failed === 0) {
    failed = 1;
    notes.push(`jest exited with code ${code}`);
  }
  return {
    name,
    ok: failed === 0,
    countsTests: true,
    passed,
    failed,
    seconds: seconds(startMs),
    notes,
  };
}

const startMs = performance.now();
const results = [];
if (!quick) {
  results.push(
    await step('lint (eslint + dependency-cruiser)', 'npm', ['run', '--silent', 'lint']),
  );
  results.push(
    await step('typecheck (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']),
  );
}
results.push(await jestStep());
if (!quick) {
  results.push(await step('build (swc)', 'npm', ['run', '--silent', 'build']));
}

banner('summary');
for (const result of results) {
  const counts = result.countsTests ? ` ${result.passed} passed, ${result.failed} failed` : '';
  const notes = result.notes?.length ? ` (${result.notes.join('; ')})` : '';
  console.log(
    `${result.ok ? 'ok  ' : 'FAIL'} ${result.name}${counts} in ${result.seconds} s${notes}`,
  );
}
if (quick) console.log('(--quick: lint, typecheck and build skipped)');
console.log(`total ${seconds(startMs)} s`);
const passed = results.reduce((sum, result) => sum + result.passed, 0);
const failed = results.reduce((sum, result) => sum + result.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
