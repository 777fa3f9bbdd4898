import type { AccountState, MarketState } from '@ledger/margin-domain';
import { accountView, applyMarketEvent, computeMargin, decideMarket } from '@ledger/margin-domain';
import type { TemplateCommand } from './workload';
import {
  accountTemplate,
  marketWithMarks,
  shippedReference,
  syntheticSymbols,
  withSyntheticSymbols,
} from './workload';
import { log, nowMs, perSecond, round } from './stats';

export interface MarginMathFigures {
  positions: number;
  collateralAssets: number;
  assetMode: string;
  computeMarginPerSecond: number;
  /** computeMargin plus the JSON view with Binance field names (what a state query returns). */
  accountViewPerSecond: number;
  microsPerComputation: number;
}

const COLLATERAL: [string, string, string][] = [
  // asset, amount, USD index
  ['USDT', '50000', '1'],
  ['USDC', '20000', '1'],
  ['BTC', '1.5', '60000'],
  ['ETH', '10', '3000'],
  ['BNB', '40', '550'],
  ['BNFCR', '1000', '1'],
];

export function marginFixture(): {
  state: AccountState;
  market: MarketState;
  ref: ReturnType<typeof shippedReference>;
} {
  const ref = withSyntheticSymbols(shippedReference(), 20);
  const symbols = syntheticSymbols(20);
  const market = marketWithMarks(
    ref,
    Object.fromEntries(symbols.map((s, i) => [s, String(1000 + i * 37)])),
  );
  for (const [asset, , index] of COLLATERAL) {
    if (asset === 'USDT' || asset === 'USDC') continue;
    applyMarketEvent(
      market,
      decideMarket(
        {
          type: 'UpdateAssetIndex' as const,
          asset,
          index,
          bidBuffer: '0.01',
          askBuffer: '0.01',
          autoExchangeBidBuffer: '0.02',
          autoExchangeAskBuffer: '0.02',
        },
        ref,
      ),
    );
  }
  const commands: TemplateCommand[] = [
    { type: 'OpenAccount' as const, vipLevel: 0, assetMode: 'MULTI' },
    ...COLLATERAL.map(([asset, amount]) => ({ type: 'Deposit' as const, asset, amount })),
    ...symbols.map((symbol, i) => ({
      type: 'Fill' as const,
      symbol,
      side: i % 3 === 0 ? 'SELL' : 'BUY',
      quantity: '0.5',
      price: String(1000 + i * 37 - (i % 5) * 3),
      fee: '0.1',
    })),
  ];
  const { states } = accountTemplate(ref, market, commands, {
    maxEvents: 1000,
    accountId: 'margin',
  });
  const state = states[states.length - 1];
  if (!state || state.positions.size !== 20)
    throw new Error(`margin fixture has ${state?.positions.size ?? 0} positions, wanted 20`);
  return { state, market, ref };
}

export function measureMarginMath(seconds: number): MarginMathFigures {
  const { state, market, ref } = marginFixture();
  const loop = (work: () => void): number => {
    for (let i = 0; i < 200; i++) work(); // warm-up (JIT)
    let n = 0;
    const started = nowMs();
    const deadline = started + seconds * 1000;
    while (nowMs() < deadline) {
      for (let i = 0; i < 50; i++) work();
      n += 50;
    }
    return perSecond(n, nowMs() - started);
  };
  const compute = loop(() => void computeMargin(state, market, ref));
  const view = loop(() => void accountView(state, market, ref));
  const figures: MarginMathFigures = {
    positions: state.positions.size,
    collateralAssets: [...state.wallets.keys()].length,
    assetMode: state.assetMode,
    computeMarginPerSecond: compute,
    accountViewPerSecond: view,
    microsPerComputation: round(1e6 / compute, 1),
  };
  log(`margin math: ${compute} computeMargin/s, ${view} accountView/s`);
  return figures;
}
