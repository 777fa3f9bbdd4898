import { cpus, freemem, release, totalmem, type as osType } from 'node:os';
import type { AsOfFigures } from './as-of';
import type { CommandFigures, CommandRun } from './commands';
import type { FanOutFigures } from './fan-out';
import type { HttpFigures } from './http';
import type { MarginMathFigures } from './margin-math';
import type { BackendKind, BenchSizes } from './options';
import type { RawLimits } from './raw-limits';
import type { RebuildFigures } from './rebuild';
import type { SimFigures } from './sim';

export interface BackendResults {
  database?: string;
  raw?: RawLimits;
  commands?: CommandFigures;
  http?: HttpFigures;
  rebuild?: RebuildFigures;
  asOf?: AsOfFigures;
  fanOut?: FanOutFigures;
  sim?: SimFigures;
  errors: Record<string, string>;
}

export interface Verdict {
  target: string;
  backend: BackendKind | 'node';
  value: string;
  met: boolean | null;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  sizes: BenchSizes;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  backends: Partial<Record<BackendKind, BackendResults>>;
  marginMath?: MarginMathFigures;
  /** Figure 8 on the in-memory store (node). */
  simMemory?: SimFigures;
  verdicts: Verdict[];
}

export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return {
    platform: `${osType()} ${release()}`,
    arch: process.arch,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}

export const TARGETS = {
  commandsRatioAt8: 0.25,
  commandsP99At8Ms: 25,
  rebuildEventsPerSecond: 150_000,
  asOfP99Ms: 20,
  fanOutMsAt100k: 100,
  pgliteCommandsPerSecond: 2_000,
};

function bestAt(runs: CommandRun[], clients: number): CommandRun | undefined {
  return runs
    .filter((r) => r.clients === clients)
    .sort((a, b) => b.commandsPerSecond - a.commandsPerSecond)[0];
}

