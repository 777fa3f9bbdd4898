import type { AccountState, Dec, PositionSide, ReferenceData } from '@ledger/margin-domain';
import { D, ZERO, positionKey, round8, str } from '@ledger/margin-domain';
import type { CommandInput } from '../commands/command-schema';
import { MARGIN_HISTORY_CONSUMER } from '../read/margin-history.projection';
import { RISK_SAGA_CONSUMER } from '../saga/risk-saga';
import { MarketPaths, bpFactor, units } from './market-path';
import { Prng } from './prng';

/**
 * The simulator's seeded workload: many accounts in both asset modes (cross, isolated, hedge, Multi-Assets with BTC
 * collateral), every command of the ledger, price paths with gaps and crashes, concurrent writers, process restarts,
 * crashes at three points, projection rebuilds and redelivered consumer batches. It sizes trades from the account's
 * current state (read through `peek`), so most commands are accepted and some are rejected on purpose.
 *
 * Values stay inside the bounds the domain enforces or is about to (fees within ±1% of the notional, fill prices
 * within ±40% of the mark, funding rates within ±0.03, amounts with at most 8 decimals and quantities with at most
 * the symbol's quantity precision), so the workload keeps working when those rejections land.
 */

export type AccountProfile = 'cross' | 'isolated' | 'hedge' | 'multi';

export interface WorkloadSwitches {
  crashes: boolean;
  restarts: boolean;
  rebuilds: boolean;
  /** Consumer batches that fail after their handler ran (redelivery). */
  redelivery: boolean;
  /** Groups of commands from several writers at once. */
  concurrency: boolean;
}

export interface WorkloadConfig {
  seed: number;
  accounts: number;
  /** 1, or 2 when the backend runs a second process (another instance of the API on the same store). */
  writers: number;
  switches: WorkloadSwitches;
  /** ISO time of step 0; step i runs at start + i seconds. */
  start: string;
  /** The reference data the ledger starts with (trades are sized within its leverage brackets). */
  referenceData: ReferenceData;
}

export interface PlannedCommand {
  commandId: string;
  at: string;
  input: CommandInput;
  /** The process that receives it: 0 the primary, 1 the secondary. */
  writer: number;
}

export type StepKind =
  | 'command'
  | 'concurrent'
  | 'restart'
  | 'rebuild'
  | 'crash-after-append'
  | 'crash-inside-batch'
  | 'crash-during-rebuild';

export interface StepPlan {
  index: number;
  kind: StepKind;
  at: string;
  commands: PlannedCommand[];
  /** Crash kinds: the append, saga run or rebuild progress call at which the crash fires. */
  crashAt?: number;
  /** Consumers whose next batch fails once after its handler ran. */
  redeliver: string[];
}

/** The account's state as the ledger has it now (the generator sizes trades from it). */
export type Peek = (accountId: string) => Promise<AccountState>;

const SYMBOLS = {
  BTCUSDT: { start: '60000', decimals: 2, quantityDecimals: 3, marginAsset: 'USDT' },
  BTCUSDC: { start: '60000', decimals: 1, quantityDecimals: 3, marginAsset: 'USDC' },
  BNBUSDT: { start: '550', decimals: 2, quantityDecimals: 2, marginAsset: 'USDT' },
} as const;
type SimSymbol = keyof typeof SYMBOLS;
const SYMBOL_NAMES = Object.keys(SYMBOLS) as SimSymbol[];

const REFERENCE_OVERRIDES: Record<string, string>[] = [
  { 'symbols.BTCUSDT.liquidationFeeRate': '0.005' },
  { 'symbols.BTCUSDT.liquidationFeeRate': '0' },
  { 'symbols.BNBUSDT.liquidationFeeRate': '0.0075' },
  { 'liquidation.closePrice': 'BANKRUPTCY' },
  { 'liquidation.closePrice': 'MARK' },
  { 'autoExchange.proportion': 'AUTO_EXCHANGE' },
  { 'autoExchange.proportion': 'INDEX' },
];

