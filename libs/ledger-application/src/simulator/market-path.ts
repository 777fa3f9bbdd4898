import type { Dec } from '@ledger/margin-domain';
import { D } from '@ledger/margin-domain';
import type { Prng } from './prng';

/** A decimal from an integer count of 10^-decimals units: amounts are built from integers, never from floats. */
export function units(count: number, decimals: number): Dec {
  return new D(count).div(new D(10).pow(decimals));
}

/** Basis points as a factor: 1 + bp / 10,000. */
export function bpFactor(bp: number): Dec {
  return new D(1).plus(new D(bp).div(10_000));
}

export type PriceMove = 'tick' | 'gap' | 'crash' | 'rally';

interface SymbolPath {
  mark: Dec;
  anchor: Dec;
  decimals: number;
}

/**
 * Mark-price paths with gaps and crashes: small ticks that drift back towards an anchor, now and then a gap of a
 * few percent either way, a crash (−15% to −35% in one tick) or a rally. Prices stay within 0.3×–3× the anchor and
 * are rounded to the symbol's price precision (RULES §6: the mark drives PnL, margin and liquidation).
 */
export class MarketPaths {
  private readonly paths = new Map<string, SymbolPath>();

  constructor(symbols: Record<string, { start: string; decimals: number }>) {
    for (const [symbol, { start, decimals }] of Object.entries(symbols)) {
      this.paths.set(symbol, { mark: new D(start), anchor: new D(start), decimals });
    }
  }

  symbols(): string[] {
    return [...this.paths.keys()];
  }

  mark(symbol: string): Dec {
    const path = this.paths.get(symbol);
    if (!path) throw new Error(`no price path for ${symbol}`);
    return path.mark;
  }

  decimals(symbol: string): number {
    return this.paths.get(symbol)?.decimals ?? 2;
  }

  /** Moves one symbol's mark and returns it (rounded to its price precision). */
  move(symbol: string, kind: PriceMove, random: Prng): Dec {
    const path = this.paths.get(symbol);
    if (!path) throw new Error(`no price path for ${symbol}`);
    const bp =
      kind === 'tick'
        ? random.between(-45, 45)
        : kind === 'gap'
          ? random.pick([-1, 1]) * random.between(300, 900)
          : kind === 'crash'
            ? -random.between(1500, 3500)
            : random.between(800, 2500);
    // Mean reversion: 2% of the distance to the anchor per tick, so a long run stays in a sane range.
    const revert = path.anchor.minus(path.mark).times('0.02');
    let next = path.mark.times(bpFactor(bp)).plus(revert);
    const low = path.anchor.times('0.3');
    const high = path.anchor.times(3);
    if (next.lt(low)) next = low;
    if (next.gt(high)) next = high;
    path.mark = next.toDecimalPlaces(path.decimals, D.ROUND_HALF_UP);
    return path.mark;
  }

  /** A price within ±bp of the mark, rounded to the symbol's precision, never below one tick. */
  near(symbol: string, bp: number): Dec {
    const decimals = this.decimals(symbol);
    const price = this.mark(symbol).times(bpFactor(bp)).toDecimalPlaces(decimals, D.ROUND_HALF_UP);
    const tick = units(1, decimals);
    return price.lt(tick) ? tick : price;
  }
}
