/*
 * Goal: properties of the auto-exchange (RULES §3.2, §8 invariants (i), (ii), (iv)) over thousands of random
 * Multi-Assets wallets and asset indexes, with both proportion flags and coarser asset precisions. Every leg
 * balances at the stated rates: credited = round8(qty × index × (1 − haircut) / negAskRate) and
 * usdValueAtIndex = qty × index; quantities never exceed balances and carry at most the asset's precision; the
 * fold moves exactly −qty per leg and +Σ credited to the negative asset, nothing else; afterwards the negative
 * asset is ≥ 0 unless all collateral was used, and the surplus created by rounding up stays within one quantity
 * unit per leg (plus 1e-8 per credit); haircutCostUsd = round8(Σ usd at index − Σ credited × index).
 */
import fc from 'fast-check';
import { shippedReferenceData, withOverrides, decimalString, holds as ok } from '@ledger/testing';

import type { AccountState } from '../account/account.state';
import { initialAccountState } from '../account/account.state';
import { evolve } from '../account/account.evolve';
import type { AssetIndex, MarketView } from '../market/market';
import { ratesOf } from '../market/market';
import { D, type Dec, ZERO, round8 } from '../money/decimal';
import type { ReferenceData } from '../reference-data';
import { autoExchangesDue, executeAutoExchange } from '../risk/auto-exchange';

const base = shippedReferenceData();
const REFS: ReferenceData[] = [
  base,
  withOverrides({ 'autoExchange.proportion': 'AUTO_EXCHANGE' }),
  withOverrides({ 'assets.BTC.precision': 5, 'assets.ETH.precision': 3 }),
  withOverrides({ 'assets.BTC.precision': 6, 'autoExchange.proportion': 'AUTO_EXCHANGE' }),
];
const ASSETS = ['USDT', 'USDC', 'BTC', 'ETH', 'BNB', 'BNFCR'] as const;
type Asset = (typeof ASSETS)[number];

const indexArb = (lo: number, hi: number): fc.Arbitrary<AssetIndex> =>
  fc
    .record({
      index: decimalString(lo, hi, 8),
      bidBuffer: decimalString(0, 0.2, 4),
      askBuffer: decimalString(0, 0.2, 4),
      autoExchangeBidBuffer: decimalString(0, 0.5, 4),
      autoExchangeAskBuffer: decimalString(0, 0.01, 5),
    })
    .map((r) => ({
      index: new D(r.index),
      bidBuffer: new D(r.bidBuffer),
      askBuffer: new D(r.askBuffer),
      autoExchangeBidBuffer: new D(r.autoExchangeBidBuffer),
      autoExchangeAskBuffer: new D(r.autoExchangeAskBuffer),
    }));

