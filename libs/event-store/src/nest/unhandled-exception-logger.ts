import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UnhandledExceptionBus } from '@nestjs/cqrs';
import type { Subscription as RxSubscription } from 'rxjs';

import { LedgerEventRecorded } from './ledger-event-recorded';

/**
 * @nestjs/cqrs swallows errors thrown by event handlers and sagas (it only republishes them on the
 * UnhandledExceptionBus). This logs every one of them, so none goes unseen (STYLE §4).
 */
@Injectable()
export class UnhandledExceptionLogger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('UnhandledException');
  private subscription: RxSubscription | undefined;

  constructor(private readonly unhandledExceptions: UnhandledExceptionBus) {}

  onModuleInit(): void {
    this.subscription = this.unhandledExceptions.subscribe(({ cause, exception }) => {
      const what = cause instanceof LedgerEventRecorded ? cause.describe() : describeCause(cause);
      const error = exception instanceof Error ? exception : new Error(String(exception));
      this.logger.error(`a handler of ${what} failed: ${error.message}`, error.stack);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}

function describeCause(cause: unknown): string {
  if (cause && typeof cause === 'object') return cause.constructor.name;
  return String(cause);
}