/**
 * Expensive faults (a restart folds the whole log on memory): the chance per step is the cap for the first few
 * hundred steps, then budget / step, i.e. about `budget` of them per e-fold of a long run (see `rate`).
 */
const RATES = {
  restart: { budget: 10, cap: 0.02 },
  crash: { budget: 15, cap: 0.03 },
  rebuild: { budget: 8, cap: 0.01 },
  publish: { budget: 10, cap: 0.003 },
};

export class Workload {
  private readonly random: Prng;
  private readonly paths = new MarketPaths(SYMBOLS);
  private readonly profiles = new Map<string, AccountProfile>();
  private readonly setup: CommandInput[] = [];
  private readonly startMs: number;
  private orderSeq = 0;
  private step = 0;

  constructor(
    private readonly config: WorkloadConfig,
    private readonly peek: Peek,
  ) {
    this.random = new Prng(config.seed, 'workload');
    this.startMs = Date.parse(config.start);
    this.planSetup();
  }

  accountIds(): string[] {
    return [...this.profiles.keys()];
  }

  /**
   * The chance of an expensive fault at the current step: the cap early on, then budget / step. A restart at step i
   * folds a log of about i events, so each step adds about the same expected cost; and the chance depends on the
   * step alone, never on the run's length, so `--steps X+1` replays the first X+1 steps of any longer run exactly.
   */
  private rate(kind: keyof typeof RATES): number {
    const { budget, cap } = RATES[kind];
    return Math.min(cap, budget / Math.max(1, this.step));
  }

  private planSetup(): void {
    for (const symbol of SYMBOL_NAMES) this.setup.push(this.markPrice(symbol, 'tick'));
    this.setup.push(this.btcIndex());
    this.setup.push({ command: 'SetFundingRate', symbol: 'BTCUSDT', rate: '0.0001' });
    for (let i = 0; i < this.config.accounts; i++) {
      const id = `a${String(i).padStart(2, '0')}`;
      const profile = this.random.weighted<AccountProfile>([
        ['cross', 35],
        ['isolated', 20],
        ['hedge', 15],
        ['multi', 30],
      ]);
      this.profiles.set(id, profile);
      this.setup.push({
        command: 'OpenAccount',
        accountId: id,
        ...(profile === 'multi' ? { assetMode: 'MULTI' } : {}),
        ...(profile === 'hedge' ? { positionMode: 'HEDGE' } : {}),
        ...(this.random.chance(0.3) ? { vipLevel: this.random.between(0, 9) } : {}),
      });
      this.setup.push(this.deposit(id, 'USDT', this.random.between(200_000, 2_000_000), 2));
      if (profile === 'multi')
        this.setup.push(this.deposit(id, 'BTC', this.random.between(20, 200), 2));
      if (profile === 'isolated')
        this.setup.push({
          command: 'SetMarginType',
          accountId: id,
          symbol: 'BTCUSDT',
          marginType: 'ISOLATED',
        });
      if (profile !== 'multi')
        this.setup.push({
          command: 'SetLeverage',
          accountId: id,
          symbol: 'BTCUSDT',
          leverage: this.random.pick([10, 20, 50, 75, 100, 125]),
        });
    }
  }

  private commandAt(index: number, k: number, input: CommandInput, writer = 0): PlannedCommand {
    return {
      commandId: `sim-${this.config.seed}-${index}-${k}`,
      at: new Date(this.startMs + index * 1000).toISOString(),
      input,
      writer,
    };
  }

