import { checkpointOf } from '@ledger/event-store';
import type { Checkpoint, EventStore, JsonObject, RecordedEvent } from '@ledger/event-store';
import type { AccountView, MarketEvent, ReferenceData } from '@ledger/margin-domain';
import {
  accountView,
  applyMarketEvent,
  emptyMarketState,
  parseReferenceData,
} from '@ledger/margin-domain';
import type { AccountRepository } from '../ledger/account-repository';
import { MARKET_STREAM_PREFIXES, accountStream } from '../ledger/streams';
import { normalizeTime } from '../ledger/time';
import { readAllBatches } from '../ledger/read-all-batches';

/** A point in the past: an ISO time (inclusive) or a global position (inclusive). ARCHITECTURE "Time". */
export type AsOf = { time: string } | { position: bigint };

/** One market or reference-data event as the as-of fold needs it (reference data parsed once). */
interface MarketLogEntry {
  version: number;
  position: bigint;
  at: string;
  type: string;
  data: JsonObject;
  ref: ReferenceData | undefined;
}

type Included = (e: { position: bigint; at: string }) => boolean;

function after(a: Checkpoint, b: Checkpoint | null): boolean {
  if (!b) return true;
  return (
    a.transactionId > b.transactionId ||
    (a.transactionId === b.transactionId && a.globalPosition > b.globalPosition)
  );
}

/**
 * The market and reference-data history in memory, per stream in version order, for as-of reads (instead of
 * re-reading every market event from the store per query). Fed by the ledger (what it loads at open, appends and
 * observes) and made exact before each read by `catchUp`: one read of the store's visible head, then the market
 * events after the log's reader cursor (events of other instances, or written to the store directly). Below the
 * visible head no event can still appear (the xmin rule), so after a catch-up the log holds every market event a
 * reader of the store could see, as the store read did. Per stream, positions grow with the version and occurredAt
 * never decreases, so the cut-off of an as-of point is a binary search per stream.
 */
export class MarketLog {
  private readonly streams = new Map<string, MarketLogEntry[]>();
  private readonly refs = new Map<string, ReferenceData>();
  private cursor: Checkpoint | null = null;
  private catching: Promise<void> | undefined;

  /** Adds an event (a duplicate of one held is ignored). `ref`: the parsed reference data, when the caller has it. */
  add(
    e: {
      streamId: string;
      streamVersion: number;
      globalPosition: bigint;
      occurredAt: string;
      type: string;
      data: JsonObject;
    },
    ref?: ReferenceData,
  ): void {
    let entries = this.streams.get(e.streamId);
    if (!entries) {
      entries = [];
      this.streams.set(e.streamId, entries);
    }
    const last = entries[entries.length - 1];
    let at = entries.length;
    if (last && e.streamVersion <= last.version) {
      at = entries.findIndex((x) => x.version >= e.streamVersion);
      if (entries[at]?.version === e.streamVersion) return;
    }
    const entry: MarketLogEntry = {
      version: e.streamVersion,
      position: e.globalPosition,
      at: e.occurredAt,
      type: e.type,
      data: e.data,
      ref: e.type === 'ReferenceDataPublished' ? (ref ?? this.parseReference(e.data)) : undefined,
    };
    entries.splice(at, 0, entry);
  }

  addRecorded(e: RecordedEvent, ref?: ReferenceData): void {
    this.add({ ...e, occurredAt: e.metadata.occurredAt }, ref);
  }

  /** Moves the reader cursor forward: every visible market event up to `checkpoint` is in the log. */
  advance(checkpoint: Checkpoint | null | undefined): void {
    if (checkpoint && after(checkpoint, this.cursor))
      this.cursor = {
        transactionId: checkpoint.transactionId,
        globalPosition: checkpoint.globalPosition,
      };
  }

  /** Brings the log up to the store's visible head (two short reads when nothing is new). */
  catchUp(store: EventStore): Promise<void> {
    // One at a time, each reading the head after the previous finished (a read never misses what is visible).
    const next = (this.catching ?? Promise.resolve()).then(() => this.readNew(store));
    this.catching = next.catch(() => undefined);
    return next;
  }

  private async readNew(store: EventStore): Promise<void> {
    // The head first: whatever is at or below it is visible now and stays the only history there.
    const head = await store.headCheckpoint();
    let cursor = this.cursor;
    const batches = readAllBatches(store, {
      after: cursor,
      streamPrefixes: MARKET_STREAM_PREFIXES,
    });
    for await (const batch of batches) {
      for (const e of batch) {
        this.addRecorded(e);
        cursor = checkpointOf(e);
      }
    }
    this.advance(cursor);
    this.advance(head);
  }

  /** Parsed reference data by version string (each published version is parsed once). */
  private parseReference(data: JsonObject): ReferenceData {
    const raw = (data as { referenceData: unknown }).referenceData;
    const version = (data as { version?: unknown }).version;
    if (typeof version === 'string') {
      const known = this.refs.get(version);
      if (known) return known;
    }
    const ref = parseReferenceData(raw);
    this.refs.set(ref.version, ref);
    return ref;
  }

  /** The market state and reference data in force at the point: per stream, its events up to the cut-off. */
  foldAt(included: Included): {
    market: ReturnType<typeof emptyMarketState>;
    ref: ReferenceData | undefined;
  } {
    const market = emptyMarketState();
    let ref: ReferenceData | undefined;
    for (const entries of this.streams.values()) {
      const end = lastIncluded(entries, included);
      for (let i = 0; i < end; i++) {
        const e = entries[i] as MarketLogEntry;
        if (e.type === 'ReferenceDataPublished') ref = e.ref;
        else applyMarketEvent(market, { type: e.type, data: e.data } as unknown as MarketEvent);
      }
    }
    return { market, ref };
  }
}

/** How many entries (a prefix) the point includes: binary search, "included" holds for a prefix of a stream. */
function lastIncluded(entries: MarketLogEntry[], included: Included): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (included(entries[mid] as MarketLogEntry)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * As-of reads: the account's events up to the point, folded from the nearest snapshot, with the prices, asset
 * indexes and reference data in force then (from the in-memory market log). The same shape as the current state.
 */
export class AsOfReader {
  constructor(
    private readonly store: EventStore,
    private readonly accounts: AccountRepository,
    private readonly marketLog: MarketLog = new MarketLog(),
  ) {}

  async view(accountId: string, asOf: AsOf): Promise<AccountView | null> {
    const point = 'time' in asOf ? { time: normalizeTime(asOf.time, 'asOf') } : asOf;
    const included = (e: RecordedEvent): boolean =>
      'time' in point ? e.metadata.occurredAt <= point.time : e.globalPosition <= point.position;
    const catchUp = this.marketLog.catchUp(this.store);
    const version = await this.lastIncludedVersion(accountStream(accountId), included);
    await catchUp;
    if (version === 0) return null;
    const loaded = await this.accounts.loadAt(accountId, version);
    if (!loaded.state.opened) return null;
    const { market, ref } = this.marketLog.foldAt((e) =>
      'time' in point ? e.at <= point.time : e.position <= point.position,
    );
    if (!ref) return null;
    return accountView(loaded.state, market, ref);
  }

  /**
   * The last version of the stream inside the point, by binary search over single-event reads (about log2(n)
   * round trips instead of reading the whole stream): per stream, global positions grow with the version and
   * occurredAt never decreases (AT_BEFORE_STREAM_TIME), so "included" holds for a prefix of the versions.
   */
  private async lastIncludedVersion(
    stream: string,
    included: (e: RecordedEvent) => boolean,
  ): Promise<number> {
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
