import { createTestDatabase } from '@ledger/testing';
import { LedgerDomainError, parseReferenceData } from '@ledger/margin-domain';
import { Ledger, sqlAccountProjection, readShippedReferenceData, DEFAULT_REFERENCE_DATA } from '../src';
import { generateWorkload } from './workload';

it('scratch', async () => {
  const db = await createTestDatabase('scratch');
  const ledger = await Ledger.open({ store: db.store, referenceData: parseReferenceData(readShippedReferenceData(DEFAULT_REFERENCE_DATA)), projection: sqlAccountProjection });
  const cmds = generateWorkload({ seed: 7, count: 2000, prefix: 'c', singleAccounts: ['s1','s2','s3','s4'], multiAccounts: ['m1','m2','m3'] });
  const codes: Record<string, number> = {};
  const t0 = Date.now();
  for (const c of cmds) {
    try {
      const o = await ledger.execute(c.input, { commandId: c.commandId, at: c.at });
      await ledger.settle(o.events.reduce((m, e) => (BigInt(e.globalPosition) > m ? BigInt(e.globalPosition) : m), 0n));
      codes[o.events.length === 0 ? 'ok-empty:' + c.input.command : 'ok'] = (codes[o.events.length === 0 ? 'ok-empty:' + c.input.command : 'ok'] ?? 0) + 1;
    } catch (e) {
      if (!(e instanceof LedgerDomainError)) throw e;
      const k = `${c.mustReject ? 'R' : 'r'}:${c.input.command}:${e.code}`;
      codes[k] = (codes[k] ?? 0) + 1;
    }
  }
  const types = await db.store.query("select type, count(*) from events group by 1 order by 2 desc");
  console.log(Date.now() - t0, JSON.stringify(codes, null, 1), JSON.stringify(types));
  await ledger.close();
  await db.drop();
}, 120000);
