import type { EventStore, JsonObject, LedgerDatabase } from '@ledger/event-store';
import { openDatabase } from '@ledger/event-store';
import type { InlineProjection } from '@ledger/ledger-application';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  readShippedReferenceData,
  sqlAccountProjection,
} from '@ledger/ledger-application';
import type {
  AccountCommand,
  AccountState,
  MarketState,
  ReferenceData,
} from '@ledger/margin-domain';
import {
  ACCOUNT_EVENT_SCHEMA_VERSION,
  ACCOUNT_SNAPSHOT_SCHEMA_VERSION,
  accountStateToJson,
  applyMarketEvent,
  applyOverrides,
  decide,
  decideMarket,
  emptyMarketState,
  evolve,
  initialAccountState,
  parseReferenceData,
} from '@ledger/margin-domain';
import { ALL_MIGRATIONS } from '../../../../migrations';
import type { BenchDatabase } from './databases';

/** The shipped reference data the ledger runs on by default. */
export function shippedReference(): ReferenceData {
  return parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA));
}

export const BENCH_REFERENCE_VERSION = 'bench-50-symbols';

/** `S00USDT` … : synthetic symbols with BTCUSDT's brackets (margin asset USDT). */
export function syntheticSymbols(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `S${String(i).padStart(2, '0')}USDT`);
}

/** The PublishReferenceData overrides that add the synthetic symbols, and the set they give. */
export function syntheticOverrides(base: ReferenceData, count: number): Record<string, unknown> {
  const btc = base.symbols.BTCUSDT;
  if (!btc) throw new Error('BTCUSDT is not in the shipped reference data');
  const overrides: Record<string, unknown> = {};
  for (const symbol of syntheticSymbols(count)) {
    overrides[`symbols.${symbol}`] = {
      ...JSON.parse(JSON.stringify(btc)),
      baseAsset: symbol.replace(/USDT$/, ''),
    };
  }
  return overrides;
}

export function withSyntheticSymbols(base: ReferenceData, count: number): ReferenceData {
  return applyOverrides(base, syntheticOverrides(base, count), BENCH_REFERENCE_VERSION);
}

/** One event of an account template: its type, data and occurredAt. */
export interface TemplateEvent {
  type: string;
  data: JsonObject;
  at: string;
}

export interface TemplateCommand {
  type: AccountCommand['type'];
  [field: string]: unknown;
}

/**
 * Real account events from the real deciders (decide + evolve), so seeded streams fold like live ones. `at` of
 * event i is start + i × stepMs. Stops at `maxEvents`.
 */
export function accountTemplate(
  ref: ReferenceData,
  market: MarketState,
  commands: Iterable<TemplateCommand>,
  options: { maxEvents: number; startMs?: number; stepMs?: number; accountId?: string },
): { events: TemplateEvent[]; states: AccountState[] } {
  const accountId = options.accountId ?? 'template';
  const start = options.startMs ?? Date.parse('2024-06-01T00:00:00.000Z');
  const step = options.stepMs ?? 1000;
  let state = initialAccountState(accountId);
  const events: TemplateEvent[] = [];
  const states: AccountState[] = [];
  for (const command of commands) {
    const decided = decide({ ...command, accountId } as unknown as AccountCommand, state, {
      ref,
      market,
    });
    for (const event of decided) {
      state = evolve(state, event);
      events.push({
        type: event.type,
        data: event.data as unknown as JsonObject,
        at: new Date(start + events.length * step).toISOString(),
      });
      states.push(state);
      if (events.length >= options.maxEvents) return { events, states };
    }
  }
  return { events, states };
}

/** A trading account's life: open, deposit, leverage, then fills both ways with deposits and withdrawals. */
export function* tradingCommands(symbol = 'BTCUSDT'): Generator<TemplateCommand> {
  yield { type: 'OpenAccount' as const, vipLevel: 0, assetMode: 'SINGLE' };
  yield { type: 'Deposit' as const, asset: 'USDT', amount: '100000' };
  yield { type: 'SetLeverage' as const, symbol, leverage: 20 };
  for (let i = 0; ; i++) {
    const price = String(50_000 + (i % 40) * 5);
    yield { type: 'Fill' as const, symbol, side: 'BUY', quantity: '0.01', price, fee: '0.2' };
    yield { type: 'Deposit' as const, asset: 'USDT', amount: '10' };
    yield {
      type: 'Fill' as const,
      symbol,
      side: 'SELL',
      quantity: '0.01',
      price: String(50_010 + (i % 40) * 5),
      fee: '0.2',
    };
    yield { type: 'Withdraw' as const, asset: 'USDT', amount: '5' };
  }
}

/** A market state with a mark price for each symbol. */
export function marketWithMarks(ref: ReferenceData, marks: Record<string, string>): MarketState {
  const market = emptyMarketState();
  for (const [symbol, markPrice] of Object.entries(marks)) {
    applyMarketEvent(
      market,
      decideMarket(
        { type: 'UpdateMarkPrice' as const, symbol, markPrice, indexPrice: markPrice },
        ref,
      ),
    );
  }
  return market;
}

const TEMPLATE_TABLE = `CREATE TABLE IF NOT EXISTS bench_template (
  tid integer NOT NULL, version integer NOT NULL, type text NOT NULL, data jsonb NOT NULL, at text NOT NULL,
  PRIMARY KEY (tid, version))`;

let templateIds = 0;

