import type { Dec } from '../money/decimal';
import { ZERO, max, min } from '../money/decimal';
import type { AccountState, AssetMode } from '../account/account.state';
import { positionKey } from '../account/account.state';
import type { AssetRates, MarketView } from '../market/market';
import { ratesOf, usdValue } from '../market/market';
import type { ReferenceData } from '../reference-data/reference-data.types';
import type { PositionFigures } from './position-math';
import { marginAssetOf, orderInitialMargin, positionFigures } from './position-math';
import { liquidationPrices } from './liquidation-price';

/**
 * The margin state of one account: pure functions of state + prices + reference data (ARCHITECTURE "Read side").
 * Field names are Binance's (S11/S12; spec/scenario-format.md). SINGLE: RULES §2.2–§2.4; MULTI: RULES §2.5.
 */
export interface AssetFigures {
  asset: string;
  marginAvailable: boolean;
  walletBalance: Dec;
  crossWalletBalance: Dec;
  unrealizedProfit: Dec;
  marginBalance: Dec;
  maintMargin: Dec;
  initialMargin: Dec;
  availableBalance: Dec;
  maxWithdrawAmount: Dec;
  /** SINGLE only (per margin asset pool); null when MM > 0 and the margin balance ≤ 0. */
  marginRatio: Dec | null | undefined;
  /** SINGLE: the cross pool's figures (RULES §2.2). MULTI: the asset's equity and rates. */
  crossUnrealizedProfit: Dec;
  crossMaintMargin: Dec;
  crossInitialMargin: Dec;
  /** Unclamped available: availableRaw_a (SINGLE) or uniAvailableForOrder (MULTI). Used by checks. */
  availableRaw: Dec;
  rates: AssetRates;
}

export interface AccountFigures {
  assetMode: AssetMode;
  totalWalletBalance: Dec;
  totalUnrealizedProfit: Dec;
  totalMarginBalance: Dec;
  totalMaintMargin: Dec;
  totalInitialMargin: Dec;
  availableBalance: Dec;
  maxWithdrawAmount: Dec;
  marginRatio: Dec | null;
  /** Unclamped: USDT's availableRaw in SINGLE, uniAvailableForOrder in MULTI. */
  availableRaw: Dec;
}

export interface PositionView extends PositionFigures {
  key: string;
  isolatedMargin: Dec;
  liquidationPrice: Dec;
}

export interface MarginState {
  account: AccountFigures;
  assets: Map<string, AssetFigures>;
  positions: Map<string, PositionView>;
}

export interface MarginOptions {
  /** Liquidation prices cost an iteration per position; checks skip them. Default true. */
  liquidationPrices?: boolean;
}

/** The account-level figures in SINGLE are those of the USDT pool, as Binance's API does (RULES §2.2, S11). */
export const SINGLE_MODE_ACCOUNT_ASSET = 'USDT';

export function computeMargin(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  options: MarginOptions = {},
): MarginState {
  const figures: PositionFigures[] = [];
  for (const position of state.positions.values()) {
    figures.push(positionFigures(state, position, market, ref));
  }
  const assets = assetsOf(state, ref, figures);
  const result =
    state.assetMode === 'SINGLE'
      ? singleAsset(state, market, ref, figures, assets)
      : multiAssets(state, market, ref, figures, assets);
  const withLp = options.liquidationPrices ?? true;
  const lps = withLp ? liquidationPrices(state, ref, figures, result) : new Map<string, Dec>();
  const positions = new Map<string, PositionView>();
  for (const f of figures) {
    const key = positionKey(f.position.symbol, f.position.positionSide);
    positions.set(key, {
      ...f,
      key,
      isolatedMargin:
        f.position.marginType === 'ISOLATED'
          ? f.position.isolatedWallet.plus(f.unrealizedProfit)
          : ZERO,
      liquidationPrice: lps.get(key) ?? ZERO,
    });
  }
  return { ...result, positions };
}

function assetsOf(state: AccountState, ref: ReferenceData, figures: PositionFigures[]): string[] {
  const set = new Set<string>(Object.keys(ref.assets));
  for (const asset of state.wallets.keys()) set.add(asset);
  for (const f of figures) set.add(f.marginAsset);
  return [...set].sort();
}

interface Sums {
  crossUpnl: Dec;
  isoUpnl: Dec;
  crossMm: Dec;
  isoMm: Dec;
  crossIm: Dec;
  isoIm: Dec;
  isoWallets: Dec;
  crossOrderIm: Dec;
  isoOrderIm: Dec;
}

