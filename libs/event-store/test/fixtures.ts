import type { EventToAppend, JsonObject, SubscriptionLogger } from '@ledger/event-store';

let sequence = 0;

/** A unique id per call, so every test writes its own streams and command ids in the suite's database. */
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/** An event with safe defaults; amounts are decimal strings, as everywhere in the ledger. */
export function anEvent(type = 'Deposited', data: JsonObject = { amount: '10.25' }, commandId = 'cmd'): EventToAppend {
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: { commandId, occurredAt: '2024-01-01T00:00:00.000Z' },
  };
}

/** Collects what a subscription logs, so expected failures do not clutter the test output. */
export function collectingLogger(): SubscriptionLogger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    log: () => undefined,
    warn: (message) => warnings.push(message),
    error: (message) => errors.push(message),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate` holds, polling; fails the test after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
