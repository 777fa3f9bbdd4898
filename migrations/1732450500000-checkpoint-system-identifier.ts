import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11, item 8: a dump restored into another server breaks consumers silently. `transaction_id` (xid8) values
 * come from the server that wrote them; restored into a server whose transaction id counter is lower, they lie in
 * its future: readers (below `pg_snapshot_xmin`) never see those events, and new appends sort before them.
 *
 * Each checkpoint row now records the `system_identifier` of the server (`pg_control_system()`) its consumer last
 * started on. When a consumer starts on another server (or a row has none yet), it runs only if this server's
 * current transaction id is above every stored `transaction_id` (events and checkpoints), and then records the
 * new identifier; otherwise it refuses with the restore procedure (README "Operations"). Existing rows are left
 * NULL on purpose: this migration may itself run on a restored database, so "unknown" is checked, never assumed.
 */
export class CheckpointSystemIdentifier1732450500000 implements MigrationInterface {
  name = 'CheckpointSystemIdentifier1732450500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE subscription_checkpoints ADD COLUMN system_identifier bigint`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE subscription_checkpoints DROP COLUMN system_identifier`);
  }
}
