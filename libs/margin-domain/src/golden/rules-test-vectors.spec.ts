/*
 * Goal: every test vector of RULES.md §9 (TV-01 … TV-20), each pinned to the digit the vector gives. Inputs are built
 * as the vector states them: positions and wallets as account events, marks as marks and asset indexes as asset
 * indexes (never derived from each other), and a vector that states its own MMR gets a one-tier test bracket through
 * reference-data overrides. Expected numbers are RULES' own (recomputed with Python decimal, precision 40): exact
 * values compare exactly, repeating ones at the 8 dp the vector rounds to. Derivation checks (an LP where margin
 * balance = maintenance margin) are made by recomputing the margin state at that mark.
 */
import {
  FLAT_USD,
  aDeposit,
  aLeverageChange,
  aMarginTypeChange,
  aPositionOpened,
  aWithdrawal,
  anAccountOpened,
  anAssetModeChange,
  anOrderPlaced,
  aFill,
  btcIndex,
  foldEvents,
  given,
  marketWith,
  oneTierSymbol,
  settleFundingCommand,
  shippedReferenceData,
  switchAssetModeCommand,
  setMarginTypeCommand,
  withOverrides,
} from '@ledger/testing';

import type { AccountEvent } from '../account/account.events';
import type { AccountState } from '../account/account.state';
import { decide } from '../account/account.decide';
import { fold } from '../account/account.evolve';
import { computeMargin } from '../margin/margin-state';
import type { MarketView } from '../market/market';
import { ratesOf } from '../market/market';
import { D, type Dec } from '../money/decimal';
import type { ReferenceData } from '../reference-data';
import { assessRisk } from '../risk/assess';
import { autoExchangesDue, executeAutoExchange, loanToValue } from '../risk/auto-exchange';
import { liquidationsDue } from '../risk/liquidation';

const ref = shippedReferenceData();
const d = (s: string): Dec => new D(s);
const state = (...events: AccountEvent[]): AccountState => foldEvents(events);
/** Decide and fold: the state after a command, through the real decider. */
function run(
  s: AccountState,
  command: Parameters<typeof decide>[0],
  market: MarketView,
  r: ReferenceData = ref,
) {
  const events = decide(command, s, { ref: r, market });
  return { events, state: fold(events, s) };
}

/** |a − b| ≤ tolerance. */
function expectClose(a: Dec, b: Dec, tolerance = '1e-20'): void {
  expect(a.minus(b).abs().lte(tolerance)).toBe(true);
}

