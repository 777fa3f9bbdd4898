import type { Dec } from '../money/decimal';
import { D, str } from '../money/decimal';
import { referenceBook } from '../reference-data';
import type { ReferenceData } from '../reference-data/reference-data.types';
import { LedgerDomainError } from '../shared/errors';
import { requireDecimal, requirePositive } from '../shared/validate';
import { requireAsset, requireSymbol } from '../account/decide/context';
import type {
  AssetIndexUpdated,
  FundingRateSet,
  MarkPriceUpdated,
  MarketEvent,
} from './market.events';
import type { AssetIndex, MarketView } from './market';
import { parseAssetIndex } from './market';

export interface UpdateMarkPrice {
  type: 'UpdateMarkPrice';
  symbol: unknown;
  markPrice: unknown;
  indexPrice?: unknown;
}
export interface UpdateAssetIndex {
  type: 'UpdateAssetIndex';
  asset: unknown;
  index: unknown;
  bidBuffer: unknown;
  askBuffer: unknown;
  autoExchangeBidBuffer: unknown;
  autoExchangeAskBuffer: unknown;
}
export interface SetFundingRate {
  type: 'SetFundingRate';
  symbol: unknown;
  rate: unknown;
}
export type MarketCommand = UpdateMarkPrice | UpdateAssetIndex | SetFundingRate;

export function decideMarket(command: MarketCommand, ref: ReferenceData): MarketEvent {
  switch (command.type) {
    case 'UpdateMarkPrice': {
      const { symbol } = requireSymbol(ref, command.symbol);
      const markPrice = requirePositive(command.markPrice, 'markPrice', 'INVALID_PRICE', -4001);
      const indexPrice =
        command.indexPrice === undefined || command.indexPrice === null
          ? markPrice
          : requirePositive(command.indexPrice, 'indexPrice', 'INVALID_PRICE', -4001);
      const event: MarkPriceUpdated = {
        type: 'MarkPriceUpdated',
        data: { symbol, markPrice: str(markPrice), indexPrice: str(indexPrice) },
      };
      return event;
    }
    case 'UpdateAssetIndex': {
      const asset = requireAsset(ref, command.asset);
      const index = requirePositive(command.index, 'index', 'INVALID_PRICE');
      const buffer = (value: unknown, field: string): string => {
        const b = requireDecimal(value, field);
        if (b.isNegative() || b.gte(1)) {
          throw new LedgerDomainError('INVALID_BUFFER', `${field} must be at least 0 and below 1`, {
            field,
          });
        }
        return str(b);
      };
      const event: AssetIndexUpdated = {
        type: 'AssetIndexUpdated',
        data: {
          asset,
          index: str(index),
          bidBuffer: buffer(command.bidBuffer, 'bidBuffer'),
          askBuffer: buffer(command.askBuffer, 'askBuffer'),
          autoExchangeBidBuffer: buffer(command.autoExchangeBidBuffer, 'autoExchangeBidBuffer'),
          autoExchangeAskBuffer: buffer(command.autoExchangeAskBuffer, 'autoExchangeAskBuffer'),
        },
      };
      return event;
    }
    case 'SetFundingRate': {
      const { symbol } = requireSymbol(ref, command.symbol);
      const rate = requireFundingRateInRange(ref, requireDecimal(command.rate, 'rate'));
      const event: FundingRateSet = { type: 'FundingRateSet', data: { symbol, rate: str(rate) } };
      return event;
    }
    default: {
      const exhaustive: never = command;
      throw new LedgerDomainError(
        'UNKNOWN_COMMAND',
        `unknown command ${JSON.stringify(exhaustive)}`,
      );
    }
  }
}

/**
 * SettleFunding(symbol, rate?) (RULES §5): validates and resolves the rate (the given one, else the last
 * SetFundingRate); the application then settles each account holding the symbol.
 */
export function resolveFundingSettlement(
  command: { symbol: unknown; rate?: unknown },
  ref: ReferenceData,
  market: MarketView,
): { symbol: string; rate: Dec } {
  const { symbol } = requireSymbol(ref, command.symbol);
  const rate =
    command.rate === undefined || command.rate === null
      ? market.fundingRates.get(symbol)
      : requireDecimal(command.rate, 'rate');
  if (!rate) {
    throw new LedgerDomainError('NO_FUNDING_RATE', `no funding rate given or set for ${symbol}`, {
      field: 'rate',
    });
  }
  // The rate last set is checked too: it may have been set under a wider bound than the one in force now.
  requireFundingRateInRange(ref, rate);
  if (!market.marks.get(symbol)) {
    throw new LedgerDomainError(
      'NO_MARK_PRICE',
      `${symbol} has no mark price to settle funding at`,
      {
        field: 'symbol',
      },
    );
  }
  return { symbol, rate };
}

/**
 * RULES §5, reference-data.md `funding.maxAbsRate` (default 0.03): a funding rate beyond ± the bound is refused
 * (issue 11). Binance has no code for it.
 */
function requireFundingRateInRange(ref: ReferenceData, rate: Dec): Dec {
  const bound = referenceBook(ref).fundingMaxAbsRate;
  if (rate.abs().gt(bound)) {
    throw new LedgerDomainError(
      'FUNDING_RATE_OUT_OF_RANGE',
      `rate ${str(rate)} is beyond ±${str(bound)} (funding.maxAbsRate)`,
      { field: 'rate' },
    );
  }
  return rate;
}

/** The market fold: the latest mark per symbol, asset index per asset, funding rate per symbol. */
export interface MarketState extends MarketView {
  readonly marks: Map<string, Dec>;
  readonly indexPrices: Map<string, Dec>;
  readonly assetIndexes: Map<string, AssetIndex>;
  readonly fundingRates: Map<string, Dec>;
}

export function emptyMarketState(): MarketState {
  return {
    marks: new Map(),
    indexPrices: new Map(),
    assetIndexes: new Map(),
    fundingRates: new Map(),
  };
}

/** Mutates in place: the market fold is owned by one reader at a time (the application copies for as-of). */
export function applyMarketEvent(state: MarketState, event: MarketEvent): void {
  switch (event.type) {
    case 'MarkPriceUpdated':
      state.marks.set(event.data.symbol, new D(event.data.markPrice));
      state.indexPrices.set(event.data.symbol, new D(event.data.indexPrice));
      return;
    case 'AssetIndexUpdated':
      state.assetIndexes.set(event.data.asset, parseAssetIndex(event.data));
      return;
    case 'FundingRateSet':
      state.fundingRates.set(event.data.symbol, new D(event.data.rate));
      return;
    default: {
      const exhaustive: never = event;
      throw new Error(`unknown market event ${JSON.stringify(exhaustive)}`);
    }
  }
}

export function copyMarketState(state: MarketState): MarketState {
  return {
    marks: new Map(state.marks),
    indexPrices: new Map(state.indexPrices),
    assetIndexes: new Map(state.assetIndexes),
    fundingRates: new Map(state.fundingRates),
  };
}
