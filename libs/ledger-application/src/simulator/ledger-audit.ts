import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { Checkpoint, EventStore, RecordedEvent } from '@ledger/event-store';
import { checkpointOf } from '@ledger/event-store';
import type { AccountState, Dec, MarketEvent, ReferenceData } from '@ledger/margin-domain';
import {
  D,
  ZERO,
  applyMarketEvent,
  emptyMarketState,
  evolve,
  initialAccountState,
  parseReferenceData,
  ratesOf,
  str,
} from '@ledger/margin-domain';
import { toAccountEvent } from '../ledger/account-repository';
import type { CommandOutcome } from '../ledger/ledger';
import { readAllBatches } from '../ledger/read-all-batches';
import { accountIdOf, isMarketStream } from '../ledger/streams';
import type { ProjectedAccount } from '../read/account-projection';
import { expectedProjection } from '../read/account-projection';
import type { MarginHistoryRow } from '../read/margin-history.projection';
import { MarginHistoryFold } from '../read/margin-history.projection';
import { jsonDiff } from '../tools/json-diff';
import { canonicalEvent, canonicalJson } from './canonical-json';
import type { Flows } from './flows';
import { addEventFlows, addFlows, emptyFlows, expectedBalance, FLOW_NAMES } from './flows';

/** The invariants the simulator checks (libs/ledger-application/README.md "Simulator" says how). */
export type CheckName =
  | 'conservation'
  | 'projection-equals-replay'
  | 'single-cross-wallet-negative'
  | 'single-isolated-wallet-negative'
  | 'auto-exchange-result'
  | 'acknowledged-command-lost'
  | 'rejected-command-applied'
  | 'command-applied-twice'
  | 'saga-acted-twice'
  | 'risk-index'
  | 'margin-history'
  | 'store-changed'
  | 'determinism'
  | 'unexpected-error'
  | 'stalled'
  | 'funding-settlement'
  | (string & { readonly custom?: true });

export interface Violation {
  check: CheckName;
  message: string;
  accountId?: string;
  asset?: string;
  /** conservation: what the flows say the asset's wallets must hold. */
  expected?: string;
  /** auto-exchange-result: collateral assets left unsold. */
  assets?: string[];
  /** The command behind it, when one is (a settlement's own id for its per-account events). */
  commandId?: string;
  details: string[];
}

/** The read model the audit compares with its replay (SQL rows, or the ledger's own cache on memory). */
export interface ProjectionSource {
  account(accountId: string): Promise<ProjectedAccount | null>;
  /** Every account the read model holds (a projection without events is a violation too). */
  accountIds(): Promise<string[]>;
}

/** Margin-history rows (normalised by `marginHistoryRowJson`) by `${accountId}|${globalPosition}`. */
export interface MarginHistorySource {
  rowsAfter(position: bigint): Promise<Map<string, string>>;
}

/** What one executed command came to, as its sender saw it. */
export type CommandRecord =
  | { commandId: string; result: 'acked'; outcome: CommandOutcome }
  | { commandId: string; result: 'rejected'; code: string }
  | { commandId: string; result: 'unknown'; error: unknown };

/** An extra invariant (tests and experiments): called with each account event after it is folded. */
export interface CustomInvariant {
  name: string;
  onAccountEvent(e: RecordedEvent, state: AccountState): string | undefined;
  /** The `expect` of a scenario step that fails while the invariant is broken (for the shrunk scenario). */
  scenarioExpect?(violation: Violation): Record<string, unknown>;
}

interface AuditedAccount {
  state: AccountState;
  version: number;
  flows: Map<string, Flows>;
}

interface CommandSeen {
  count: number;
  first: bigint;
  transactionId: bigint;
  streamId: string;
  reported?: boolean;
}

export function marginHistoryRowJson(row: {
  accountId: string;
  globalPosition: bigint | string;
  occurredAt: string | Date;
  eventType: string;
  assetMode: string;
  totalWalletBalance: string;
  totalMarginBalance: string;
  totalMaintMargin: string;
  marginRatio: string | null;
  wallets: Record<string, string>;
}): string {
  const num = (v: string): string => new D(v).toFixed();
  return canonicalJson({
    accountId: row.accountId,
    globalPosition: String(row.globalPosition),
    occurredAt: new Date(row.occurredAt).toISOString(),
    eventType: row.eventType,
    assetMode: row.assetMode,
    totalWalletBalance: num(row.totalWalletBalance),
    totalMarginBalance: num(row.totalMarginBalance),
    totalMaintMargin: num(row.totalMaintMargin),
    marginRatio: row.marginRatio === null ? null : num(row.marginRatio),
    wallets: Object.fromEntries(Object.entries(row.wallets).map(([a, v]) => [a, num(v)])),
  });
}

