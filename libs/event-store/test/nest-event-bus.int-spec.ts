/*
 * The NestJS glue: EventStoreModule provides the database, the store and the DataSource under their tokens; the
 * EventBusPump is the only publisher to the @nestjs/cqrs EventBus and publishes one LedgerEventRecorded per
 * committed event, in reader order, never twice (a redelivered event is skipped per stream version); every error a
 * bus handler throws (which @nestjs/cqrs swallows) is logged.
 */
import { Injectable, Logger } from '@nestjs/common';
import { CqrsModule, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  EVENT_STORE,
  EventBusPump,
  EventStoreModule,
  LEDGER_DATABASE,
  LEDGER_DATA_SOURCE,
  LedgerEventRecorded,
  type RecordedEvent,
} from '@ledger/event-store';
import { type TestDatabase, createTestDatabase } from '@ledger/testing';
import { DataSource } from 'typeorm';

import { anEvent, eventually, uniqueId } from './fixtures';

@Injectable()
@EventsHandler(LedgerEventRecorded)
class RecordingHandler implements IEventHandler<LedgerEventRecorded> {
  readonly seen: RecordedEvent[] = [];

  async handle({ event }: LedgerEventRecorded): Promise<void> {
    this.seen.push(event);
    if (event.type === 'Explodes') throw new Error('bus handler failed');
  }
}

describe('EventStoreModule and the EventBus pump', () => {
  let db: TestDatabase;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    db = await createTestDatabase('nest-event-bus');
    moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        EventStoreModule.forRootAsync({
          useFactory: () => ({ database: db, eventBus: { pollIntervalMs: 50 } }),
        }),
      ],
      providers: [RecordingHandler],
    }).compile();
    await moduleRef.init();
    await moduleRef.get(EventBusPump).whenStarted();
  });
  afterAll(async () => {
    await moduleRef?.close();
    await db?.drop();
  });

  it('provides the database, its store and its DataSource', () => {
    expect(moduleRef.get(LEDGER_DATABASE)).toBe(db);
    expect(moduleRef.get(EVENT_STORE)).toBe(db.store);
    expect(moduleRef.get(LEDGER_DATA_SOURCE)).toBeInstanceOf(DataSource);
  });

  it('publishes one LedgerEventRecorded per committed event, in reader order', async () => {
    const handler = moduleRef.get(RecordingHandler);
    const stream = uniqueId('account');
    await db.store.append(stream, [anEvent('Deposited'), anEvent('Withdrawn')], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
    });
    await db.store.append(uniqueId('market'), [anEvent('MarkPriceUpdated')], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
    });
    await moduleRef.get(EventBusPump).waitUntilCaughtUp(60_000);
    const all = await db.store.readAll({ after: null });
    await eventually(() => handler.seen.length >= all.length);
    expect(handler.seen.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
    expect(handler.seen.slice(0, 2).map((e) => `${e.type}@${e.streamVersion}`)).toEqual([
      'Deposited@1',
      'Withdrawn@2',
    ]);
  });

  it('logs every error a bus handler throws, naming the event', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const stream = uniqueId('account');
      await db.store.append(stream, [anEvent('Explodes')], {
        commandId: uniqueId('c'),
        expectedVersion: 0,
      });
      await moduleRef.get(EventBusPump).waitUntilCaughtUp(60_000);
      await eventually(() =>
        errors.mock.calls.some(([message]) =>
          String(message).includes(`a handler of Explodes ${stream}@1`),
        ),
      );
      const logged = errors.mock.calls.find(([message]) =>
        String(message).includes(`Explodes ${stream}@1`),
      );
      expect(String(logged?.[0])).toContain('bus handler failed');
    } finally {
      errors.mockRestore();
    }
  });

  it('never publishes an event twice when the log is delivered to it again', async () => {
    const handler = moduleRef.get(RecordingHandler);
    const pump = moduleRef.get(EventBusPump);
    const stream = uniqueId('account');
    await db.store.append(stream, [anEvent('Deposited')], {
      commandId: uniqueId('c'),
      expectedVersion: 0,
    });
    await pump.waitUntilCaughtUp(60_000);
    await eventually(() => handler.seen.some((e) => e.streamId === stream));
    const publishedBefore = handler.seen.length;

    // Redelivery of everything: the consumer restarts from the start of the log (a checkpoint moved back).
    await pump.onModuleDestroy();
    await db.store.query(
      `UPDATE subscription_checkpoints SET transaction_id = NULL, global_position = NULL WHERE name = 'event-bus'`,
    );
    pump.onApplicationBootstrap();
    await pump.whenStarted();
    await db.store.append(stream, [anEvent('Withdrawn')], {
      commandId: uniqueId('c'),
      expectedVersion: 1,
    });
    await pump.waitUntilCaughtUp(60_000);
    await eventually(() =>
      handler.seen.some((e) => e.streamId === stream && e.streamVersion === 2),
    );
    // Only the new event was published; the redelivered ones were skipped per stream version.
    expect(handler.seen.length).toBe(publishedBefore + 1);
    expect(handler.seen.at(-1)).toMatchObject({ streamId: stream, streamVersion: 2 });
  });

  it('stores the pump checkpoint under the consumer name "event-bus"', async () => {
    const rows = await db.store.query<{ name: string }>(
      'SELECT name FROM subscription_checkpoints WHERE transaction_id IS NOT NULL',
    );
    expect(rows.map((r) => r.name)).toContain('event-bus');
  });
});
