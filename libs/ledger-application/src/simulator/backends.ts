import type { EventStore, MigrationClass } from '@ledger/event-store';
import type { ReferenceData } from '@ledger/margin-domain';
import {
  accountStateToJson,
  evolve,
  initialAccountState,
  parseReferenceData,
} from '@ledger/margin-domain';
import type { LedgerFaults } from '../ledger/faults';
import { Ledger } from '../ledger/ledger';
import { DEFAULT_REFERENCE_DATA, readShippedReferenceData } from '../ledger/shipped-reference-data';
import { accountStream } from '../ledger/streams';
import type { ProjectedAccount } from '../read/account-projection';
import { expectedProjection, readProjectedAccount } from '../read/account-projection';
import type { LedgerRuntime } from '../runtime/open-ledger';
import { openLedgerRuntime } from '../runtime/open-ledger';
import { foldAllAccounts } from '../tools/account-folds';
import { rebuildAccountProjections } from '../tools/rebuild';
import { verifyLedger } from '../tools/verify';
import { toAccountEvent } from '../ledger/account-repository';
import { InMemoryEventStore } from './in-memory-event-store';
import type { MarginHistorySource, ProjectionSource, Violation } from './ledger-audit';
import { marginHistoryRowJson } from './ledger-audit';
import { MemoryMarginHistoryConsumer, MemoryMarginHistoryTable } from './memory-margin-history';
import { Prng } from './prng';
import type { ConcurrentRunner } from './scheduler';
import { REAL_CONCURRENCY, ScheduledEventStore, SeededScheduler } from './scheduler';

export type BackendKind = 'memory' | 'pglite' | 'postgres';

/** The ledger's default snapshot interval (LedgerOptions.snapshotEvery). */
const SNAPSHOT_EVERY = 200;

/** What every process of the simulated deployment is opened with. */
export interface ProcessOptions {
  faults: LedgerFaults;
  clock: () => Date;
  logger: Pick<Console, 'warn' | 'error'>;
}

/**
 * One simulated deployment on one store: process 0 runs the risk saga and the margin history; process 1, where the
 * backend has one, is another instance of the API that only takes commands (on PostgreSQL a second pool; on memory
 * a second Ledger on the same store; PGlite is one session, so it has none).
 */
export interface SimBackend {
  readonly kind: BackendKind;
  /** Processes that take commands. */
  readonly writers: number;
  readonly runner: ConcurrentRunner;
  open(): Promise<void>;
  /** The store as the audit reads it (no yield points, no fault hooks). */
  store(): EventStore;
  writer(index: number): Ledger;
  /** Waits for the consumers `Ledger.settle` does not wait for. */
  afterSettle(): Promise<void>;
  /**
   * Processes opened from now on run without the margin-history consumer (it is stuck on a known finding and
   * would hold up every step); the caller restarts them.
   */
  dropMarginHistory(): void;
  readonly projections: ProjectionSource;
  readonly marginHistory: MarginHistorySource;
  /** Rebuilds the account read model from the events; `progress` is called along the way and may throw. */
  rebuild(progress: () => void): Promise<void>;
  /** What the backend checks once at the end (snapshots; on SQL `verify`). */
  finalChecks(accountIds: readonly string[]): Promise<Violation[]>;
  close(): Promise<void>;
}

export function shippedReferenceData(): ReferenceData {
  return parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA));
}

/** The in-memory store, seeded scheduler between the processes and the store (deterministic). */
export class MemoryBackend implements SimBackend {
  readonly kind = 'memory' as const;
  readonly writers = 2;
  readonly scheduler: SeededScheduler;
  readonly runner: ConcurrentRunner;
  private readonly inner = new InMemoryEventStore();
  private readonly scheduled: EventStore;
  private readonly table = new MemoryMarginHistoryTable();
  private processes: Ledger[] = [];
  private history: MemoryMarginHistoryConsumer | undefined;
  private withHistory = true;
  readonly projections: ProjectionSource;
  readonly marginHistory: MarginHistorySource = this.table;

