import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';

import type { EventStore, Subscription } from '../event-store';
import { LedgerEventRecorded } from './ledger-event-recorded';
import { EVENT_STORE, EVENT_STORE_MODULE_OPTIONS } from './tokens';
import type { EventBusPumpOptions, EventStoreModuleOptions } from './event-store.module-options';

export const EVENT_BUS_CONSUMER_NAME = 'event-bus';

/**
 * The ONLY publisher to the EventBus: a durable subscription (consumer 'event-bus') that publishes one
 * `LedgerEventRecorded` per event once its batch's checkpoint has committed. Command handlers never publish.
 *
 * Delivery to bus handlers is at most once per event: the in-memory bus is not durable and swallows handler
 * errors (the UnhandledExceptionLogger logs them). Work that must not be lost runs on its own durable
 * subscription with its writes in the batch transaction.
 *
 * It starts in onApplicationBootstrap without holding boot: while another process holds the consumer, this one
 * waits in the background (whenStarted() resolves once it holds it).
 */
@Injectable()
export class EventBusPump implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventBusPump.name);
  private subscription: Subscription | undefined;
  private started: Promise<void> = Promise.resolve();
  /**
   * Per stream, the last version published: an event delivered again (a parked event's retry after a restart, a
   * checkpoint moved back by an operator) is never published twice by this process (STYLE §8). The pump publishes
   * only after its batch committed, so a rolled-back batch was never published in the first place.
   */
  private readonly publishedVersions = new Map<string, number>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly eventBus: EventBus,
    @Inject(EVENT_STORE_MODULE_OPTIONS) private readonly moduleOptions: EventStoreModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    const options: EventBusPumpOptions = this.moduleOptions.eventBus ?? {};
    this.subscription = this.store.subscribe(EVENT_BUS_CONSUMER_NAME, async () => undefined, {
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      afterCommit: (events) => {
        for (const event of events) {
          if (event.streamVersion <= (this.publishedVersions.get(event.streamId) ?? 0)) continue;
          this.publishedVersions.set(event.streamId, event.streamVersion);
          this.eventBus.publish(new LedgerEventRecorded(event));
        }
      },
    });
    this.started = this.subscription.start().catch((error: unknown) => {
      this.logger.error(`the EventBus pump did not start: ${String(error)}`);
    });
  }

  /** Resolves once this process holds the 'event-bus' consumer and pumps. */
  whenStarted(): Promise<void> {
    return this.started;
  }

  /** Resolves once every event committed before the call has been published. */
  async waitUntilCaughtUp(timeoutMs?: number): Promise<void> {
    if (!this.subscription) throw new Error('the EventBus pump has not been bootstrapped');
    await this.subscription.waitUntilCaughtUp(timeoutMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
  }
}
