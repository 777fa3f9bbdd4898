/*
 * Goal: properties of whole event streams produced by `decide` from random command sequences (deposits,
 * withdrawals, fills on both sides and in both position modes, orders, leverage, margin-type and asset/position-mode
 * switches, isolated-margin adjustments, funding, VIP changes, mark and asset-index moves, malformed inputs), with
 * the risk loop run after every step as the saga does (assessRisk → Liquidate / AutoExchange). (f) `evolve` never
 * throws on what `decide` decides, and every rejection is a LedgerDomainError with a stable, known code;
 * (b) every event's wallet deltas (cross + isolated wallets) equal the flows it declares, read from its own fields
 * only; (c) after an auto-exchange the negative asset is ≥ 0 unless all collateral was used; (g) a fill that closes
 * an isolated side never draws on the cross wallet beyond the new side's IM (the insurance fund covers a shortfall);
 * (a) folding is deterministic, also through a JSON snapshot taken anywhere mid-stream.
 */
import fc from 'fast-check';
import { shippedReferenceData, decimalString, holds as ok } from '@ledger/testing';

import type { AccountCommand } from '../account/account.commands';
import { decide } from '../account/account.decide';
import type { AccountEvent } from '../account/account.events';
import { evolve, fold } from '../account/account.evolve';
import type { AccountState, PositionSide } from '../account/account.state';
import { initialAccountState, leverageOf } from '../account/account.state';
import { accountStateFromJson, accountStateToJson } from '../account/account.snapshot';
import { accountView } from '../margin/account-view';
import type { AssetIndex, MarketView } from '../market/market';
import { ratesOf } from '../market/market';
import { D, type Dec, ZERO } from '../money/decimal';
import { assessRisk } from '../risk/assess';
import { LedgerDomainError } from '../shared/errors';

const ref = shippedReferenceData();
const ACCOUNT = 'acc-1';
const SYMBOLS = ['BTCUSDT', 'BTCUSDC', 'BNBUSDT'] as const;
const ASSETS = ['USDT', 'USDC', 'BTC', 'ETH', 'BNB', 'BNFCR'] as const;
const START_MARK: Record<string, string> = { BTCUSDT: '60000', BTCUSDC: '60000', BNBUSDT: '600' };

/** Every code a rejection may carry (the codes the rejection specs pin; RULES §2.6, §4, S6). */
const KNOWN_CODES = new Set([
  'MISSING_FIELD',
  'INVALID_FIELD',
  'INVALID_DECIMAL',
  'TOO_MANY_DECIMALS',
  'AMOUNT_TOO_LARGE',
  'INVALID_ENUM',
  'INVALID_AMOUNT',
  'INVALID_QUANTITY',
  'INVALID_PRICE',
  'INVALID_LEVERAGE',
  'INVALID_VIP_LEVEL',
  'UNKNOWN_ASSET',
  'UNKNOWN_SYMBOL',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_EXISTS',
  'POSITION_SIDE_MISMATCH',
  'REDUCE_EXCEEDS_POSITION',
  'LEVERAGE_EXCEEDS_BRACKET',
  'MARGIN_INSUFFICIENT',
  'INSUFFICIENT_BALANCE',
  'ISOLATED_LEVERAGE_REDUCTION',
  'NO_NEED_TO_CHANGE_MARGIN_TYPE',
  'MARGIN_TYPE_CHANGE_WITH_OPEN_ORDERS',
  'MARGIN_TYPE_CHANGE_WITH_POSITION',
  'JOINT_MARGIN_REJECT_WITH_ISOLATED',
  'NO_NEED_TO_CHANGE_POSITION_SIDE',
  'POSITION_MODE_CHANGE_WITH_OPEN_ORDERS',
  'POSITION_MODE_CHANGE_WITH_POSITION',
  'NO_NEED_TO_CHANGE_JOINT_MARGIN',
  'JOINT_MARGIN_REJECT_WITH_OPEN_ORDER',
  'JOINT_MARGIN_REJECT_WITH_NEGATIVE_BALANCE',
  'ISOLATED_REJECT_WITH_JOINT_MARGIN',
  'JOINT_MARGIN_REJECT_WITH_MB',
  'ASSET_MODE_SWITCH_WITH_POSITIONS',
  'UNKNOWN_ORDER',
  'ORDER_MISMATCH',
  'FILL_EXCEEDS_ORDER',
  'DUPLICATE_ORDER_ID',
  'NO_ISOLATED_POSITION',
  'CROSS_BALANCE_INSUFFICIENT',
  'ISOLATED_BALANCE_INSUFFICIENT',
  'NO_MARK_PRICE',
  'FEE_OUT_OF_RANGE',
  'AMOUNT_PRECISION_EXCEEDED',
  'FILL_PRICE_OUT_OF_BAND',
]);