export function verdicts(results: BenchResults): Verdict[] {
  const out: Verdict[] = [];
  for (const [kind, r] of Object.entries(results.backends) as [BackendKind, BackendResults][]) {
    const runs = r.commands?.runs ?? [];
    const at8 = bestAt(runs, 8);
    if (at8) {
      out.push({
        target: `durable commands ≥ ${TARGETS.commandsRatioAt8 * 100}% of raw batched-insert rows/s with p99 ≤ ${TARGETS.commandsP99At8Ms} ms at 8 clients`,
        backend: kind,
        value: `${at8.commandsPerSecond} cmd/s (${at8.mode}) = ${((at8.ratioToRawBatched ?? 0) * 100).toFixed(1)}% of ${r.raw?.batchedRowsPerSecond ?? '?'} rows/s, p99 ${at8.latencyMs.p99} ms`,
        met:
          (at8.ratioToRawBatched ?? 0) >= TARGETS.commandsRatioAt8 &&
          at8.latencyMs.p99 <= TARGETS.commandsP99At8Ms,
      });
    }
    if (kind === 'pglite' && runs.length > 0) {
      const best = [...runs].sort((a, b) => b.commandsPerSecond - a.commandsPerSecond)[0];
      if (best) {
        out.push({
          target: `PGlite ≥ ${TARGETS.pgliteCommandsPerSecond} durable commands/s`,
          backend: kind,
          value: `${best.commandsPerSecond} cmd/s (${best.mode}, ${best.clients} clients)`,
          met: best.commandsPerSecond >= TARGETS.pgliteCommandsPerSecond,
        });
      }
    }
    if (r.rebuild) {
      out.push({
        target: `rebuild ≥ ${TARGETS.rebuildEventsPerSecond} events/s`,
        backend: kind,
        value: `${r.rebuild.eventsPerSecond} events/s over ${r.rebuild.events} events`,
        met: r.rebuild.eventsPerSecond >= TARGETS.rebuildEventsPerSecond,
      });
    }
    if (r.asOf) {
      out.push({
        target: `as-of p99 ≤ ${TARGETS.asOfP99Ms} ms on a ${r.asOf.accountEvents}-event account (with snapshots)`,
        backend: kind,
        value: `p99 ${r.asOf.withSnapshots.p99} ms (without snapshots ${r.asOf.withoutSnapshots.p99} ms)`,
        met: r.asOf.withSnapshots.p99 <= TARGETS.asOfP99Ms,
      });
    }
    const last = r.fanOut?.steps[r.fanOut.steps.length - 1];
    if (r.fanOut && last) {
      const growth = r.fanOut.growth;
      out.push({
        target: `fan-out ≤ ${TARGETS.fanOutMsAt100k} ms per tick over ${last.positions} positions, growing no faster than linearly`,
        backend: kind,
        value: `p50 ${last.tickToRecheckedMs.p50} ms, p99 ${last.tickToRecheckedMs.p99} ms; growth ×${growth?.timeRatio ?? '?'} for ×${growth?.positionsRatio ?? '?'} positions`,
        met:
          last.tickToRecheckedMs.p99 <= TARGETS.fanOutMsAt100k &&
          (growth === null || growth.superLinearity <= 1.2),
      });
    }
  }
  return out;
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The stdout table: one row per figure, one column per backend. */
export function renderTable(results: BenchResults): string {
  const kinds = Object.keys(results.backends) as BackendKind[];
  const rows: string[][] = [];
  const cell = (f: (r: BackendResults) => string): string[] =>
    kinds.map((k) => {
      const r = results.backends[k];
      try {
        return r ? f(r) : '—';
      } catch {
        return '—';
      }
    });
  rows.push([
    '1. raw single-row inserts/s (1 connection)',
    ...cell((r) => fmt(r.raw?.singleRowInsertsPerSecond)),
  ]);
  rows.push([
    '1. raw batched rows/s (100-row INSERTs; PG 8 conns, PGlite 1)',
    ...cell((r) => fmt(r.raw?.batchedRowsPerSecond)),
  ]);
  const modes = new Set<string>();
  const clients = new Set<number>();
  for (const k of kinds)
    for (const run of results.backends[k]?.commands?.runs ?? []) {
      modes.add(run.mode);
      clients.add(run.clients);
    }
  for (const mode of modes) {
    for (const c of [...clients].sort((a, b) => a - b)) {
      const find = (r: BackendResults): CommandRun | undefined =>
        r.commands?.runs.find((x) => x.mode === mode && x.clients === c);
      rows.push([
        `2. ${mode}, ${c} clients: cmd/s | events/s | rows/s`,
        ...cell((r) => {
          const x = find(r);
          return x
            ? `${fmt(x.commandsPerSecond)} | ${fmt(x.eventsPerSecond)} | ${fmt(x.rowsPerSecond)}`
            : '—';
        }),
      ]);
      rows.push([
        `   latency p50/p99/p999 ms; cmd ÷ raw batched, ÷ raw single`,
        ...cell((r) => {
          const x = find(r);
          return x
            ? `${fmt(x.latencyMs.p50, 2)}/${fmt(x.latencyMs.p99, 2)}/${fmt(x.latencyMs.p999, 2)}; ${fmt((x.ratioToRawBatched ?? NaN) * 100, 1)}%, ${fmt(x.ratioToRawSingle, 2)}×`
            : '—';
        }),
      ]);
    }
  }
  const httpConnections = new Set<number>();
  for (const k of kinds)
    for (const run of results.backends[k]?.http?.runs ?? []) httpConnections.add(run.connections);
  if (httpConnections.size === 0) {
    rows.push([
      '3. HTTP (autocannon)',
      ...cell((r) =>
        r.http ? (r.http.measured ? 'measured' : `not measured: ${r.http.reason ?? ''}`) : '—',
      ),
    ]);
  }
  for (const c of [...httpConnections].sort((a, b) => a - b)) {
    rows.push([
      `3. HTTP (autocannon), ${c} conn: req/s | p50/p99 ms | non-2xx | ÷ in-process`,
      ...cell((r) => {
        const x = r.http?.runs?.find((y) => y.connections === c);
        return x
          ? `${fmt(x.requestsPerSecond)} | ${fmt(x.latencyMs.p50, 1)}/${fmt(x.latencyMs.p99, 1)} | ${fmt(x.non2xx + x.errors + x.timeouts)} | ${fmt((x.ratioToInProcess ?? NaN) * 100, 0)}%`
          : r.http && !r.http.measured
            ? `not measured: ${r.http.reason ?? ''}`
            : '—';
      }),
    ]);
  }
  rows.push([
    '4. rebuild events/s (events)',
    ...cell((r) =>
      r.rebuild ? `${fmt(r.rebuild.eventsPerSecond)} (${fmt(r.rebuild.events)})` : '—',
    ),
  ]);
  rows.push([
    '   fold s | write s',
    ...cell((r) =>
      r.rebuild ? `${fmt(r.rebuild.foldSeconds, 2)} | ${fmt(r.rebuild.writeSeconds, 2)}` : '—',
    ),
  ]);
  rows.push([
    '5. as-of p50/p99 ms, with snapshots',
    ...cell((r) =>
      r.asOf
        ? `${fmt(r.asOf.withSnapshots.p50, 2)}/${fmt(r.asOf.withSnapshots.p99, 2)} (${fmt(r.asOf.accountEvents)} ev)`
        : '—',
    ),
  ]);
  rows.push([
    '   as-of p50/p99 ms, without snapshots',
    ...cell((r) =>
      r.asOf
        ? `${fmt(r.asOf.withoutSnapshots.p50, 2)}/${fmt(r.asOf.withoutSnapshots.p99, 2)}`
        : '—',
    ),
  ]);
  const steps = new Set<number>();
  for (const k of kinds)
    for (const s of results.backends[k]?.fanOut?.steps ?? []) steps.add(s.positions);
  for (const positions of [...steps].sort((a, b) => a - b)) {
    rows.push([
      `6. fan-out, ${fmt(positions)} positions: tick→re-checked p50/p99 ms (accounts)`,
      ...cell((r) => {
        const s = r.fanOut?.steps.find((x) => x.positions === positions);
        return s
          ? `${fmt(s.tickToRecheckedMs.p50, 1)}/${fmt(s.tickToRecheckedMs.p99, 1)} (${fmt(s.affectedAccounts)})`
          : '—';
      }),
    ]);
  }
  if (results.marginMath) {
    const m = results.marginMath;
    rows.push([
      `7. margin math (${m.positions} positions, ${m.collateralAssets} assets): computeMargin/s | accountView/s`,
      `${fmt(m.computeMarginPerSecond)} | ${fmt(m.accountViewPerSecond)}`,
      ...kinds.slice(1).map(() => '(node)'),
    ]);
  }
  const simCell = (s: SimFigures | undefined): string =>
    s
      ? `${fmt(s.stepsPerSecond)} | ${fmt(s.eventsPerSecond)} (${fmt(s.steps)} steps${s.ok ? '' : ', FAILED'})`
      : '—';
  if (kinds.some((k) => results.backends[k]?.sim)) {
    rows.push([
      '8. simulator, every fault on: steps/s | events/s (steps)',
      ...cell((r) => simCell(r.sim)),
    ]);
  }
  if (results.simMemory) {
    rows.push([
      '8. simulator on memory (node): steps/s | events/s (steps)',
      simCell(results.simMemory),
      ...kinds.slice(1).map(() => '(node)'),
    ]);
  }
  const header = ['figure', ...kinds.map((k) => (k === 'postgres' ? 'PostgreSQL' : 'PGlite'))];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out = [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ];
  out.push('', 'Targets:');
  for (const v of results.verdicts)
    out.push(
      `  [${v.met === null ? ' ? ' : v.met ? 'met' : 'MISSED'}] ${v.backend}: ${v.target}: ${v.value}`,
    );
  for (const [k, r] of Object.entries(results.backends)) {
    for (const [figure, error] of Object.entries(r?.errors ?? {}))
      out.push(`  [error] ${k} ${figure}: ${error}`);
  }
  return out.join('\n');
}
