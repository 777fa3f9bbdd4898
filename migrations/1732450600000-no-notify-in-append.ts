import type { MigrationInterface, QueryRunner } from 'typeorm';
import { HASH_CHAIN_APPEND_FUNCTION } from './1732450400000-event-hash-chain';

/**
 * No NOTIFY inside a writing transaction (issue 12, ARCHITECTURE "The event store"). A transaction that has
 * issued NOTIFY takes PostgreSQL's global notification-queue lock at commit and holds it through the commit, so
 * every appending transaction on the server committed one after another and concurrent commits could not share a
 * WAL flush. `ledger_append` stays as EventHashChain1732450400000 made it, minus its `pg_notify`: the store wakes
 * its own process's consumers after the commit, and other processes with one `pg_notify` sent on its own, outside
 * any writing transaction, at most once per short interval (libs/event-store/src/postgres/append-signal.ts).
 */
export const APPEND_FUNCTION_WITHOUT_NOTIFY = withoutNotify(HASH_CHAIN_APPEND_FUNCTION);

export class NoNotifyInAppend1732450600000 implements MigrationInterface {
  name = 'NoNotifyInAppend1732450600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(APPEND_FUNCTION_WITHOUT_NOTIFY);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(HASH_CHAIN_APPEND_FUNCTION);
  }
}

function withoutNotify(sql: string): string {
  const out = sql
    .split('\n')
    .filter(
      (line) =>
        !/-- Wakes the durable subscriptions|PERFORM pg_notify\('ledger_events', ''\);/.test(line),
    )
    .join('\n');
  if (out.includes('pg_notify') || out === sql)
    throw new Error(
      'NoNotifyInAppend: the append function no longer has the NOTIFY this migration removes',
    );
  return out;
}
