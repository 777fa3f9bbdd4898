/*
 * Goal: the liquidation price solves "margin balance = maintenance margin" at mark = LP (RULES §2.4, S9
 * reconstructed), with the tier of the notional at the LP (the adjacent-tier retry), for random Single-Asset states:
 * one cross position, isolated longs and shorts (TMM1 = UPNL1 = 0), two cross positions in one pool (TMM1, UPNL1
 * of the other held at its mark) and hedge-mode LONG + SHORT of one symbol solved together. The LP comes from
 * computeMargin; the check recomputes the margin state with that mark and compares within 1e-8 relative. LP = 0
 * (no positive solution) is skipped.
 */
import fc from 'fast-check';
import {
  aDeposit,
  aLeverageChange,
  aMarginTypeChange,
  aPositionOpened,
  anAccountOpened,
  foldEvents,
  shippedReferenceData,
  decimalString,
} from '@ledger/testing';

import type { AccountState } from '../account/account.state';
import { computeMargin } from '../margin/margin-state';
import type { MarketView } from '../market/market';
import { D, type Dec } from '../money/decimal';

const ref = shippedReferenceData();
const PRICE: Record<string, [number, number]> = {
  BTCUSDT: [1000, 120_000],
  BNBUSDT: [10, 2_000],
  BTCUSDC: [1000, 120_000],
};
const QTY: Record<string, [number, number]> = {
  BTCUSDT: [0.001, 60],
  BNBUSDT: [0.01, 3_000],
  BTCUSDC: [0.001, 60],
};

function market(marks: Record<string, Dec>): MarketView {
  return {
    marks: new Map(Object.entries(marks)),
    assetIndexes: new Map(),
    fundingRates: new Map(),
  };
}

/** |a − b| ≤ 1e-8 × max(1, |b|). */
function close(a: Dec, b: Dec): boolean {
  return a
    .minus(b)
    .abs()
    .lte(new D('1e-8').times(D.max(1, b.abs())));
}

const signedQty = (symbol: string) =>
  fc
    .tuple(decimalString(QTY[symbol]?.[0] ?? 1, QTY[symbol]?.[1] ?? 1, 3), fc.boolean())
    .map(([q, long]) => (long ? q : `-${q}`));
const price = (symbol: string) =>
  decimalString(PRICE[symbol]?.[0] ?? 1, PRICE[symbol]?.[1] ?? 1, 2);

const position = fc.constantFrom('BTCUSDT', 'BNBUSDT', 'BTCUSDC').chain((symbol) =>
  fc.record({
    symbol: fc.constant(symbol),
    qty: signedQty(symbol),
    entry: price(symbol),
    mark: price(symbol),
  }),
);

function lpOf(state: AccountState, marks: Record<string, Dec>, key: string): Dec {
  return computeMargin(state, market(marks), ref).positions.get(key)?.liquidationPrice ?? new D(0);
}

function poolSolved(state: AccountState, marks: Record<string, Dec>, asset: string): boolean {
  const pool = computeMargin(state, market(marks), ref, { liquidationPrices: false }).assets.get(
    asset,
  );
  return (
    pool !== undefined &&
    close(pool.crossWalletBalance.plus(pool.crossUnrealizedProfit), pool.crossMaintMargin)
  );
}