/**
 * The wallet flows an event declares, per asset, read from the event's own fields only (RULES §8 invariant (i)).
 * Isolated transfers and margin adjustments move value between a cross and an isolated wallet: no net flow.
 * (`stateBefore` is part of the signature for flows that would need it; none does today.)
 */
function declaredFlows(event: AccountEvent, _stateBefore: AccountState): Map<string, Dec> {
  const flows = new Map<string, Dec>();
  const add = (asset: string, amount: Dec | string) =>
    flows.set(asset, (flows.get(asset) ?? ZERO).plus(amount));
  switch (event.type) {
    case 'Deposited':
      add(event.data.asset, event.data.amount);
      break;
    case 'Withdrawn':
      add(event.data.asset, new D(event.data.amount).neg());
      break;
    case 'PositionChanged':
      add(event.data.marginAsset, new D(event.data.realizedPnl).minus(event.data.fee));
      break;
    case 'FundingSettled':
      add(event.data.asset, event.data.amount);
      break;
    case 'AutoExchangeExecuted':
      for (const leg of event.data.legs) {
        add(leg.asset, new D(leg.qty).neg());
        add(event.data.negAsset, leg.credited);
      }
      break;
    case 'PositionLiquidated':
      add(event.data.marginAsset, new D(event.data.realizedPnl).minus(event.data.liquidationFee));
      break;
    case 'InsuranceFundCovered':
      add(event.data.asset, event.data.amount);
      break;
    case 'AccountOpened':
    case 'AssetModeChanged':
    case 'IsolatedMarginAdjusted':
    case 'LeverageChanged':
    case 'LiquidationTriggered':
    case 'MarginTypeChanged':
    case 'OrderCanceled':
    case 'OrderPlaced':
    case 'PositionModeChanged':
    case 'VipLevelChanged':
      break;
  }
  return flows;
}

/** Cross wallets plus isolated wallets (in each position's margin asset). */
function holdings(state: AccountState): Map<string, Dec> {
  const total = new Map<string, Dec>(state.wallets);
  for (const p of state.positions.values()) {
    const asset = ref.symbols[p.symbol]?.marginAsset ?? '?';
    total.set(asset, (total.get(asset) ?? ZERO).plus(p.isolatedWallet));
  }
  return total;
}

const side = fc.constantFrom('BUY', 'SELL');
const positionSide = fc.constantFrom<PositionSide | undefined>(
  undefined,
  undefined,
  'BOTH',
  'LONG',
  'SHORT',
);
const symbol = fc.constantFrom(...SYMBOLS);
const asset = fc.constantFrom(...ASSETS);
const qty = (s: string) =>
  s === 'BNBUSDT' ? decimalString(0.01, 300, 2) : decimalString(0.001, 3, 3);
const garbage = fc.constantFrom<unknown>(
  '1e5',
  '+1',
  'NaN',
  '-1',
  '0',
  '1.123456789',
  12,
  null,
  '1000000000000000001',
);