const rowKey = (accountId: string, position: bigint | string): string =>
  `${accountId}|${String(position)}`;

/**
 * The simulator's auditor. It reads the log in reader order (each step: what is new), replays every account with
 * the domain's `evolve`, sums each event's declared amounts per account and asset, folds the market for the
 * auto-exchange check, indexes command ids, and keeps a running sha256 of the canonical event stream. The checks
 * compare that replay with the ledger's read models and with the flows.
 */
export class LedgerAudit {
  private cursor: Checkpoint | null = null;
  private readonly accounts = new Map<string, AuditedAccount>();
  private readonly market = emptyMarketState();
  private ref: ReferenceData | undefined;
  private readonly commands = new Map<string, CommandSeen>();
  private readonly sagaActions = new Map<string, string>();
  private history: MarginHistoryFold | undefined;
  private expectedRows = new Map<string, string>();
  private historyCheckedTo = 0n;
  private digest: Hash = createHash('sha256');
  private readonly found: Violation[] = [];
  /** Per account, the commands whose events the last `readNew` read (for the messages). */
  private readonly recentRuns = new Map<string, string[]>();
  /** Symbols whose mark moved in the events the last `readNew` read. */
  private readonly marksMoved = new Set<string>();
  lastPosition = 0n;
  events = 0;
  readonly eventsByType = new Map<string, number>();

  constructor(
    private readonly options: { marginHistory: boolean; custom?: CustomInvariant[] } = {
      marginHistory: true,
    },
  ) {
    this.history = options.marginHistory ? new MarginHistoryFold() : undefined;
  }

  accountIds(): string[] {
    return [...this.accounts.keys()].sort();
  }

  state(accountId: string): AccountState | undefined {
    return this.accounts.get(accountId)?.state;
  }

  flows(accountId: string, asset: string): Flows {
    return this.accounts.get(accountId)?.flows.get(asset) ?? emptyFlows();
  }

  /** Reads what is new in the log; returns the accounts it touched. Violations found while folding are kept. */
  async readNew(store: EventStore): Promise<Set<string>> {
    const touched = new Set<string>();
    this.recentRuns.clear();
    this.marksMoved.clear();
    for await (const batch of readAllBatches(store, { after: this.cursor })) {
      for (const e of batch) {
        const accountId = this.apply(e);
        if (accountId !== undefined) touched.add(accountId);
      }
      const last = batch[batch.length - 1];
      if (last) this.cursor = checkpointOf(last);
    }
    return touched;
  }

  /** Violations found while reading events since the last call. */
  takeFound(): Violation[] {
    return this.found.splice(0);
  }

  private apply(e: RecordedEvent): string | undefined {
    this.events += 1;
    if (e.globalPosition > this.lastPosition) this.lastPosition = e.globalPosition;
    this.eventsByType.set(e.type, (this.eventsByType.get(e.type) ?? 0) + 1);
    this.digest.update(canonicalEvent(e));
    this.digest.update('\n');
    this.indexCommand(e);
    const row = this.history?.apply(e);
    if (row) this.expectedRows.set(rowKey(row.accountId, row.globalPosition), rowJson(row));
    const accountId = accountIdOf(e.streamId);
    if (accountId === undefined) {
      if (!isMarketStream(e.streamId)) return undefined; // a funding settlement's record moves no price
      if (e.type === 'ReferenceDataPublished')
        this.ref = parseReferenceData((e.data as { referenceData: unknown }).referenceData);
      else applyMarketEvent(this.market, { type: e.type, data: e.data } as unknown as MarketEvent);
      if (e.type === 'MarkPriceUpdated') this.marksMoved.add(textOf(e.data, 'symbol'));
      return undefined;
    }
    this.applyAccountEvent(accountId, e);
    return accountId;
  }

