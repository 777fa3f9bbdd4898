/**
 * The audit tools on a real database: `verify` finds a tampered projection row and a rebuild (side by side,
 * swapped in one transaction) mends it, and names an event edited behind the ledger's back (its hash no longer
 * matches); `export` → `import` into an empty ledger reproduces every event with the same hashes, a second import
 * appends nothing, a conflicting, gapped or tampered file is refused before anything is written, and a command id
 * clash met half-way through a file writes nothing (issue 11, item 7); `replay` explains each event with the
 * change it caused.
 */
import { readFileSync } from 'node:fs';
import { eventHash } from '@ledger/event-store';
import { join } from 'node:path';
import type { TestDatabase } from '@ledger/testing';
import { createTestDatabase } from '@ledger/testing';
import { parseReferenceData } from '@ledger/margin-domain';
import type { ExportedEvent } from '../src';
import {
  ImportConflictError,
  AccountRepository,
  verifyIsClean,
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
 * Waits until readers see the last committed event: they read below the cluster-wide xmin, which an open
 * transaction anywhere on the server (another suite's CREATE DATABASE) holds back for a moment.
 */
async function untilVisible(db: TestDatabase): Promise<void> {
  const [last] = await db.store.query<{ position: string }>(
    'SELECT global_position::text AS position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
  );
  if (!last) return;
  const deadline = Date.now() + 10_000;
  while (!(await db.store.isVisible(BigInt(last.position)))) {
    if (Date.now() > deadline) throw new Error(`event ${last.position} never became visible`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `ledger export` of everything committed so far. */
async function exported(db: TestDatabase): Promise<ExportedEvent[]> {
  await untilVisible(db);
  const out: ExportedEvent[] = [];
  for await (const e of exportEvents(db.store)) out.push(e);
  return out;
}

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
  }, 300_000);

  afterAll(async () => {
    await source.drop();
  });

  it('verify is clean on a ledger written by the command path, every event hashed', async () => {
    const report = await verifyLedger(source.store);
    expect(report.accounts).toBeGreaterThanOrEqual(2);
    expect(report.events).toBe(events.filter((e) => e.streamId.startsWith('account-')).length);
    expect(report.mismatches).toEqual([]);
    expect(report.chains).toMatchObject({
      events: events.length,
      hashedEvents: events.length,
      unhashedPrefixes: [],
      mismatches: [],
    });
    expect(verifyIsClean(report)).toBe(true);
    expect(events.every((e) => typeof e.hash === 'string')).toBe(true);
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
      expect(first).toEqual({
        lines: events.length,
        appended: events.length,
        alreadyPresent: 0,
        hashesChecked: events.length,
        unhashed: 0,
        rehashed: 0,
      });
      // Same events, same hashes: the chain covers no position, transaction or time.
      expect(withoutPosition(await exported(target))).toEqual(withoutPosition(events));
      expect(verifyIsClean(await verifyLedger(target.store))).toBe(true);

      const second = await importEvents(target.store, events);
      expect(second).toEqual({
        lines: events.length,
        appended: 0,
        alreadyPresent: events.length,
        hashesChecked: events.length,
        unhashed: 0,
        rehashed: 0,
      });
      expect(await exported(target)).toHaveLength(events.length);
    } finally {
      await target.drop();
    }
  }, 300_000);

  it('refuses a conflicting or gapped file before writing anything', async () => {
    const target = await createTestDatabase('tools_conflict');
    try {
      const firstHalf = events.slice(0, Math.floor(events.length / 2));
      await importEvents(target.store, firstHalf);
      const depositIndex = events.findIndex(
        (e, i) => i < firstHalf.length && e.type === 'Deposited',
      );
      // A file of the format before hashes (nothing to recompute): the stored event is the reference.
      const conflicting = events.map(({ hash: _h, ...e }, i) =>
        i === depositIndex ? { ...e, data: { ...e.data, amount: '999999' } } : e,
      );
      await expect(importEvents(target.store, conflicting)).rejects.toThrow(
        new RegExp(`line ${depositIndex + 1}: .* differs from the stored event`),
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
  }, 300_000);

  it('refuses a file edited after the export, naming the line and event, before writing anything', async () => {
    const target = await createTestDatabase('tools_tampered_file');
    try {
      const sameStreamAt = (e: ExportedEvent, version: number) =>
        events.findIndex((x) => x.streamId === e.streamId && x.streamVersion === version);
      // A deposit in the second half with a later event in its stream.
      const i = events.findIndex(
        (e, n) =>
          n > events.length / 2 &&
          e.type === 'Deposited' &&
          sameStreamAt(e, e.streamVersion + 1) > n,
      );
      const victim = events[i]!;
      const tampered = events.map((e, n) =>
        n === i ? { ...e, data: { ...e.data, amount: '999999' } } : e,
      );
      await expect(importEvents(target.store, tampered)).rejects.toThrow(
        `line ${i + 1}: ${victim.streamId} version ${victim.streamVersion} (global position ${victim.globalPosition} in the export): its hash does not match`,
      );
      // Rehashing the edited line moves the mismatch to the next event of its stream.
      const previousHash = events[sameStreamAt(victim, victim.streamVersion - 1)]?.hash ?? null;
      const rehashed = tampered.map((e, n) =>
        n === i ? { ...e, hash: eventHash(previousHash, e) } : e,
      );
      const next = sameStreamAt(victim, victim.streamVersion + 1);
      await expect(importEvents(target.store, rehashed)).rejects.toThrow(
        `line ${next + 1}: ${victim.streamId} version ${victim.streamVersion + 1} `,
      );
      // A line whose hash was removed, after hashed lines of its stream.
      const stripped = events.map((e, n) => (n === i ? { ...e, hash: null } : e));
      await expect(importEvents(target.store, stripped)).rejects.toThrow(
        /has no hash, after hashed events of its stream/,
      );
      expect(await exported(target)).toEqual([]);
    } finally {
      await target.drop();
    }
  }, 300_000);

  it('imports a stream whose first events have no hash (a source older than the chain) and hashes it whole', async () => {
    const target = await createTestDatabase('tools_unhashed_prefix');
    try {
      // What an export of a ledger migrated to the chain looks like: account-a1's first three events have no
      // hash, the next one starts the chain from nothing, and every later one chains.
      const previous = new Map<string, string | null>();
      let seen = 0;
      const file = events.map((e) => {
        if (e.streamId !== 'account-a1') return e;
        seen += 1;
        const hash = seen <= 3 ? null : eventHash(previous.get(e.streamId) ?? null, e);
        previous.set(e.streamId, hash);
        return { ...e, hash };
      });
      const a1 = file.filter((e) => e.streamId === 'account-a1').length;
      const report = await importEvents(target.store, file);
      expect(report).toMatchObject({
        appended: events.length,
        unhashed: 3,
        hashesChecked: events.length - 3,
        rehashed: a1 - 3,
      });
      const imported = await exported(target);
      expect(imported.filter((e) => e.streamId !== 'account-a1').map((e) => e.hash)).toEqual(
        events.filter((e) => e.streamId !== 'account-a1').map((e) => e.hash),
      );
      expect(imported.every((e) => typeof e.hash === 'string')).toBe(true);
      expect(verifyIsClean(await verifyLedger(target.store))).toBe(true);
      // Idempotent again: the same file against what it produced.
      expect(await importEvents(target.store, file)).toMatchObject({
        appended: 0,
        alreadyPresent: events.length,
      });
    } finally {
      await target.drop();
    }
  }, 300_000);

  it('verify names an account event edited behind the ledger’s back: stream, version, global position', async () => {
    const target = await createTestDatabase('tools_tampered_event');
    try {
      await importEvents(target.store, events);
      const victim = events.find((e) => e.streamId === 'account-a1' && e.type === 'Deposited')!;
      await target.store.withTransaction(async (tx) => {
        await tx.query('ALTER TABLE events DISABLE TRIGGER events_are_immutable');
        await tx.query(
          `UPDATE events SET data = jsonb_set(data, '{amount}', '"999999"')
            WHERE stream_id = $1 AND stream_version = $2`,
          [victim.streamId, victim.streamVersion],
        );
        await tx.query('ALTER TABLE events ENABLE TRIGGER events_are_immutable');
      });
      const [stored] = await target.store.readStream(victim.streamId, {
        fromVersion: victim.streamVersion,
        toVersion: victim.streamVersion,
      });
      const report = await verifyLedger(target.store);
      expect(verifyIsClean(report)).toBe(false);
      expect(report.chains?.mismatches).toEqual([
        {
          streamId: victim.streamId,
          streamVersion: victim.streamVersion,
          globalPosition: stored?.globalPosition,
          reason: expect.stringMatching(/is not the recomputed/),
        },
      ]);
    } finally {
      await target.drop();
    }
  }, 300_000);

  it('a command id already used in the target, met half-way through the file, writes nothing and is named', async () => {
    const target = await createTestDatabase('tools_clash');
    try {
      // A command id of the file's second half, already taken by another stream of the target.
      const clashing = events[Math.floor(events.length * 0.75)];
      const clashId = clashing?.metadata.commandId;
      if (typeof clashId !== 'string') throw new Error('every exported event carries a commandId');
      await target.store.append(
        'account-zz-other',
        [
          {
            type: 'AccountOpened',
            schemaVersion: 1,
            data: { accountId: 'zz-other' },
            metadata: { commandId: clashId, occurredAt: '2024-01-01T00:00:00.000Z' },
          },
        ],
        { commandId: clashId, expectedVersion: 0 },
      );
      const before = await exported(target);

      const refused = importEvents(target.store, events);
      await expect(refused).rejects.toBeInstanceOf(ImportConflictError);
      await expect(refused).rejects.toThrow(clashId);
      expect(await exported(target)).toEqual(before);
      expect(await target.store.query('SELECT account_id FROM accounts')).toEqual([]);
    } finally {
      await target.drop();
    }
  }, 300_000);

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
