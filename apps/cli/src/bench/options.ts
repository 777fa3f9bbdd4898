/** Sizes of a bench run: `--quick` (a smoke run, < 2 minutes) or the full run (bounded, < 20 minutes). */
export type BackendKind = 'postgres' | 'pglite';

export const FIGURES = [
  'raw',
  'commands',
  'http',
  'rebuild',
  'as-of',
  'fan-out',
  'margin',
  'sim',
] as const;
export type FigureName = (typeof FIGURES)[number];

export interface BenchSizes {
  /** Seconds per raw-limit measurement. */
  rawSeconds: number;
  /** Accounts the command workload spreads over. */
  commandAccounts: number;
  /** Seconds per (mode, clients) command measurement. */
  commandSeconds: number;
  commandClients: number[];
  /** Events seeded and replayed by the rebuild figure. */
  rebuildEvents: number;
  /** Events of the as-of account. */
  asOfEvents: number;
  asOfSamples: number;
  /** Folding 100,000 events per query is slow: fewer samples without snapshots. */
  asOfSamplesWithoutSnapshots: number;
  /** Open positions at each fan-out step (the last is the headline figure). */
  fanOutPositions: number[];
  fanOutTicks: number;
  /** Positions per fan-out account (in distinct symbols). */
  positionsPerAccount: number;
  marginSeconds: number;
  httpSeconds: number;
  /** Simulator steps in memory (figure 8), and on each database. */
  simSteps: number;
  simStepsDatabase: number;
}

export const FULL: BenchSizes = {
  rawSeconds: 5,
  commandAccounts: 10_000,
  commandSeconds: 8,
  commandClients: [1, 8, 32],
  rebuildEvents: 1_000_000,
  asOfEvents: 100_000,
  asOfSamples: 200,
  asOfSamplesWithoutSnapshots: 20,
  fanOutPositions: [10_000, 25_000, 50_000, 100_000],
  fanOutTicks: 20,
  positionsPerAccount: 2,
  marginSeconds: 3,
  httpSeconds: 10,
  simSteps: 20_000,
  simStepsDatabase: 300,
};

export const QUICK: BenchSizes = {
  rawSeconds: 1.5,
  commandAccounts: 2_000,
  commandSeconds: 2,
  commandClients: [1, 8, 32],
  rebuildEvents: 100_000,
  asOfEvents: 20_000,
  asOfSamples: 40,
  asOfSamplesWithoutSnapshots: 5,
  fanOutPositions: [2_000, 10_000],
  fanOutTicks: 6,
  positionsPerAccount: 2,
  marginSeconds: 1,
  httpSeconds: 3,
  simSteps: 2_000,
  simStepsDatabase: 100,
};

/** PGlite is one WASM session: the largest seeds are scaled down there (the report says so). */
export function sizesFor(kind: BackendKind, sizes: BenchSizes): BenchSizes {
  if (kind === 'postgres') return sizes;
  return {
    ...sizes,
    rebuildEvents: Math.min(sizes.rebuildEvents, 300_000),
    commandAccounts: Math.min(sizes.commandAccounts, 5_000),
    fanOutPositions: sizes.fanOutPositions.filter((n) => n <= 50_000),
  };
}

export interface BenchOptions {
  quick: boolean;
  sizes: BenchSizes;
  backends: BackendKind[];
  figures: FigureName[];
  /** PostgreSQL server URL (DATABASE_URL); the bench creates and drops its own databases there. */
  url: string | undefined;
  out: string;
}
