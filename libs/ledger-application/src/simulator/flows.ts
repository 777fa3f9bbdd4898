import type { RecordedEvent } from '@ledger/event-store';
import type { Dec } from '@ledger/margin-domain';
import { D, ZERO } from '@ledger/margin-domain';

/**
 * What the events of one account say moved in and out of one asset, summed event type by event type (the
 * right-hand side of the conservation check, computed from the events themselves, never from a fold):
 *
 *   Σ cross and isolated wallets = deposits − withdrawals + realized PnL + funding − fees − liquidation fees
 *                                  + auto-exchange credited − auto-exchange sold + insurance cover
 */
export interface Flows {
  deposits: Dec;
  withdrawals: Dec;
  /** PositionChanged.realizedPnl and PositionLiquidated.realizedPnl, in the contract's margin asset. */
  realizedPnl: Dec;
  /** FundingSettled.amount (signed: negative = paid), cross or isolated. */
  funding: Dec;
  /** PositionChanged.fee (a negative fee is a rebate). */
  fees: Dec;
  liquidationFees: Dec;
  /** Σ legs' `credited` of AutoExchangeExecuted, to its negAsset. */
  autoExchangeCredited: Dec;
  /** Σ legs' `qty` of AutoExchangeExecuted, from each leg's asset. */
  autoExchangeSold: Dec;
  insuranceCover: Dec;
}

export const FLOW_NAMES: readonly (keyof Flows)[] = [
  'deposits',
  'withdrawals',
  'realizedPnl',
  'funding',
  'fees',
  'liquidationFees',
  'autoExchangeCredited',
  'autoExchangeSold',
  'insuranceCover',
];

export function emptyFlows(): Flows {
  return {
    deposits: ZERO,
    withdrawals: ZERO,
    realizedPnl: ZERO,
    funding: ZERO,
    fees: ZERO,
    liquidationFees: ZERO,
    autoExchangeCredited: ZERO,
    autoExchangeSold: ZERO,
    insuranceCover: ZERO,
  };
}

/** What the wallets of the asset must hold according to its flows. */
export function expectedBalance(f: Flows): Dec {
  return f.deposits
    .minus(f.withdrawals)
    .plus(f.realizedPnl)
    .plus(f.funding)
    .minus(f.fees)
    .minus(f.liquidationFees)
    .plus(f.autoExchangeCredited)
    .minus(f.autoExchangeSold)
    .plus(f.insuranceCover);
}

export function addFlows(into: Flows, from: Flows): void {
  for (const name of FLOW_NAMES) into[name] = into[name].plus(from[name]);
}

function text(data: Record<string, unknown>, field: string): string {
  const value = data[field];
  if (typeof value !== 'string') throw new Error(`event field ${field} is not a string`);
  return value;
}

/** Adds one account event's declared amounts to its flows (`flowsOf(asset)` creates an asset's entry). */
export function addEventFlows(e: RecordedEvent, flowsOf: (asset: string) => Flows): void {
  const d = e.data as Record<string, unknown>;
  const add = (asset: string, name: keyof Flows, amount: string): void => {
    const f = flowsOf(asset);
    f[name] = f[name].plus(new D(amount));
  };
  switch (e.type) {
    case 'Deposited':
      return add(text(d, 'asset'), 'deposits', text(d, 'amount'));
    case 'Withdrawn':
      return add(text(d, 'asset'), 'withdrawals', text(d, 'amount'));
    case 'PositionChanged':
      add(text(d, 'marginAsset'), 'realizedPnl', text(d, 'realizedPnl'));
      return add(text(d, 'marginAsset'), 'fees', text(d, 'fee'));
    case 'FundingSettled':
      return add(text(d, 'asset'), 'funding', text(d, 'amount'));
    case 'PositionLiquidated':
      add(text(d, 'marginAsset'), 'realizedPnl', text(d, 'realizedPnl'));
      return add(text(d, 'marginAsset'), 'liquidationFees', text(d, 'liquidationFee'));
    case 'InsuranceFundCovered':
      return add(text(d, 'asset'), 'insuranceCover', text(d, 'amount'));
    case 'AutoExchangeExecuted': {
      const legs = d.legs as Record<string, unknown>[];
      for (const leg of legs) {
        add(text(leg, 'asset'), 'autoExchangeSold', text(leg, 'qty'));
        add(text(d, 'negAsset'), 'autoExchangeCredited', text(leg, 'credited'));
      }
      return;
    }
    default:
      return;
  }
}
