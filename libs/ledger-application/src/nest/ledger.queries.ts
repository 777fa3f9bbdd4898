import { Inject } from '@nestjs/common';
import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { AccountView } from '@ledger/margin-domain';
import type { LedgerEventJson } from '../ledger/ledger';
import { toJson, type Ledger } from '../ledger/ledger';
import { accountStream } from '../ledger/streams';
import type { AsOf } from '../read/as-of-reader';
import { LEDGER } from './ledger.tokens';

/** The account's margin state now, or as of a time / global position; null when it does not exist (then). */
export class GetAccountViewQuery extends Query<AccountView | null> {
  constructor(
    readonly accountId: string,
    readonly asOf?: AsOf,
  ) {
    super();
  }
}

@QueryHandler(GetAccountViewQuery)
export class GetAccountViewHandler implements IQueryHandler<GetAccountViewQuery> {
  constructor(@Inject(LEDGER) private readonly ledger: Ledger) {}

  execute(query: GetAccountViewQuery): Promise<AccountView | null> {
    return this.ledger.accountView(query.accountId, query.asOf);
  }
}

export interface AccountEventsPage {
  events: LedgerEventJson[];
  /** The stream version of the last event returned; pass it as `afterVersion` for the next page. */
  lastVersion: number | null;
  /** True when more events follow this page. */
  hasMore: boolean;
}

/** One page of an account's events in stream order, strictly after `afterVersion`. */
export class ListAccountEventsQuery extends Query<AccountEventsPage> {
  constructor(
    readonly accountId: string,
    readonly afterVersion: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListAccountEventsQuery)
export class ListAccountEventsHandler implements IQueryHandler<ListAccountEventsQuery> {
  constructor(@Inject(LEDGER) private readonly ledger: Ledger) {}

  async execute(query: ListAccountEventsQuery): Promise<AccountEventsPage> {
    // One more than asked: tells whether another page follows without a second query.
    const recorded = await this.ledger.store.readStream(accountStream(query.accountId), {
      fromVersion: query.afterVersion + 1,
      toVersion: query.afterVersion + query.limit + 1,
    });
    const page = recorded.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      events: page.map(toJson),
      lastVersion: last ? last.streamVersion : null,
      hasMore: recorded.length > query.limit,
    };
  }
}
