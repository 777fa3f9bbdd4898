import type {
  EventStore,
  ParkedEvent,
  ParkedEventFilter,
  RetryParkedSelector,
  SubscriptionLogger,
} from '@ledger/event-store';
import { openDatabase } from '@ledger/event-store';
import type { Ledger } from '@ledger/ledger-application';
import {
  MARGIN_HISTORY_CONSUMER,
  MarginHistoryProjection,
  RISK_SAGA_CONSUMER,
  RiskSaga,
} from '@ledger/ledger-application';
import { ALL_MIGRATIONS } from '../../../../migrations';
import { configuredTarget } from '../database-target';
import { openRuntime } from '../runtime';

/** How long `ledger parked retry` waits for the consumers to try again (`--wait <seconds>`). */
export const RETRY_WAIT_SECONDS_DEFAULT = 30;
/** How often it looks at the rows while waiting. */
const RETRY_POLL_MS = 100;

/** Where the commands write: stdout for results, stderr for notes (so `--json` stays parseable). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** A parked row as `--json` prints it (positions and ids as strings). */
export interface ParkedEventJson {
  id: string;
  consumer: string;
  partition: number;
  status: ParkedEvent['status'];
  streamId: string;
  streamVersion: number;
  globalPosition: string;
  transactionId: string;
  type: string;
  error: string | null;
  attempts: number;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  parkedAt: string;
  retryRequestedAt: string | null;
  /** `failed` rows: how many events of its stream wait behind it. */
  blockedBehind?: number;
}

export function parkedJson(p: ParkedEvent, blockedBehind?: number): ParkedEventJson {
  return {
    id: p.id.toString(),
    consumer: p.consumer,
    partition: p.partition,
    status: p.status,
    streamId: p.streamId,
    streamVersion: p.streamVersion,
    globalPosition: p.globalPosition.toString(),
    transactionId: p.transactionId.toString(),
    type: p.type,
    error: p.error,
    attempts: p.attempts,
    firstFailedAt: p.firstFailedAt?.toISOString() ?? null,
    lastFailedAt: p.lastFailedAt?.toISOString() ?? null,
    parkedAt: p.parkedAt.toISOString(),
    retryRequestedAt: p.retryRequestedAt?.toISOString() ?? null,
    ...(blockedBehind === undefined ? {} : { blockedBehind }),
  };
}

const streamKey = (p: ParkedEvent): string =>
  `${p.consumer}\u0000${p.partition}\u0000${p.streamId}`;

/** Per failed row, the blocked rows of its stream (same consumer partition). */
function blockedBehindOf(rows: ParkedEvent[]): Map<bigint, number> {
  const blocked = new Map<string, number>();
  for (const r of rows)
    if (r.status === 'blocked') blocked.set(streamKey(r), (blocked.get(streamKey(r)) ?? 0) + 1);
  return new Map(
    rows.filter((r) => r.status === 'failed').map((r) => [r.id, blocked.get(streamKey(r)) ?? 0]),
  );
}

/** The store's parking API, or an error for a store that does not park (the in-memory one). */
function parkingApi(store: EventStore): ParkingApi {
  if (!store.parkedEvents || !store.retryParked)
    throw new Error('this event store does not park events');
  return {
    parkedEvents: (filter) => store.parkedEvents?.(filter) ?? Promise.resolve([]),
    retryParked: (selector) => store.retryParked?.(selector) ?? Promise.resolve([]),
  };
}

interface ParkingApi {
  parkedEvents(filter?: ParkedEventFilter): Promise<ParkedEvent[]>;
  retryParked(selector: RetryParkedSelector): Promise<ParkedEvent[]>;
}

/**
 * `ledger parked [list]`: the events consumers parked (failed), with how many of their stream's events wait
 * behind each; `--blocked` lists those too. Exit 0 either way: a listing is not a check.
 */