  private indexCommand(e: RecordedEvent): void {
    const id = e.metadata.commandId;
    const seen = this.commands.get(id);
    if (!seen) {
      this.commands.set(id, {
        count: 1,
        first: e.globalPosition,
        transactionId: e.transactionId,
        streamId: e.streamId,
      });
      return;
    }
    if (seen.transactionId === e.transactionId && seen.streamId === e.streamId) {
      seen.count += 1;
      return;
    }
    if (seen.reported) return;
    seen.reported = true;
    this.found.push({
      check: 'command-applied-twice',
      message: `command ${id} has events in two appends: ${seen.streamId} (tx ${seen.transactionId}) and ${e.streamId} (tx ${e.transactionId}, position ${e.globalPosition})`,
      details: [],
    });
  }

  private applyAccountEvent(accountId: string, e: RecordedEvent): void {
    let account = this.accounts.get(accountId);
    if (!account) {
      account = { state: initialAccountState(accountId), version: 0, flows: new Map() };
      this.accounts.set(accountId, account);
    }
    try {
      account.state = evolve(account.state, toAccountEvent(e));
    } catch (error) {
      this.found.push({
        check: 'projection-equals-replay',
        accountId,
        message: `replaying ${e.type} at position ${e.globalPosition} failed: ${String(error)}`,
        details: [],
      });
    }
    account.version = e.streamVersion;
    this.noteRun(accountId, e);
    const flows = account.flows;
    addEventFlows(e, (asset) => {
      let f = flows.get(asset);
      if (!f) {
        f = emptyFlows();
        flows.set(asset, f);
      }
      return f;
    });
    if (e.type === 'AutoExchangeExecuted') this.checkAutoExchange(accountId, e, account.state);
    if (e.type === 'FundingSettled') this.checkFundingMark(accountId, e);
    if (e.type === 'AutoExchangeExecuted' || e.type === 'LiquidationTriggered')
      this.checkSagaOnce(accountId, e);
    for (const invariant of this.options.custom ?? []) {
      const message = invariant.onAccountEvent(e, account.state);
      if (message) this.found.push({ check: invariant.name, accountId, message, details: [] });
    }
  }

  private noteRun(accountId: string, e: RecordedEvent): void {
    const runs = this.recentRuns.get(accountId) ?? [];
    const label = `${e.metadata.commandId}${e.metadata.actor === 'risk-saga' ? ' (saga)' : ''}:`;
    const last = runs[runs.length - 1];
    if (last?.startsWith(label)) runs[runs.length - 1] = `${last} ${e.type}`;
    else runs.push(`${label} ${e.type}`);
    this.recentRuns.set(accountId, runs);
  }

  /** RULES §8 (ii): after an auto-exchange its asset is ≥ 0, or no collateral that could be sold is left. */
  private checkAutoExchange(accountId: string, e: RecordedEvent, state: AccountState): void {
    const negAsset = textOf(e.data, 'negAsset');
    const balance = state.wallets.get(negAsset) ?? ZERO;
    if (!balance.isNegative() || !this.ref) return;
    const ref = this.ref;
    const left = [...state.wallets]
      .filter(
        ([asset, wb]) =>
          asset !== negAsset &&
          wb.gt(0) &&
          (ref.assets[asset]?.marginAvailable ?? false) &&
          ratesOf(this.market, ref, asset).autoExchangeBidRate.gt(0),
      )
      .map(([asset, wb]) => `${asset} ${str(wb)}`);
    if (left.length === 0) return;
    this.found.push({
      check: 'auto-exchange-result',
      accountId,
      asset: negAsset,
      assets: left.map((l) => l.split(' ')[0] ?? l),
      message: `${negAsset} is ${str(balance)} after the auto-exchange at position ${e.globalPosition} (${e.metadata.commandId}), with collateral left: ${left.join(', ')}`,
      details: [],
    });
  }

  /**
   * RULES §5: funding is settled at the symbol's current mark. When the mark has not moved during the step, the
   * mark a settlement used must be the one in force (a process deciding on a stale market view would differ).
   */
  private checkFundingMark(accountId: string, e: RecordedEvent): void {
    const symbol = textOf(e.data, 'symbol');
    const mark = this.market.marks.get(symbol);
    if (!mark || this.marksMoved.has(symbol) || mark.eq(textOf(e.data, 'markPrice'))) return;
    this.found.push({
      check: 'funding-settlement',
      accountId,
      ...(e.metadata.causationId ? { commandId: e.metadata.causationId } : {}),
      message: `${e.metadata.commandId} settled ${symbol} funding at mark ${textOf(e.data, 'markPrice')}, the mark in force is ${str(mark)}`,
      details: [],
    });
  }

