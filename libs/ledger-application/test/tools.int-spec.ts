/**
 * The audit tools on a real database: `verify` finds a tampered projection row and a rebuild (side by side,
 * swapped in one transaction) mends it; `export` → `import` into an empty ledger reproduces every event, a
 * second import appends nothing, a conflicting or gapped file is refused before anything is written; `replay`
 * explains each event with the change it caused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestDatabase } from '@ledger/testing';
import { createTestDatabase } from '@ledger/testing';
import { parseReferenceData } from '@ledger/margin-domain';
import type { ExportedEvent } from '../src';
import {
  ImportConflictError,
  AccountRepository,
  DEFAULT_REFERENCE_DATA,
  Ledger,
  RiskIndex,
  exportEvents,
  importEvents,
  parseScenario,
  readShippedReferenceData,
  rebuildAccountProjections,
  replayAccount,
  runScenario,
  sqlAccountProjection,
  verifyLedger,
} from '../src';
import { SHARED_EXAMPLES_DIR } from './scenario-files';

/**
 * Every event of the database, once the last one written is visible: the global read stops below the cluster-wide
 * xmin, so while another suite on the server holds a transaction open it would return a prefix (a CI flake).
 */
async function exported(db: TestDatabase): Promise<ExportedEvent[]> {
  const [last] = await db.store.query<{ p: string | null }>(
    'SELECT max(global_position)::text AS p FROM events',
  );
  if (last?.p) while (!(await db.store.isVisible(BigInt(last.p)))) await pause(5);
  const out: ExportedEvent[] = [];
  for await (const e of exportEvents(db.store)) out.push(e);
  return out;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const withoutPosition = (events: ExportedEvent[]) =>
  events.map(({ globalPosition: _p, ...rest }) => rest);

describe('audit tools', () => {
  let source: TestDatabase;
  let events: ExportedEvent[];

  beforeAll(async () => {
    source = await createTestDatabase('tools_source');
    const json: unknown = JSON.parse(
      readFileSync(join(SHARED_EXAMPLES_DIR, 'gen-8-0005.json'), 'utf8'),
    );
    const report = await runScenario(
      parseScenario(json),
      async (referenceData) => {
        const ledger = await Ledger.open({
          store: source.store,
          referenceData,
          projection: sqlAccountProjection,
        });
        return { ledger, dispose: () => ledger.close() };
      },
      { file: 'gen-8-0005.json' },
    );
    expect(report.failed).toBe(0);
    events = await exported(source);
  }, 60_000);

  afterAll(async () => {
    await source.drop();
  });

  it('verify is clean on a ledger written by the command path', async () => {
    const report = await verifyLedger(source.store);
    expect(report.accounts).toBeGreaterThanOrEqual(2);
    expect(report.events).toBe(events.filter((e) => e.streamId.startsWith('account-')).length);
    expect(report.mismatches).toEqual([]);
  });

  it('verify names a tampered projection row, and a rebuild mends it', async () => {
    await source.store.withTransaction((tx) =>
      tx.query(
        `UPDATE account_wallets SET balance = balance + 1 WHERE account_id = 'a1' AND asset = 'USDC'`,
      ),
    );
    const tampered = await verifyLedger(source.store);
    expect(tampered.mismatches.map((m) => [m.accountId, m.what])).toEqual([['a1', 'projection']]);
    expect(tampered.mismatches[0]?.diff.join('\n')).toMatch(/wallets/);

    const progress: string[] = [];
    const rebuilt = await rebuildAccountProjections(source.store, (p) => progress.push(p.phase));
    expect(rebuilt.events).toBe(tampered.events);
    expect(progress).toContain('fold');
    expect(progress).toContain('write');
    expect((await verifyLedger(source.store)).mismatches).toEqual([]);
  });

  it('export then import into an empty ledger reproduces every event; a second import appends nothing', async () => {
    const target = await createTestDatabase('tools_target');
    try {
      const first = await importEvents(target.store, events);
      expect(first).toEqual({ lines: events.length, appended: events.length, alreadyPresent: 0 });
      expect(withoutPosition(await exported(target))).toEqual(withoutPosition(events));
      expect((await verifyLedger(target.store)).mismatches).toEqual([]);

      const second = await importEvents(target.store, events);
      expect(second).toEqual({ lines: events.length, appended: 0, alreadyPresent: events.length });
      expect(await exported(target)).toHaveLength(events.length);
    } finally {
      await target.drop();
    }
  }, 60_000);

  it('refuses a conflicting or gapped file before writing anything', async () => {
    const target = await createTestDatabase('tools_conflict');
    try {
      const firstHalf = events.slice(0, Math.floor(events.length / 2));
      await importEvents(target.store, firstHalf);
      const depositIndex = events.findIndex(
        (e, i) => i < firstHalf.length && e.type === 'Deposited',
      );
      const conflicting = events.map((e, i) =>
        i === depositIndex ? { ...e, data: { ...e.data, amount: '999999' } } : e,
      );
      await expect(importEvents(target.store, conflicting)).rejects.toBeInstanceOf(
        ImportConflictError,
      );
      // Drop an event of the second half that has a successor in its stream: the file then has a version gap.
      const dropped = events.findIndex(
        (e, i) =>
          i >= firstHalf.length &&
          events.some((later, j) => j > i && later.streamId === e.streamId),
      );
      expect(dropped).toBeGreaterThanOrEqual(firstHalf.length);
      const gapped = events.filter((_, i) => i !== dropped);
      await expect(importEvents(target.store, gapped)).rejects.toThrow(/expects version/);
      expect(await exported(target)).toHaveLength(firstHalf.length);
    } finally {
      await target.drop();
    }
  }, 60_000);

  it('the risk index loaded from the projections equals the one folded from the streams', async () => {
    const ref = parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA));
    const folded = new RiskIndex();
    await folded.load(source.store, new AccountRepository(source.store, 200), ref);
    const projected = new RiskIndex();
    await projected.loadFromProjections(source.store, ref);
    expect(projected.all()).toEqual(folded.all());
    expect(folded.all().length).toBeGreaterThanOrEqual(2);
    for (const symbol of Object.keys(ref.symbols))
      expect(projected.holdersOf(symbol)).toEqual(folded.holdersOf(symbol));
    for (const asset of Object.keys(ref.assets))
      expect(projected.holdersOfAsset(asset)).toEqual(folded.holdersOfAsset(asset));
    expect(Object.keys(ref.symbols).some((s) => folded.holdersOf(s).length > 0)).toBe(true);
  });

  it('replay explains each event of an account with the change it caused', async () => {
    const steps = await replayAccount(source.store, 'a1');
    const stream = events.filter((e) => e.streamId === 'account-a1');
    expect(steps.map((s) => s.event.type)).toEqual(stream.map((e) => e.type));
    const deposit = steps.find((s) => s.event.type === 'Deposited');
    const amount = deposit?.event.data.amount;
    if (typeof amount !== 'string')
      throw new Error('a Deposited event carries its amount as a string');
    expect(deposit?.changes.some((c) => c.startsWith('wallet.') && c.endsWith(amount))).toBe(true);
    const upTo = steps[2]?.event.globalPosition ?? 0n;
    expect(await replayAccount(source.store, 'a1', { position: upTo })).toHaveLength(3);
  });
});