/**
 * An explicit fill fee: mostly a rate of the fill's notional inside the bounds of RULES §2.6 (0 … fees.maxRate 0.01
 * with the shipped schedule, which has no rebate), so fills with a given fee still happen; sometimes an absolute
 * amount of any sign, which is mostly out of range (FEE_OUT_OF_RANGE) and must be refused without an event.
 */
type FeeInput = { rate: string } | { amount: string };
const feeInput: fc.Arbitrary<FeeInput> = fc.oneof(
  { weight: 4, arbitrary: decimalString(0, 0.01, 6).map((rate) => ({ rate })) },
  { weight: 1, arbitrary: decimalString(-1, 50, 8).map((amount) => ({ amount })) },
);

/** The fee string of a fill: a rate × |quantity| × price rounded to 8 dp, or the absolute amount as drawn. */
function feeOf(input: FeeInput | undefined, quantity: unknown, price: string): string | undefined {
  if (input === undefined) return undefined;
  if ('amount' in input) return input.amount;
  if (typeof quantity !== 'string' || !/^\d+(\.\d+)?$/.test(quantity)) return '0';
  return new D(input.rate).times(quantity).times(price).toDecimalPlaces(8, D.ROUND_DOWN).toFixed();
}

type Op =
  | { k: 'deposit'; asset: string; amount: unknown }
  | { k: 'withdraw'; asset: string; amount: unknown }
  | {
      k: 'fill';
      symbol: string;
      side: string;
      quantity: unknown;
      factor: number;
      fee: FeeInput | undefined;
      maker: boolean;
      positionSide: PositionSide | undefined;
      order: boolean;
    }
  | {
      k: 'place';
      symbol: string;
      side: string;
      quantity: unknown;
      factor: number;
      positionSide: PositionSide | undefined;
    }
  | { k: 'cancel'; pick: number }
  | { k: 'leverage'; symbol: string; leverage: unknown }
  | { k: 'marginType'; symbol: string; marginType: string }
  | { k: 'assetMode'; mode: string }
  | { k: 'positionMode'; mode: string }
  | { k: 'adjust'; symbol: string; amount: unknown; positionSide: PositionSide | undefined }
  | { k: 'funding'; symbol: string; rate: string }
  | { k: 'vip'; level: number }
  | { k: 'mark'; symbol: string; factor: number }
  | { k: 'index'; asset: string; index: string; bid: string; ae: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('deposit' as const),
      asset,
      amount: fc.oneof(
        { weight: 9, arbitrary: decimalString(0.00000001, 50_000) },
        { weight: 1, arbitrary: garbage },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('withdraw' as const),
      asset,
      amount: fc.oneof(decimalString(0.00000001, 20_000), garbage),
    }),
  },
  {
    weight: 8,
    arbitrary: symbol.chain((s) =>
      fc.record({
        k: fc.constant('fill' as const),
        symbol: fc.constant(s),
        side,
        quantity: fc.oneof({ weight: 19, arbitrary: qty(s) }, { weight: 1, arbitrary: garbage }),
        factor: fc.double({ min: 0.97, max: 1.03, noNaN: true }),
        fee: fc.option(feeInput, { nil: undefined }),
        maker: fc.boolean(),
        positionSide,
        order: fc.boolean(),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: symbol.chain((s) =>
      fc.record({
        k: fc.constant('place' as const),
        symbol: fc.constant(s),
        side,
        quantity: qty(s),
        factor: fc.double({ min: 0.8, max: 1.2, noNaN: true }),
        positionSide,
      }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat(5) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('leverage' as const),
      symbol,
      leverage: fc.oneof(fc.integer({ min: 0, max: 130 }), fc.constant<unknown>(1.5)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('marginType' as const),
      symbol,
      marginType: fc.constantFrom('CROSSED', 'ISOLATED'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('assetMode' as const),
      mode: fc.constantFrom('SINGLE', 'MULTI'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('positionMode' as const),
      mode: fc.constantFrom('ONE_WAY', 'HEDGE'),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('adjust' as const),
      symbol,
      amount: decimalString(-300, 300, 2),
      positionSide,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('funding' as const),
      symbol,
      rate: decimalString(-0.003, 0.003, 6),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('vip' as const), level: fc.integer({ min: 0, max: 9 }) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('mark' as const),
      symbol,
      factor: fc.double({ min: 0.4, max: 1.6, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('index' as const),
      asset: fc.constantFrom('BTC', 'ETH', 'BNB', 'USDT', 'BNFCR'),
      index: decimalString(0.5, 90_000, 4),
      bid: decimalString(0, 0.2, 4),
      ae: decimalString(0, 0.1, 4),
    }),
  },
);

interface Run {
  events: AccountEvent[];
  market: MarketView;
  commands: number;
}

/** Interprets the ops against decide/evolve, checking (f), (b) and (c) event by event. */
function play(ops: Op[]): Run {
  const marks = new Map<string, Dec>(Object.entries(START_MARK).map(([s, v]) => [s, new D(v)]));
  const assetIndexes = new Map<string, AssetIndex>();
  const market: MarketView = { marks, assetIndexes, fundingRates: new Map() };
  const ctx = { ref, market };
  let state = initialAccountState(ACCOUNT);
  const events: AccountEvent[] = [];
  let commands = 0;
  let orderSeq = 0;

  const apply = (decided: AccountEvent[]) => {
    for (const event of decided) {
      const before = state;
      state = evolve(state, event); // (f): must not throw
      events.push(event);
      // (b) conservation
      const declared = declaredFlows(event, before);
      const h0 = holdings(before);
      const h1 = holdings(state);
      for (const a of new Set([...h0.keys(), ...h1.keys(), ...declared.keys()])) {
        const actual = (h1.get(a) ?? ZERO).minus(h0.get(a) ?? ZERO);
        ok(
          actual.eq(declared.get(a) ?? ZERO),
          `${event.type}: ${a} moved ${actual.toFixed()}, declared ${(declared.get(a) ?? ZERO).toFixed()}`,
        );
      }
      // (c) after an auto-exchange
      if (event.type === 'AutoExchangeExecuted') {
        const neg = state.wallets.get(event.data.negAsset) ?? ZERO;
        const collateralLeft = [...state.wallets].some(
          ([a, b]) =>
            a !== event.data.negAsset &&
            b.gt(0) &&
            (ref.assets[a]?.marginAvailable ?? false) &&
            ratesOf(market, ref, a).autoExchangeBidRate.gt(0),
        );
        ok(
          neg.gte(0) || !collateralLeft,
          `auto-exchange left ${event.data.negAsset} at ${neg.toFixed()} with collateral left`,
        );
      }
      // (g) an isolated side closed by a fill never draws on the cross wallet: it releases ≥ 0, and a flip takes
      // no more than the new side's IM (any shortfall was covered by the insurance fund just before).
      if (event.type === 'PositionChanged' && event.data.marginType === 'ISOLATED') {
        const key =
          event.data.positionSide === 'BOTH'
            ? event.data.symbol
            : `${event.data.symbol}:${event.data.positionSide}`;
        const q0 = before.positions.get(key)?.quantity ?? ZERO;
        const q1 = new D(event.data.positionAmt);
        const closesSide = !q0.isZero() && (q1.isZero() || q1.isNegative() !== q0.isNegative());
        if (closesSide) {
          const newSideIm = q1
            .abs()
            .times(event.data.price)
            .div(leverageOf(before, event.data.symbol, ref.defaultLeverage))
            .toDecimalPlaces(8);
          const drawn = new D(event.data.isolatedTransfer);
          ok(
            drawn.lte(newSideIm),
            `isolated close of ${key} drew ${drawn.toFixed()} from the cross wallet (new side IM ${newSideIm.toFixed()})`,
          );
        }
      }
    }
  };

  const run = (command: AccountCommand) => {
    commands++;
    let decided: AccountEvent[];
    try {
      decided = decide(command, state, ctx);
    } catch (error) {
      ok(error instanceof LedgerDomainError, `${command.type} threw ${String(error)}`);
      const e = error as LedgerDomainError;
      ok(KNOWN_CODES.has(e.code), `unknown code ${e.code}`);
      ok(
        e.binanceCode === undefined || (Number.isInteger(e.binanceCode) && e.binanceCode < 0),
        `bad binanceCode ${String(e.binanceCode)}`,
      );
      return;
    }
    apply(decided);
  };

  /** The saga: liquidation first, then the auto-exchanges due (after a liquidation: every negative asset). */
  const risk = () => {
    for (let round = 0; round < 4; round++) {
      const actions = assessRisk(state, market, ref);
      if (actions.length === 0) return;
      for (const action of actions) {
        if (action.type === 'Liquidate') {
          apply(decide({ type: 'Liquidate', accountId: ACCOUNT }, state, ctx));
          for (const due of assessRisk(state, market, ref, true)) {
            if (due.type === 'AutoExchange') {
              apply(
                decide(
                  {
                    type: 'AutoExchange',
                    accountId: ACCOUNT,
                    asset: due.asset,
                    trigger: due.trigger,
                  },
                  state,
                  ctx,
                ),
              );
            }
          }
        } else {
          apply(
            decide(
              {
                type: 'AutoExchange',
                accountId: ACCOUNT,
                asset: action.asset,
                trigger: action.trigger,
              },
              state,
              ctx,
            ),
          );
        }
      }
    }
  };

  run({
    type: 'OpenAccount',
    accountId: ACCOUNT,
    vipLevel: ops.length % 4,
    assetMode: ops.length % 2 ? 'MULTI' : 'SINGLE',
  });
  run({ type: 'Deposit', accountId: ACCOUNT, asset: 'USDT', amount: '20000' });
  for (const o of ops) {
    switch (o.k) {
      case 'deposit':
        run({ type: 'Deposit', accountId: ACCOUNT, asset: o.asset, amount: o.amount });
        break;
      case 'withdraw':
        run({ type: 'Withdraw', accountId: ACCOUNT, asset: o.asset, amount: o.amount });
        break;
      case 'fill': {
        const open = [...state.orders.values()].find((x) => x.symbol === o.symbol);
        if (o.order && open) {
          run({
            type: 'Fill',
            accountId: ACCOUNT,
            symbol: open.symbol,
            side: open.side,
            quantity: open.quantity.toFixed(),
            price: open.price.toFixed(),
            orderId: open.orderId,
            positionSide: open.positionSide,
            fee: feeOf(o.fee, open.quantity.toFixed(), open.price.toFixed()),
          });
        } else {
          const price = (marks.get(o.symbol) ?? new D(START_MARK[o.symbol] ?? '1'))
            .times(o.factor)
            .toDecimalPlaces(2)
            .toFixed();
          run({
            type: 'Fill',
            accountId: ACCOUNT,
            symbol: o.symbol,
            side: o.side,
            quantity: o.quantity,
            price,
            fee: feeOf(o.fee, o.quantity, price),
            maker: o.maker,
            positionSide: o.positionSide,
          });
        }
        break;
      }
      case 'place': {
        const price = (marks.get(o.symbol) ?? new D(1))
          .times(o.factor)
          .toDecimalPlaces(2)
          .toFixed();
        run({
          type: 'PlaceOrder',
          accountId: ACCOUNT,
          orderId: `o-${orderSeq++}`,
          symbol: o.symbol,
          side: o.side,
          quantity: o.quantity,
          price,
          positionSide: o.positionSide,
        });
        break;
      }
      case 'cancel': {
        const ids = [...state.orders.keys()];
        run({
          type: 'CancelOrder',
          accountId: ACCOUNT,
          orderId: ids[o.pick % Math.max(1, ids.length)] ?? 'none',
        });
        break;
      }
      case 'leverage':
        run({ type: 'SetLeverage', accountId: ACCOUNT, symbol: o.symbol, leverage: o.leverage });
        break;
      case 'marginType':
        run({
          type: 'SetMarginType',
          accountId: ACCOUNT,
          symbol: o.symbol,
          marginType: o.marginType,
        });
        break;
      case 'assetMode':
        run({ type: 'SwitchAssetMode', accountId: ACCOUNT, assetMode: o.mode });
        break;
      case 'positionMode':
        run({ type: 'SetPositionMode', accountId: ACCOUNT, positionMode: o.mode });
        break;
      case 'adjust':
        run({
          type: 'AdjustIsolatedMargin',
          accountId: ACCOUNT,
          symbol: o.symbol,
          amount: o.amount,
          positionSide: o.positionSide,
        });
        break;
      case 'funding':
        run({ type: 'SettleAccountFunding', accountId: ACCOUNT, symbol: o.symbol, rate: o.rate });
        break;
      case 'vip':
        run({ type: 'SetVipLevel', accountId: ACCOUNT, vipLevel: o.level });
        break;
      case 'mark':
        marks.set(o.symbol, (marks.get(o.symbol) ?? new D(1)).times(o.factor).toDecimalPlaces(2));
        break;
      case 'index':
        assetIndexes.set(o.asset, {
          index: new D(o.index),
          bidBuffer: new D(o.bid),
          askBuffer: new D(o.bid),
          autoExchangeBidBuffer: new D(o.ae),
          autoExchangeAskBuffer: ZERO,
        });
        break;
    }
    risk();
  }
  return { events, market, commands };
}

const ops = fc.array(op, { minLength: 20, maxLength: 60, size: 'max' });

describe('random command streams', () => {
  it('(f)(b)(c): evolve never throws, rejections carry stable codes, every event conserves value', () => {
    let commands = 0;
    let events = 0;
    const types = new Map<string, number>();
    fc.assert(
      fc.property(ops, (o) => {
        const r = play(o);
        commands += r.commands;
        events += r.events.length;
        for (const e of r.events) types.set(e.type, (types.get(e.type) ?? 0) + 1);
      }),
      { numRuns: 160 },
    );
    expect(commands).toBeGreaterThan(4000);
    expect(events).toBeGreaterThan(1500);
    // The streams reach the interesting events, not only deposits (isolated adjustments are rarer: their own spec).
    for (const t of [
      'PositionChanged',
      'FundingSettled',
      'LiquidationTriggered',
      'PositionLiquidated',
      'InsuranceFundCovered',
      'AutoExchangeExecuted',
      'AssetModeChanged',
      'MarginTypeChanged',
      'OrderCanceled',
      'Withdrawn',
    ]) {
      expect(types.get(t) ?? 0).toBeGreaterThan(0);
    }
  });

  it('(a): folding is deterministic, also from a JSON snapshot taken anywhere mid-stream', () => {
    fc.assert(
      fc.property(ops, fc.nat(), (o, cut) => {
        const r = play(o);
        const from = initialAccountState(ACCOUNT);
        const once = fold(r.events, from);
        const twice = fold(r.events, from);
        const json = JSON.stringify(accountStateToJson(once));
        if (json !== JSON.stringify(accountStateToJson(twice))) return false;
        const k = cut % (r.events.length + 1);
        const snapshot = JSON.parse(
          JSON.stringify(accountStateToJson(fold(r.events.slice(0, k), from))),
        ) as ReturnType<typeof accountStateToJson>;
        const resumed = fold(r.events.slice(k), accountStateFromJson(snapshot));
        if (JSON.stringify(accountStateToJson(resumed)) !== json) return false;
        // Same state, same margin: the view (with liquidation prices) is identical.
        return (
          JSON.stringify(accountView(resumed, r.market, ref)) ===
          JSON.stringify(accountView(once, r.market, ref))
        );
      }),
      { numRuns: 100 },
    );
  });
});