  /** Accounts holding a position in the symbol, as replayed so far. */
  holdersOf(symbol: string): string[] {
    return [...this.accounts]
      .filter(([, a]) => [...a.state.positions.values()].some((p) => p.symbol === symbol))
      .map(([id]) => id);
  }

  /** Whether the command id has events (derived ids of a funding settlement: `<id>:funding:<account>`). */
  hasCommand(commandId: string): boolean {
    return this.commands.has(commandId);
  }

  /** The saga acts at most once per (trigger's command, action, account, asset or scope). */
  private checkSagaOnce(accountId: string, e: RecordedEvent): void {
    const d = e.data;
    const target = `${textOf(d, 'negAsset') || textOf(d, 'asset')}:${textOf(d, 'symbol')}:${textOf(d, 'scope')}`;
    const key = `${accountId}|${e.type}|${e.metadata.causationId ?? ''}|${target}`;
    const previous = this.sagaActions.get(key);
    if (previous === undefined) {
      this.sagaActions.set(key, e.metadata.commandId);
      return;
    }
    if (previous === e.metadata.commandId) return;
    this.found.push({
      check: 'saga-acted-twice',
      accountId,
      message: `${e.type} (${target}) caused by ${e.metadata.causationId ?? '?'} came from two commands: ${previous} and ${e.metadata.commandId}`,
      details: [],
    });
  }

  /**
   * Per account: the projection equals the replay; conservation per asset (the projection's cross + isolated
   * wallets against the flows); in SINGLE no cross or isolated wallet below zero (a liquidation's shortfall is
   * covered by the insurance fund within the step); the risk index holds the account under exactly its symbols.
   */
  async checkAccounts(
    ids: Iterable<string>,
    source: ProjectionSource,
    holders?: (symbol: string) => readonly string[],
  ): Promise<{ violations: Violation[]; projected: Map<string, ProjectedAccount | null> }> {
    const violations: Violation[] = [];
    const projected = new Map<string, ProjectedAccount | null>();
    const holderSets = holders && this.ref ? this.holderSets(holders) : undefined;
    for (const accountId of [...new Set(ids)].sort()) {
      const account = this.accounts.get(accountId);
      const projection = await source.account(accountId);
      projected.set(accountId, projection);
      if (!account) {
        if (projection)
          violations.push({
            check: 'projection-equals-replay',
            accountId,
            message: `${accountId} has a projection but no events`,
            details: [],
          });
        continue;
      }
      const diff = jsonDiff(expectedProjection(account.state, account.version), projection);
      if (diff.length > 0) {
        violations.push({
          check: 'projection-equals-replay',
          accountId,
          message: `${accountId}: the projection differs from a replay of its ${account.version} events`,
          details: diff.slice(0, 12),
        });
      }
      violations.push(...this.conservation(accountId, account, projection));
      violations.push(...this.singleNegative(accountId, account.state));
      if (holderSets) violations.push(...this.riskIndex(accountId, account.state, holderSets));
    }
    return { violations, projected };
  }

  private holderSets(holders: (symbol: string) => readonly string[]): Map<string, Set<string>> {
    const sets = new Map<string, Set<string>>();
    for (const symbol of Object.keys(this.ref?.symbols ?? {}))
      sets.set(symbol, new Set(holders(symbol)));
    return sets;
  }

  /** Σ of the account's cross and isolated wallets per asset, as the projection has them. */
  private walletTotals(projection: ProjectedAccount | null, state: AccountState): Map<string, Dec> {
    const totals = new Map<string, Dec>();
    const add = (asset: string, amount: Dec): void => {
      totals.set(asset, (totals.get(asset) ?? ZERO).plus(amount));
    };
    if (projection) {
      for (const [asset, balance] of projection.state.wallets) add(asset, new D(balance));
      for (const [, p] of projection.state.positions)
        add(this.marginAssetOf(p.symbol), new D(p.isolatedWallet));
    } else {
      for (const [asset, balance] of state.wallets) add(asset, balance);
      for (const p of state.positions.values()) add(this.marginAssetOf(p.symbol), p.isolatedWallet);
    }
    return totals;
  }

