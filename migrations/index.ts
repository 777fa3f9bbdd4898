import { CreateEventStore1732450000000 } from './1732450000000-create-event-store';
import { CreateAccountProjections1732450100000 } from './1732450100000-create-account-projections';
import { CreateApiTables1732450200000 } from './1732450200000-create-api-tables';
import { ConsumerParking1732450300000 } from './1732450300000-consumer-parking';
import { EventHashChain1732450400000 } from './1732450400000-event-hash-chain';
import { CheckpointSystemIdentifier1732450500000 } from './1732450500000-checkpoint-system-identifier';
import { NoNotifyInAppend1732450600000 } from './1732450600000-no-notify-in-append';

/**
 * Every migration, oldest first: the only way the schema changes (ARCHITECTURE.md "Layout"). TypeORM runs those
 * a database has not seen yet, in this order. Append new migrations at the end; never edit a released one.
 */
export const ALL_MIGRATIONS = [
  CreateEventStore1732450000000,
  CreateAccountProjections1732450100000,
  CreateApiTables1732450200000,
  ConsumerParking1732450300000,
  EventHashChain1732450400000,
  CheckpointSystemIdentifier1732450500000,
  NoNotifyInAppend1732450600000,
];
