/*
 * Goal: a funding rate beyond ± `funding.maxAbsRate` (reference-data.md, default 0.03) is refused (issue 11 item 9,
 * RULES §5): `SetFundingRate` and `SettleFunding` with a rate answer FUNDING_RATE_OUT_OF_RANGE, field `rate`, and
 * decide nothing; `SettleFunding` without a rate checks the rate last set against the bound in force (a rate set
 * under a wider earlier bound is not settled under a narrower one). The edges ± maxAbsRate are accepted.
 */
import { marketWith, shippedReferenceData, withOverrides } from '@ledger/testing';

import { LedgerDomainError } from '../shared/errors';
import { decideMarket, resolveFundingSettlement } from './market.decide';

const ref = shippedReferenceData();
const market = marketWith({ marks: { BTCUSDT: '60000' } });

function rejection(fn: () => unknown): LedgerDomainError {
  let caught: unknown;
  let decided: unknown;
  try {
    decided = fn();
  } catch (error) {
    caught = error;
  }
  expect(decided).toBeUndefined();
  expect(caught).toBeInstanceOf(LedgerDomainError);
  return caught as LedgerDomainError;
}

const setRate = (rate: unknown, r = ref) =>
  decideMarket({ type: 'SetFundingRate', symbol: 'BTCUSDT', rate }, r);

describe('SetFundingRate', () => {
  it.each(['0.03', '-0.03', '0', '0.0001', '-0.00000001'])('accepts %s', (rate) =>
    expect(setRate(rate)).toEqual({ type: 'FundingRateSet', data: { symbol: 'BTCUSDT', rate } }),
  );

  it.each(['0.03000001', '-0.03000001', '1', '1000000000000000000', '-5'])(
    'refuses %s with FUNDING_RATE_OUT_OF_RANGE, field rate',
    (rate) => {
      const error = rejection(() => setRate(rate));
      expect(error.code).toBe('FUNDING_RATE_OUT_OF_RANGE');
      expect(error.field).toBe('rate');
      expect(error.binanceCode).toBeUndefined();
    },
  );

  it('says what the bound is', () =>
    expect(rejection(() => setRate('1000000000000000000')).message).toBe(
      'rate 1000000000000000000 is beyond ±0.03 (funding.maxAbsRate)',
    ));

  it('reads funding.maxAbsRate when the set has it', () => {
    const narrow = withOverrides({ 'funding.maxAbsRate': '0.0075' });
    expect(setRate('0.0075', narrow)).toEqual({
      type: 'FundingRateSet',
      data: { symbol: 'BTCUSDT', rate: '0.0075' },
    });
    expect(rejection(() => setRate('0.00750001', narrow)).code).toBe('FUNDING_RATE_OUT_OF_RANGE');
  });
});

describe('SettleFunding', () => {
  it('with a rate: the same bound', () => {
    expect(
      resolveFundingSettlement({ symbol: 'BTCUSDT', rate: '-0.03' }, ref, market).rate.toFixed(),
    ).toBe('-0.03');
    const error = rejection(() =>
      resolveFundingSettlement({ symbol: 'BTCUSDT', rate: '1000000000000000000' }, ref, market),
    );
    expect(error.code).toBe('FUNDING_RATE_OUT_OF_RANGE');
    expect(error.field).toBe('rate');
  });

  it('without a rate: the rate last set, checked against the bound in force now', () => {
    const lastSet = marketWith({ marks: { BTCUSDT: '60000' }, fundingRates: { BTCUSDT: '0.02' } });
    expect(resolveFundingSettlement({ symbol: 'BTCUSDT' }, ref, lastSet).rate.toFixed()).toBe(
      '0.02',
    );
    const narrower = withOverrides({ 'funding.maxAbsRate': '0.01' });
    const error = rejection(() =>
      resolveFundingSettlement({ symbol: 'BTCUSDT' }, narrower, lastSet),
    );
    expect(error.code).toBe('FUNDING_RATE_OUT_OF_RANGE');
    expect(error.field).toBe('rate');
  });
});
