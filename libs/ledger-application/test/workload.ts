/**
 * Seeded, deterministic command workloads for the crash-safety, concurrency and as-of suites: accounts in SINGLE
 * (high leverage, so price ticks liquidate) and MULTI mode (BTC collateral, USDT losses past the auto-exchange
 * threshold), fills at moving prices, mark-price and asset-index ticks, deposits, withdrawals, funding, and
 * commands that are rejected on purpose.
 */

/** mulberry32: small, fast, good enough for test data; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadCommand {
  commandId: string;
  at: string;
  /** The command body: `command` plus its fields. */
  input: { command: string; [field: string]: unknown };
  /** Built to be rejected whatever the state (unknown account, absurd amount, invalid leverage). */
  mustReject?: boolean;
}

export interface WorkloadOptions {
  seed: number;
  count: number;
  prefix: string;
  start?: string;
  /** Milliseconds between consecutive commands' `at` (strictly increasing). Default 1000. */
  stepMs?: number;
  singleAccounts?: string[];
  multiAccounts?: string[];
  /** Share of rejected-on-purpose commands. Default 0.05. */
  rejectShare?: number;
  /** Include SetFundingRate + SettleFunding now and then. Default true. */
  funding?: boolean;
}

const dp = (value: number, decimals: number): string => {
  const fixed = value.toFixed(decimals);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
};

/** Command lines as `ledger apply` reads them. */
export function toApplyLine(c: WorkloadCommand): string {
  return JSON.stringify({ ...c.input, commandId: c.commandId, at: c.at });
}

