import type { EventStore, RecordedEvent } from '@ledger/event-store';
import type { AccountView, MarketEvent, ReferenceData } from '@ledger/margin-domain';
import { accountView, applyMarketEvent, emptyMarketState, parseReferenceData } from '@ledger/margin-domain';
import type { AccountRepository } from '../ledger/account-repository';
import { MARKET_STREAM_PREFIXES, accountStream } from '../ledger/streams';
import { normalizeTime } from '../ledger/time';

/** A point in the past: an ISO time (inclusive) or a global position (inclusive). ARCHITECTURE "Time". */
export type AsOf = { time: string } | { position: bigint };

/**
 * As-of reads: the account's events up to the point, folded from the nearest snapshot, with the prices, asset
 * indexes and reference data in force then. The same shape as the current state.
 */
export class AsOfReader {
  constructor(
    private readonly store: EventStore,
    private readonly accounts: AccountRepository,
  ) {}

  async view(accountId: string, asOf: AsOf): Promise<AccountView | null> {
    const point = 'time' in asOf ? { time: normalizeTime(asOf.time, 'asOf') } : asOf;
    const included = (e: RecordedEvent): boolean =>
      'time' in point ? e.metadata.occurredAt <= point.time : e.globalPosition <= point.position;
    const version = await this.lastIncludedVersion(accountStream(accountId), included);
    if (version === 0) return null;
    const loaded = await this.accounts.loadAt(accountId, version);
    if (!loaded.state.opened) return null;
    const market = emptyMarketState();
    let ref: ReferenceData | undefined;
    let after = null;
    for (;;) {
      const batch = await this.store.readAll({ after, limit: 5000, streamPrefixes: MARKET_STREAM_PREFIXES });
      const last = batch[batch.length - 1];
      if (!last) break;
      for (const e of batch) {
        if (!included(e)) continue;
        if (e.type === 'ReferenceDataPublished') ref = parseReferenceData((e.data as { referenceData: unknown }).referenceData);
        else applyMarketEvent(market, { type: e.type, data: e.data } as unknown as MarketEvent);
      }
      after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    }
    if (!ref) return null;
    return accountView(loaded.state, market, ref);
  }

  /**
   * The last version of the stream inside the point, by binary search over single-event reads (about log2(n)
   * round trips instead of reading the whole stream): per stream, global positions grow with the version and
   * occurredAt never decreases (AT_BEFORE_STREAM_TIME), so "included" holds for a prefix of the versions.
   */
  private async lastIncludedVersion(stream: string, included: (e: RecordedEvent) => boolean): Promise<number> {
    let lo = 0; // included (0: nothing)
    let hi = (await this.store.streamVersion(stream)) + 1; // excluded
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const [event] = await this.store.readStream(stream, { fromVersion: mid, toVersion: mid });
      if (event && included(event)) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}
