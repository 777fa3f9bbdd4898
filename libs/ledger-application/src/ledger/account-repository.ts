import type { EventStore, RecordedEvent } from '@ledger/event-store';
import type { AccountEvent, AccountSnapshotJson, AccountState } from '@ledger/margin-domain';
import {
  ACCOUNT_SNAPSHOT_SCHEMA_VERSION,
  accountStateFromJson,
  accountStateToJson,
  evolve,
  initialAccountState,
} from '@ledger/margin-domain';
import { accountStream } from './streams';

export interface LoadedAccount {
  state: AccountState;
  /** Stream version the state includes (0: no events). */
  version: number;
  /** occurredAt of the last event. */
  lastAt: string | undefined;
}

interface SnapshotJson {
  state: AccountSnapshotJson;
  lastAt: string | null;
}

export function toAccountEvent(e: RecordedEvent): AccountEvent {
  return { type: e.type, data: e.data } as unknown as AccountEvent;
}

/**
 * Loads account state: the cached fold plus the stream's tail (another writer may have appended), or the nearest
 * snapshot plus the tail. Snapshots every `snapshotEvery` events keep loads and as-of reads short.
 */
export class AccountRepository {
  private readonly cache = new Map<string, LoadedAccount>();

  constructor(
    private readonly store: EventStore,
    private readonly snapshotEvery: number,
  ) {}

  async load(accountId: string): Promise<LoadedAccount> {
    const stream = accountStream(accountId);
    let base = this.cache.get(accountId);
    if (!base) {
      const snapshot = await this.store.loadSnapshot(stream);
      base =
        snapshot && snapshot.schemaVersion === ACCOUNT_SNAPSHOT_SCHEMA_VERSION
          ? fromSnapshot(snapshot.state as unknown as SnapshotJson, snapshot.streamVersion)
          : { state: initialAccountState(accountId), version: 0, lastAt: undefined };
    }
    const tail = await this.store.readStream(stream, { fromVersion: base.version + 1 });
    const loaded = foldTail(base, tail);
    this.cache.set(accountId, loaded);
    return loaded;
  }

  /** Folds a stream prefix from the nearest snapshot at or before `toVersion`. */
  async loadAt(accountId: string, toVersion: number): Promise<LoadedAccount> {
    const stream = accountStream(accountId);
    const snapshot = await this.store.loadSnapshot(stream, toVersion);
    const base =
      snapshot && snapshot.schemaVersion === ACCOUNT_SNAPSHOT_SCHEMA_VERSION
        ? fromSnapshot(snapshot.state as unknown as SnapshotJson, snapshot.streamVersion)
        : { state: initialAccountState(accountId), version: 0, lastAt: undefined };
    if (base.version >= toVersion) return base;
    const tail = await this.store.readStream(stream, { fromVersion: base.version + 1, toVersion });
    return foldTail(base, tail);
  }

  /**
   * The cached fold when it includes at least `minVersion` of the stream, without a round trip; undefined when
   * there is none or it is older (the caller then loads). Versions are unique per stream (expected-version appends),
   * so a cached state at version v is the stream's fold up to v, whoever appended it.
   */
  cachedAtLeast(accountId: string, minVersion: number): LoadedAccount | undefined {
    const cached = this.cache.get(accountId);
    return cached && cached.version >= minVersion ? cached : undefined;
  }

  /** Caches a fold unless the cache already holds the same or a later version (a background warm-up). */
  rememberIfNewer(accountId: string, loaded: LoadedAccount): void {
    const cached = this.cache.get(accountId);
    if (!cached || cached.version < loaded.version) this.cache.set(accountId, loaded);
  }

  remember(accountId: string, state: AccountState, version: number, lastAt: string): void {
    this.cache.set(accountId, { state, version, lastAt });
  }

  forget(accountId: string): void {
    this.cache.delete(accountId);
  }

  cached(): IterableIterator<[string, LoadedAccount]> {
    return this.cache.entries();
  }

  async maybeSnapshot(accountId: string, state: AccountState, version: number): Promise<void> {
    if (version % this.snapshotEvery !== 0) return;
    const lastAt = this.cache.get(accountId)?.lastAt ?? null;
    const json: SnapshotJson = { state: accountStateToJson(state), lastAt };
    await this.store.saveSnapshot({
      streamId: accountStream(accountId),
      streamVersion: version,
      schemaVersion: ACCOUNT_SNAPSHOT_SCHEMA_VERSION,
      state: json as unknown as Parameters<EventStore['saveSnapshot']>[0]['state'],
    });
  }
}

function fromSnapshot(json: SnapshotJson, version: number): LoadedAccount {
  return { state: accountStateFromJson(json.state), version, lastAt: json.lastAt ?? undefined };
}

export function foldTail(base: LoadedAccount, tail: RecordedEvent[]): LoadedAccount {
  let { state, version, lastAt } = base;
  for (const e of tail) {
    state = evolve(state, toAccountEvent(e));
    version = e.streamVersion;
    lastAt = e.metadata.occurredAt;
  }
  return { state, version, lastAt };
}
