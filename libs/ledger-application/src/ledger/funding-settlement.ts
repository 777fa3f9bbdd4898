import type { RecordedEvent } from '@ledger/event-store';

/**
 * `FundingSettlementRecorded` v1, on `funding-<symbol>`, appended under a SettleFunding's command id before any
 * account is paid: the rate and mark the settlement pays at, and the accounts that held the symbol then (sorted).
 * Each recorded account then gets one `FundingSettled` with command id `<settlement id>:funding:<account>`, so a
 * retried or resumed settlement pays exactly these accounts, at these prices, once (ARCHITECTURE "Command side").
 */
export const FUNDING_SETTLEMENT_RECORDED = 'FundingSettlementRecorded';

export interface FundingSettlementRecord {
  symbol: string;
  /** Decimal string. */
  rate: string;
  /** Decimal string: the symbol's mark when the settlement was recorded. */
  markPrice: string;
  accounts: string[];
}

/** The record's payload, checked field by field (a record is written by this module only; a bad one is a bug). */
export function decodeFundingSettlement(event: RecordedEvent): FundingSettlementRecord {
  const { symbol, rate, markPrice, accounts } = event.data;
  if (
    typeof symbol !== 'string' ||
    typeof rate !== 'string' ||
    typeof markPrice !== 'string' ||
    !Array.isArray(accounts) ||
    !accounts.every((a): a is string => typeof a === 'string')
  ) {
    throw new Error(
      `${FUNDING_SETTLEMENT_RECORDED} at ${event.streamId}@${event.streamVersion} is malformed`,
    );
  }
  return { symbol, rate, markPrice, accounts };
}
