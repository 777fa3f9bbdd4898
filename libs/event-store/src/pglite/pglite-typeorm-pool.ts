import { EventEmitter } from 'node:events';

import type { Results } from '@electric-sql/pglite';

import type { PgliteSession } from './pglite-session';

type ConnectCallback = (
  error: Error | null,
  client: PgliteClient | undefined,
  release: (error?: unknown) => void,
) => void;

/** What TypeORM's Postgres query runner reads from a `pg` result. */
interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Results['fields'];
}

/**
 * The `pg` module shape TypeORM's Postgres driver needs (`new driver.Pool(options)`), over one PgliteSession: a
 * pool of exactly one connection whose checkout is the session's FIFO mutex. A TypeORM query runner therefore
 * owns the session from its first query to its release, like a real connection, and never interleaves with the
 * event store's units of work.
 *
 * Why not typeorm-pglite's driver: it keeps one process-wide PGlite instance (a second database in the same
 * process silently gets the first one) and hands the session to every caller at once, without exclusivity.
 */
export function pgliteDriverFor(session: PgliteSession): {
  Pool: new (options?: unknown) => PglitePool;
} {
  return {
    Pool: class extends PglitePool {
      constructor() {
        super(session);
      }
    },
  };
}

export class PglitePool extends EventEmitter {
  constructor(private readonly session: PgliteSession) {
    super();
  }

  connect(callback: ConnectCallback): void {
    this.session.acquire().then(
      (releaseLease) => {
        const client = new PgliteClient(this.session, releaseLease);
        callback(null, client, () => client.release());
      },
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }

  end(callback?: (error?: Error) => void): void {
    // The session outlives the DataSource; its owner closes PGlite.
    callback?.();
  }
}

export class PgliteClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly session: PgliteSession,
    private readonly releaseLease: () => void,
  ) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<PgLikeResult> {
    if (this.released) throw new Error('PGlite connection used after release');
    const result = await this.session.raw(sql, params);
    return {
      rows: result.rows,
      rowCount: result.affectedRows ?? result.rows.length,
      command: commandOf(sql),
      fields: result.fields,
    };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseLease();
  }
}

/** TypeORM reads `command` to shape UPDATE/DELETE results. */
function commandOf(sql: string): string {
  return /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
}
