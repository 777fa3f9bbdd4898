import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the ledger (ARCHITECTURE "Read side"). Inline projections, written in the append's transaction
 * by one call of `ledger_project_account`: account settings, wallets, positions, symbol settings and open orders,
 * always equal to a fold of the account's events (`ledger verify` checks it). Amounts are `numeric` without a
 * scale (entry prices keep full precision). `margin_history` is the async projection for timelines.
 */
export class CreateAccountProjections1732450100000 implements MigrationInterface {
  name = 'CreateAccountProjections1732450100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(TABLES);
    await queryRunner.query(PROJECT_FUNCTION);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP FUNCTION IF EXISTS ledger_project_account(text, integer, jsonb);
      DROP TABLE IF EXISTS margin_history;
      DROP TABLE IF EXISTS account_orders;
      DROP TABLE IF EXISTS account_symbol_settings;
      DROP TABLE IF EXISTS account_positions;
      DROP TABLE IF EXISTS account_wallets;
      DROP TABLE IF EXISTS accounts;
    `);
  }
}

const TABLES = `
CREATE TABLE accounts (
  account_id     text PRIMARY KEY,
  stream_version integer NOT NULL,
  asset_mode     text NOT NULL,
  position_mode  text NOT NULL,
  vip_level      integer NOT NULL,
  last_event_at  timestamptz NOT NULL
);
CREATE TABLE account_wallets (
  account_id text NOT NULL,
  asset      text NOT NULL,
  balance    numeric NOT NULL,
  PRIMARY KEY (account_id, asset)
);
CREATE TABLE account_positions (
  account_id      text NOT NULL,
  position_key    text NOT NULL,
  symbol          text NOT NULL,
  position_side   text NOT NULL,
  quantity        numeric NOT NULL,
  entry_price     numeric NOT NULL,
  margin_type     text NOT NULL,
  isolated_wallet numeric NOT NULL,
  PRIMARY KEY (account_id, position_key)
);
CREATE INDEX account_positions_symbol ON account_positions (symbol);
CREATE TABLE account_symbol_settings (
  account_id  text NOT NULL,
  symbol      text NOT NULL,
  leverage    integer,
  margin_type text NOT NULL,
  PRIMARY KEY (account_id, symbol)
);
CREATE TABLE account_orders (
  account_id    text NOT NULL,
  order_id      text NOT NULL,
  symbol        text NOT NULL,
  side          text NOT NULL,
  position_side text NOT NULL,
  quantity      numeric NOT NULL,
  price         numeric NOT NULL,
  PRIMARY KEY (account_id, order_id)
);
CREATE TABLE margin_history (
  account_id           text NOT NULL,
  global_position      bigint NOT NULL,
  occurred_at          timestamptz NOT NULL,
  event_type           text NOT NULL,
  asset_mode           text NOT NULL,
  total_wallet_balance numeric NOT NULL,
  total_margin_balance numeric NOT NULL,
  total_maint_margin   numeric NOT NULL,
  margin_ratio         numeric,
  wallets              jsonb NOT NULL,
  PRIMARY KEY (account_id, global_position)
);
`;

/** One round trip: replace the account's rows with the state after the append ($3 is the state as JSON). */
const PROJECT_FUNCTION = `
CREATE FUNCTION ledger_project_account(p_account text, p_version integer, p_state jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (account_id, stream_version, asset_mode, position_mode, vip_level, last_event_at)
  VALUES (p_account, p_version, p_state->>'assetMode', p_state->>'positionMode', (p_state->>'vipLevel')::integer,
          (p_state->>'lastAt')::timestamptz)
  ON CONFLICT (account_id) DO UPDATE SET stream_version = EXCLUDED.stream_version, asset_mode = EXCLUDED.asset_mode,
    position_mode = EXCLUDED.position_mode, vip_level = EXCLUDED.vip_level, last_event_at = EXCLUDED.last_event_at;
  DELETE FROM account_wallets WHERE account_id = p_account;
  INSERT INTO account_wallets (account_id, asset, balance)
  SELECT p_account, w->>0, (w->>1)::numeric FROM jsonb_array_elements(p_state->'wallets') w;
  DELETE FROM account_positions WHERE account_id = p_account;
  INSERT INTO account_positions (account_id, position_key, symbol, position_side, quantity, entry_price, margin_type,
                                 isolated_wallet)
  SELECT p_account, p->>0, p->1->>'symbol', p->1->>'positionSide', (p->1->>'quantity')::numeric,
         (p->1->>'entryPrice')::numeric, p->1->>'marginType', (p->1->>'isolatedWallet')::numeric
  FROM jsonb_array_elements(p_state->'positions') p;
  DELETE FROM account_symbol_settings WHERE account_id = p_account;
  INSERT INTO account_symbol_settings (account_id, symbol, leverage, margin_type)
  SELECT p_account, s->>0, (s->1->>'leverage')::integer, s->1->>'marginType'
  FROM jsonb_array_elements(p_state->'symbols') s;
  DELETE FROM account_orders WHERE account_id = p_account;
  INSERT INTO account_orders (account_id, order_id, symbol, side, position_side, quantity, price)
  SELECT p_account, o->>0, o->1->>'symbol', o->1->>'side', o->1->>'positionSide', (o->1->>'quantity')::numeric,
         (o->1->>'price')::numeric
  FROM jsonb_array_elements(p_state->'orders') o;
END;
$$;
`;