export async function listParked(
  store: EventStore,
  options: { consumer?: string; blocked?: boolean; json?: boolean },
  output: Output = CONSOLE,
): Promise<number> {
  const all = await parkingApi(store).parkedEvents(
    options.consumer === undefined ? {} : { consumer: options.consumer },
  );
  const behind = blockedBehindOf(all);
  const rows = options.blocked ? all : all.filter((r) => r.status === 'failed');
  if (options.json) {
    output.out(
      JSON.stringify(
        rows.map((r) => parkedJson(r, behind.get(r.id))),
        null,
        2,
      ),
    );
    return 0;
  }
  const failed = all.filter((r) => r.status === 'failed').length;
  if (failed === 0 && all.length === 0) {
    output.out('no parked events');
    return 0;
  }
  const table = [
    ['ID', 'CONSUMER', 'STATUS', 'STREAM', 'VERSION', 'POSITION', 'TYPE', 'ATTEMPTS', 'BEHIND'],
    ...rows.map((r) => [
      r.id.toString(),
      r.partition === 0 ? r.consumer : `${r.consumer}#${r.partition}`,
      r.retryRequestedAt ? `${r.status} (retry requested)` : r.status,
      r.streamId,
      String(r.streamVersion),
      r.globalPosition.toString(),
      r.type,
      String(r.attempts),
      r.status === 'failed' ? String(behind.get(r.id) ?? 0) : '',
    ]),
  ];
  for (const line of formatTable(table)) output.out(line);
  for (const r of rows.filter((row) => row.status === 'failed')) {
    output.out(
      `#${r.id} last failed ${r.lastFailedAt?.toISOString() ?? '?'} (first ${r.firstFailedAt?.toISOString() ?? '?'}): ${r.error ?? ''}`,
    );
  }
  output.out(
    `${failed} parked event${failed === 1 ? '' : 's'}, ${all.length - failed} waiting behind them; ` +
      '`ledger parked retry <id>` or `ledger parked retry --all` delivers them again',
  );
  return 0;
}

function formatTable(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export type RetryOutcome =
  | { event: ParkedEvent; outcome: 'delivered' }
  | { event: ParkedEvent; outcome: 'failed'; error: string | null; attempts: number }
  | { event: ParkedEvent; outcome: 'pending' };

export interface RetryOptions {
  /** How long to wait for the consumers to try (ms). */
  waitMs: number;
  /**
   * Starts, in this process, the consumers it can run that have marked rows (they take over only when no other
   * process holds them); returns the function that stops them.
   */
  host?: (consumers: string[]) => () => Promise<void>;
}

/**
 * Marks the selected failed rows for a retry, waits until each is delivered (its row is gone) or failed again
 * (its request answered), at most `waitMs`, and reports each outcome. Exit 0 when all were delivered, 1 when one
 * failed again or is still pending (no process ran its consumer), 2 for a bad request.
 */
export async function retryParked(
  store: EventStore,
  selector: RetryParkedSelector,
  options: RetryOptions,
  json: boolean,
  output: Output = CONSOLE,
): Promise<number> {
  const api = parkingApi(store);
  if ('ids' in selector) {
    const existing = await api.parkedEvents();
    for (const id of selector.ids) {
      const row = existing.find((r) => r.id === id);
      if (!row) {
        output.err(`no parked event ${id}`);
        return 1;
      }
      if (row.status === 'blocked') {
        const head = existing.find((r) => r.status === 'failed' && streamKey(r) === streamKey(row));
        output.err(
          `parked event ${id} (${row.streamId} v${row.streamVersion}) waits behind ${head ? `#${head.id}` : 'an earlier event of its stream'}: retry that one`,
        );
        return 1;
      }
    }
  }
  const marked = await api.retryParked(selector);
  if (marked.length === 0) {
    output.err('nothing to retry');
    return 0;
  }
  const stopHosted = options.host?.([...new Set(marked.map((r) => r.consumer))]);
  let outcomes: RetryOutcome[];
  try {
    outcomes = await waitForOutcomes(api, marked, options.waitMs);
  } finally {
    await stopHosted?.();
  }
  report(outcomes, options.waitMs, json, output);
  return outcomes.every((o) => o.outcome === 'delivered') ? 0 : 1;
}

async function waitForOutcomes(
  api: ParkingApi,
  marked: ParkedEvent[],
  waitMs: number,
): Promise<RetryOutcome[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = new Map((await api.parkedEvents()).map((r) => [r.id, r]));
    const outcomes = marked.map((event): RetryOutcome => {
      const row = now.get(event.id);
      if (!row) return { event, outcome: 'delivered' };
      if (row.retryRequestedAt === null)
        return { event, outcome: 'failed', error: row.error, attempts: row.attempts };
      return { event, outcome: 'pending' };
    });
    if (outcomes.every((o) => o.outcome !== 'pending') || Date.now() >= deadline) return outcomes;
    await new Promise((resolve) => setTimeout(resolve, RETRY_POLL_MS));
  }
}

