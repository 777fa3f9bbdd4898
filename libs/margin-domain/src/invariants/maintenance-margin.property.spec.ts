/*
 * Goal: maintenance margin is continuous across every bracket boundary (RULES §2.1, §7: cum_k = cum_{k−1} +
 * floor_k × (MMR_k − MMR_{k−1})). For the shipped tables and for random valid tables: the left limit (the lower
 * tier, which owns a notional exactly at its cap) equals the right limit (the upper tier's line at the cap); MM is
 * the upper envelope max_k(N × MMR_k − cum_k) of the tier lines at every notional; and it never decreases.
 */
import fc from 'fast-check';
import {
  oneTierSymbol,
  shippedReferenceData,
  withOverrides,
  decimalString,
  holds as ok,
} from '@ledger/testing';

import { tiersOf } from '../margin/brackets';
import { maintenanceMarginOf } from '../margin/position-math';
import { D, type Dec } from '../money/decimal';
import type { ReferenceData } from '../reference-data';

const shipped = shippedReferenceData();
const EPSILON = new D('1e-12');

function envelope(ref: ReferenceData, symbol: string, n: Dec): Dec {
  return tiersOf(ref, symbol)
    .map((t) => n.times(t.maintMarginRatio).minus(t.cum))
    .reduce((a, b) => (a.gte(b) ? a : b));
}

function checkBoundaries(ref: ReferenceData, symbol: string): number {
  const tiers = tiersOf(ref, symbol);
  let checked = 0;
  tiers.slice(0, -1).forEach((tier, k) => {
    const next = tiers[k + 1];
    if (!next) return;
    const cap = tier.notionalCap;
    const left = maintenanceMarginOf(ref, symbol, cap);
    ok(
      left.eq(cap.times(tier.maintMarginRatio).minus(tier.cum)),
      `${symbol} cap ${cap.toFixed()} belongs to tier ${k + 1}`,
    );
    ok(
      left.eq(cap.times(next.maintMarginRatio).minus(next.cum)),
      `${symbol} jump at ${cap.toFixed()}`,
    );
    // Just past the cap the upper tier applies; the change is only the slope × ε.
    const right = maintenanceMarginOf(ref, symbol, cap.plus(EPSILON));
    ok(
      right.minus(left).abs().lte(next.maintMarginRatio.times(EPSILON)),
      `${symbol} right limit at ${cap.toFixed()}`,
    );
    const below = maintenanceMarginOf(ref, symbol, cap.minus(EPSILON));
    ok(
      left.minus(below).abs().lte(tier.maintMarginRatio.times(EPSILON)),
      `${symbol} left limit at ${cap.toFixed()}`,
    );
    checked++;
  });
  return checked;
}

describe('maintenance margin continuity', () => {
  it.each(Object.keys(shipped.symbols))(
    '%s: left and right limits agree at every boundary',
    (symbol) => {
      expect(checkBoundaries(shipped, symbol)).toBe(tiersOf(shipped, symbol).length - 1);
    },
  );

  it('shipped tables: MM is the upper envelope of the tier lines and never decreases', () => {
    const symbols = Object.keys(shipped.symbols);
    fc.assert(
      fc.property(
        fc.constantFrom(...symbols),
        fc.oneof(decimalString(0, 1_000_000, 8), decimalString(0, 2_000_000_000, 2)),
        decimalString(0, 1000, 8),
        (symbol, n, step) => {
          const a = new D(n);
          const mm = maintenanceMarginOf(shipped, symbol, a);
          ok(mm.eq(envelope(shipped, symbol, a)), 'envelope');
          ok(maintenanceMarginOf(shipped, symbol, a.plus(step)).gte(mm), 'monotone');
        },
      ),
      { numRuns: 4000 },
    );
  });

  /** A random valid table: increasing caps and MMRs, non-increasing leverage, cum from the continuity rule. */
  const table = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 1, max: 400 })), {
      minLength: 1,
      maxLength: 8,
    })
    .map((steps) => {
      let floor = new D(0);
      let mmr = new D(0);
      let cum = new D(0);
      let previousMmr = new D(0);
      return steps.map(([width, mmrStep], i) => {
        mmr = mmr.plus(new D(mmrStep).div(10000));
        cum = i === 0 ? new D(0) : cum.plus(floor.times(mmr.minus(previousMmr)));
        previousMmr = mmr;
        const bracket = {
          bracket: i + 1,
          initialLeverage: Math.max(1, 125 - i * 15),
          notionalFloor: floor.toFixed(),
          notionalCap: floor.plus(width).toFixed(),
          maintMarginRatio: mmr.toFixed(),
          cum: cum.toFixed(),
        };
        floor = floor.plus(width);
        return bracket;
      });
    })
    .filter((brackets) => new D(brackets[brackets.length - 1]?.maintMarginRatio ?? '1').lt(1));

  it('random valid tables: continuous at every boundary, envelope everywhere', () => {
    fc.assert(
      fc.property(
        table,
        fc.array(decimalString(0, 50_000_000, 4), { minLength: 5, maxLength: 20 }),
        (brackets, ns) => {
          const ref = withOverrides({
            'symbols.TESTUSDT': {
              ...oneTierSymbol({
                baseAsset: 'TEST',
                marginAsset: 'USDT',
                maintMarginRatio: '0.01',
              }),
              brackets,
            },
          });
          checkBoundaries(ref, 'TESTUSDT');
          for (const n of ns) {
            const a = new D(n);
            ok(
              maintenanceMarginOf(ref, 'TESTUSDT', a).eq(envelope(ref, 'TESTUSDT', a)),
              `envelope at ${n}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
