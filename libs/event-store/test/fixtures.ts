import {
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type SubscriptionLogger,
  compareCheckpoints,
} from '@ledger/event-store';

let sequence = 0;

/** A unique id per call, so every test writes its own streams and command ids in the suite's database. */
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/** An event with safe defaults; amounts are decimal strings, as everywhere in the ledger. */
export function anEvent(
  type = 'Deposited',
  data: JsonObject = { amount: '10.25' },
  commandId = 'cmd',
): EventToAppend {
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: { commandId, occurredAt: '2024-01-01T00:00:00.000Z' },
  };
}

/** Collects what a subscription logs, so expected failures do not clutter the test output. */
export function collectingLogger(): SubscriptionLogger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    log: () => undefined,
    warn: (message) => warnings.push(message),
    error: (message) => errors.push(message),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate` holds, polling; fails the test after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

type Position = { transactionId: bigint; globalPosition: bigint };

/** The last committed event in reader order, visible to readers yet or not (a direct query, no xmin rule). */
export async function committedHead(store: EventStore): Promise<Position | null> {
  const [row] = await store.query<{ tx: string; gp: string }>(
    'SELECT transaction_id::text AS tx, global_position::text AS gp FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
  );
  return row ? { transactionId: BigInt(row.tx), globalPosition: BigInt(row.gp) } : null;
}

/**
 * Waits until readers see every event committed before the call. Readers stop below the oldest open transaction
 * of the whole cluster (xids are cluster-wide), so another suite's CREATE DATABASE or slow transaction can hold
 * back what this suite just committed; readAll tests wait here instead of being flaky.
 */
export async function untilVisible(store: EventStore, timeoutMs = 10_000): Promise<void> {
  const target = await committedHead(store);
  if (!target) return;
  await eventually(async () => {
    const head = await store.headCheckpoint();
    return head !== null && compareCheckpoints(head, target) >= 0;
  }, timeoutMs);
}

/** The committed events of the streams under `prefix`, in reader order, whether readers see them yet or not. */
export async function committedUnder(store: EventStore, prefix: string): Promise<Position[]> {
  const rows = await store.query<{ tx: string; gp: string }>(
    `SELECT transaction_id::text AS tx, global_position::text AS gp FROM events
      WHERE starts_with(stream_id, $1) ORDER BY transaction_id, global_position`,
    [prefix],
  );
  return rows.map((row) => ({ transactionId: BigInt(row.tx), globalPosition: BigInt(row.gp) }));
}