describe('the liquidation price solves margin balance = maintenance margin', () => {
  it('SINGLE cross, one position', () => {
    let solved = 0;
    fc.assert(
      fc.property(position, decimalString(1, 2_000_000, 2), (p, wallet) => {
        const asset = p.symbol.endsWith('USDC') ? 'USDC' : 'USDT';
        const state = foldEvents([
          anAccountOpened(),
          aDeposit(wallet, asset),
          aPositionOpened({ symbol: p.symbol, positionAmt: p.qty, entryPrice: p.entry }),
        ]);
        const lp = lpOf(state, { [p.symbol]: new D(p.mark) }, p.symbol);
        if (lp.isZero()) return true;
        solved++;
        return poolSolved(state, { [p.symbol]: lp }, asset);
      }),
      { numRuns: 2500 },
    );
    expect(solved).toBeGreaterThan(500);
  });

  it('SINGLE isolated, long and short (TMM1 = UPNL1 = 0)', () => {
    let solved = 0;
    fc.assert(
      fc.property(
        position,
        decimalString(0.01, 500_000, 2),
        decimalString(0, 100_000, 2),
        (p, isolatedWallet, cross) => {
          const state = foldEvents([
            anAccountOpened(),
            aDeposit(cross),
            aMarginTypeChange(p.symbol, 'ISOLATED'),
            aPositionOpened({
              symbol: p.symbol,
              positionAmt: p.qty,
              entryPrice: p.entry,
              marginType: 'ISOLATED',
              isolatedWallet,
            }),
          ]);
          const lp = lpOf(state, { [p.symbol]: new D(p.mark) }, p.symbol);
          if (lp.isZero()) return true;
          solved++;
          const view = computeMargin(state, market({ [p.symbol]: lp }), ref).positions.get(
            p.symbol,
          );
          return view !== undefined && close(view.isolatedMargin, view.maintMargin);
        },
      ),
      { numRuns: 2500 },
    );
    expect(solved).toBeGreaterThan(500);
  });

  it('SINGLE cross, two symbols in one pool: each LP holds the other at its mark (TMM1, UPNL1)', () => {
    let solved = 0;
    const two = fc.record({
      btc: fc.record({
        qty: signedQty('BTCUSDT'),
        entry: price('BTCUSDT'),
        mark: price('BTCUSDT'),
      }),
      bnb: fc.record({
        qty: signedQty('BNBUSDT'),
        entry: price('BNBUSDT'),
        mark: price('BNBUSDT'),
      }),
      wallet: decimalString(1, 3_000_000, 2),
      leverage: fc.integer({ min: 1, max: 20 }),
    });
    fc.assert(
      fc.property(two, (t) => {
        const state = foldEvents([
          anAccountOpened(),
          aDeposit(t.wallet),
          aLeverageChange('BTCUSDT', t.leverage),
          aPositionOpened({ symbol: 'BTCUSDT', positionAmt: t.btc.qty, entryPrice: t.btc.entry }),
          aPositionOpened({ symbol: 'BNBUSDT', positionAmt: t.bnb.qty, entryPrice: t.bnb.entry }),
        ]);
        const marks = { BTCUSDT: new D(t.btc.mark), BNBUSDT: new D(t.bnb.mark) };
        for (const symbol of ['BTCUSDT', 'BNBUSDT']) {
          const lp = lpOf(state, marks, symbol);
          if (lp.isZero()) continue;
          solved++;
          if (!poolSolved(state, { ...marks, [symbol]: lp }, 'USDT')) return false;
        }
        return true;
      }),
      { numRuns: 1500 },
    );
    expect(solved).toBeGreaterThan(500);
  });

  it('SINGLE cross, hedge mode: LONG and SHORT of one symbol share one LP that solves the pool', () => {
    let solved = 0;
    const hedge = fc.record({
      long: decimalString(0.001, 40, 3),
      short: decimalString(0.001, 40, 3),
      longEntry: price('BTCUSDT'),
      shortEntry: price('BTCUSDT'),
      mark: price('BTCUSDT'),
      wallet: decimalString(1, 3_000_000, 2),
    });
    fc.assert(
      fc.property(hedge, (h) => {
        const state = foldEvents([
          anAccountOpened({ positionMode: 'HEDGE' }),
          aDeposit(h.wallet),
          aPositionOpened({ positionAmt: h.long, entryPrice: h.longEntry, positionSide: 'LONG' }),
          aPositionOpened({
            positionAmt: `-${h.short}`,
            entryPrice: h.shortEntry,
            positionSide: 'SHORT',
          }),
        ]);
        const marks = { BTCUSDT: new D(h.mark) };
        const lp = lpOf(state, marks, 'BTCUSDT:LONG');
        if (!lp.eq(lpOf(state, marks, 'BTCUSDT:SHORT'))) return false;
        if (lp.isZero()) return true;
        solved++;
        return poolSolved(state, { BTCUSDT: lp }, 'USDT');
      }),
      { numRuns: 1500 },
    );
    expect(solved).toBeGreaterThan(200);
  });
});