const NO_SUMS: Sums = {
  crossUpnl: ZERO,
  isoUpnl: ZERO,
  crossMm: ZERO,
  isoMm: ZERO,
  crossIm: ZERO,
  isoIm: ZERO,
  isoWallets: ZERO,
  crossOrderIm: ZERO,
  isoOrderIm: ZERO,
};

function sumsByAsset(
  state: AccountState,
  ref: ReferenceData,
  figures: PositionFigures[],
): Map<string, Sums> {
  const sums = new Map<string, Sums>();
  const get = (asset: string): Sums => {
    let s = sums.get(asset);
    if (!s) {
      s = { ...NO_SUMS };
      sums.set(asset, s);
    }
    return s;
  };
  for (const f of figures) {
    const s = get(f.marginAsset);
    if (f.position.marginType === 'ISOLATED') {
      s.isoUpnl = s.isoUpnl.plus(f.unrealizedProfit);
      s.isoMm = s.isoMm.plus(f.maintMargin);
      s.isoIm = s.isoIm.plus(f.initialMargin);
      s.isoWallets = s.isoWallets.plus(f.position.isolatedWallet);
    } else {
      s.crossUpnl = s.crossUpnl.plus(f.unrealizedProfit);
      s.crossMm = s.crossMm.plus(f.maintMargin);
      s.crossIm = s.crossIm.plus(f.initialMargin);
    }
  }
  for (const order of state.orders.values()) {
    const s = get(marginAssetOf(ref, order.symbol));
    const im = orderInitialMargin(state, order, ref);
    const isolated =
      state.assetMode === 'SINGLE' && state.symbols.get(order.symbol)?.marginType === 'ISOLATED';
    if (isolated) s.isoOrderIm = s.isoOrderIm.plus(im);
    else s.crossOrderIm = s.crossOrderIm.plus(im);
  }
  return sums;
}

function ratio(mm: Dec, balance: Dec): Dec | null {
  if (mm.isZero()) return ZERO;
  if (balance.lte(0)) return null;
  return mm.div(balance);
}

/** RULES §2.2 (cross pools per margin asset) and §2.3 (isolated). */
function singleAsset(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  figures: PositionFigures[],
  assetList: string[],
): Omit<MarginState, 'positions'> {
  const sums = sumsByAsset(state, ref, figures);
  const assets = new Map<string, AssetFigures>();
  for (const asset of assetList) {
    const s = sums.get(asset) ?? NO_SUMS;
    const crossWb = state.wallets.get(asset) ?? ZERO;
    const walletBalance = crossWb.plus(s.isoWallets);
    const unrealizedProfit = s.crossUpnl.plus(s.isoUpnl);
    const crossIm = s.crossIm.plus(s.crossOrderIm);
    const availableRaw = crossWb.plus(s.crossUpnl).minus(crossIm).minus(s.isoOrderIm);
    const availableBalance = max(ZERO, availableRaw);
    assets.set(asset, {
      asset,
      marginAvailable: ref.assets[asset]?.marginAvailable ?? false,
      walletBalance,
      crossWalletBalance: crossWb,
      unrealizedProfit,
      marginBalance: walletBalance.plus(unrealizedProfit),
      maintMargin: s.crossMm.plus(s.isoMm),
      initialMargin: crossIm.plus(s.isoIm).plus(s.isoOrderIm),
      availableBalance,
      maxWithdrawAmount: max(ZERO, min(crossWb, availableBalance)),
      marginRatio: ratio(s.crossMm, crossWb.plus(s.crossUpnl)),
      crossUnrealizedProfit: s.crossUpnl,
      crossMaintMargin: s.crossMm,
      crossInitialMargin: crossIm,
      availableRaw,
      rates: ratesOf(market, ref, asset),
    });
  }
  const usdt = assets.get(SINGLE_MODE_ACCOUNT_ASSET);
  if (!usdt) throw new Error('reference data has no USDT asset');
  return {
    assets,
    account: {
      assetMode: 'SINGLE',
      totalWalletBalance: usdt.walletBalance,
      totalUnrealizedProfit: usdt.unrealizedProfit,
      totalMarginBalance: usdt.marginBalance,
      totalMaintMargin: usdt.maintMargin,
      totalInitialMargin: usdt.initialMargin,
      availableBalance: usdt.availableBalance,
      maxWithdrawAmount: usdt.maxWithdrawAmount,
      marginRatio: usdt.marginRatio ?? null,
      availableRaw: usdt.availableRaw,
    },
  };
}