  /** The plan of step `index`: its kind, its commands, and the faults it arms. */
  async next(index: number): Promise<StepPlan> {
    this.step = index;
    const at = new Date(this.startMs + index * 1000).toISOString();
    const plan: StepPlan = { index, kind: 'command', at, commands: [], redeliver: [] };
    const setup = this.setup.shift();
    if (setup) {
      plan.commands.push(this.commandAt(index, 0, setup));
      return plan;
    }
    const { switches } = this.config;
    if (switches.redelivery && this.random.chance(0.02))
      plan.redeliver.push(this.random.pick([RISK_SAGA_CONSUMER, MARGIN_HISTORY_CONSUMER]));
    if (switches.restarts && this.random.chance(this.rate('restart'))) {
      plan.kind = 'restart';
      return plan;
    }
    if (switches.crashes && this.random.chance(this.rate('crash'))) {
      return this.crashStep(plan);
    }
    if (switches.rebuilds && this.random.chance(this.rate('rebuild'))) {
      plan.kind = 'rebuild';
      await this.addCommands(plan, this.random.between(0, 2));
      return plan;
    }
    if (switches.concurrency && this.random.chance(0.06)) {
      plan.kind = 'concurrent';
      await this.addCommands(plan, this.random.between(2, 5), true);
      return plan;
    }
    await this.addCommands(plan, 1);
    return plan;
  }

  private async crashStep(plan: StepPlan): Promise<StepPlan> {
    plan.kind = this.random.pick([
      'crash-after-append',
      'crash-inside-batch',
      'crash-during-rebuild',
    ] as const);
    if (plan.kind === 'crash-after-append') {
      plan.crashAt = this.random.between(1, 3);
      await this.addCommands(plan, this.random.between(1, 3), true);
    } else if (plan.kind === 'crash-inside-batch') {
      // A price move makes the saga re-check many accounts: a batch with several runs to crash inside.
      plan.crashAt = this.random.between(2, 4);
      plan.commands.push(
        this.commandAt(plan.index, 0, this.markPrice(this.random.pick(SYMBOL_NAMES), 'gap')),
      );
      await this.addCommands(plan, this.random.between(0, 2), true);
    } else {
      plan.crashAt = this.random.between(1, 3);
      await this.addCommands(plan, this.random.between(0, 2));
    }
    return plan;
  }

  private async addCommands(plan: StepPlan, count: number, concurrent = false): Promise<void> {
    // Concurrent groups favour one account, so writers race on its stream (ConcurrencyError and retries).
    const focus = this.random.pick(this.accountIds());
    for (let added = 0; added < count; added++) {
      const account = concurrent && this.random.chance(0.4) ? focus : undefined;
      const input = await this.command(account);
      const writer =
        concurrent && this.config.writers > 1 ? this.random.int(this.config.writers) : 0;
      plan.commands.push(this.commandAt(plan.index, plan.commands.length, input, writer));
    }
  }

  /** One command: market data, an account command, or reference data. */
  private async command(focus?: string): Promise<CommandInput> {
    if (this.random.chance(this.rate('publish')))
      return {
        command: 'PublishReferenceData',
        overrides: { ...this.random.pick(REFERENCE_OVERRIDES) },
      };
    const kind = focus
      ? this.random.weighted([
          ['fill', 50],
          ['order', 10],
          ['deposit', 15],
          ['withdraw', 15],
          ['settings', 10],
        ] as const)
      : this.random.weighted([
          ['tick', 18],
          ['index', 5],
          ['fill', 30],
          ['order', 6],
          ['deposit', 9],
          ['withdraw', 6],
          ['settings', 9],
          ['isolated', 3],
          ['funding', 4],
          ['ghost', 1],
        ] as const);
    const id = focus ?? this.random.pick(this.accountIds());
    switch (kind) {
      case 'tick':
        return this.markPrice(
          this.random.pick(SYMBOL_NAMES),
          this.random.weighted([
            ['tick', 85],
            ['gap', 9],
            ['crash', 3],
            ['rally', 3],
          ] as const),
        );
      case 'index':
        return this.assetIndex();
      case 'fill':
        return this.fill(id, await this.peek(id));
      case 'order':
        return this.order(id, await this.peek(id));
      case 'deposit':
        return this.randomDeposit(id);
      case 'withdraw':
        return this.withdraw(id, await this.peek(id));
      case 'settings':
        return this.settings(id, await this.peek(id));
      case 'isolated':
        return this.adjustIsolated(id, await this.peek(id));
      case 'funding':
        return this.funding();
      case 'ghost':
        return this.random.chance(0.5)
          ? { command: 'Deposit', accountId: 'ghost', asset: 'USDT', amount: '10' }
          : { command: 'OpenAccount', accountId: id };
    }
  }

