import type { Client } from 'pg';

import type { ConsumerLease, ConsumerLeaseOptions } from '../sql/sql-session';

/** Opens a dedicated connection (not from the pool: it lives as long as the consumer runs). */
export type ConsumerConnectionFactory = (applicationName: string) => Client;

export const NOTIFY_CHANNEL = 'ledger_events';

/**
 * One active instance per consumer name: a session-level `pg_try_advisory_lock` held on a dedicated connection,
 * which also LISTENs for appends. The lock dies with the connection, so a crashed process frees its consumers at
 * once (no lease timeout to wait out); if the connection dies under a live process, the lease reports itself
 * lost and the checkpoint's compare-and-set fences any batch still in flight.
 *
 * The key is a 64-bit hash of the name (`hashtextextended`), in the database of the connection: advisory locks
 * are per database, which is why each test suite gets its own database.
 */
export async function acquireAdvisoryConsumerLease(
  name: string,
  options: ConsumerLeaseOptions,
  connect: ConsumerConnectionFactory,
): Promise<ConsumerLease | null> {
  while (!options.isStopping()) {
    const lease = new AdvisoryConsumerLease(
      connect(`ledger-consumer:${name}`.slice(0, 63)),
      options,
    );
    try {
      if (await lease.tryTake(name)) return lease;
    } catch (error) {
      options.onError(error);
      await lease.release();
      await options.sleep(options.retryIntervalMs);
    }
  }
  return null;
}

class AdvisoryConsumerLease implements ConsumerLease {
  private lostFlag = false;
  private released = false;

  constructor(
    private readonly client: Client,
    private readonly options: ConsumerLeaseOptions,
  ) {
    const lose = (): void => {
      if (this.lostFlag || this.released) return;
      this.lostFlag = true;
      options.onLost();
    };
    client.on('error', lose);
    client.on('end', lose);
    client.on('notification', (message) => {
      if (message.channel === NOTIFY_CHANNEL) options.onWake();
    });
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  /** Keeps one connection while waiting for the lock; false when stopped first. */
  async tryTake(name: string): Promise<boolean> {
    await this.client.connect();
    for (;;) {
      const rows = (
        await this.client.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_lock(hashtextextended('ledger-consumer:' || $1, 0)) AS locked`,
          [name],
        )
      ).rows;
      if (rows[0]?.locked) {
        await this.client.query(`LISTEN ${NOTIFY_CHANNEL}`);
        return true;
      }
      await this.options.sleep(this.options.retryIntervalMs);
      if (this.options.isStopping()) {
        await this.release();
        return false;
      }
    }
  }

  /** Closing the session releases the lock and the LISTEN with it. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.client.end().catch(() => undefined);
  }
}
