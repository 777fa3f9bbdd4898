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

/**
 * Resolves an API key to its principal: the keys of the configuration (LEDGER_API_KEYS, hashed in memory at
 * start) first, then the `api_keys` table (`ledger keys add`), looked up on every request (one read of its
 * unique hash index). Nothing is cached: a key added by the CLI works on the next request, and a key revoked by
 * `ledger keys revoke` answers 401 from the next request on, on every instance of the API sharing the database.
 */
@Injectable()
export class ApiKeyService {
  private readonly configured = new Map<string, ApiPrincipal>();

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
    return this.configured.get(hash) ?? (await findApiKey(this.store, hash));
  }
}