  private markPrice(symbol: SimSymbol, move: 'tick' | 'gap' | 'crash' | 'rally'): CommandInput {
    const mark = this.paths.move(symbol, move, this.random);
    const index = this.random.chance(0.2)
      ? mark.times(bpFactor(this.random.between(-15, 15)))
      : mark;
    return {
      command: 'UpdateMarkPrice',
      symbol,
      markPrice: str(mark),
      indexPrice: str(index.toDecimalPlaces(this.paths.decimals(symbol), D.ROUND_HALF_UP)),
    };
  }

  private btcIndex(): CommandInput {
    const mark = this.paths.mark('BTCUSDT');
    const wide = this.random.chance(0.1);
    return {
      command: 'UpdateAssetIndex',
      asset: 'BTC',
      index: str(
        mark.times(bpFactor(this.random.between(-10, 10))).toDecimalPlaces(2, D.ROUND_HALF_UP),
      ),
      bidBuffer: wide ? '0.1' : '0.05',
      askBuffer: wide ? '0.1' : '0.05',
      autoExchangeBidBuffer: wide ? '0.05' : '0.025',
      autoExchangeAskBuffer: '0',
    };
  }

  private assetIndex(): CommandInput {
    const which = this.random.weighted([
      ['BTC', 70],
      ['BNB', 15],
      ['USDT', 8],
      ['USDC', 7],
    ] as const);
    if (which === 'BTC') return this.btcIndex();
    if (which === 'BNB') {
      return {
        command: 'UpdateAssetIndex',
        asset: 'BNB',
        index: str(this.paths.mark('BNBUSDT')),
        bidBuffer: '0.05',
        askBuffer: '0.05',
        autoExchangeBidBuffer: '0.025',
        autoExchangeAskBuffer: '0',
      };
    }
    const index = units(10_000 + this.random.between(-8, 8), 4);
    return {
      command: 'UpdateAssetIndex',
      asset: which,
      index: str(index),
      bidBuffer: which === 'USDT' ? '0.0001' : '0',
      askBuffer: which === 'USDT' ? '0.0001' : '0',
      autoExchangeBidBuffer: '0',
      autoExchangeAskBuffer: this.random.chance(0.3) ? '0.0001' : '0',
    };
  }

  private deposit(accountId: string, asset: string, count: number, decimals: number): CommandInput {
    return { command: 'Deposit', accountId, asset, amount: str(units(count, decimals)) };
  }

  private randomDeposit(accountId: string): CommandInput {
    const multi = this.profiles.get(accountId) === 'multi';
    const asset = multi
      ? this.random.weighted([
          ['USDT', 40],
          ['USDC', 20],
          ['BTC', 30],
          ['BNB', 5],
          ['ETH', 5],
        ] as const)
      : this.random.weighted([
          ['USDT', 85],
          ['USDC', 10],
          ['BTC', 5],
        ] as const);
    if (asset === 'USDT' || asset === 'USDC') {
      return this.random.chance(0.8)
        ? this.deposit(accountId, asset, this.random.between(10_000, 800_000), 2)
        : this.deposit(accountId, asset, this.random.between(1, 2 ** 31), 8);
    }
    if (asset === 'BTC')
      return this.deposit(accountId, asset, this.random.between(100_000, 80_000_000), 8);
    return this.deposit(accountId, asset, this.random.between(1_000, 2_000_000), 5);
  }