const balance = fc.option(
  fc.oneof(decimalString(-50_000, 1_000_000, 8), decimalString(0, 0.01, 8), fc.constant('0')),
  {
    nil: undefined,
  },
);
const scenario = fc.record({
  refIndex: fc.integer({ min: 0, max: REFS.length - 1 }),
  negAsset: fc.constantFrom(...ASSETS),
  deficit: fc.oneof(
    decimalString(0.00000001, 0.001),
    decimalString(0.00000001, 100),
    decimalString(1, 2_000_000),
  ),
  balances: fc.record({
    USDT: balance,
    USDC: balance,
    BTC: balance,
    ETH: balance,
    BNB: balance,
    BNFCR: balance,
  }),
  indexes: fc.record({
    USDT: fc.option(indexArb(0.9, 1.1), { nil: undefined }),
    USDC: fc.option(indexArb(0.9, 1.1), { nil: undefined }),
    BTC: fc.option(indexArb(100, 200_000), { nil: undefined }),
    ETH: fc.option(indexArb(1, 10_000), { nil: undefined }),
    BNB: fc.option(indexArb(0.01, 1_000), { nil: undefined }),
    BNFCR: fc.option(indexArb(0.5, 2), { nil: undefined }),
  }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function buildState(s: Scenario): AccountState {
  let state = evolve(initialAccountState('p'), {
    type: 'AccountOpened',
    data: { accountId: 'p', vipLevel: 0, assetMode: 'MULTI', positionMode: 'ONE_WAY' },
  });
  for (const asset of ASSETS) {
    const b = asset === s.negAsset ? `-${s.deficit}` : s.balances[asset];
    if (b === undefined || b === '0') continue;
    const amount = new D(b);
    state = evolve(
      state,
      amount.isNegative()
        ? { type: 'Withdrawn', data: { asset, amount: amount.abs().toFixed() } }
        : { type: 'Deposited', data: { asset, amount: b } },
    );
  }
  return state;
}

function buildMarket(indexes: Partial<Record<string, AssetIndex>>): MarketView {
  const assetIndexes = new Map<string, AssetIndex>();
  for (const [a, ix] of Object.entries(indexes)) if (ix) assetIndexes.set(a, ix);
  return { marks: new Map(), assetIndexes, fundingRates: new Map() };
}

const wb = (s: AccountState, a: string): Dec => s.wallets.get(a) ?? ZERO;

describe('auto-exchange properties', () => {
  it('legs balance at the stated rates, conserve value, and clear the deficit unless all collateral is used', () => {
    let exchanged = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const ref = REFS[s.refIndex] as ReferenceData;
        const state = buildState(s);
        const market = buildMarket(s.indexes);
        const event = executeAutoExchange(state, market, ref, s.negAsset, 'THRESHOLD');
        const negRates = ratesOf(market, ref, s.negAsset);
        // Candidates: every other margin asset with a positive balance and an auto-exchange rate > 0.
        const candidates: string[] = ASSETS.filter(
          (a: Asset) =>
            a !== s.negAsset &&
            wb(state, a).gt(0) &&
            ratesOf(market, ref, a).autoExchangeBidRate.gt(0),
        );
        if (event === null) {
          ok(
            candidates.length === 0 || negRates.autoExchangeAskRate.isZero(),
            'no exchange although collateral exists',
          );
          return;
        }
        exchanged++;
        const data = event.data;
        const deficit = wb(state, s.negAsset).abs();
        ok(data.deficit === deficit.toFixed(), 'deficit');
        ok(
          new D(data.deficitUsd).eq(deficit.times(negRates.autoExchangeAskRate)),
          'deficitUsd at the auto-exchange ask rate',
        );
        let credited = ZERO;
        let soldUsd = ZERO;
        let surplusBound = ZERO;
        for (const leg of data.legs) {
          const rates = ratesOf(market, ref, leg.asset);
          const qty = new D(leg.qty);
          const precision = ref.assets[leg.asset]?.precision ?? 8;
          ok(candidates.includes(leg.asset), `unexpected leg ${leg.asset}`);
          ok(qty.gt(0) && qty.lte(wb(state, leg.asset)), 'qty within the balance');
          // Rounded up to the asset's precision, unless the whole (finer) balance is sold.
          ok(qty.eq(wb(state, leg.asset)) || qty.decimalPlaces() <= precision, 'qty precision');
          ok(leg.index === rates.index.toFixed(), 'index');
          ok(
            new D(leg.usdValueAtIndex).eq(qty.times(rates.index)),
            'usdValueAtIndex = qty × index',
          );
          ok(
            new D(leg.haircut).eq(rates.index.minus(rates.autoExchangeBidRate).div(rates.index)),
            'haircut',
          );
          const expected = round8(
            qty
              .times(rates.index)
              .times(new D(1).minus(leg.haircut))
              .div(negRates.autoExchangeAskRate),
          );
          ok(
            leg.credited === expected.toFixed(),
            `credited ${leg.credited} ≠ ${expected.toFixed()}`,
          );
          credited = credited.plus(leg.credited);
          soldUsd = soldUsd.plus(leg.usdValueAtIndex);
          surplusBound = surplusBound
            .plus(
              new D(10)
                .pow(-precision)
                .times(rates.autoExchangeBidRate)
                .div(negRates.autoExchangeAskRate),
            )
            .plus('0.00000001');
        }
        ok(
          data.haircutCostUsd === round8(soldUsd.minus(credited.times(negRates.index))).toFixed(),
          'haircutCostUsd',
        );
        // Conservation (invariant (i)): the fold moves −qty per leg and +Σ credited, nothing else.
        const after = evolve(state, event);
        for (const asset of new Set([...state.wallets.keys(), ...after.wallets.keys()])) {
          const leg = data.legs.find((l) => l.asset === asset);
          const delta = asset === s.negAsset ? credited : leg ? new D(leg.qty).neg() : ZERO;
          ok(wb(after, asset).minus(wb(state, asset)).eq(delta), `conservation of ${asset}`);
        }
        // Invariant (ii): the negative asset ≥ 0, or all collateral was used.
        const allUsed = candidates.every((a) => wb(after, a).isZero());
        if (!allUsed) {
          ok(
            wb(after, s.negAsset).gte(0),
            `${s.negAsset} left at ${wb(after, s.negAsset).toFixed()} with collateral left`,
          );
          // Rounding creates at most one quantity unit per leg (plus 1e-8 per credit: HALF_UP, then a top-up).
          ok(
            credited.minus(deficit).lte(surplusBound),
            `surplus ${credited.minus(deficit).toFixed()} beyond rounding`,
          );
        }
      }),
      { numRuns: 3000 },
    );
    expect(exchanged).toBeGreaterThan(1000);
  });

  it('after an auto-exchange that clears it, the same asset is never due again', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const ref = REFS[s.refIndex] as ReferenceData;
        const state = buildState(s);
        const market = buildMarket(s.indexes);
        const event = executeAutoExchange(state, market, ref, s.negAsset, 'THRESHOLD');
        if (!event) return;
        const after = evolve(state, event);
        if (wb(after, s.negAsset).gte(0)) {
          ok(
            !autoExchangesDue(after, market, ref).some((d) => d.asset === s.negAsset),
            'due again',
          );
        }
      }),
      { numRuns: 1000 },
    );
  });
});