  private marginAssetOf(symbol: string): string {
    const asset = this.ref?.symbols[symbol]?.marginAsset;
    if (!asset) throw new Error(`no margin asset known for ${symbol}`);
    return asset;
  }

  private conservation(
    accountId: string,
    account: AuditedAccount,
    projection: ProjectedAccount | null,
  ): Violation[] {
    const totals = this.walletTotals(projection, account.state);
    const out: Violation[] = [];
    for (const asset of new Set([...totals.keys(), ...account.flows.keys()])) {
      const held = totals.get(asset) ?? ZERO;
      const flows = account.flows.get(asset) ?? emptyFlows();
      const expected = expectedBalance(flows);
      if (held.eq(expected)) continue;
      out.push({
        check: 'conservation',
        accountId,
        asset,
        expected: str(expected),
        message: `${accountId} ${asset}: cross + isolated wallets ${str(held)} ≠ ${str(expected)} from its events (off by ${str(held.minus(expected))})`,
        details: [
          ...FLOW_NAMES.map((name) => `${name} ${str(flows[name])}`),
          ...(this.recentRuns.get(accountId) ?? []),
        ],
      });
    }
    return out;
  }

  private singleNegative(accountId: string, state: AccountState): Violation[] {
    if (state.assetMode !== 'SINGLE') return [];
    const out: Violation[] = [];
    for (const [asset, balance] of state.wallets) {
      if (!balance.isNegative()) continue;
      out.push({
        check: 'single-cross-wallet-negative',
        accountId,
        asset,
        message: `${accountId} (Single-Asset Mode): ${asset} cross wallet ${str(balance)} < 0 with no insurance cover`,
        details: this.recentRuns.get(accountId) ?? [],
      });
    }
    for (const [key, p] of state.positions) {
      if (!p.isolatedWallet.isNegative()) continue;
      out.push({
        check: 'single-isolated-wallet-negative',
        accountId,
        asset: this.marginAssetOf(p.symbol),
        message: `${accountId} (Single-Asset Mode): isolated wallet of ${key} ${str(p.isolatedWallet)} < 0 with no insurance cover`,
        details: [
          `position ${str(p.quantity)} @ ${str(p.entryPrice)}`,
          ...(this.recentRuns.get(accountId) ?? []),
        ],
      });
    }
    return out;
  }

  private riskIndex(
    accountId: string,
    state: AccountState,
    holders: Map<string, Set<string>>,
  ): Violation[] {
    const wrong: string[] = [];
    const held = new Set([...state.positions.values()].map((p) => p.symbol));
    for (const [symbol, set] of holders) {
      if (set.has(accountId) !== held.has(symbol))
        wrong.push(`${symbol}: indexed ${set.has(accountId)}, holds ${held.has(symbol)}`);
    }
    return wrong.length === 0
      ? []
      : [
          {
            check: 'risk-index',
            accountId,
            message: `${accountId}: the risk index is wrong about its positions`,
            details: wrong,
          },
        ];
  }

  /** Conservation over every account, per asset: Σ projected wallets = Σ flows. */
  globalConservation(projected: Map<string, ProjectedAccount | null>): Violation[] {
    const held = new Map<string, Dec>();
    const flows = new Map<string, Flows>();
    for (const [accountId, account] of this.accounts) {
      for (const [asset, total] of this.walletTotals(
        projected.get(accountId) ?? null,
        account.state,
      ))
        held.set(asset, (held.get(asset) ?? ZERO).plus(total));
      for (const [asset, f] of account.flows) {
        const sum = flows.get(asset) ?? emptyFlows();
        addFlows(sum, f);
        flows.set(asset, sum);
      }
    }
    const out: Violation[] = [];
    for (const asset of [...new Set([...held.keys(), ...flows.keys()])].sort()) {
      const total = held.get(asset) ?? ZERO;
      const f = flows.get(asset) ?? emptyFlows();
      const expected = expectedBalance(f);
      if (total.eq(expected)) continue;
      out.push({
        check: 'conservation',
        asset,
        expected: str(expected),
        message: `${asset} over all accounts: Σ cross + isolated wallets ${str(total)} ≠ ${str(expected)} from the events`,
        details: FLOW_NAMES.map((name) => `${name} ${str(f[name])}`),
      });
    }
    return out;
  }