  private withdraw(accountId: string, state: AccountState): CommandInput {
    const assets = [...state.wallets.keys()];
    const asset = assets.length > 0 ? this.random.pick(assets) : 'USDT';
    const wallet = state.wallets.get(asset) ?? ZERO;
    const share = this.random.weighted([
      ['part', 80],
      ['all', 8],
      ['more', 7],
      ['tiny', 5],
    ] as const);
    let amount =
      share === 'part'
        ? wallet.times(units(this.random.between(1, 70), 2))
        : share === 'all'
          ? wallet
          : share === 'more'
            ? wallet.abs().times(2).plus(1)
            : units(this.random.between(1, 1000), 8);
    amount = amount.toDecimalPlaces(8, D.ROUND_DOWN);
    if (!amount.gt(0)) amount = units(1, 2);
    return { command: 'Withdraw', accountId, asset, amount: str(amount) };
  }

  private funding(): CommandInput {
    const symbol = this.random.pick(SYMBOL_NAMES);
    // |rate| ≤ 0.03 (the funding cap): mostly within ±0.0005, sometimes ±0.01, rarely up to ±0.03.
    const rate = (): string => {
      const max = this.random.weighted([
        [50, 70],
        [1000, 25],
        [3000, 5],
      ] as const);
      return str(units(this.random.between(-max, max), 5));
    };
    if (this.random.chance(0.5)) return { command: 'SetFundingRate', symbol, rate: rate() };
    return this.random.chance(0.8)
      ? { command: 'SettleFunding', symbol }
      : { command: 'SettleFunding', symbol, rate: rate() };
  }

  private settings(accountId: string, state: AccountState): CommandInput {
    const symbol = this.random.pick(SYMBOL_NAMES);
    const kind = this.random.weighted([
      ['leverage', 30],
      ['marginType', 20],
      ['assetMode', 15],
      ['positionMode', 10],
      ['vip', 10],
      ['cancel', 15],
    ] as const);
    switch (kind) {
      case 'leverage':
        return {
          command: 'SetLeverage',
          accountId,
          symbol,
          leverage: this.random.pick([1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125, 150]),
        };
      case 'marginType':
        return {
          command: 'SetMarginType',
          accountId,
          symbol,
          marginType: this.random.chance(0.5) ? 'ISOLATED' : 'CROSSED',
        };
      case 'assetMode': {
        const same = this.random.chance(0.15);
        const to = (state.assetMode === 'MULTI') === same ? 'MULTI' : 'SINGLE';
        return { command: 'SwitchAssetMode', accountId, assetMode: to };
      }
      case 'positionMode':
        return {
          command: 'SetPositionMode',
          accountId,
          positionMode: state.positionMode === 'HEDGE' ? 'ONE_WAY' : 'HEDGE',
        };
      case 'vip':
        return { command: 'SetVipLevel', accountId, vipLevel: this.random.between(0, 9) };
      case 'cancel': {
        const orders = [...state.orders.keys()];
        const orderId =
          orders.length > 0 && this.random.chance(0.85)
            ? this.random.pick(orders)
            : 'no-such-order';
        return { command: 'CancelOrder', accountId, orderId };
      }
    }
  }

  private adjustIsolated(accountId: string, state: AccountState): CommandInput {
    const isolated = [...state.positions.values()].filter((p) => p.marginType === 'ISOLATED');
    const position = isolated.length > 0 ? this.random.pick(isolated) : undefined;
    if (!position)
      return { command: 'AdjustIsolatedMargin', accountId, symbol: 'BTCUSDT', amount: '10' };
    const positionSide =
      position.positionSide === 'BOTH' ? {} : { positionSide: position.positionSide };
    const marginAsset = SYMBOLS[position.symbol as SimSymbol]?.marginAsset ?? 'USDT';
    const amount = this.random.chance(0.5)
      ? (state.wallets.get(marginAsset) ?? ZERO).times(units(this.random.between(1, 30), 2))
      : position.isolatedWallet.times(units(this.random.between(1, 60), 2)).neg();
    const rounded = amount.toDecimalPlaces(8, D.ROUND_DOWN);
    return {
      command: 'AdjustIsolatedMargin',
      accountId,
      symbol: position.symbol,
      amount: rounded.isZero() ? '1' : str(rounded),
      ...positionSide,
    };
  }

