import type { BackendKind, FigureName } from '../bench/options';
import { FIGURES, FULL, QUICK } from '../bench/options';
import { runBench } from '../bench/run';

export interface BenchCommandOptions {
  quick?: boolean;
  only?: string;
  backends?: string;
  out?: string;
}

/**
 * `ledger bench`: measures the ledger against raw limits measured in the same run (bench/README.md). It reports;
 * it never fails on a missed target (exit 0 unless the bench itself could not run).
 */
export async function benchCommand(options: BenchCommandOptions): Promise<number> {
  const url = process.env.DATABASE_URL;
  const requested = (options.backends ?? (url ? 'postgres,pglite' : 'pglite'))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const backends = requested.filter((b): b is BackendKind => b === 'postgres' || b === 'pglite');
  if (backends.includes('postgres') && !url) {
    console.error(
      'bench: PostgreSQL needs DATABASE_URL (the bench creates and drops its own ledger_bench_* databases there)',
    );
    return 2;
  }
  const figures = options.only
    ? options.only
        .split(',')
        .map((s) => s.trim())
        .filter((f): f is FigureName => (FIGURES as readonly string[]).includes(f))
    : [...FIGURES];
  await runBench({
    quick: options.quick ?? false,
    sizes: options.quick ? QUICK : FULL,
    backends,
    figures,
    url,
    out: options.out ?? 'bench/results/latest.json',
  });
  return 0;
}