export function generateWorkload(options: WorkloadOptions): WorkloadCommand[] {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const between = (lo: number, hi: number): number => lo + random() * (hi - lo);
  const singles = options.singleAccounts ?? ['s1', 's2', 's3'];
  const multis = options.multiAccounts ?? ['m1', 'm2'];
  const stepMs = options.stepMs ?? 1000;
  const startMs = Date.parse(options.start ?? '2024-06-01T00:00:00Z');
  const rejectShare = options.rejectShare ?? 0.05;
  const out: WorkloadCommand[] = [];
  const push = (input: WorkloadCommand['input'], mustReject = false): void => {
    const i = out.length;
    out.push({
      commandId: `${options.prefix}-${i}`,
      at: new Date(startMs + i * stepMs).toISOString(),
      input,
      ...(mustReject ? { mustReject } : {}),
    });
  };

  const prices: Record<string, number> = { BTCUSDT: 50000, BTCUSDC: 50000, BNBUSDT: 400 };
  const anchor: Record<string, number> = { ...prices };
  const btcIndex = (): void =>
    push({
      command: 'UpdateAssetIndex',
      asset: 'BTC',
      index: dp(prices.BTCUSDT ?? 50000, 2),
      bidBuffer: '0.05',
      askBuffer: '0.05',
      autoExchangeBidBuffer: '0.025',
      autoExchangeAskBuffer: '0',
    });
  const tick = (symbol: string, shock = 0): void => {
    const p = prices[symbol] ?? 1;
    const a = anchor[symbol] ?? p;
    const next = Math.max(a * 0.7, p + (a - p) * 0.08 + p * (between(-0.012, 0.012) + shock));
    prices[symbol] = next;
    push({ command: 'UpdateMarkPrice', symbol, markPrice: dp(next, 2), indexPrice: dp(next, 2) });
  };

  // Setup: prices, indexes, accounts and their first deposits.
  btcIndex();
  for (const symbol of Object.keys(prices)) tick(symbol);
  for (const id of singles) {
    push({ command: 'OpenAccount', accountId: id });
    push({ command: 'Deposit', accountId: id, asset: 'USDT', amount: dp(between(2000, 4000), 2) });
    push({ command: 'SetLeverage', accountId: id, symbol: 'BTCUSDT', leverage: 50 });
  }
  for (const id of multis) {
    push({ command: 'OpenAccount', accountId: id, assetMode: 'MULTI' });
    push({ command: 'Deposit', accountId: id, asset: 'BTC', amount: dp(between(1.5, 2.5), 3) });
    push({ command: 'Deposit', accountId: id, asset: 'USDT', amount: dp(between(500, 1500), 2) });
  }
  if (options.funding ?? true)
    push({ command: 'SetFundingRate', symbol: 'BTCUSDT', rate: '0.0001' });

  const fill = (accountId: string, symbol: string, quantity: number, side?: string): void => {
    const p = prices[symbol] ?? 1;
    const decimals = symbol === 'BNBUSDT' ? 2 : 3;
    push({
      command: 'Fill',
      accountId,
      symbol,
      side: side ?? pick(['BUY', 'SELL']),
      quantity: dp(Math.max(quantity, 10 ** -decimals), decimals),
      price: dp(p * between(0.998, 1.002), 2),
      ...(random() < 0.5 ? {} : { fee: dp(p * quantity * 0.0004, 8) }),
    });
  };

  while (out.length < options.count) {
    const r = random();
    if (r < rejectShare) {
      const kind = pick(['ghost', 'withdraw', 'leverage'] as const);
      if (kind === 'ghost')
        push({ command: 'Deposit', accountId: 'ghost', asset: 'USDT', amount: '10' }, true);
      else if (kind === 'withdraw')
        push(
          {
            command: 'Withdraw',
            accountId: pick([...singles, ...multis]),
            asset: 'USDT',
            amount: '1000000000',
          },
          true,
        );
      else
        push(
          { command: 'SetLeverage', accountId: pick(singles), symbol: 'BTCUSDT', leverage: 1000 },
          true,
        );
    } else if (r < 0.33) {
      const symbol = pick(['BTCUSDT', 'BTCUSDT', 'BTCUSDC', 'BNBUSDT']);
      // Now and then a shock, so high-leverage positions get liquidated.
      tick(symbol, random() < 0.06 ? pick([-0.05, -0.035, 0.035, 0.05]) : 0);
      if (symbol === 'BTCUSDT' && random() < 0.5) btcIndex();
    } else if (r < 0.68) {
      if (singles.length > 0 && (multis.length === 0 || random() < 0.6)) {
        const id = pick(singles);
        if (random() < 0.8) fill(id, 'BTCUSDT', between(0.1, 1.2));
        else fill(id, 'BNBUSDT', between(5, 60));
      } else {
        const id = pick(multis);
        if (random() < 0.25) {
          // A losing round trip of 2–3 BTC: the realized loss drives the USDT wallet past the threshold.
          const qty = between(2, 3);
          fill(id, 'BTCUSDT', qty, 'BUY');
          tick('BTCUSDT', -0.045);
          btcIndex();
          fill(id, 'BTCUSDT', qty, 'SELL');
        } else fill(id, pick(['BTCUSDT', 'BTCUSDC']), between(0.05, 1));
      }
    } else if (r < 0.84) {
      if (singles.length > 0 && random() < 0.6)
        push({
          command: 'Deposit',
          accountId: pick(singles),
          asset: 'USDT',
          amount: dp(between(200, 2500), 2),
        });
      else if (multis.length > 0)
        push(
          random() < 0.5
            ? {
                command: 'Deposit',
                accountId: pick(multis),
                asset: 'BTC',
                amount: dp(between(0.05, 0.4), 3),
              }
            : {
                command: 'Deposit',
                accountId: pick(multis),
                asset: 'USDT',
                amount: dp(between(200, 3000), 2),
              },
        );
    } else if (r < 0.96) {
      push({
        command: 'Withdraw',
        accountId: pick([...singles, ...multis]),
        asset: 'USDT',
        amount: dp(between(10, 800), 2),
      });
    } else if (options.funding ?? true) {
      if (random() < 0.5)
        push({
          command: 'SetFundingRate',
          symbol: 'BTCUSDT',
          rate: dp(between(-0.0005, 0.0005), 6),
        });
      else push({ command: 'SettleFunding', symbol: 'BTCUSDT' });
    }
  }
  return out.slice(0, options.count);
}