  /** The USD margin the account can put behind a new position (rough: the sizing only aims). */
  private marginBudget(state: AccountState, symbol: SimSymbol): Dec {
    const wallet = (asset: string): Dec => {
      const wb = state.wallets.get(asset) ?? ZERO;
      return wb.gt(0) ? wb : ZERO;
    };
    if (state.assetMode === 'MULTI') {
      return wallet('USDT')
        .plus(wallet('USDC'))
        .plus(wallet('BTC').times(this.paths.mark('BTCUSDT')).times('0.9'));
    }
    return wallet(SYMBOLS[symbol].marginAsset);
  }

  private fill(accountId: string, state: AccountState): CommandInput {
    const orders = [...state.orders.values()];
    if (orders.length > 0 && this.random.chance(0.25)) {
      const order = this.random.pick(orders);
      const quantity = this.random.chance(0.6)
        ? order.quantity
        : order.quantity
            .times(units(this.random.between(10, 90), 2))
            .toDecimalPlaces(3, D.ROUND_DOWN);
      return {
        command: 'Fill',
        accountId,
        symbol: order.symbol,
        side: order.side,
        quantity: str(quantity.gt(0) ? quantity : order.quantity),
        price: str(order.price),
        orderId: order.orderId,
        ...(order.positionSide === 'BOTH' ? {} : { positionSide: order.positionSide }),
        ...this.fee(quantity.times(order.price)),
      };
    }
    const symbol = this.fillSymbol(state);
    const spec = SYMBOLS[symbol];
    const hedge = state.positionMode === 'HEDGE';
    const positionSide: PositionSide = hedge
      ? this.random.chance(0.5)
        ? 'LONG'
        : 'SHORT'
      : 'BOTH';
    const position = state.positions.get(positionKey(symbol, positionSide));
    const mark = this.paths.mark(symbol);
    const min = units(1, spec.quantityDecimals);
    let side: 'BUY' | 'SELL';
    let quantity: Dec;
    if (position && this.random.chance(0.45)) {
      // Reduce, close or (one-way only) flip the position.
      side = position.quantity.isNegative() ? 'BUY' : 'SELL';
      const held = position.quantity.abs();
      const how = this.random.weighted([
        ['close', 45],
        ['part', 40],
        ['flip', hedge ? 0 : 15],
      ] as const);
      quantity =
        how === 'close'
          ? held
          : how === 'part'
            ? held
                .times(units(this.random.between(5, 95), 2))
                .toDecimalPlaces(spec.quantityDecimals, D.ROUND_DOWN)
            : held.plus(this.openSize(state, symbol, mark));
    } else {
      side = hedge
        ? positionSide === 'LONG'
          ? 'BUY'
          : 'SELL'
        : this.random.chance(0.5)
          ? 'BUY'
          : 'SELL';
      quantity = this.openSize(state, symbol, mark);
    }
    if (quantity.lt(min)) quantity = min;
    const price = this.paths.near(symbol, this.fillPriceBp());
    return {
      command: 'Fill',
      accountId,
      symbol,
      side,
      quantity: str(quantity),
      price: str(price),
      ...(hedge ? { positionSide } : {}),
      ...this.fee(quantity.times(price)),
    };
  }

  private fillSymbol(state: AccountState): SimSymbol {
    if (state.assetMode === 'MULTI') return this.random.pick(SYMBOL_NAMES);
    const usdc = (state.wallets.get('USDC') ?? ZERO).gt(0);
    return this.random.weighted<SimSymbol>([
      ['BTCUSDT', 65],
      ['BNBUSDT', 25],
      ['BTCUSDC', usdc ? 10 : 1],
    ]);
  }