  constructor(
    seed: number,
    private readonly options: ProcessOptions,
    /** Test seam: what the processes see instead of the store (e.g. a store that loses appends). */
    wrapStore: (store: EventStore) => EventStore = (store) => store,
  ) {
    this.scheduler = new SeededScheduler(new Prng(seed, 'scheduler'));
    this.runner = this.scheduler;
    this.scheduled = new ScheduledEventStore(wrapStore(this.inner), this.scheduler);
    this.projections = {
      account: async (accountId) => {
        const loaded = await this.writer(0).accounts.load(accountId);
        return loaded.version === 0 ? null : expectedProjection(loaded.state, loaded.version);
      },
      accountIds: () => Promise.resolve([]),
    };
  }

  async open(): Promise<void> {
    const ref = shippedReferenceData();
    const common = { store: this.scheduled, referenceData: ref, ...this.options };
    this.processes = [
      await Ledger.open({ ...common, riskSaga: true }),
      await Ledger.open({ ...common, riskSaga: false }),
    ];
    if (!this.withHistory) return;
    this.history = new MemoryMarginHistoryConsumer(this.inner, this.table, this.options.faults);
    await this.history.start();
  }

  dropMarginHistory(): void {
    this.withHistory = false;
  }

  store(): EventStore {
    return this.inner;
  }

  writer(index: number): Ledger {
    const ledger = this.processes[index];
    if (!ledger) throw new Error(`no process ${index}`);
    return ledger;
  }

  async afterSettle(): Promise<void> {
    await this.history?.waitUntilCaughtUp();
  }

  /** On memory the read model is each process's account cache and risk index: fold every stream, swap it in. */
  async rebuild(progress: () => void): Promise<void> {
    progress();
    const folds = await foldAllAccounts(this.inner, () => progress());
    progress();
    const ledger = this.writer(0);
    const ref = ledger.references.latest();
    for (const [id, loaded] of folds) {
      ledger.accounts.rememberIfNewer(id, loaded);
      ledger.riskIndex.update(id, (await ledger.accounts.load(id)).state, ref);
    }
    progress();
  }

  /** Every snapshot (taken at multiples of 200 events) equals a replay of its stream prefix. */
  async finalChecks(accountIds: readonly string[]): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const accountId of accountIds) {
      const stream = accountStream(accountId);
      let state = initialAccountState(accountId);
      for (const e of await this.inner.readStream(stream)) {
        state = evolve(state, toAccountEvent(e));
        if (e.streamVersion % SNAPSHOT_EVERY !== 0) continue;
        const snapshot = await this.inner.loadSnapshot(stream, e.streamVersion);
        if (!snapshot || snapshot.streamVersion !== e.streamVersion) continue;
        const stored = (snapshot.state as { state?: unknown }).state;
        if (JSON.stringify(stored) !== JSON.stringify(accountStateToJson(state))) {
          out.push({
            check: 'projection-equals-replay',
            accountId,
            message: `${accountId}: the snapshot at version ${e.streamVersion} differs from a replay`,
            details: [],
          });
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const ledger of this.processes) await ledger.close();
    await this.history?.stop();
    this.processes = [];
    this.history = undefined;
  }
}

/** PGlite in a folder, or a PostgreSQL database (each made and dropped by the caller). */
export interface DatabaseLocation {
  kind: 'pglite' | 'postgres';
  url?: string;
  dataDir?: string;
  migrations: MigrationClass[];
}

const HISTORY_AFTER = `SELECT account_id, global_position::text AS global_position, occurred_at, event_type, asset_mode,
  total_wallet_balance::text AS total_wallet_balance, total_margin_balance::text AS total_margin_balance,
  total_maint_margin::text AS total_maint_margin, margin_ratio::text AS margin_ratio, wallets
  FROM margin_history WHERE global_position > $1::bigint`;

