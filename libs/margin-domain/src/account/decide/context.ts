import type { MarketView } from '../../market/market';
import type { Dec } from '../../money/decimal';
import { str } from '../../money/decimal';
import { referenceBook } from '../../reference-data';
import type { ReferenceData, SymbolReference } from '../../reference-data/reference-data.types';
import { LedgerDomainError } from '../../shared/errors';
import { requireString } from '../../shared/validate';
import type { AccountState, PositionSide } from '../account.state';
import { requireEnum } from '../../shared/validate';

/** What `decide` reads besides the account's state: the rules and prices in force at the command's time. */
export interface DecideContext {
  ref: ReferenceData;
  market: MarketView;
}

export function requireOpened(state: AccountState): void {
  if (!state.opened) {
    throw new LedgerDomainError('ACCOUNT_NOT_FOUND', `account ${state.accountId} does not exist`, {
      field: 'accountId',
    });
  }
}

export function requireSymbol(
  ref: ReferenceData,
  value: unknown,
): { symbol: string; symbolRef: SymbolReference } {
  const symbol = requireString(value, 'symbol');
  const symbolRef = ref.symbols[symbol];
  if (!symbolRef) {
    throw new LedgerDomainError(
      'UNKNOWN_SYMBOL',
      `symbol ${symbol} is not in reference data ${ref.version}`,
      {
        field: 'symbol',
        binanceCode: -1121,
      },
    );
  }
  return { symbol, symbolRef };
}

export function requireAsset(ref: ReferenceData, value: unknown): string {
  const asset = requireString(value, 'asset');
  if (!ref.assets[asset]) {
    throw new LedgerDomainError(
      'UNKNOWN_ASSET',
      `asset ${asset} is not in reference data ${ref.version}`,
      {
        field: 'asset',
      },
    );
  }
  return asset;
}

/**
 * An amount denominated in `asset` may have at most `assets.{A}.precision` decimals (reference-data.md; issue 11):
 * finer amounts would put sub-unit dust in a wallet. Trailing zeros do not count. Binance −1111 BAD_PRECISION
 * ("Precision is over the maximum defined for this asset"). Quantities are not amounts: they are never checked
 * against the symbol's step (quantityPrecision is informational).
 */
export function requireAssetPrecision(
  ref: ReferenceData,
  asset: string,
  amount: Dec,
  field: string,
): Dec {
  const precision = referenceBook(ref).asset(asset).precision;
  const decimals = amount.decimalPlaces();
  if (decimals > precision) {
    throw new LedgerDomainError(
      'AMOUNT_PRECISION_EXCEEDED',
      `${field} ${str(amount)} has ${decimals} decimals: ${asset} allows at most ${precision} decimals`,
      { field, binanceCode: -1111 },
    );
  }
  return amount;
}

/** One-way mode takes BOTH (the default); hedge mode takes LONG or SHORT (Binance −4061). */
export function requirePositionSide(state: AccountState, value: unknown): PositionSide {
  const side = requireEnum<PositionSide>(value, 'positionSide', ['BOTH', 'LONG', 'SHORT'], 'BOTH');
  const hedge = state.positionMode === 'HEDGE';
  if (hedge === (side === 'BOTH')) {
    throw new LedgerDomainError(
      'POSITION_SIDE_MISMATCH',
      `positionSide ${side} does not match the account's ${state.positionMode} position mode`,
      { field: 'positionSide', binanceCode: -4061 },
    );
  }
  return side;
}