  /**
   * A new position's size: a share of the margin budget times the leverage, within the bracket that leverage allows
   * (now and then far too much: −2019 or −2027).
   */
  private openSize(state: AccountState, symbol: SimSymbol, mark: Dec): Dec {
    const leverage =
      state.symbols.get(symbol)?.leverage ?? this.config.referenceData.defaultLeverage;
    const oversize = this.random.chance(0.08);
    const share = oversize
      ? units(this.random.between(150, 400), 2)
      : units(this.random.between(3, 90), 2);
    let notional = this.marginBudget(state, symbol).times(leverage).times(share);
    const cap = this.maxNotional(symbol, leverage);
    if (!oversize && cap && notional.gt(cap)) notional = cap.times(share);
    return notional.div(mark).toDecimalPlaces(SYMBOLS[symbol].quantityDecimals, D.ROUND_DOWN);
  }

  /** The largest notional a leverage is allowed in the symbol's brackets. */
  private maxNotional(symbol: SimSymbol, leverage: number): Dec | undefined {
    const brackets = this.config.referenceData.symbols[symbol]?.brackets ?? [];
    let cap: Dec | undefined;
    for (const b of brackets)
      if (b.initialLeverage >= leverage && (!cap || cap.lt(b.notionalCap)))
        cap = new D(b.notionalCap);
    return cap;
  }

  /** Basis points between a fill's price and the mark: mostly close, sometimes a gap, rarely ±40%. */
  private fillPriceBp(): number {
    const range = this.random.weighted([
      [20, 78],
      [300, 15],
      [1500, 5],
      [4000, 2],
    ] as const);
    return this.random.between(-range, range);
  }

  /** The fee: the schedule's (omitted), or an amount within ±1% of the notional, 8 dp. */
  private fee(notional: Dec): { fee?: string; maker?: boolean } {
    const how = this.random.weighted([
      ['schedule', 35],
      ['taker', 30],
      ['maker', 15],
      ['zero', 8],
      ['rebate', 5],
      ['any', 7],
    ] as const);
    if (how === 'schedule') return this.random.chance(0.3) ? { maker: true } : {};
    const ratePpm =
      how === 'taker'
        ? 500
        : how === 'maker'
          ? 200
          : how === 'zero'
            ? 0
            : how === 'rebate'
              ? -100
              : this.random.between(0, 10_000);
    return { fee: str(round8(notional.times(units(ratePpm, 6)))) };
  }

  private order(accountId: string, state: AccountState): CommandInput {
    const symbol = this.fillSymbol(state);
    const spec = SYMBOLS[symbol];
    const hedge = state.positionMode === 'HEDGE';
    const positionSide: PositionSide = hedge
      ? this.random.chance(0.5)
        ? 'LONG'
        : 'SHORT'
      : 'BOTH';
    const side = hedge
      ? positionSide === 'LONG'
        ? 'BUY'
        : 'SELL'
      : this.random.chance(0.5)
        ? 'BUY'
        : 'SELL';
    const mark = this.paths.mark(symbol);
    let quantity = this.openSize(state, symbol, mark).times(units(this.random.between(10, 60), 2));
    quantity = quantity.toDecimalPlaces(spec.quantityDecimals, D.ROUND_DOWN);
    if (quantity.lt(units(1, spec.quantityDecimals))) quantity = units(1, spec.quantityDecimals);
    this.orderSeq += 1;
    return {
      command: 'PlaceOrder',
      accountId,
      orderId: `o${this.orderSeq}`,
      symbol,
      side,
      quantity: str(quantity),
      price: str(this.paths.near(symbol, this.random.between(-300, 300))),
      ...(hedge ? { positionSide } : {}),
    };
  }
}