describe('RULES §9 test vectors', () => {
  describe('TV-01: Multi-Assets, no positions (S4 state 1)', () => {
    it('values USDT at bid 0.9801, makes equity 416.02 and USDT available 418.13156440', () => {
      const s = state(
        anAccountOpened({ assetMode: 'MULTI' }),
        aDeposit('200', 'USDT'),
        aDeposit('220', 'USDC'),
      );
      const market = marketWith({
        assetIndexes: { USDT: { index: '0.99', bidBuffer: '0.01', askBuffer: '0.005' }, USDC: '1' },
      });
      const usdt = ratesOf(market, ref, 'USDT');
      expect(usdt.bidRate.toFixed()).toBe('0.9801');
      expect(usdt.askRate.toFixed()).toBe('0.99495');
      const m = computeMargin(s, market, ref);
      expect(m.account.totalMarginBalance.toFixed()).toBe('416.02');
      expect(m.account.availableBalance.toFixed()).toBe('416.02');
      expect(m.assets.get('USDT')?.availableBalance.toFixed(8)).toBe('418.13156440');
      expect(m.assets.get('USDC')?.availableBalance.toFixed()).toBe('416.02');
      expect(m.account.marginRatio?.toFixed()).toBe('0');
    });
  });

  /** TV-02/03: BTCUSDT at Binance's example MMR 0.008, ETHUSDC at 0.01: one-tier test brackets. */
  const tv02Ref = withOverrides({
    'symbols.BTCUSDT': oneTierSymbol({
      baseAsset: 'BTC',
      marginAsset: 'USDT',
      maintMarginRatio: '0.008',
    }),
    'symbols.ETHUSDC': oneTierSymbol({
      baseAsset: 'ETH',
      marginAsset: 'USDC',
      maintMarginRatio: '0.01',
    }),
  });
  const tv02State = state(
    anAccountOpened({ assetMode: 'MULTI' }),
    aDeposit('200', 'USDT'),
    aDeposit('220', 'USDC'),
    aLeverageChange('BTCUSDT', 100),
    aLeverageChange('ETHUSDC', 50),
    aPositionOpened({ symbol: 'BTCUSDT', positionAmt: '0.5', entryPrice: '20000' }),
    aPositionOpened({ symbol: 'ETHUSDC', positionAmt: '20', entryPrice: '600' }),
  );
  const tv02Market = (btcMark: string) =>
    marketWith({
      marks: { BTCUSDT: btcMark, ETHUSDC: '600' },
      assetIndexes: { USDT: { index: '0.99', bidBuffer: '0.01', askBuffer: '0.005' }, USDC: '1' },
    });

  describe('TV-02: Multi-Assets with positions at entry (S4 state 2)', () => {
    it('has IM 100 USDT / 240 USDC, MM 80 / 120, uniAvailable 76.525 and margin ratio 0.47977501', () => {
      const m = computeMargin(tv02State, tv02Market('20000'), tv02Ref);
      expect(m.assets.get('USDT')?.initialMargin.toFixed()).toBe('100');
      expect(m.assets.get('USDC')?.initialMargin.toFixed()).toBe('240');
      expect(m.assets.get('USDT')?.maintMargin.toFixed()).toBe('80');
      expect(m.assets.get('USDC')?.maintMargin.toFixed()).toBe('120');
      expect(m.account.totalMarginBalance.toFixed()).toBe('416.02');
      expect(m.account.availableBalance.toFixed()).toBe('76.525');
      expect(m.assets.get('USDT')?.availableBalance.toFixed(8)).toBe('76.91341273');
      expect(m.assets.get('USDC')?.availableBalance.toFixed()).toBe('76.525');
      expect(m.account.totalMaintMargin.toFixed()).toBe('199.596');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.47977501');
    });
  });

  describe('TV-03: TV-02 after the BTC mark moves', () => {
    it('(a) mark 19,800: equity 318.01, MM 198.80004, IM 338.50005, uni −20.49005 clamped to 0, ratio 0.62513770, no liquidation', () => {
      const m = computeMargin(tv02State, tv02Market('19800'), tv02Ref);
      expect(m.account.totalMarginBalance.toFixed()).toBe('318.01');
      expect(m.account.totalMaintMargin.toFixed()).toBe('198.80004');
      expect(m.account.totalInitialMargin.toFixed()).toBe('338.50005');
      expect(m.account.availableRaw.toFixed()).toBe('-20.49005');
      expect(m.account.availableBalance.toFixed()).toBe('0');
      for (const asset of ['USDT', 'USDC', 'BTC'])
        expect(m.assets.get(asset)?.availableBalance.toFixed()).toBe('0');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.62513770');
      expect(liquidationsDue(tv02State, m)).toEqual([]);
    });

    it('(b) mark 19,000: USDT equity −300 valued at the ask (−298.485), equity −78.485, MM 195.6162 → liquidate all', () => {
      const market = tv02Market('19000');
      const m = computeMargin(tv02State, market, tv02Ref);
      expect(m.assets.get('USDT')?.marginBalance.toFixed()).toBe('-300');
      expect(m.account.totalMarginBalance.toFixed()).toBe('-78.485');
      expect(m.account.totalMaintMargin.toFixed()).toBe('195.6162');
      expect(m.account.marginRatio).toBeNull();
      const due = liquidationsDue(tv02State, m);
      expect(due).toHaveLength(1);
      expect(due[0]?.scope).toBe('ACCOUNT');
      expect([...(due[0]?.positions ?? [])].sort()).toEqual(['BTCUSDT', 'ETHUSDC']);
      expect(assessRisk(tv02State, market, tv02Ref)).toEqual([{ type: 'Liquidate' }]);
    });
  });

  describe('TV-04: negative asset equity carried by another stablecoin', () => {
    const s = state(
      anAccountOpened({ assetMode: 'MULTI' }),
      aDeposit('10000', 'USDC'),
      aPositionOpened({ positionAmt: '1', entryPrice: '60000' }),
    );
    const market = marketWith({ marks: { BTCUSDT: '59000' } });

    it('values USDT equity −1,000 at 1.0001: equity 8,999.9, MM 245.0245 (tier 2), ratio 0.02722525, uni 6,049.605', () => {
      const m = computeMargin(s, market, ref);
      expect(m.assets.get('USDT')?.marginBalance.toFixed()).toBe('-1000');
      expect(m.account.totalMarginBalance.toFixed()).toBe('8999.9');
      expect(m.assets.get('USDT')?.maintMargin.toFixed()).toBe('245');
      expect(m.account.totalMaintMargin.toFixed()).toBe('245.0245');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.02722525');
      expect(m.account.totalInitialMargin.toFixed()).toBe('2950.295');
      expect(m.account.availableBalance.toFixed()).toBe('6049.605');
      expect(m.assets.get('USDT')?.availableBalance.toFixed(8)).toBe('6049.00009999');
      expect(m.assets.get('USDC')?.availableBalance.toFixed()).toBe('6049.605');
    });

    it('triggers no auto-exchange: the USDT wallet is 0, only its equity is negative', () => {
      expect(autoExchangesDue(s, market, ref)).toEqual([]);
      expect(assessRisk(s, market, ref)).toEqual([]);
    });
  });

  describe('TV-05: BTC collateral with a BTCUSDT short (hedged)', () => {
    const opened = state(
      anAccountOpened({ assetMode: 'MULTI' }),
      aDeposit('1', 'BTC'),
      aLeverageChange('BTCUSDT', 10),
    );
    const at = (price: string) =>
      marketWith({
        marks: { BTCUSDT: price },
        assetIndexes: { BTC: btcIndex(price), USDT: FLAT_USD },
      });

    it('step 1, index = mark = 60,000: collateral 57,000, IM 6,000, available 51,000, MM 250, ratio 0.00438596', () => {
      const { state: s } = run(
        opened,
        aFill({ side: 'SELL', quantity: '1', price: '60000', fee: '0' }),
        at('60000'),
      );
      const m = computeMargin(s, at('60000'), ref);
      expect(m.account.totalMarginBalance.toFixed()).toBe('57000');
      expect(m.account.totalInitialMargin.toFixed()).toBe('6000');
      expect(m.account.availableBalance.toFixed()).toBe('51000');
      expect(m.account.totalMaintMargin.toFixed()).toBe('250');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.00438596');
    });

    it('step 2, index = mark = 66,000: equity 56,700, MM 280, ratio 0.00493827, IM 6,600, available 50,100', () => {
      const { state: s } = run(
        opened,
        aFill({ side: 'SELL', quantity: '1', price: '60000', fee: '0' }),
        at('60000'),
      );
      const m = computeMargin(s, at('66000'), ref);
      expect(m.assets.get('USDT')?.marginBalance.toFixed()).toBe('-6000');
      expect(m.account.totalMarginBalance.toFixed()).toBe('56700');
      expect(m.account.totalMaintMargin.toFixed()).toBe('280');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.00493827');
      expect(m.account.totalInitialMargin.toFixed()).toBe('6600');
      expect(m.account.availableBalance.toFixed()).toBe('50100');
    });
  });

  describe('TV-06: liquidation when the collateral is the underlying', () => {
    const s = state(
      anAccountOpened({ assetMode: 'MULTI' }),
      aDeposit('0.1', 'BTC'),
      aPositionOpened({ positionAmt: '0.5', entryPrice: '60000' }),
    );
    const at = (m: Dec) => {
      const market = marketWith({ assetIndexes: { USDT: FLAT_USD } });
      market.marks.set('BTCUSDT', m);
      market.assetIndexes.set('BTC', {
        index: m,
        bidBuffer: d('0.05'),
        askBuffer: d('0.05'),
        autoExchangeBidBuffer: d('0.025'),
        autoExchangeAskBuffer: d('0'),
      });
      return market;
    };

    it('at M = 60,000: equity 5,700, IM 1,500, MM 120', () => {
      const m = computeMargin(s, at(d('60000')), ref);
      expect(m.account.totalMarginBalance.toFixed()).toBe('5700');
      expect(m.account.totalInitialMargin.toFixed()).toBe('1500');
      expect(m.account.totalMaintMargin.toFixed()).toBe('120');
    });

    it('M* = 30,000 / 0.593 ≈ 50,590.21922428: equity = MM = 101.18043845 there, liquidation just below, not above', () => {
      const mStar = d('30000').div('0.593');
      expect(mStar.toFixed(8)).toBe('50590.21922428');
      const m = computeMargin(s, at(mStar), ref);
      expect(m.account.totalMarginBalance.toFixed(8)).toBe('101.18043845');
      expect(m.account.totalMaintMargin.toFixed(8)).toBe('101.18043845');
      expectClose(m.account.totalMarginBalance, m.account.totalMaintMargin);
      const below = mStar.minus('0.01');
      const above = mStar.plus('0.01');
      expect(liquidationsDue(s, computeMargin(s, at(below), ref)).map((x) => x.scope)).toEqual([
        'ACCOUNT',
      ]);
      expect(liquidationsDue(s, computeMargin(s, at(above), ref))).toEqual([]);
    });

    it('the Single-Asset comparison (5,700 USDT of wallet) has LP 48,795.18072289, in tier 1', () => {
      const single = state(
        anAccountOpened(),
        aDeposit('5700'),
        aPositionOpened({ positionAmt: '0.5', entryPrice: '60000' }),
      );
      const lp = computeMargin(
        single,
        marketWith({ marks: { BTCUSDT: '60000' } }),
        ref,
      ).positions.get('BTCUSDT')?.liquidationPrice as Dec;
      expect(lp.toFixed(8)).toBe('48795.18072289');
      expect(lp.times('0.5').lte(50000)).toBe(true);
    });
  });

  describe('TV-07: Single-Asset cross, one position', () => {
    const s = state(
      anAccountOpened(),
      aDeposit('10000'),
      aLeverageChange('BTCUSDT', 10),
      aPositionOpened({ positionAmt: '1', entryPrice: '60000' }),
    );

    it('at mark 59,000: margin balance 9,000, MM 245, ratio 0.02722222, available 3,100; LP 50,201.00502513', () => {
      const m = computeMargin(s, marketWith({ marks: { BTCUSDT: '59000' } }), ref);
      const usdt = m.assets.get('USDT');
      expect(usdt?.marginBalance.toFixed()).toBe('9000');
      expect(usdt?.maintMargin.toFixed()).toBe('245');
      expect(usdt?.marginRatio?.toFixed(8)).toBe('0.02722222');
      expect(usdt?.availableBalance.toFixed()).toBe('3100');
      expect(m.account.marginRatio?.toFixed(8)).toBe('0.02722222');
      expect(m.positions.get('BTCUSDT')?.liquidationPrice.toFixed(8)).toBe('50201.00502513');
    });

    it('at the LP the notional is in tier 2 and margin balance = MM = 201.00502513', () => {
      const lp = computeMargin(s, marketWith({ marks: { BTCUSDT: '59000' } }), ref).positions.get(
        'BTCUSDT',
      )?.liquidationPrice as Dec;
      expect(lp.gt(50000) && lp.lte(600000)).toBe(true);
      const atLp = marketWith();
      atLp.marks.set('BTCUSDT', lp);
      const usdt = computeMargin(s, atLp, ref).assets.get('USDT');
      expect(usdt?.marginBalance.toFixed(8)).toBe('201.00502513');
      expect(usdt?.maintMargin.toFixed(8)).toBe('201.00502513');
      expectClose(usdt?.marginBalance as Dec, usdt?.maintMargin as Dec);
    });
  });

  describe('TV-08: Single-Asset isolated, long and short', () => {
    const isolated = (amt: string) =>
      state(
        anAccountOpened(),
        aDeposit('5000'),
        aMarginTypeChange('BTCUSDT', 'ISOLATED'),
        aLeverageChange('BTCUSDT', 30),
        aPositionOpened({
          positionAmt: amt,
          entryPrice: '60000',
          marginType: 'ISOLATED',
          isolatedWallet: '1000',
        }),
      );
    const lpOf = (s: AccountState) =>
      computeMargin(s, marketWith({ marks: { BTCUSDT: '60000' } }), ref).positions.get(
        'BTCUSDT',
      ) as {
        liquidationPrice: Dec;
        isolatedMargin: Dec;
        initialMargin: Dec;
      };

    it('the isolated wallet is the IM moved at open: 1,000 of 30,000 at 30x', () => {
      const view = lpOf(isolated('0.5'));
      expect(view.initialMargin.toFixed()).toBe('1000');
      expect(view.isolatedMargin.toFixed()).toBe('1000');
    });

    it('long: LP 58,232.93172691, tier 1 there, isolatedMargin = MM = 116.46586345', () => {
      const s = isolated('0.5');
      const lp = lpOf(s).liquidationPrice;
      expect(lp.toFixed(8)).toBe('58232.93172691');
      expect(lp.times('0.5').toFixed(2)).toBe('29116.47');
      const atLp = marketWith();
      atLp.marks.set('BTCUSDT', lp);
      const view = computeMargin(s, atLp, ref).positions.get('BTCUSDT');
      expect(view?.isolatedMargin.toFixed(8)).toBe('116.46586345');
      expect(view?.maintMargin.toFixed(8)).toBe('116.46586345');
      expectClose(view?.isolatedMargin as Dec, view?.maintMargin as Dec);
    });

    it('short: LP 61,752.98804781, tier 1 there, isolatedMargin = MM', () => {
      const s = isolated('-0.5');
      const lp = lpOf(s).liquidationPrice;
      expect(lp.toFixed(8)).toBe('61752.98804781');
      expect(lp.times('0.5').toFixed(2)).toBe('30876.49');
      const atLp = marketWith();
      atLp.marks.set('BTCUSDT', lp);
      const view = computeMargin(s, atLp, ref).positions.get('BTCUSDT');
      expectClose(view?.isolatedMargin as Dec, view?.maintMargin as Dec);
      expect(view?.maintMargin.toFixed(8)).toBe('123.50597610');
    });
  });

  describe('TV-09: Single-Asset cross, two symbols (TMM1, UPNL1)', () => {
    const s = state(
      anAccountOpened(),
      aDeposit('5000'),
      aLeverageChange('BTCUSDT', 20),
      aLeverageChange('BNBUSDT', 10),
      aPositionOpened({ symbol: 'BTCUSDT', positionAmt: '0.2', entryPrice: '60000' }),
      aPositionOpened({ symbol: 'BNBUSDT', positionAmt: '-20', entryPrice: '600' }),
    );
    const market = marketWith({ marks: { BTCUSDT: '61000', BNBUSDT: '620' } });

    it('BNB MM 64.4 (tier 2), UPnL −400; BTC UPnL +200, MM 48.8; MB 4,800, MM 113.2, ratio 0.02358333, available 2,950', () => {
      const m = computeMargin(s, market, ref);
      expect(m.positions.get('BNBUSDT')?.maintMargin.toFixed()).toBe('64.4');
      expect(m.positions.get('BNBUSDT')?.unrealizedProfit.toFixed()).toBe('-400');
      expect(m.positions.get('BTCUSDT')?.unrealizedProfit.toFixed()).toBe('200');
      expect(m.positions.get('BTCUSDT')?.maintMargin.toFixed()).toBe('48.8');
      const usdt = m.assets.get('USDT');
      expect(usdt?.marginBalance.toFixed()).toBe('4800');
      expect(usdt?.maintMargin.toFixed()).toBe('113.2');
      expect(usdt?.marginRatio?.toFixed(8)).toBe('0.02358333');
      expect(usdt?.initialMargin.toFixed()).toBe('1850');
      expect(usdt?.availableBalance.toFixed()).toBe('2950');
    });

    it('BTC LP 37,471.88755020 (BNB held fixed), tier 1 there, margin balance = MM = 94.37751004', () => {
      const lp = computeMargin(s, market, ref).positions.get('BTCUSDT')?.liquidationPrice as Dec;
      expect(lp.toFixed(8)).toBe('37471.88755020');
      expect(lp.times('0.2').toFixed(2)).toBe('7494.38');
      const atLp = marketWith({ marks: { BNBUSDT: '620' } });
      atLp.marks.set('BTCUSDT', lp);
      const usdt = computeMargin(s, atLp, ref).assets.get('USDT');
      expect(usdt?.marginBalance.toFixed(8)).toBe('94.37751004');
      expect(usdt?.maintMargin.toFixed(8)).toBe('94.37751004');
      expectClose(usdt?.marginBalance as Dec, usdt?.maintMargin as Dec);
    });
  });

  describe('TV-10 / TV-11: auto-exchange at the threshold (the 5,128 example)', () => {
    const balances = (vipLevel: number) =>
      state(
        anAccountOpened({ vipLevel, assetMode: 'MULTI' }),
        aDeposit('0.4', 'BTC'),
        aWithdrawal('5000', 'USDC'),
      );
    const market = marketWith({ assetIndexes: { BTC: btcIndex('50000') } });

    it('TV-10: VIP 1 at exactly −5,000 USDC fires THRESHOLD (≤ reading)', () => {
      expect(autoExchangesDue(balances(1), market, ref)).toEqual([
        { asset: 'USDC', trigger: 'THRESHOLD' },
      ]);
    });

    it('TV-10: with a strict "<" (thresholdInclusive false) it would not fire', () => {
      const strict = withOverrides({ 'autoExchange.thresholdInclusive': false });
      expect(autoExchangesDue(balances(1), market, strict)).toEqual([]);
    });

    it('TV-10: sells 0.10256411 BTC (5,128.20512821 USD rounded up), credits 5,000.0003625 USDC, haircut cost 128.2051375', () => {
      const s = balances(1);
      const event = executeAutoExchange(s, market, ref, 'USDC', 'THRESHOLD');
      expect(event?.data).toEqual({
        trigger: 'THRESHOLD',
        negAsset: 'USDC',
        deficit: '5000',
        deficitUsd: '5000',
        legs: [
          {
            asset: 'BTC',
            qty: '0.10256411',
            index: '50000',
            haircut: '0.025',
            usdValueAtIndex: '5128.2055',
            credited: '5000.0003625',
          },
        ],
        haircutCostUsd: '128.2051375',
      });
      expect(d('5000').div('0.975').toFixed(8)).toBe('5128.20512821');
      const after = fold([event as AccountEvent], s);
      expect(after.wallets.get('USDC')?.toFixed()).toBe('0.0003625');
      expect(after.wallets.get('BTC')?.toFixed()).toBe('0.29743589');
    });

    it('TV-10: Multi-Assets equity rises from 14,000 to 14,128.2051375 (95% collateral ratio vs 97.5% exchange rate)', () => {
      const s = balances(1);
      const before = computeMargin(s, market, ref).account.totalMarginBalance;
      const after = computeMargin(
        fold([executeAutoExchange(s, market, ref, 'USDC', 'THRESHOLD') as AccountEvent], s),
        market,
        ref,
      ).account.totalMarginBalance;
      expect(before.toFixed()).toBe('14000');
      expect(after.toFixed()).toBe('14128.2051375');
      expect(after.minus(before).toFixed(3)).toBe('128.205');
    });

    it('TV-11: the same balances at VIP 2 (threshold −10,000) do not trigger; LTV 0.25641026 < 0.995', () => {
      const s = balances(2);
      expect(autoExchangesDue(s, market, ref)).toEqual([]);
      expect(loanToValue(s, market, ref)?.toFixed(8)).toBe('0.25641026');
    });
  });

  describe('TV-12: LTV trigger with no positions or orders', () => {
    const balances = (btc: string, vipLevel = 3) =>
      state(
        anAccountOpened({ vipLevel, assetMode: 'MULTI' }),
        aDeposit(btc, 'BTC'),
        aWithdrawal('3000', 'USDT'),
      );
    const market = marketWith({ assetIndexes: { BTC: btcIndex('50000'), USDT: FLAT_USD } });

    it('LTV = 3,000 / 3,012.75 ≈ 0.99576799 ≥ 0.995 → LTV trigger', () => {
      const s = balances('0.0618');
      expect(loanToValue(s, market, ref)?.toFixed(8)).toBe('0.99576799');
      expect(autoExchangesDue(s, market, ref)).toEqual([{ asset: 'USDT', trigger: 'LTV' }]);
    });

    it('sells 0.06153847 BTC, leaving 0.00026153 BTC and +0.0004125 USDT', () => {
      const s = balances('0.0618');
      const event = executeAutoExchange(s, market, ref, 'USDT', 'LTV') as AccountEvent;
      expect(
        event.type === 'AutoExchangeExecuted' && event.data.legs.map((l) => [l.asset, l.qty]),
      ).toEqual([['BTC', '0.06153847']]);
      const after = fold([event], s);
      expect(after.wallets.get('BTC')?.toFixed()).toBe('0.00026153');
      expect(after.wallets.get('USDT')?.toFixed()).toBe('0.0004125');
    });

    it('with BTC 0.0620 instead: LTV 0.99255583 → not triggered', () => {
      const s = balances('0.0620');
      expect(loanToValue(s, market, ref)?.toFixed(8)).toBe('0.99255583');
      expect(autoExchangesDue(s, market, ref)).toEqual([]);
    });

    it('the threshold trigger does not fire at −3,000 (VIP 3 threshold −10,000): with an open order, nothing is due', () => {
      const s = fold([anOrderPlaced()], balances('0.0618'));
      expect(autoExchangesDue(s, market, ref)).toEqual([]);
    });

    it('with a USDT autoExchangeAskBuffer of 0.0001: LTV 0.99586756 → still triggered', () => {
      const s = balances('0.0618');
      const ask = marketWith({
        assetIndexes: {
          BTC: btcIndex('50000'),
          USDT: { index: '1', autoExchangeAskBuffer: '0.0001' },
        },
      });
      expect(loanToValue(s, ask, ref)?.toFixed(8)).toBe('0.99586756');
      expect(autoExchangesDue(s, ask, ref)).toEqual([{ asset: 'USDT', trigger: 'LTV' }]);
    });

    it('old rule (ltvTrigger 1): the same LTV 0.99576799 does not trigger (rule-version regression)', () => {
      const oldRule = withOverrides({ 'autoExchange.ltvTrigger': '1' });
      expect(autoExchangesDue(balances('0.0618'), market, oldRule)).toEqual([]);
    });
  });

  describe('TV-14: funding, realized loss and fee in USDC make USDC negative (Multi-Assets)', () => {
    const opened = state(anAccountOpened({ assetMode: 'MULTI' }), aDeposit('10000', 'USDT'));
    const market = marketWith({ marks: { BTCUSDC: '60000' } });

    function tv14() {
      const open = run(
        opened,
        aFill({ symbol: 'BTCUSDC', quantity: '0.5', price: '60000', fee: '0' }),
        market,
      );
      const funding = run(open.state, settleFundingCommand('BTCUSDC', '0.0001'), market);
      const close = run(
        funding.state,
        aFill({ symbol: 'BTCUSDC', side: 'SELL', quantity: '0.5', price: '59000' }),
        market,
      );
      return { funding, close };
    }

    it('funding: the long pays 3 USDC; the taker close realizes −500 with fee 11.8; WB_USDC −514.8, USDT unchanged', () => {
      const { funding, close } = tv14();
      expect(funding.events).toHaveLength(1);
      expect(funding.events[0]?.type === 'FundingSettled' && funding.events[0].data.amount).toBe(
        '-3',
      );
      expect(funding.state.wallets.get('USDC')?.toFixed()).toBe('-3');
      const closed = close.events[0];
      expect(
        closed?.type === 'PositionChanged' && [closed.data.realizedPnl, closed.data.fee],
      ).toEqual(['-500', '11.8']);
      expect(close.state.wallets.get('USDC')?.toFixed()).toBe('-514.8');
      expect(close.state.wallets.get('USDT')?.toFixed()).toBe('10000');
      expect(close.state.positions.size).toBe(0);
    });

    it('equity 9,484.2; no threshold trigger; LTV 0.05148 < 0.995 (0.05148515 with a USDT autoExchangeBidBuffer 0.0001)', () => {
      const s = tv14().close.state;
      expect(computeMargin(s, market, ref).account.totalMarginBalance.toFixed()).toBe('9484.2');
      expect(autoExchangesDue(s, market, ref)).toEqual([]);
      expect(loanToValue(s, market, ref)?.toFixed()).toBe('0.05148');
      const buffered = marketWith({
        marks: { BTCUSDC: '60000' },
        assetIndexes: {
          USDT: {
            index: '1',
            bidBuffer: '0.0001',
            askBuffer: '0.0001',
            autoExchangeBidBuffer: '0.0001',
          },
        },
      });
      expect(loanToValue(s, buffered, ref)?.toFixed(8)).toBe('0.05148515');
      expect(autoExchangesDue(s, buffered, ref)).toEqual([]);
    });

    it('SwitchAssetMode(SINGLE) is rejected −4172', () => {
      const s = tv14().close.state;
      expect(() => decide(switchAssetModeCommand('SINGLE'), s, { ref, market })).toThrow(
        expect.objectContaining({
          code: 'JOINT_MARGIN_REJECT_WITH_NEGATIVE_BALANCE',
          binanceCode: -4172,
        }),
      );
    });
  });

  describe('TV-15: mode-switch decision table', () => {
    it('a: SINGLE, no positions or orders, all WB ≥ 0 → MULTI accepted', () =>
      given(anAccountOpened(), aDeposit('100'))
        .when(switchAssetModeCommand('MULTI'))
        .then([{ type: 'AssetModeChanged', data: { from: 'SINGLE', to: 'MULTI' } }]));

    it('b: MULTI → MULTI rejected −4171, nothing written', () =>
      given(anAccountOpened({ assetMode: 'MULTI' }))
        .when(switchAssetModeCommand('MULTI'))
        .thenThrows('NO_NEED_TO_CHANGE_JOINT_MARGIN', { binanceCode: -4171, field: 'assetMode' }));

    it('c: SINGLE with an ISOLATED BTCUSDT position → MULTI rejected −4167', () =>
      given(
        anAccountOpened(),
        aDeposit('10000'),
        aMarginTypeChange('BTCUSDT', 'ISOLATED'),
        aPositionOpened({
          positionAmt: '0.1',
          entryPrice: '60000',
          marginType: 'ISOLATED',
          isolatedWallet: '300',
        }),
      )
        .when(switchAssetModeCommand('MULTI'))
        .thenThrows('ISOLATED_REJECT_WITH_JOINT_MARGIN', { binanceCode: -4167 }));

    it('d: SINGLE with one open limit order → MULTI rejected −4170', () =>
      given(anAccountOpened(), aDeposit('10000'), anOrderPlaced())
        .when(switchAssetModeCommand('MULTI'))
        .thenThrows('JOINT_MARGIN_REJECT_WITH_OPEN_ORDER', { binanceCode: -4170 }));

    it('e: MULTI with USDC WB −514.8 → SINGLE rejected −4172', () =>
      given(
        anAccountOpened({ assetMode: 'MULTI' }),
        aDeposit('10000', 'USDT'),
        aWithdrawal('514.8', 'USDC'),
      )
        .when(switchAssetModeCommand('SINGLE'))
        .thenThrows('JOINT_MARGIN_REJECT_WITH_NEGATIVE_BALANCE', { binanceCode: -4172 }));

    it('f: MULTI, set BTCUSDT ISOLATED → rejected −4168', () =>
      given(anAccountOpened({ assetMode: 'MULTI' }))
        .when(setMarginTypeCommand('BTCUSDT', 'ISOLATED'))
        .thenThrows('JOINT_MARGIN_REJECT_WITH_ISOLATED', { binanceCode: -4168 }));

    const crossPosition = [
      anAccountOpened(),
      aDeposit('10000'),
      aPositionOpened({ positionAmt: '0.01', entryPrice: '60000' }),
    ];
    const g = marketWith({ marks: { BTCUSDT: '60000' } });

    it('g: SINGLE with a cross BTCUSDT position and ample margin → MULTI accepted with the default flag (false)', () =>
      given(...crossPosition)
        .with({ market: g })
        .when(switchAssetModeCommand('MULTI'))
        .then([{ type: 'AssetModeChanged', data: { from: 'SINGLE', to: 'MULTI' } }]));

    it('g: … and rejected when refuseSwitchWithPositions = true (S7, 2021)', () => {
      const error = given(...crossPosition)
        .with({ market: g, ref: withOverrides({ 'flags.refuseSwitchWithPositions': true }) })
        .when(switchAssetModeCommand('MULTI'))
        .error();
      expect(error.code).toBe('ASSET_MODE_SWITCH_WITH_POSITIONS');
      expect(error.field).toBe('assetMode');
    });

    it('h: MULTI, BTC 1 and USDT 0, cross BTCUSDT short 1 (TV-05 step 1) → SINGLE rejected −4169', () =>
      given(
        anAccountOpened({ assetMode: 'MULTI' }),
        aDeposit('1', 'BTC'),
        aLeverageChange('BTCUSDT', 10),
        aPositionOpened({ positionAmt: '-1', entryPrice: '60000' }),
      )
        .with({
          market: marketWith({
            marks: { BTCUSDT: '60000' },
            assetIndexes: { BTC: btcIndex('60000'), USDT: FLAT_USD },
          }),
        })
        .when(switchAssetModeCommand('SINGLE'))
        .thenThrows('JOINT_MARGIN_REJECT_WITH_MB', { binanceCode: -4169 }));

    it('i: COIN-M is outside the asset mode: a SINGLE account with no USDⓈ-M position or order switches (and back)', () => {
      given(anAccountOpened(), aDeposit('50', 'USDC'))
        .when(switchAssetModeCommand('MULTI'))
        .then([{ type: 'AssetModeChanged', data: { from: 'SINGLE', to: 'MULTI' } }]);
      given(anAccountOpened(), anAssetModeChange('MULTI'))
        .when(switchAssetModeCommand('SINGLE'))
        .then([{ type: 'AssetModeChanged', data: { from: 'MULTI', to: 'SINGLE' } }]);
    });
  });

  describe('TV-17: position arithmetic anchor (S12 ADAUSDT)', () => {
    it('UPnL 0.764277, notional 12.314277, IM 0.61571385, MM 0.0800428005 → 0.08004280', () => {
      const adaRef = withOverrides({
        'symbols.ADAUSDT': oneTierSymbol({
          baseAsset: 'ADA',
          marginAsset: 'USDT',
          maintMarginRatio: '0.0065',
        }),
      });
      const s = state(
        anAccountOpened(),
        aDeposit('100'),
        aLeverageChange('ADAUSDT', 20),
        aPositionOpened({ symbol: 'ADAUSDT', positionAmt: '30', entryPrice: '0.385' }),
      );
      const p = computeMargin(
        s,
        marketWith({ marks: { ADAUSDT: '0.41047590' } }),
        adaRef,
      ).positions.get('ADAUSDT');
      expect(p?.unrealizedProfit.toFixed()).toBe('0.764277');
      expect(p?.notional.toFixed()).toBe('12.314277');
      expect(p?.initialMargin.toFixed()).toBe('0.61571385');
      expect(p?.maintMargin.toFixed()).toBe('0.0800428005');
      expect(p?.maintMargin.toFixed(8)).toBe('0.08004280');
    });
  });

  describe('TV-18: the liquidation-price formula against a live response (S10)', () => {
    it('cross long 0.001 BTCUSDT @ 61,788.9 with WB 53.35717705000464 → LP 8,465.58529116', () => {
      const s = state(
        anAccountOpened(),
        aDeposit('53.35717705000464'),
        aPositionOpened({ positionAmt: '0.001', entryPrice: '61788.9' }),
      );
      const lp = computeMargin(s, marketWith({ marks: { BTCUSDT: '61788.9' } }), ref).positions.get(
        'BTCUSDT',
      )?.liquidationPrice as Dec;
      expect(lp.toFixed(8)).toBe('8465.58529116');
      // The implied WB from the reported LP (RULES TV-18): (LP × (−1 + 0.004) + EP) × 0.001.
      expect(d('8465.58529116').times('-0.996').plus('61788.9').times('0.001').toFixed(8)).toBe(
        '53.35717705',
      );
    });
  });

  describe('TV-20: old-rule regression (S3 old, S2 old)', () => {
    const oldRule = withOverrides({
      'assets.BUSD': {
        marginAvailable: true,
        precision: 8,
        defaultIndex: {
          index: '1',
          bidBuffer: '0',
          askBuffer: '0',
          autoExchangeBidBuffer: '0',
          autoExchangeAskBuffer: '0',
        },
      },
      'autoExchange.thresholds': [
        { minVipLevel: 0, USDT: '-10000', USDC: '-10000', BUSD: '-10000' },
      ],
      'autoExchange.ltvTrigger': '1',
    });
    const market = marketWith({ assetIndexes: { BTC: btcIndex('50000') } });

    it('BUSD −20,000 with BTC collateral fires THRESHOLD and sells 20,000 / 0.975 = 20,512.820512… USD of BTC', () => {
      const s = state(
        anAccountOpened({ vipLevel: 5, assetMode: 'MULTI' }),
        aDeposit('1', 'BTC'),
        aWithdrawal('20000', 'BUSD'),
      );
      expect(autoExchangesDue(s, market, oldRule)).toEqual([
        { asset: 'BUSD', trigger: 'THRESHOLD' },
      ]);
      const event = executeAutoExchange(s, market, oldRule, 'BUSD', 'THRESHOLD');
      const leg = event?.data.legs[0];
      expect(event?.data.legs).toHaveLength(1);
      expect(leg?.qty).toBe('0.41025642');
      const exact = d('20000').div('0.975');
      expect(exact.toFixed(6)).toBe('20512.820513');
      const sold = d(leg?.usdValueAtIndex ?? '0');
      expect(sold.gte(exact) && sold.minus(exact).lt(d('0.00000001').times(50000))).toBe(true);
      expect(
        fold([event as AccountEvent], s)
          .wallets.get('BUSD')
          ?.gte(0),
      ).toBe(true);
    });

    it('−9,000 USDT and −9,000 BUSD at the same time → no trigger (per-asset check)', () => {
      const s = state(
        anAccountOpened({ vipLevel: 5, assetMode: 'MULTI' }),
        aDeposit('1', 'BTC'),
        aWithdrawal('9000', 'USDT'),
        aWithdrawal('9000', 'BUSD'),
      );
      expect(autoExchangesDue(s, market, oldRule)).toEqual([]);
    });
  });
});

