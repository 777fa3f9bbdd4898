import type { EventStore } from '@ledger/event-store';
import type { AccountState, ReferenceData } from '@ledger/margin-domain';
import type { AccountRepository } from '../ledger/account-repository';
import { foldAllAccounts } from '../tools/account-folds';

/**
 * The risk saga's in-memory index (ARCHITECTURE "The risk saga"): accounts by symbol they hold a position in and
 * by asset they hold or owe, so a price tick or an asset-index update re-checks only the accounts it can move.
 * Loaded from the inline projections at start (from a fold of the account streams on a store without SQL);
 * kept current by the ledger on every account append and by the saga on every account it re-checks.
 */
export class RiskIndex {
  private readonly bySymbol = new Map<string, Set<string>>();
  private readonly byAsset = new Map<string, Set<string>>();
  private readonly keys = new Map<string, { symbols: string[]; assets: string[] }>();

  async load(store: EventStore, accounts: AccountRepository, ref: ReferenceData): Promise<void> {
    for (const [id, account] of await foldAllAccounts(store)) {
      accounts.remember(id, account.state, account.version, account.lastAt ?? '');
      this.index(id, account.state, ref);
    }
  }

  /**
   * Start-up from the inline projections (three queries, no fold): who holds a position in which symbol and who
   * holds or owes which asset. The projections are written in the append's transaction, so they match the
   * committed events.
   */
  async loadFromProjections(store: EventStore, ref: ReferenceData): Promise<void> {
    const accounts = await store.query<{ account_id: string }>('SELECT account_id FROM accounts');
    const positions = await store.query<{ account_id: string; symbol: string }>(
      'SELECT DISTINCT account_id, symbol FROM account_positions',
    );
    const wallets = await store.query<{ account_id: string; asset: string }>(
      'SELECT account_id, asset FROM account_wallets WHERE balance <> 0',
    );
    const keys = new Map<string, { symbols: Set<string>; assets: Set<string> }>();
    const entry = (id: string) => {
      let e = keys.get(id);
      if (!e) {
        e = { symbols: new Set(), assets: new Set() };
        keys.set(id, e);
      }
      return e;
    };
    for (const { account_id } of accounts) entry(account_id);
    for (const { account_id, symbol } of positions) {
      const e = entry(account_id);
      e.symbols.add(symbol);
      const marginAsset = ref.symbols[symbol]?.marginAsset;
      if (marginAsset) e.assets.add(marginAsset);
    }
    for (const { account_id, asset } of wallets) entry(account_id).assets.add(asset);
    for (const [id, e] of keys) this.setKeys(id, [...e.symbols], [...e.assets]);
  }

  update(accountId: string, state: AccountState, ref: ReferenceData): void {
    this.index(accountId, state, ref);
  }

  private index(accountId: string, state: AccountState, ref: ReferenceData | undefined): void {
    const symbols = [...new Set([...state.positions.values()].map((p) => p.symbol))];
    const assets = new Set<string>();
    for (const [asset, balance] of state.wallets) if (!balance.isZero()) assets.add(asset);
    for (const p of state.positions.values()) {
      const marginAsset = ref?.symbols[p.symbol]?.marginAsset;
      if (marginAsset) assets.add(marginAsset);
    }
    this.setKeys(accountId, symbols, [...assets]);
  }

  private setKeys(accountId: string, symbols: string[], assets: string[]): void {
    const previous = this.keys.get(accountId);
    if (previous) {
      for (const s of previous.symbols) this.bySymbol.get(s)?.delete(accountId);
      for (const a of previous.assets) this.byAsset.get(a)?.delete(accountId);
    }
    for (const s of symbols) add(this.bySymbol, s, accountId);
    for (const a of assets) add(this.byAsset, a, accountId);
    this.keys.set(accountId, { symbols, assets });
  }

  /** Accounts with a position in the symbol, in a stable order. */
  holdersOf(symbol: string): string[] {
    return [...(this.bySymbol.get(symbol) ?? [])].sort();
  }

  holdersOfAsset(asset: string): string[] {
    return [...(this.byAsset.get(asset) ?? [])].sort();
  }

  all(): string[] {
    return [...this.keys.keys()].sort();
  }
}

function add(map: Map<string, Set<string>>, key: string, id: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(id);
}