  /** Every acknowledged command's events are in the store, once; a rejected one appended nothing. */
  checkCommands(records: readonly CommandRecord[]): Violation[] {
    const out: Violation[] = [];
    for (const record of records) {
      if (record.result === 'rejected') {
        if (this.commands.has(record.commandId))
          out.push({
            check: 'rejected-command-applied',
            message: `${record.commandId} was rejected (${record.code}) but has events`,
            details: [],
          });
        continue;
      }
      if (record.result !== 'acked') continue;
      const byId = new Map<string, bigint[]>();
      for (const e of record.outcome.events) {
        const list = byId.get(e.commandId) ?? [];
        list.push(BigInt(e.globalPosition));
        byId.set(e.commandId, list);
      }
      for (const [id, positions] of byId) {
        const seen = this.commands.get(id);
        const first = positions.reduce((a, b) => (b < a ? b : a));
        if (!seen || seen.count !== positions.length || seen.first !== first) {
          out.push({
            check: 'acknowledged-command-lost',
            message: `${id} was acknowledged with ${positions.length} events from position ${first}; the store has ${seen ? `${seen.count} from ${seen.first}` : 'none'}`,
            details: [],
          });
        }
      }
    }
    return out;
  }

  /** Stops checking the margin history (its consumer was dropped). */
  dropMarginHistory(): void {
    this.history = undefined;
    this.expectedRows = new Map();
  }

  /** Margin-history rows written since the last check equal a fresh fold's rows (a redelivered batch adds none). */
  async checkMarginHistory(source: MarginHistorySource): Promise<Violation[]> {
    if (!this.history) return [];
    const actual = await source.rowsAfter(this.historyCheckedTo);
    const expected = this.expectedRows;
    const problems: string[] = [];
    for (const [key, row] of expected) {
      const got = actual.get(key);
      if (got === undefined) problems.push(`missing row ${key}`);
      else if (got !== row) problems.push(`row ${key}: expected ${row}, written ${got}`);
    }
    for (const key of actual.keys())
      if (!expected.has(key)) problems.push(`row ${key} has no account event`);
    this.expectedRows = new Map();
    this.historyCheckedTo = this.lastPosition;
    if (problems.length === 0) return [];
    return [
      {
        check: 'margin-history',
        message: `${problems.length} margin-history rows differ from a fold of the events`,
        details: problems.slice(0, 6),
      },
    ];
  }

  /** The running digest of the canonical event stream (what the state hash covers of the events). */
  eventsDigest(): string {
    return this.digest.copy().digest('hex');
  }

  /** The state hash: the event stream's digest and the projections, canonical. */
  stateHash(projected: Map<string, ProjectedAccount | null>): string {
    const hash = createHash('sha256').update(this.eventsDigest());
    for (const [accountId, p] of [...projected].sort(([a], [b]) => (a < b ? -1 : 1)))
      hash.update(`\n${accountId}:${canonicalJson(p)}`);
    return hash.digest('hex');
  }

  /** Reads the whole log again: the same events, byte for byte, as read step by step (nothing lost or changed). */
  async checkStoreStable(store: EventStore): Promise<Violation[]> {
    const again = createHash('sha256');
    let count = 0;
    for await (const batch of readAllBatches(store)) {
      for (const e of batch) {
        again.update(canonicalEvent(e));
        again.update('\n');
        count += 1;
      }
    }
    const digest = again.digest('hex');
    if (digest === this.eventsDigest() && count === this.events) return [];
    return [
      {
        check: 'store-changed',
        message: `a full re-read gives ${count} events (digest ${digest.slice(0, 12)}), the audit read ${this.events} (digest ${this.eventsDigest().slice(0, 12)})`,
        details: [],
      },
    ];
  }
}

/** A string field of an event payload, or '' when it has none. */
function textOf(data: Record<string, unknown>, field: string): string {
  const value = data[field];
  return typeof value === 'string' ? value : '';
}

function rowJson(row: MarginHistoryRow): string {
  return marginHistoryRowJson(row);
}
