import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type JsonValue } from '@ledger/event-store';

/** One row of the `margin_history` projection: the account's margin figures right after one of its events. */
export interface MarginHistoryPoint {
  globalPosition: string;
  occurredAt: string;
  eventType: string;
  assetMode: string;
  totalWalletBalance: string;
  totalMarginBalance: string;
  totalMaintMargin: string;
  marginRatio: string | null;
  wallets: JsonValue;
}

/**
 * Reads the async `margin_history` projection (migration CreateAccountProjections; filled by its own durable
 * consumer). Times are compared as instants and returned as ISO strings in UTC.
 */
@Injectable()
export class MarginHistoryReader {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async accountExists(accountId: string): Promise<boolean> {
    const rows = await this.store.query('SELECT 1 FROM accounts WHERE account_id = $1', [
      accountId,
    ]);
    return rows.length > 0;
  }

  /** Up to `limit` rows in global-position order, in [from, to] by time and strictly after the `after` position. */
  async read(
    accountId: string,
    range: { from?: string; to?: string; after?: bigint; limit: number },
  ): Promise<MarginHistoryPoint[]> {
    const rows = await this.store.query<{
      global_position: string;
      occurred_at: string;
      event_type: string;
      asset_mode: string;
      total_wallet_balance: string;
      total_margin_balance: string;
      total_maint_margin: string;
      margin_ratio: string | null;
      wallets: JsonValue | string;
    }>(
      `SELECT global_position::text AS global_position,
              to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,
              event_type, asset_mode, total_wallet_balance::text AS total_wallet_balance,
              total_margin_balance::text AS total_margin_balance, total_maint_margin::text AS total_maint_margin,
              margin_ratio::text AS margin_ratio, wallets
         FROM margin_history
        WHERE account_id = $1
          AND ($2::timestamptz IS NULL OR occurred_at >= $2::timestamptz)
          AND ($3::timestamptz IS NULL OR occurred_at <= $3::timestamptz)
          AND ($4::bigint IS NULL OR global_position > $4::bigint)
        ORDER BY global_position
        LIMIT $5`,
      [
        accountId,
        range.from ?? null,
        range.to ?? null,
        range.after?.toString() ?? null,
        range.limit,
      ],
    );
    return rows.map((row) => ({
      globalPosition: row.global_position,
      occurredAt: row.occurred_at,
      eventType: row.event_type,
      assetMode: row.asset_mode,
      totalWalletBalance: row.total_wallet_balance,
      totalMarginBalance: row.total_margin_balance,
      totalMaintMargin: row.total_maint_margin,
      marginRatio: row.margin_ratio,
      wallets:
        typeof row.wallets === 'string' ? (JSON.parse(row.wallets) as JsonValue) : row.wallets,
    }));
  }
}