function report(outcomes: RetryOutcome[], waitMs: number, json: boolean, output: Output): void {
  if (json) {
    output.out(
      JSON.stringify(
        outcomes.map((o) => ({
          ...parkedJson(o.event),
          outcome: o.outcome,
          ...(o.outcome === 'failed' ? { error: o.error, attempts: o.attempts } : {}),
        })),
        null,
        2,
      ),
    );
    return;
  }
  for (const o of outcomes) {
    const what = `#${o.event.id} ${o.event.consumer} ${o.event.streamId} v${o.event.streamVersion} (${o.event.type})`;
    if (o.outcome === 'delivered')
      output.out(`${what}: delivered; the events of its stream that waited behind it follow`);
    else if (o.outcome === 'failed')
      output.out(`${what}: failed again (${o.attempts} attempts), still parked: ${o.error ?? ''}`);
    else
      output.out(
        `${what}: still pending after ${Math.round(waitMs / 1000)} s: no process ran consumer ` +
          `${o.event.consumer}; the request stays and runs when one does`,
      );
  }
}

/** The consumers of the ledger this process can run while it waits (the EventBus pump lives in the API only). */
export function hostLedgerConsumers(store: EventStore, ledger: Ledger, logger: SubscriptionLogger) {
  return (consumers: string[]): (() => Promise<void>) => {
    const hosted: Array<{ stop(): Promise<void> }> = [];
    const start = (consumer: { start(): Promise<void>; stop(): Promise<void> }): void => {
      hosted.push(consumer);
      // In the background: while another process holds the consumer, this one waits for it (and is stopped).
      consumer
        .start()
        .catch((error: unknown) => logger.warn(`consumer did not start: ${String(error)}`));
    };
    if (consumers.includes(MARGIN_HISTORY_CONSUMER))
      start(new MarginHistoryProjection(store, { logger }));
    if (consumers.includes(RISK_SAGA_CONSUMER))
      start(
        new RiskSaga(
          ledger,
          {
            warn: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
            error: (...args: unknown[]) => logger.error(args.map(String).join(' ')),
          },
          logger,
        ),
      );
    return async () => {
      await Promise.all(hosted.map((c) => c.stop()));
    };
  };
}

/** Notes of the hosted consumers go to stderr, one line each. */
const STDERR_LOGGER: SubscriptionLogger = {
  log: () => undefined,
  warn: (message) => console.error(`warn: ${message}`),
  error: (message) => console.error(`error: ${message}`),
};

/** `ledger parked [list] [--consumer C] [--blocked] [--json]` */
export async function parkedListCommand(options: {
  consumer?: string;
  blocked?: boolean;
  json?: boolean;
}): Promise<number> {
  // The database only: a listing needs no ledger (and writes nothing, not even the initial reference data).
  const target = configuredTarget();
  const database = await openDatabase({
    ...(target.url === undefined ? {} : { url: target.url }),
    ...(target.dataDir === undefined ? {} : { dataDir: target.dataDir }),
    migrations: ALL_MIGRATIONS,
  });
  try {
    return await listParked(database.store, options);
  } finally {
    await database.close();
  }
}

/** `ledger parked retry <id>... | --all [--consumer C] [--wait S] [--json]` */
export async function parkedRetryCommand(
  ids: string[],
  options: { all?: boolean; consumer?: string; wait?: string; json?: boolean },
): Promise<number> {
  if (Boolean(options.all) === ids.length > 0) {
    console.error('parked retry: give parked event ids or --all, not both');
    return 2;
  }
  if (ids.some((id) => !/^\d+$/.test(id))) {
    console.error(`parked retry: ids are the numbers \`ledger parked\` lists: ${ids.join(' ')}`);
    return 2;
  }
  if (options.consumer !== undefined && !options.all) {
    console.error('parked retry: --consumer goes with --all');
    return 2;
  }
  const waitSeconds =
    options.wait === undefined ? RETRY_WAIT_SECONDS_DEFAULT : Number(options.wait);
  if (!(Number.isFinite(waitSeconds) && waitSeconds >= 0)) {
    console.error(`parked retry: --wait takes seconds ≥ 0: ${options.wait}`);
    return 2;
  }
  const selector: RetryParkedSelector = options.all
    ? { all: true, ...(options.consumer === undefined ? {} : { consumer: options.consumer }) }
    : { ids: ids.map((id) => BigInt(id)) };
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false, marginHistory: false });
  try {
    return await retryParked(
      runtime.database.store,
      selector,
      {
        waitMs: waitSeconds * 1000,
        host: hostLedgerConsumers(runtime.database.store, runtime.ledger, STDERR_LOGGER),
      },
      options.json ?? false,
    );
  } finally {
    await runtime.close();
  }
}
