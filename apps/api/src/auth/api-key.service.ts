import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@ledger/event-store';
import {
  type ApiKeyGrant,
  type ApiPrincipal,
  findApiKey,
  hashApiKey,
  principalOf,
} from '@ledger/ledger-application';

export const API_KEYS_CONFIG = 'api:ApiKeysConfig';

/** A stored key is looked up again after this long (a revoked key stops working within it). */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;

/**
 * Resolves an API key to its principal: the keys of the configuration (LEDGER_API_KEYS, hashed in memory at
 * start) first, then the `api_keys` table (`ledger keys add`), cached briefly. Unknown keys are not cached, so a
 * key added by the CLI works on the next request.
 */
@Injectable()
export class ApiKeyService {
  private readonly configured = new Map<string, ApiPrincipal>();
  private readonly cache = new Map<string, { principal: ApiPrincipal; until: number }>();

  constructor(
    @Inject(API_KEYS_CONFIG) grants: Array<ApiKeyGrant & { key: string }>,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {
    for (const grant of grants) {
      const hash = hashApiKey(grant.key);
      this.configured.set(hash, principalOf(hash, grant));
    }
  }

  async resolve(key: string): Promise<ApiPrincipal | null> {
    const hash = hashApiKey(key);
    const configured = this.configured.get(hash);
    if (configured) return configured;
    const cached = this.cache.get(hash);
    const now = Date.now();
    if (cached && cached.until > now) return cached.principal;
    const principal = await findApiKey(this.store, hash);
    if (principal) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(hash, { principal, until: now + CACHE_TTL_MS });
    } else {
      this.cache.delete(hash);
    }
    return principal;
  }
}