describe('RULES §2.4 liquidation price: hedge-mode regressions found by the property specs', () => {
  // f(P) = margin balance − MM of the pool never reaches 0: the gross MM of two large offsetting sides grows faster
  // than their net PnL (max f ≈ −3.69 near P = 10.76M, by Python decimal). The adjacent-tier retry used to cycle and
  // report the last formula's price, which is no root; there is no liquidation price, so it is 0.
  it.each([
    ['9.29', '105585.22', '8.836', '1000', '1'],
    ['37.499', '42044.27', '37.126', '1000', '1539392.09'],
  ])(
    'LONG %s @ %s and SHORT %s @ %s with WB %s: no price solves MB = MM → LP 0',
    (long, longEntry, short, shortEntry, wallet) => {
      const s = state(
        anAccountOpened({ positionMode: 'HEDGE' }),
        aDeposit(wallet),
        aPositionOpened({ positionAmt: long, entryPrice: longEntry, positionSide: 'LONG' }),
        aPositionOpened({
          positionAmt: `-${short}`,
          entryPrice: shortEntry,
          positionSide: 'SHORT',
        }),
      );
      const m = computeMargin(s, marketWith({ marks: { BTCUSDT: '1000' } }), ref);
      expect(m.positions.get('BTCUSDT:LONG')?.liquidationPrice.toFixed()).toBe('0');
      expect(m.positions.get('BTCUSDT:SHORT')?.liquidationPrice.toFixed()).toBe('0');
    },
  );
});