interface HistoryRow {
  account_id: string;
  global_position: string;
  occurred_at: string | Date;
  event_type: string;
  asset_mode: string;
  total_wallet_balance: string;
  total_margin_balance: string;
  total_maint_margin: string;
  margin_ratio: string | null;
  wallets: Record<string, string> | string;
}

/** The full stack on a database: SQL inline projections, durable saga and margin history, real concurrency. */
export class DatabaseBackend implements SimBackend {
  readonly kind: 'pglite' | 'postgres';
  readonly writers: number;
  readonly runner = REAL_CONCURRENCY;
  private runtimes: LedgerRuntime[] = [];
  private withHistory = true;
  readonly projections: ProjectionSource;
  readonly marginHistory: MarginHistorySource;

  constructor(
    private readonly location: DatabaseLocation,
    private readonly options: ProcessOptions,
  ) {
    this.kind = location.kind;
    this.writers = location.kind === 'postgres' ? 2 : 1;
    this.projections = {
      account: (accountId) => readProjectedAccount(this.store(), accountId),
      accountIds: async () =>
        (await this.store().query<{ account_id: string }>('SELECT account_id FROM accounts')).map(
          (r) => r.account_id,
        ),
    };
    this.marginHistory = {
      rowsAfter: async (position) => {
        const rows = await this.store().query<HistoryRow>(HISTORY_AFTER, [position.toString()]);
        return new Map(rows.map((r) => [`${r.account_id}|${r.global_position}`, historyJson(r)]));
      },
    };
  }

  private where(): { url: string } | { dataDir: string } {
    if (this.location.url) return { url: this.location.url };
    if (this.location.dataDir) return { dataDir: this.location.dataDir };
    throw new Error('a database backend needs a url or a data folder');
  }

  async open(): Promise<void> {
    const common = { ...this.where(), migrations: this.location.migrations, ...this.options };
    this.runtimes = [await openLedgerRuntime({ ...common, marginHistory: this.withHistory })];
    if (this.writers > 1) {
      this.runtimes.push(
        await openLedgerRuntime({ ...common, riskSaga: false, marginHistory: false, poolSize: 4 }),
      );
    }
  }

  store(): EventStore {
    const runtime = this.runtimes[0];
    if (!runtime) throw new Error('the database is not open');
    return runtime.database.store;
  }

  writer(index: number): Ledger {
    const runtime = this.runtimes[index];
    if (!runtime) throw new Error(`no process ${index}`);
    return runtime.ledger;
  }

  afterSettle(): Promise<void> {
    return Promise.resolve();
  }

  dropMarginHistory(): void {
    this.withHistory = false;
  }

  async rebuild(progress: () => void): Promise<void> {
    progress();
    await rebuildAccountProjections(this.store(), () => progress());
    progress();
  }

  async finalChecks(): Promise<Violation[]> {
    const report = await verifyLedger(this.store());
    return report.mismatches.map((m) => ({
      check: 'projection-equals-replay',
      accountId: m.accountId,
      message: `verify: ${m.accountId} ${m.what}`,
      details: m.diff.slice(0, 12),
    }));
  }

  async close(): Promise<void> {
    for (const runtime of [...this.runtimes].reverse()) await runtime.close();
    this.runtimes = [];
  }
}

function historyJson(r: HistoryRow): string {
  const wallets =
    typeof r.wallets === 'string' ? (JSON.parse(r.wallets) as Record<string, string>) : r.wallets;
  return marginHistoryRowJson({
    accountId: r.account_id,
    globalPosition: r.global_position,
    occurredAt: r.occurred_at,
    eventType: r.event_type,
    assetMode: r.asset_mode,
    totalWalletBalance: r.total_wallet_balance,
    totalMarginBalance: r.total_margin_balance,
    totalMaintMargin: r.total_maint_margin,
    marginRatio: r.margin_ratio,
    wallets,
  });
}

export type { ProjectedAccount };