/**
 * Seeds account streams straight into `events`/`streams` with multi-row INSERTs generated on the server from a
 * template (events are immutable, but nothing forbids inserting them): the same events for every account, with
 * the account id put into AccountOpened, interleaved across accounts in global order. No command ids and no
 * projections are written (a rebuild writes those).
 */
export async function seedAccounts(
  store: EventStore,
  template: TemplateEvent[],
  accountIds: string[],
  referenceDataVersion: string,
  onProgress?: (events: number) => void,
  chunkEvents = 50_000,
): Promise<number> {
  await store.query(TEMPLATE_TABLE);
  const tid = ++templateIds;
  await store.query(
    `INSERT INTO bench_template (tid, version, type, data, at)
     SELECT $1, x.version, x.type, x.data, x.at FROM jsonb_to_recordset($2::jsonb) AS x(version integer, type text, data jsonb, at text)`,
    [
      tid,
      JSON.stringify(
        template.map((e, i) => ({ version: i + 1, type: e.type, data: e.data, at: e.at })),
      ),
    ],
  );
  const perChunk = Math.max(1, Math.floor(chunkEvents / Math.max(template.length, 1)));
  let written = 0;
  for (let i = 0; i < accountIds.length; i += perChunk) {
    const ids = accountIds.slice(i, i + perChunk);
    await store.withTransaction(async (tx) => {
      await tx.query(
        `INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
         SELECT 'account-' || p.id, t.version, t.type, $3::integer,
                CASE WHEN t.type = 'AccountOpened' THEN jsonb_set(t.data, '{accountId}', to_jsonb(p.id)) ELSE t.data END,
                jsonb_build_object('commandId', 'seed:' || p.id || ':' || t.version, 'occurredAt', t.at,
                                   'referenceDataVersion', $4::text, 'actor', 'bench')
           FROM unnest($1::text[]) WITH ORDINALITY AS p(id, n)
           CROSS JOIN bench_template t
          WHERE t.tid = $2
          ORDER BY t.version, p.n`,
        [ids, tid, ACCOUNT_EVENT_SCHEMA_VERSION, referenceDataVersion],
      );
      await tx.query(
        `INSERT INTO streams (stream_id, version) SELECT 'account-' || id, $2::integer FROM unnest($1::text[]) AS id`,
        [ids, template.length],
      );
    });
    written += ids.length * template.length;
    onProgress?.(written);
  }
  return written;
}

/** Snapshots every `every` versions of a seeded account, from the template's states. */
export async function seedSnapshots(
  store: EventStore,
  accountId: string,
  template: TemplateEvent[],
  states: AccountState[],
  every: number,
): Promise<number> {
  const rows: { v: number; s: unknown }[] = [];
  for (let v = every; v <= states.length; v += every) {
    const state = states[v - 1];
    const at = template[v - 1]?.at;
    if (!state || !at) continue;
    rows.push({ v, s: { state: accountStateToJson({ ...state, accountId }), lastAt: at } });
  }
  for (let i = 0; i < rows.length; i += 200) {
    await store.query(
      `INSERT INTO snapshots (stream_id, stream_version, schema_version, state)
       SELECT $1, x.v, $2, x.s FROM jsonb_to_recordset($3::jsonb) AS x(v integer, s jsonb)`,
      [
        `account-${accountId}`,
        ACCOUNT_SNAPSHOT_SCHEMA_VERSION,
        JSON.stringify(rows.slice(i, i + 200)),
      ],
    );
  }
  return rows.length;
}

/** Marks a durable consumer as caught up with everything in the store (seeded accounts were "already checked"). */
export async function checkpointAtHead(store: EventStore, consumer: string): Promise<void> {
  await store.query(
    `INSERT INTO subscription_checkpoints (name, transaction_id, global_position)
     SELECT $1, transaction_id, global_position FROM events ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1
     ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`,
    [consumer],
  );
}

/** Rows the inline projection writes for a state: the accounts upsert, then delete + insert per child row. */
export function projectionRows(state: AccountState): number {
  return (
    1 + 2 * (state.wallets.size + state.positions.size + state.symbols.size + state.orders.size)
  );
}

export interface BenchLedger {
  database: LedgerDatabase;
  ledger: Ledger;
  /** Rows written by the inline projection since open (counted from the states it projects). */
  projectedRows: { count: number };
  close(): Promise<void>;
}

/** The ledger as the API runs it (SQL inline projection), with the bench's switches. */
export async function openBenchLedger(
  db: BenchDatabase,
  options: {
    riskSaga?: boolean;
    groupCommit?: boolean;
    poolSize?: number;
    referenceData?: ReferenceData;
  } = {},
): Promise<BenchLedger> {
  const database = await openDatabase({
    ...(db.url === undefined ? {} : { url: db.url }),
    ...(db.dataDir === undefined ? {} : { dataDir: db.dataDir }),
    poolSize: options.poolSize ?? 40,
    migrations: ALL_MIGRATIONS,
    applicationName: 'ledger-bench',
  });
  const projectedRows = { count: 0 };
  const projection: InlineProjection = async (tx, accountId, state, events) => {
    projectedRows.count += projectionRows(state);
    await sqlAccountProjection(tx, accountId, state, events);
  };
  try {
    const ledger = await Ledger.open({
      store: database.store,
      referenceData: options.referenceData ?? shippedReference(),
      projection,
      riskSaga: options.riskSaga ?? false,
      marginHistory: false,
      ...(options.groupCommit ? { groupCommit: true } : {}),
      logger: { warn: () => undefined, error: (...args: unknown[]) => console.error(...args) },
    });
    return {
      database,
      ledger,
      projectedRows,
      close: async () => {
        await ledger.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
