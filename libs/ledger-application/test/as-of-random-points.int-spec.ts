/**
 * As-of reads against what the live query said at the time (ARCHITECTURE "Time"): a seeded run of 340 commands
 * (three accounts, fills at moving prices, ticks that drive the risk saga, funding, a reference-data version
 * published half-way, rejections) with strictly increasing `at`. After each command and settle, the live
 * `accountView` of every account is captured with the global position reached and the command's time; then, at
 * 60 random points, `accountView(id, { position })` and `accountView(id, { time })` must equal the capture.
 * Runs on PostgreSQL (TEST_DATABASE_URL) and on PGlite.
 */
import type { TestDatabase } from '@ledger/testing';
import { createTestDatabase } from '@ledger/testing';
import type { AccountView } from '@ledger/margin-domain';
import { LedgerDomainError, parseReferenceData } from '@ledger/margin-domain';
import {
  DEFAULT_REFERENCE_DATA,
  Ledger,
  readShippedReferenceData,
  sqlAccountProjection,
} from '../src';
import type { WorkloadCommand } from './workload';
import { generateWorkload, seededRandom } from './workload';

const ACCOUNTS = ['s1', 's2', 'm1'];
const COMMANDS = 340;
const POINTS = 60;

interface Capture {
  index: number;
  commandId: string;
  at: string;
  position: bigint;
  views: Record<string, AccountView | null>;
}

let db: TestDatabase;
let ledger: Ledger;

beforeAll(async () => {
  db = await createTestDatabase('as_of_random_points');
  ledger = await Ledger.open({
    store: db.store,
    referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)),
    projection: sqlAccountProjection,
    logger: { warn: () => undefined, error: (...args: unknown[]) => console.error(...args) },
  });
}, 300_000);

afterAll(async () => {
  await ledger?.close();
  await db?.drop();
});

function workload(): WorkloadCommand[] {
  const commands = generateWorkload({
    seed: 424242,
    count: COMMANDS,
    prefix: 'asof',
    singleAccounts: ['s1', 's2'],
    multiAccounts: ['m1'],
    stepMs: 7_000,
  });
  // Half-way, a new reference-data version: a lower default leverage changes the initial margin of every
  // position on a symbol whose leverage the account never set (m1's, s1's and s2's BNBUSDT).
  const middle = commands[Math.floor(COMMANDS / 2)] as WorkloadCommand;
  middle.input = {
    command: 'PublishReferenceData',
    overrides: { defaultLeverage: 10 },
    version: 'as-of-test-v2',
  };
  delete middle.mustReject;
  return commands;
}

describe('as-of reads at random points of a long run', () => {
  it('equal the live view captured right after that point, by global position and by time', async () => {
    const commands = workload();
    const captures: Capture[] = [];
    let rejected = 0;
    for (const [index, c] of commands.entries()) {
      let lastPosition = 0n;
      try {
        const outcome = await ledger.execute(c.input, { commandId: c.commandId, at: c.at });
        for (const e of outcome.events)
          if (BigInt(e.globalPosition) > lastPosition) lastPosition = BigInt(e.globalPosition);
      } catch (error) {
        if (!(error instanceof LedgerDomainError)) throw error;
        rejected += 1;
      }
      await ledger.settle(lastPosition);
      const head = await db.store.headCheckpoint();
      const views: Record<string, AccountView | null> = {};
      for (const id of ACCOUNTS) views[id] = await ledger.accountView(id);
      captures.push({
        index,
        commandId: c.commandId,
        at: c.at,
        position: head?.globalPosition ?? 0n,
        views,
      });
    }

    // The run did what it is meant to exercise.
    expect(rejected).toBeGreaterThan(5);
    const types = await db.store.query<{ type: string }>(`SELECT DISTINCT type FROM events`);
    expect(types.map((t) => t.type)).toEqual(
      expect.arrayContaining([
        'PositionChanged',
        'FundingSettled',
        'ReferenceDataPublished',
        'AutoExchangeExecuted',
      ]),
    );
    const positions = captures.map((c) => c.position);
    expect(new Set(positions).size).toBeGreaterThan(COMMANDS * 0.8);

    const random = seededRandom(99);
    const points = new Set<number>([
      0,
      Math.floor(COMMANDS / 2) - 1,
      Math.floor(COMMANDS / 2),
      COMMANDS - 1,
    ]);
    while (points.size < POINTS) points.add(Math.floor(random() * COMMANDS));
    const differences: string[] = [];
    let compared = 0;
    for (const index of [...points].sort((a, b) => a - b)) {
      const capture = captures[index] as Capture;
      for (const id of ACCOUNTS) {
        const live = capture.views[id] ?? null;
        const byPosition = await ledger.accountView(id, { position: capture.position });
        const byTime = await ledger.accountView(id, { time: capture.at });
        if (live !== null) compared += 1;
        try {
          expect(byPosition).toEqual(live);
        } catch {
          differences.push(
            `after ${capture.commandId} (step ${index}, position ${capture.position}) ${id}: by position differs`,
          );
        }
        try {
          expect(byTime).toEqual(live);
        } catch {
          differences.push(
            `after ${capture.commandId} (step ${index}, ${capture.at}) ${id}: by time differs`,
          );
        }
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(POINTS * 2);
  }, 300_000);
});