/** RULES §2.5: one USD pool; positive equity at the bid rate, negative at the ask rate. */
function multiAssets(
  state: AccountState,
  market: MarketView,
  ref: ReferenceData,
  figures: PositionFigures[],
  assetList: string[],
): Omit<MarginState, 'positions'> {
  const sums = sumsByAsset(state, ref, figures);
  let equity = ZERO;
  let walletUsd = ZERO;
  let upnlUsd = ZERO;
  let mmUsd = ZERO;
  let imUsd = ZERO;
  const partial: { asset: string; s: Sums; wb: Dec; rates: AssetRates; counts: boolean }[] = [];
  for (const asset of assetList) {
    const s = sums.get(asset) ?? NO_SUMS;
    const wb = state.wallets.get(asset) ?? ZERO;
    const counts = ref.assets[asset]?.marginAvailable ?? false;
    const rates = ratesOf(market, ref, asset);
    partial.push({ asset, s, wb, rates, counts });
    if (counts) {
      const assetEquity = wb.plus(s.crossUpnl).plus(s.isoUpnl);
      equity = equity.plus(usdValue(assetEquity, rates));
      walletUsd = walletUsd.plus(usdValue(wb, rates));
    }
    upnlUsd = upnlUsd.plus(usdValue(s.crossUpnl.plus(s.isoUpnl), rates));
    mmUsd = mmUsd.plus(s.crossMm.plus(s.isoMm).times(rates.askRate));
    imUsd = imUsd.plus(
      s.crossIm.plus(s.isoIm).plus(s.crossOrderIm).plus(s.isoOrderIm).times(rates.askRate),
    );
  }
  const uni = equity.minus(imUsd);
  const uniClamped = max(ZERO, uni);
  const assets = new Map<string, AssetFigures>();
  for (const { asset, s, wb, rates, counts } of partial) {
    const unrealizedProfit = s.crossUpnl.plus(s.isoUpnl);
    const assetEquity = wb.plus(unrealizedProfit);
    const im = s.crossIm.plus(s.isoIm).plus(s.crossOrderIm).plus(s.isoOrderIm);
    assets.set(asset, {
      asset,
      marginAvailable: counts,
      walletBalance: wb,
      crossWalletBalance: wb,
      unrealizedProfit,
      marginBalance: assetEquity,
      maintMargin: s.crossMm.plus(s.isoMm),
      initialMargin: im,
      availableBalance: rates.askRate.isZero() ? ZERO : uniClamped.div(rates.askRate),
      maxWithdrawAmount: maxWithdrawMulti(wb, assetEquity, uni, rates, counts),
      marginRatio: undefined,
      crossUnrealizedProfit: unrealizedProfit,
      crossMaintMargin: s.crossMm.plus(s.isoMm),
      crossInitialMargin: im,
      availableRaw: uni,
      rates,
    });
  }
  return {
    assets,
    account: {
      assetMode: 'MULTI',
      totalWalletBalance: walletUsd,
      totalUnrealizedProfit: upnlUsd,
      totalMarginBalance: equity,
      totalMaintMargin: mmUsd,
      totalInitialMargin: imUsd,
      availableBalance: uniClamped,
      maxWithdrawAmount: uniClamped,
      marginRatio: ratio(mmUsd, equity),
      availableRaw: uni,
    },
  };
}

/**
 * RULES §2.5 maxWithdrawAmount_a [A]: the largest x ≤ WB_a keeping uniAvailableForOrder ≥ 0. Each unit withdrawn
 * removes bidRate of USD equity while the asset's equity stays > 0, askRate at or below 0.
 */
export function maxWithdrawMulti(
  wb: Dec,
  assetEquity: Dec,
  uni: Dec,
  rates: AssetRates,
  counts: boolean,
): Dec {
  if (wb.lte(0)) return ZERO;
  if (!counts || rates.bidRate.isZero()) return wb;
  if (uni.isNegative()) return ZERO;
  let x: Dec;
  if (assetEquity.lte(0)) x = uni.div(rates.askRate);
  else if (uni.lte(assetEquity.times(rates.bidRate))) x = uni.div(rates.bidRate);
  else x = assetEquity.plus(uni.minus(assetEquity.times(rates.bidRate)).div(rates.askRate));
  return max(ZERO, min(x, wb));
}
