import { rebuildAccountProjections } from '@ledger/ledger-application';
import { ProgressBar } from '../progress';
import type { BenchDatabase } from './databases';
import { log, nowMs, perSecond, round } from './stats';
import {
  accountTemplate,
  marketWithMarks,
  openBenchLedger,
  seedAccounts,
  shippedReference,
  tradingCommands,
} from './workload';

export interface RebuildFigures {
  events: number;
  accounts: number;
  eventsPerAccount: number;
  seedSeconds: number;
  seconds: number;
  eventsPerSecond: number;
  /** The fold phase alone (reading + folding every event), and the write phase (one projection call per account). */
  foldSeconds: number;
  writeSeconds: number;
}

const EVENTS_PER_ACCOUNT = 100;

export async function measureRebuild(db: BenchDatabase, events: number): Promise<RebuildFigures> {
  const ref = shippedReference();
  const { events: template } = accountTemplate(
    ref,
    marketWithMarks(ref, { BTCUSDT: '50000' }),
    tradingCommands(),
    { maxEvents: EVENTS_PER_ACCOUNT },
  );
  const accounts = Math.max(1, Math.round(events / template.length));
  const ids = Array.from({ length: accounts }, (_, i) => `r${String(i).padStart(7, '0')}`);
  const bench = await openBenchLedger(db);
  try {
    const store = bench.database.store;
    const seedBar = new ProgressBar(`seed ${db.kind}`);
    const seedStart = nowMs();
    const total = accounts * template.length;
    await seedAccounts(store, template, ids, ref.version, (done) => seedBar.update(done, total));
    seedBar.done(total, total);
    await store.query('ANALYZE events');
    const seedSeconds = (nowMs() - seedStart) / 1000;
    log(`${db.kind} rebuild: seeded ${total} events in ${seedSeconds.toFixed(1)} s`);
    const fold = new ProgressBar(`rebuild fold  ${db.kind}`);
    const write = new ProgressBar(`rebuild write ${db.kind}`);
    const started = nowMs();
    let foldEnded = 0;
    const result = await rebuildAccountProjections(store, (p) => {
      if (p.phase === 'fold') fold.update(p.done, p.total);
      else {
        if (foldEnded === 0) {
          foldEnded = nowMs();
          fold.done(total, total);
        }
        write.update(p.done, p.total);
      }
    });
    write.done(result.accounts, result.accounts);
    const ended = nowMs();
    const seconds = (ended - started) / 1000;
    const figures: RebuildFigures = {
      events: result.events,
      accounts: result.accounts,
      eventsPerAccount: template.length,
      seedSeconds: round(seedSeconds, 2),
      seconds: round(seconds, 2),
      eventsPerSecond: perSecond(result.events, ended - started),
      foldSeconds: round(((foldEnded || ended) - started) / 1000, 2),
      writeSeconds: round((ended - (foldEnded || ended)) / 1000, 2),
    };
    log(
      `${db.kind} rebuild: ${figures.events} events in ${figures.seconds} s = ${figures.eventsPerSecond} events/s`,
    );
    return figures;
  } finally {
    await bench.close();
  }
}
