import type { IEvent } from '@nestjs/cqrs';

import { formatCheckpoint } from '../checkpoint';
import type { RecordedEvent } from '../event-store';

/**
 * The one envelope class on the @nestjs/cqrs EventBus. Handlers narrow on `event.type`, never on classes: Nest's
 * per-class event ids are random per process, and the stored `type` string is the contract (STYLE §5).
 * Published only by the EventBusPump, after the event's batch committed.
 */
export class LedgerEventRecorded implements IEvent {
  constructor(readonly event: RecordedEvent) {}

  /** `<type> <streamId>@<version> (<transaction_id>:<global_position>)`, for logs. */
  describe(): string {
    const { type, streamId, streamVersion } = this.event;
    return `${type} ${streamId}@${streamVersion} (${formatCheckpoint(this.event)})`;
  }
}
