import type { EventStore, RecordedEvent } from '@ledger/event-store';
import type { AccountView, MarketEvent, ReferenceData } from '@ledger/margin-domain';
import {
  accountView,
  applyMarketEvent,
  emptyMarketState,
  initialAccountState,
  parseReferenceData,
} from '@ledger/margin-domain';
import { toAccountEvent } from '../ledger/account-repository';
import { MARKET_STREAM_PREFIXES, accountStream } from '../ledger/streams';
import type { AsOf } from '../read/as-of-reader';
import { normalizeTime } from '../ledger/time';
import { readAllBatches } from '../ledger/read-all-batches';
import { evolve } from '@ledger/margin-domain';

export interface ReplayStep {
  event: RecordedEvent;
  /** Readable changes the event caused: wallets, positions, margin ratio, mode and settings. */
  changes: string[];
}

/**
 * `ledger replay`: the account's events in order, each with the state change it caused, folded with the prices
 * and reference data in force at that event (merged in global order).
 */
export async function replayAccount(
  store: EventStore,
  accountId: string,
  to?: AsOf,
): Promise<ReplayStep[]> {
  const limit = to && 'time' in to ? { time: normalizeTime(to.time, 'to') } : to;
  const included = (e: RecordedEvent): boolean =>
    !limit
      ? true
      : 'time' in limit
        ? e.metadata.occurredAt <= limit.time
        : e.globalPosition <= limit.position;
  const accountEvents = (await store.readStream(accountStream(accountId))).filter(included);
  const marketEvents: RecordedEvent[] = [];
  for await (const batch of readAllBatches(store, { streamPrefixes: MARKET_STREAM_PREFIXES })) {
    marketEvents.push(...batch.filter(included));
  }
  const market = emptyMarketState();
  let ref: ReferenceData | undefined;
  let state = initialAccountState(accountId);
  let previous: AccountView | undefined;
  const steps: ReplayStep[] = [];
  let m = 0;
  for (const event of accountEvents) {
    for (
      ;
      m < marketEvents.length && (marketEvents[m]?.globalPosition ?? 0n) < event.globalPosition;
      m++
    ) {
      const e = marketEvents[m] as RecordedEvent;
      if (e.type === 'ReferenceDataPublished')
        ref = parseReferenceData((e.data as { referenceData: unknown }).referenceData);
      else applyMarketEvent(market, { type: e.type, data: e.data } as unknown as MarketEvent);
    }
    state = evolve(state, toAccountEvent(event));
    const view = ref && state.opened ? accountView(state, market, ref) : undefined;
    steps.push({ event, changes: view ? describeChanges(previous, view) : [] });
    previous = view;
  }
  return steps;
}

function describeChanges(before: AccountView | undefined, after: AccountView): string[] {
  const changes: string[] = [];
  const note = (path: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push(`${path}: ${fmt(a)} → ${fmt(b)}`);
  };
  note('assetMode', before?.account.assetMode, after.account.assetMode);
  note('positionMode', before?.positionMode, after.positionMode);
  note('vipLevel', before?.vipLevel, after.vipLevel);
  const assets = new Set([...Object.keys(before?.assets ?? {}), ...Object.keys(after.assets)]);
  for (const asset of [...assets].sort()) {
    note(
      `wallet.${asset}`,
      before?.assets[asset]?.walletBalance,
      after.assets[asset]?.walletBalance,
    );
  }
  const keys = new Set([...Object.keys(before?.positions ?? {}), ...Object.keys(after.positions)]);
  for (const key of [...keys].sort()) {
    const a = before?.positions[key];
    const b = after.positions[key];
    note(`positions.${key}.positionAmt`, a?.positionAmt, b?.positionAmt);
    note(`positions.${key}.entryPrice`, a?.entryPrice, b?.entryPrice);
    note(`positions.${key}.isolatedWallet`, a?.isolatedWallet, b?.isolatedWallet);
  }
  note('symbols', before?.symbols, after.symbols);
  note('openOrders', before?.openOrders.length, after.openOrders.length);
  note('marginRatio', before?.account.marginRatio, after.account.marginRatio);
  return changes;
}

function fmt(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
