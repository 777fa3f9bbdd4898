import type { EventMetadata, JsonObject, RecordedEvent, Upcaster } from './event-store';

/**
 * Upcasters keyed by `(type, fromSchemaVersion)`, applied in a chain on every read so that an event written at
 * v1 is seen at the newest version forever (events are never rewritten). One upcaster per key: two would make
 * the result depend on registration order.
 */
export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: readonly Upcaster[] = []) {
    for (const upcaster of upcasters) this.register(upcaster);
  }

  register(upcaster: Upcaster): void {
    const key = keyOf(upcaster.type, upcaster.fromSchemaVersion);
    if (this.byKey.has(key)) {
      throw new Error(`two upcasters for ${upcaster.type} v${upcaster.fromSchemaVersion}`);
    }
    this.byKey.set(key, upcaster);
  }

  get size(): number {
    return this.byKey.size;
  }

  upcast(event: RecordedEvent): RecordedEvent {
    if (this.byKey.size === 0) return event;
    let data: JsonObject = event.data;
    let schemaVersion = event.schemaVersion;
    const metadata: EventMetadata = event.metadata;
    for (let upcaster = this.byKey.get(keyOf(event.type, schemaVersion)); upcaster;) {
      data = upcaster.upcast(data, metadata);
      schemaVersion += 1;
      upcaster = this.byKey.get(keyOf(event.type, schemaVersion));
    }
    return schemaVersion === event.schemaVersion ? event : { ...event, data, schemaVersion };
  }
}

function keyOf(type: string, schemaVersion: number): string {
  return `${schemaVersion}:${type}`;
}
