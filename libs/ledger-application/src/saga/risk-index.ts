import type { EventStore } from '@ledger/event-store';
import type { AccountState, ReferenceData } from '@ledger/margin-domain';
import type { AccountRepository } from '../ledger/account-repository';
import { foldAllAccounts } from '../tools/account-folds';

/**
 * The risk saga's in-memory index (ARCHITECTURE "The risk saga"): accounts by symbol they hold a position in and
 * by asset they hold or owe, so a price tick or an asset-index update re-checks only the accounts it can move.
 * Rebuilt from the account streams at start; kept current by the ledger on every account append.
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

  update(accountId: string, state: AccountState, ref: ReferenceData): void {
    this.index(accountId, state, ref);
  }

  private index(accountId: string, state: AccountState, ref: ReferenceData | undefined): void {
    const previous = this.keys.get(accountId);
    if (previous) {
      for (const s of previous.symbols) this.bySymbol.get(s)?.delete(accountId);
      for (const a of previous.assets) this.byAsset.get(a)?.delete(accountId);
    }
    const symbols = [...new Set([...state.positions.values()].map((p) => p.symbol))];
    const assets = new Set<string>();
    for (const [asset, balance] of state.wallets) if (!balance.isZero()) assets.add(asset);
    for (const p of state.positions.values()) {
      const marginAsset = ref?.symbols[p.symbol]?.marginAsset;
      if (marginAsset) assets.add(marginAsset);
    }
    for (const s of symbols) add(this.bySymbol, s, accountId);
    for (const a of assets) add(this.byAsset, a, accountId);
    this.keys.set(accountId, { symbols, assets: [...assets] });
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
